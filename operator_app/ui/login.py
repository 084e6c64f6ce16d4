"""The sign-in window: server profile, login, password, remember me, and "Try the demo"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.cache import CacheInUse
from operator_app.core.errors import ActionError, OfflineError
from operator_app.core.profiles import ProfileError, ServerProfile
from operator_app.core.service import DeskService
from operator_app.protocol.errors import ErrorCode

from .i18n import tr
from .problems import BY_CODE, problem_text
from .resources import icon
from .tasks import TaskRunner


@dataclass(frozen=True)
class Credentials:
    profile: ServerProfile
    password: str
    remember: bool


SignIn = Callable[[Credentials], Awaitable[DeskService]]
StartDemo = Callable[[], Awaitable[DeskService]]


def explain(error: BaseException) -> str:
    """What went wrong, in the operator's words."""
    if isinstance(error, ActionError):
        if error.code == ErrorCode.INVALID_CREDENTIALS:
            return tr("Wrong login or password.")
        if error.code == ErrorCode.ACCOUNT_DISABLED:
            return tr("This account is disabled. Ask your administrator.")
        if error.code == ErrorCode.INCOMPATIBLE_PROTOCOL:
            return tr("The server runs an incompatible version: {detail}").format(
                detail=error.message
            )
        if error.code in BY_CODE:
            return problem_text(error)
        return tr("The server refused: {detail}").format(detail=error.message)
    if isinstance(error, OfflineError):
        return problem_text(error)
    if isinstance(error, ProfileError):
        return str(error)
    if isinstance(error, CacheInUse):
        return tr(
            "This profile is already open in another Operator desk window. "
            "Work there, or close it first."
        )
    return tr("Sign-in failed: {detail}").format(detail=error)


def why_sign_in_again(reason: str) -> str:
    """What the sign-in window says when the main window closed for ``reason`` ("" for none)."""
    if reason == "session_ended":  # the server refused the token, or the keyring lost it
        return tr("Your session has ended. Please sign in again.")
    return ""


