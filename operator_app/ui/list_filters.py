"""Channel and tag filters of the dialog list, next to its text filter.

The choices come from the cached dialogs and are refreshed each time a list opens, so a tag
that appeared a minute ago is there. Tags are customer-facing labels: shown as plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from operator_app.core.service import DeskService, DialogFilter
from operator_app.core.shell_reads import known_channels, known_tags
from operator_app.protocol.enums import Channel

from .formatting import one_line
from .i18n import tr
from .labels import CHANNEL_LABELS
from .resources import channel_icon


class RefreshingCombo(QComboBox):
    """Calls ``before_popup`` right before its list opens."""

    def __init__(self, before_popup: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._before_popup = before_popup

    def showPopup(self) -> None:
        if callable(self._before_popup):
            self._before_popup()
        super().showPopup()


class ListFilters(QWidget):
    changed = Signal()

    def __init__(
        self, service: DeskService, parent: QWidget | None = None, *, fill: bool = True
    ) -> None:
        """``fill=False`` leaves the lists to ``refresh_choices()`` (or the first popup): the
        tags come from a scan of every cached dialog, ~30 ms the start need not wait for."""
        super().__init__(parent)
        self.service = service
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 6)
        self.channel_combo = RefreshingCombo(self.refresh_choices, self)
        self.channel_combo.setToolTip(tr("Show one channel only"))
        self.tag_combo = RefreshingCombo(self.refresh_choices, self)
        self.tag_combo.setToolTip(tr("Show dialogs with this tag only"))
        row.addWidget(self.channel_combo, 1)
        row.addWidget(self.tag_combo, 1)
        if fill:
            self.refresh_choices()
        else:
            self.channel_combo.addItem(tr("All channels"), "")
            self.tag_combo.addItem(tr("All tags"), "")
        self.channel_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.tag_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def channel(self) -> Channel | None:
        value = self.channel_combo.currentData()
        return Channel(value) if value else None

    def tag(self) -> str | None:
        value = self.tag_combo.currentData()
        return str(value) if value else None

    def narrowed(self, text: str) -> DialogFilter:
        """The list's filter: these choices and the text typed beside them."""
        return DialogFilter(self.channel(), self.tag(), text)

    def refresh_choices(self) -> None:
        """Rebuild both lists from the cache, keeping the current choice (and no signal)."""
        channel, tag = self.channel(), self.tag()
        channels = known_channels(self.service)
        if channel is not None and channel not in channels:
            channels.append(channel)
        tags = known_tags(self.service)
        if tag is not None and tag not in tags:
            tags.append(tag)
        for combo in (self.channel_combo, self.tag_combo):
            combo.blockSignals(True)
            combo.clear()
        self.channel_combo.addItem(tr("All channels"), "")
        for item in channels:
            self.channel_combo.addItem(channel_icon(item), tr(CHANNEL_LABELS[item]), item.value)
        self.tag_combo.addItem(tr("All tags"), "")
        for name in tags:
            self.tag_combo.addItem(one_line(name, 40), name)
        self.channel_combo.setCurrentIndex(max(self.channel_combo.findData(channel or ""), 0))
        self.tag_combo.setCurrentIndex(max(self.tag_combo.findData(tag or ""), 0))
        for combo in (self.channel_combo, self.tag_combo):
            combo.blockSignals(False)

    def choose(self, channel: Channel | None = None, tag: str | None = None) -> None:
        """Select a channel and tag as the operator would (emits ``changed``)."""
        self.refresh_choices()
        self.channel_combo.setCurrentIndex(
            max(self.channel_combo.findData(channel.value if channel else ""), 0)
        )
        self.tag_combo.setCurrentIndex(max(self.tag_combo.findData(tag or ""), 0))
