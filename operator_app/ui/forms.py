"""A form whose OK asks the server, and that closes only once the server has said yes.

While it asks, the form cannot be closed (the operator would not know whether it was done); a
refusal is said under the fields and nothing typed is lost. Subclasses lay out their fields
with ``add_row``, say what keeps OK disabled (``problem``) and what OK sends (``send``).
"""

from __future__ import annotations

from collections.abc import Awaitable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from operator_app.core.errors import ActionError, OfflineError
from operator_app.protocol.limits import MAX_PASSWORD_CHARS

from .i18n import tr
from .problems import problem_text
from .tasks import TaskRunner


class ServerForm(QDialog):
    def __init__(
        self, runner: TaskRunner, *, title: str, intro: str, ok_text: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._runner = runner
        self.saving = False
        self.form = QFormLayout(self)
        if intro:
            self.form.addRow(self._label(intro))
        self.hint = self._label("")
        self.hint.setObjectName("muted")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self._send)
        self.buttons.rejected.connect(self.reject)
        self.setMinimumWidth(420)

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def add_line(self, label: str, *, secret: bool = False) -> QLineEdit:
        """A one-line field whose every edit re-checks the form (a password's hidden)."""
        field = QLineEdit(self)
        if secret:
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(MAX_PASSWORD_CHARS)
        field.textEdited.connect(self.check)
        self.form.addRow(label, field)
        return field

    def finish_layout(self) -> None:
        """The hint and the buttons go last, under the subclass's fields."""
        self.form.addRow(self.hint)
        self.form.addRow(self.buttons)
        self.check()

    def problem(self) -> str:
        """What keeps the form from being sent, or "" when it may go."""
        return ""

    def send(self) -> Awaitable[object]:
        raise NotImplementedError

    def refusal(self, error: ActionError | OfflineError) -> str:
        return tr("Not saved: {why}").format(why=problem_text(error))

    def check(self) -> None:
        problem = self.problem()
        self.hint.setText(problem)
        self.ok_button.setEnabled(not problem)

    def reject(self) -> None:
        if not self.saving:
            super().reject()

    def _send(self) -> None:
        if self.problem() or self.saving:
            return
        self.saving = True
        self.ok_button.setEnabled(False)
        self.hint.setText(tr("Saving…"))
        self._runner.start(self._save(self.send()), key=f"form:{id(self)}")

    async def _save(self, request: Awaitable[object]) -> None:
        try:
            await request
        except (ActionError, OfflineError) as error:
            self.hint.setText(self.refusal(error))
            self.ok_button.setEnabled(True)
            return
        finally:
            self.saving = False
        self.accept()