class LoginDialog(QDialog):
    def __init__(
        self,
        profiles: list[ServerProfile],
        last_profile: str,
        sign_in: SignIn,
        start_demo: StartDemo,
        keyring_available: bool,
        parent: QWidget | None = None,
        *,
        message: str = "",
    ) -> None:
        """``message``: why the operator must sign in (again), shown until the first attempt."""
        super().__init__(parent)
        self.profiles = profiles
        self._sign_in = sign_in
        self._start_demo = start_demo
        self.service: DeskService | None = None
        self.runner = TaskRunner(on_error=self._failed)
        self.setWindowTitle(tr("Sign in — Operator desk"))
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(420)
        self._build(keyring_available)
        self._fill_profiles(last_profile)
        self.error_label.setText(message)

    def _build(self, keyring_available: bool) -> None:
        column = QVBoxLayout(self)
        title = QLabel(tr("Operator desk"), self)
        title.setObjectName("title")
        column.addWidget(title)
        form = QFormLayout()
        self.profile_combo = QComboBox(self)
        self.profile_combo.currentIndexChanged.connect(self._profile_chosen)
        self.kind_combo = QComboBox(self)
        self.kind_combo.addItem(tr("Operator desk server"), "operator-desk")
        self.kind_combo.addItem("Chatwoot", "chatwoot")
        self.kind_combo.currentIndexChanged.connect(self._kind_chosen)
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://chat.example.com")
        self.account_spin = QSpinBox(self)
        self.account_spin.setRange(1, 10_000_000)
        self.account_spin.setToolTip(tr("The number in your Chatwoot address: /app/accounts/N"))
        self.login_edit = QLineEdit(self)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember_box = QCheckBox(tr("Remember me on this computer"), self)
        self.remember_box.setChecked(keyring_available)
        if not keyring_available:
            self.remember_box.setEnabled(False)
            self.remember_box.setToolTip(
                tr("No system keyring is available: the password will be asked at each start.")
            )
        self.password_label = QLabel(tr("Password"), self)
        self.account_label = QLabel(tr("Account"), self)
        form.addRow(tr("Profile"), self.profile_combo)
        form.addRow(tr("Server type"), self.kind_combo)
        form.addRow(tr("Server"), self.url_edit)
        form.addRow(self.account_label, self.account_spin)
        form.addRow(tr("Login"), self.login_edit)
        form.addRow(self.password_label, self.password_edit)
        form.addRow("", self.remember_box)
        column.addLayout(form)
        self._kind_chosen()
        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet("color: #DC2626;")
        column.addWidget(self.error_label)
        buttons = QHBoxLayout()
        self.demo_button = QPushButton(tr("Try the demo"), self)
        self.demo_button.setToolTip(tr("Start a demo server on this computer with sample dialogs"))
        self.demo_button.clicked.connect(self._demo)
        self.sign_in_button = QPushButton(tr("Sign in"), self)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self._submit)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        column.addLayout(buttons)

    def _fill_profiles(self, last_profile: str) -> None:
        for profile in self.profiles:
            self.profile_combo.addItem(profile.name, profile.name)
        self.profile_combo.addItem(tr("New server…"), "")
        index = self.profile_combo.findData(last_profile)
        self.profile_combo.setCurrentIndex(max(index, 0))
        self._profile_chosen(self.profile_combo.currentIndex())

    def _kind_chosen(self) -> None:
        """Chatwoot signs in with an account number and the user's access token."""
        chatwoot = self.kind_combo.currentData() == "chatwoot"
        self.account_label.setVisible(chatwoot)
        self.account_spin.setVisible(chatwoot)
        self.password_label.setText(tr("Access token") if chatwoot else tr("Password"))
        self.password_edit.setToolTip(
            tr("Chatwoot: Profile settings → Access token") if chatwoot else ""
        )

    def _profile_chosen(self, index: int) -> None:
        name = self.profile_combo.itemData(index)
        profile = next((p for p in self.profiles if p.name == name), None)
        self.kind_combo.setCurrentIndex(
            max(self.kind_combo.findData(profile.kind if profile else "operator-desk"), 0)
        )
        if profile is not None and profile.account_id:
            self.account_spin.setValue(profile.account_id)
        self.url_edit.setText(profile.base_url if profile else "")
        self.login_edit.setText(profile.login if profile else "")
        self.password_edit.clear()
        (self.password_edit if profile else self.url_edit).setFocus()

    def credentials(self) -> Credentials:
        url = self.url_edit.text().strip()
        name = self.profile_combo.currentData() or url
        chatwoot = self.kind_combo.currentData() == "chatwoot"
        profile = ServerProfile(
            name=name,
            base_url=url,
            kind="chatwoot" if chatwoot else "operator-desk",
            login=self.login_edit.text().strip(),
            account_id=self.account_spin.value() if chatwoot else None,
        )
        return Credentials(profile, self.password_edit.text(), self.remember_box.isChecked())

    def _submit(self) -> None:
        try:
            credentials = self.credentials()
        except ProfileError as exc:
            self._failed(exc)
            return
        if not credentials.profile.login or not credentials.password:
            self.error_label.setText(tr("Enter your login and password."))
            return
        self._busy(True)
        self.runner.start(self._run(self._sign_in(credentials)), key="sign-in")

    def _demo(self) -> None:
        self._busy(True)
        self.runner.start(self._run(self._start_demo()), key="sign-in")

    async def _run(self, attempt: Awaitable[DeskService]) -> None:
        self.service = await attempt
        self._busy(False)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self.error_label.setText(explain(error))

    def _busy(self, busy: bool) -> None:
        for widget in (self.sign_in_button, self.demo_button):
            widget.setEnabled(not busy)
        if busy:
            self.error_label.setText(tr("Connecting…"))
