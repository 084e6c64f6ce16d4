"""A new password: the operator's own (with the current one) or one an admin sets for someone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import QWidget

from operator_app.core.errors import ActionError, OfflineError
from operator_app.protocol.enums import ErrorCode
from operator_app.protocol.limits import MIN_PASSWORD_CHARS

from .forms import ServerForm
from .i18n import tr
from .tasks import TaskRunner

# (current password or "" when not asked, new password) -> done, or ActionError/OfflineError
Submit = Callable[[str, str], Awaitable[None]]


def new_password_problem(new: str, repeat: str) -> str:
    """Why a new password typed twice cannot be saved, or ""."""
    if len(new) < MIN_PASSWORD_CHARS:
        return tr("The new password needs at least {n} characters.").format(n=MIN_PASSWORD_CHARS)
    if repeat != new:
        return tr("The two new passwords differ.")
    return ""


class PasswordDialog(ServerForm):
    def __init__(
        self,
        submit: Submit,
        runner: TaskRunner,
        *,
        title: str,
        intro: str,
        ask_current: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            runner, title=title, intro=intro, ok_text=tr("Save password"), parent=parent
        )
        self._submit = submit
        current = tr("Current password:")
        self.current = self.add_line(current, secret=True) if ask_current else None
        self.new = self.add_line(tr("New password:"), secret=True)
        self.repeat = self.add_line(tr("Repeat it:"), secret=True)
        self.finish_layout()

    def problem(self) -> str:
        if self.current is not None and not self.current.text():
            return tr("Type your current password.")
        return new_password_problem(self.new.text(), self.repeat.text())

    def send(self) -> Awaitable[None]:
        current = self.current.text() if self.current is not None else ""
        return self._submit(current, self.new.text())

    def refusal(self, error: ActionError | OfflineError) -> str:
        if isinstance(error, ActionError) and error.code == ErrorCode.INVALID_CREDENTIALS:
            if self.current is not None:
                self.current.selectAll()
                self.current.setFocus()
            return tr("The current password is wrong.")
        return super().refusal(error)
