"""Closing a dialog: a resolution and tags."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from operator_app.protocol.limits import MAX_TAG_CHARS, MAX_TAGS

from .i18n import tr

SEPARATOR = ","


class TagsEdit(QLineEdit):
    """Comma-separated tags; the one being typed is completed from the tags in use, so a
    team keeps one spelling ("доставка", not "Доставка" and "delivery") for its reports."""

    def __init__(self, known: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.known = list(known)
        self._choices = QStringListModel(self.known, self)
        self.suggestions = QCompleter(self._choices, self)
        self.suggestions.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.suggestions.setFilterMode(Qt.MatchFlag.MatchContains)
        self.suggestions.setWidget(self)
        self.suggestions.activated.connect(self.complete_with)
        self.textEdited.connect(self._suggest)

    def typed(self) -> str:
        """The tag being typed: what follows the last comma."""
        return self.text().rpartition(SEPARATOR)[2].strip()

    def complete_with(self, tag: str) -> None:
        """Put ``tag`` in place of the one being typed, ready for the next."""
        done = self.text().rpartition(SEPARATOR)[0]
        head = f"{done}{SEPARATOR} " if done else ""
        self.setText(f"{head}{tag}{SEPARATOR} ")

    def _suggest(self) -> None:
        typed = self.typed()
        chosen = {tag.casefold() for tag in tags_in(self.text().rpartition(SEPARATOR)[0])}
        self._choices.setStringList([t for t in self.known if t.casefold() not in chosen])
        popup = self.suggestions.popup()
        if not typed:
            if popup is not None:
                popup.hide()
            return
        self.suggestions.setCompletionPrefix(typed)
        self.suggestions.complete()


def tags_in(text: str) -> list[str]:
    """The tags of a comma-separated text, trimmed, within the protocol's limits, once each."""
    found: dict[str, None] = {}
    for raw in text.split(SEPARATOR):
        tag = raw.strip()[:MAX_TAG_CHARS]
        if tag:
            found.setdefault(tag, None)
    return list(found)[:MAX_TAGS]


class CloseDialog(QDialog):
    """``known``: the tags in use, offered as one types; ``current``: the dialog's own, which
    the server keeps (closing adds tags, it never removes one)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        known: Sequence[str] = (),
        current: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Close dialog"))
        self.setMinimumWidth(440)  # a resolution is a sentence, not a word
        form = QFormLayout(self)
        self.resolution_edit = QLineEdit(self)
        self.resolution_edit.setPlaceholderText(tr("What was the outcome?"))
        self.tags_edit = TagsEdit([t for t in known if t not in current], self)
        self.tags_edit.setPlaceholderText(tr("refund, delivery, …"))
        form.addRow(tr("Resolution"), self.resolution_edit)
        form.addRow(tr("Tags"), self.tags_edit)
        self.current_label = QLabel(tr("Already tagged: {tags}").format(tags=", ".join(current)))
        self.current_label.setTextFormat(Qt.TextFormat.PlainText)  # tags are typed by people
        self.current_label.setObjectName("muted")
        self.current_label.setVisible(bool(current))
        form.addRow("", self.current_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Close dialog"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def resolution(self) -> str:
        return self.resolution_edit.text().strip()

    def tags(self) -> list[str]:
        return tags_in(self.tags_edit.text())
