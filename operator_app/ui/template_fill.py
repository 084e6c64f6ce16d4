"""Asks for the template variables the desk cannot fill itself, with a live preview."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.service import RenderedTemplate

from .i18n import N_, tr

Render = Callable[[Mapping[str, str]], RenderedTemplate]

VARIABLE_LABELS = {
    "client_name": N_("Client name"),
    "operator_name": N_("Operator name"),
    "dialog_id": N_("Dialog number"),
    "queue_name": N_("Queue"),
    "email": N_("E-mail"),
    "promo_code": N_("Promo code"),
    "tariff": N_("Tariff"),
    "order_number": N_("Order number"),
}


def variable_label(name: str) -> str:
    known = VARIABLE_LABELS.get(name)
    return tr(known) if known else name.replace("_", " ")


class TemplateFillDialog(QDialog):
    """One field per missing variable; the preview re-renders as the operator types."""

    def __init__(
        self, title: str, missing: Sequence[str], render: Render, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Fill in the template"))
        self.setMinimumWidth(420)
        self._render = render
        layout = QVBoxLayout(self)
        heading = QLabel(title, self)
        heading.setObjectName("title")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(heading)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for name in missing:
            field = QLineEdit(self)
            field.setObjectName(f"var_{name}")
            field.setMaxLength(500)
            field.textChanged.connect(self._update)
            form.addRow(variable_label(name) + ":", field)
            self.fields[name] = field
        layout.addLayout(form)
        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("templatePreview")
        self.preview.setReadOnly(True)
        self.preview.setMaximumHeight(110)
        layout.addWidget(QLabel(tr("Preview"), self))
        layout.addWidget(self.preview)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Insert"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def values(self) -> dict[str, str]:
        return {name: field.text().strip() for name, field in self.fields.items()}

    def rendered(self) -> RenderedTemplate:
        return self._render({k: v for k, v in self.values().items() if v})

    def _update(self) -> None:
        self.preview.setPlainText(self.rendered().text)
