"""The right panel's client card: name, channels, tags, note and the client's previous dialogs.

It shows the cached card at once, then what the server answers (refreshed at most once a
minute per client, and again when the connection comes back). Offline and never fetched, it
falls back to what the dialog itself knows. Every customer-supplied string is plain text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.connection import ConnectionState, Phase
from operator_app.core.service import DeskService
from operator_app.core.shell_reads import cached_contact_card
from operator_app.protocol.enums import Channel, DialogState

from .formatting import one_line
from .i18n import N_, tr
from .labels import CHANNEL_LABELS
from .resources import channel_icon
from .tasks import TaskRunner

if TYPE_CHECKING:
    from operator_app.protocol.models import (
        ContactCard,
        ContactIdentity,
        DialogHistoryItem,
    )

REFRESH_AFTER_SECONDS = 60.0
DialogIdItemRole = Qt.ItemDataRole.UserRole + 1

STATE_LABELS = {
    DialogState.WAITING: N_("waiting"),
    DialogState.ACTIVE: N_("active"),
    DialogState.CLOSED: N_("closed"),
}


def plain_label(parent: QWidget, name: str = "") -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class ClientCard(QWidget):
    """Call ``show_dialog(dialog_id)`` when the current dialog changes."""

    open_requested = Signal(int)

    def __init__(
        self,
        service: DeskService,
        runner: TaskRunner,
        open_dialog: Callable[[int], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.dialog_id: int | None = None
        self.contact_id: int | None = None
        self.card: ContactCard | None = None
        self._fetched_at: dict[int, float] = {}
        self._build()
        if open_dialog is not None:
            self.open_requested.connect(open_dialog)
        self.show_nothing()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        self.name_label = plain_label(self, "cardName")
        column.addWidget(self.name_label)
        self.identities_box = QFrame(self)
        self.identities_grid = QGridLayout(self.identities_box)
        self.identities_grid.setContentsMargins(0, 0, 0, 0)
        self.identities_grid.setHorizontalSpacing(6)
        column.addWidget(self.identities_box)
        self.tags_label = plain_label(self, "cardTags")
        column.addWidget(self.tags_label)
        self.note_label = plain_label(self, "muted")
        column.addWidget(self.note_label)
        self.history_title = QLabel(tr("Previous dialogs"), self)
        self.history_title.setObjectName("sectionTitle")
        column.addWidget(self.history_title)
        self.history_list = QListWidget(self)
        self.history_list.setObjectName("cardHistory")
        self.history_list.setWordWrap(True)
        self.history_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history_list.itemActivated.connect(self._history_chosen)
        self.history_list.itemClicked.connect(self._history_chosen)
        column.addWidget(self.history_list, 1)
        self.status_label = plain_label(self, "muted")
        column.addWidget(self.status_label)
        self.filler = QWidget(self)  # keeps the card at the top while the history is hidden
        column.addWidget(self.filler, 1)

    # ---- what to show ----------------------------------------------------------------------

    def show_nothing(self) -> None:
        self.dialog_id = self.contact_id = None
        self.card = None
        self.name_label.setText(tr("No dialog open"))
        self._set_identities([])
        self.tags_label.setText("")
        self.note_label.setText("")
        self.history_title.hide()
        self.history_list.clear()
        self.history_list.hide()
        self.filler.show()
        self.status_label.setText("")

    def show_dialog(self, dialog_id: int) -> None:
        """Show the client of this dialog: cached at once, fresh from the server when due."""
        row = self.service.dialog(dialog_id)
        if row is None:
            self.show_nothing()
            return
        contact_id = row.dialog.contact_id
        changed = contact_id != self.contact_id
        self.dialog_id, self.contact_id = dialog_id, contact_id
        card = cached_contact_card(self.service, contact_id)
        if card is not None:
            self.show_card(card)
        elif changed or self.card is None:
            self.render_fallback()
        if self._refresh_due(contact_id):
            self.refresh()

    def refresh(self) -> None:
        if self.contact_id is not None:
            contact_id = self.contact_id
            self._fetched_at[contact_id] = time.monotonic()
            self.runner.start(self._fetch(contact_id), key="client-card")

    def on_connection(self, state: ConnectionState) -> None:
        """Back online: what we show may be stale."""
        if state.phase == Phase.ONLINE and self.contact_id is not None:
            self.refresh()

    def _refresh_due(self, contact_id: int) -> bool:
        last = self._fetched_at.get(contact_id)
        return last is None or time.monotonic() - last > REFRESH_AFTER_SECONDS

    async def _fetch(self, contact_id: int) -> None:
        card = await self.service.contact_card(contact_id)
        if card is None:
            if self.card is None and self.contact_id == contact_id:
                self.status_label.setText(tr("Offline: the client card was never loaded."))
            return
        if self.contact_id == contact_id:
            self.show_card(card)

    # ---- rendering -------------------------------------------------------------------------

    def show_card(self, card: ContactCard) -> None:
        self.card = card
        contact = card.contact
        self.name_label.setText(one_line(contact.name, 120))
        self._set_identities(contact.identities)
        self.tags_label.setText(self._tags_text(contact.tags))
        self.note_label.setText(contact.note[:1000])
        self.note_label.setVisible(bool(contact.note.strip()))
        previous = [item for item in card.dialogs if item.id != self.dialog_id]
        self._set_history(previous)
        self.status_label.setText("")

    def render_fallback(self) -> None:
        """Never fetched and not yet answered: what the dialog row knows."""
        row = self.service.dialog(self.dialog_id) if self.dialog_id is not None else None
        if row is None:
            return
        from operator_app.protocol.models import Contact, ContactCard  # off the start path

        dialog = row.dialog
        self.card = None
        self.show_card(
            ContactCard(
                contact=Contact(
                    id=dialog.contact_id,
                    name=dialog.contact_name,
                    identities=[],
                    tags=list(dialog.tags),
                    created_at=dialog.created_at,
                ),
                dialogs=[],
            )
        )
        self.card = None
        self._set_identities_from_channel(dialog.channel)
        self.history_title.hide()
        self.history_list.hide()
        self.filler.show()

    @staticmethod
    def _tags_text(tags: list[str]) -> str:
        return tr("Tags: {tags}").format(tags=", ".join(tags)) if tags else ""

    def _set_identities(self, identities: list[ContactIdentity]) -> None:
        while self.identities_grid.count():
            item = self.identities_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for number, identity in enumerate(identities):
            mark = QLabel(self.identities_box)
            mark.setPixmap(channel_icon(identity.channel).pixmap(18, 18))
            mark.setToolTip(tr(CHANNEL_LABELS[identity.channel]))
            address = plain_label(self.identities_box)
            address.setText(one_line(identity.address, 80))
            address.setToolTip(tr(CHANNEL_LABELS[identity.channel]))
            self.identities_grid.addWidget(mark, number, 0)
            self.identities_grid.addWidget(address, number, 1)
        self.identities_grid.setColumnStretch(1, 1)
        self.identities_box.setVisible(bool(identities))

    def _set_identities_from_channel(self, channel: Channel) -> None:
        from operator_app.protocol.models import ContactIdentity  # off the start path

        self._set_identities(
            [ContactIdentity(channel=channel, address=tr(CHANNEL_LABELS[channel]))]
        )

    def _set_history(self, items: list[DialogHistoryItem]) -> None:
        self.history_list.clear()
        for item in items:
            self.history_list.addItem(self._history_item(item))
        self.history_title.setVisible(bool(items))
        self.history_list.setVisible(bool(items))
        self.filler.setVisible(not items)

    def _history_item(self, item: DialogHistoryItem) -> QListWidgetItem:
        when = (item.closed_at or item.created_at).astimezone().strftime("%d.%m.%Y")
        state = tr(STATE_LABELS[item.state])
        text = f"#{item.id} · {when} · {state}"
        if item.last_text:
            text += "\n" + one_line(item.last_text, 90)
        entry = QListWidgetItem(channel_icon(item.channel), text)  # item text is never rich
        entry.setData(DialogIdItemRole, item.id)
        if self.service.dialog(item.id) is None:
            entry.setFlags(entry.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            entry.setToolTip(tr("Not in the local cache: it cannot be opened here."))
        else:
            entry.setToolTip(tr("Open this dialog"))
        return entry

    def _history_chosen(self, item: QListWidgetItem) -> None:
        dialog_id = item.data(DialogIdItemRole)
        if dialog_id is not None and self.service.dialog(int(dialog_id)) is not None:
            self.open_requested.emit(int(dialog_id))
