"""Closing a dialog: a resolution and tags."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from operator_app.protocol.limits import MAX_TAG_CHARS, MAX_TAGS

from .i18n import tr


class CloseDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Close dialog"))
        form = QFormLayout(self)
        self.resolution_edit = QLineEdit(self)
        self.resolution_edit.setPlaceholderText(tr("What was the outcome?"))
        self.tags_edit = QLineEdit(self)
        self.tags_edit.setPlaceholderText(tr("refund, delivery, …"))
        form.addRow(tr("Resolution"), self.resolution_edit)
        form.addRow(tr("Tags"), self.tags_edit)
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
        raw = [t.strip() for t in self.tags_edit.text().split(",")]
        return [t[:MAX_TAG_CHARS] for t in raw if t][:MAX_TAGS]
