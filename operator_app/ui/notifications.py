"""Notifications: a tray message, a sound and a taskbar alert for news the operator must see.

News is a dialog newly assigned to me, or a new client message in a background tab, or in one
of my dialogs while the window is inactive. History pages loaded later are not news: only
client messages created in the last minutes count, each once.

Sound is optional twice over: the operator can turn it off, and QtMultimedia or an audio
device may be missing (no libpulse, a server without sound). Then sound stays silent, without
warnings: the backend probe runs once, with Qt's own chatter routed to our debug log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    QtMsgType,
    QUrl,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from operator_app.core.service import DeskService, MessagesChanged
from operator_app.core.settings import load_settings
from operator_app.protocol.enums import Author, MessageKind

from .formatting import one_line
from .i18n import tr
from .resources import icon, resource_path

if TYPE_CHECKING:
    from .main_window import MainWindow

logger = logging.getLogger(__name__)

FRESH_FOR = timedelta(minutes=3)  # older client messages arrive with history, not live
SOUND_GAP_SECONDS = 1.5  # a burst of messages rings once
TRAY_TEXT_CHARS = 140
SOUND_NEW_DIALOG = "new-dialog"
SOUND_NEW_MESSAGE = "new-message"


@dataclass(frozen=True, slots=True)
class Notification:
    dialog_id: int
    reason: str  # "assigned" or "message"
    title: str
    text: str
    sound: str


def tray_safe(text: str, limit: int = TRAY_TEXT_CHARS) -> str:
    """One line, short, and no angle brackets: some notification daemons read markup."""
    return one_line(text, limit).replace("<", "‹").replace(">", "›")


@contextmanager
def quiet_qt_messages(why: str) -> Iterator[None]:
    """Route Qt's log messages to our debug log while a noisy optional probe runs."""

    def to_debug_log(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        logger.debug("%s: qt said: %s", why, message)

    previous = qInstallMessageHandler(to_debug_log)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


class SoundPlayer:
    """Plays resources/sounds/<name>.wav when QtMultimedia and an audio output exist.

    ``requested`` records every sound asked for, played or not, so callers and tests can see
    the decision apart from the machine's audio.
    """

    _probed: bool | None = None  # one probe per process: it loads the multimedia backend

    def __init__(self) -> None:
        self.requested: list[str] = []
        self._effects: dict[str, Any] = {}

    @property
    def available(self) -> bool:
        if SoundPlayer._probed is None:
            SoundPlayer._probed = self._probe()
        return SoundPlayer._probed

    @staticmethod
    def _probe() -> bool:
        with quiet_qt_messages("sound probe"):
            try:
                from PySide6.QtMultimedia import QMediaDevices
            except ImportError as exc:
                logger.info("sounds off: QtMultimedia is missing (%s)", exc)
                return False
            outputs = QMediaDevices.audioOutputs()
        if not outputs:
            logger.info("sounds off: no audio output device")
        return bool(outputs)

    def play(self, name: str) -> bool:
        self.requested.append(name)
        if not self.available:
            return False
        effect = self._effect(name)
        if effect is None:
            return False
        with quiet_qt_messages("sound"):
            effect.play()
        return True

    def _effect(self, name: str) -> Any:
        if name not in self._effects:
            path = resource_path("sounds", f"{name}.wav")
            if not path.exists():
                logger.info("sound %s is missing: %s", name, path)
                self._effects[name] = None
                return None
            from PySide6.QtMultimedia import QSoundEffect

            with quiet_qt_messages("sound"):
                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(0.6)
            self._effects[name] = effect
        return self._effects[name]


class Notifier(QObject):
    """Decides what is news and tells the operator through tray, sound and taskbar."""

    notified = Signal(object)  # Notification
    open_requested = Signal(int)  # dialog id: the operator clicked the tray message
    window_requested = Signal()  # the operator clicked the tray icon

    def __init__(
        self,
        service: DeskService,
        *,
        is_open_in_tab: Callable[[int], bool],
        is_current_tab: Callable[[int], bool],
        window_active: Callable[[], bool],
        alert_widget: Any = None,
        sounds_enabled: bool = True,
        player: SoundPlayer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.is_open_in_tab = is_open_in_tab
        self.is_current_tab = is_current_tab
        self.window_active = window_active
        self.alert_widget = alert_widget
        self.sounds_enabled = sounds_enabled
        self.player = player or SoundPlayer()
        self.clock = clock
        self.history: list[Notification] = []
        self._seen_keys: set[str] = set()
        self._last_sound: datetime | None = None
        self.tray = self._make_tray()

    # ---- decisions -------------------------------------------------------------------------

    def on_assigned(self, dialog_id: int) -> None:
        row = self.service.dialog(dialog_id)
        name = row.dialog.contact_name if row else f"#{dialog_id}"
        preview = row.dialog.last_message.text if row and row.dialog.last_message else ""
        self._notify(
            Notification(
                dialog_id,
                "assigned",
                tr("New dialog: {name}").format(name=tray_safe(name, 60)),
                tray_safe(preview),
                SOUND_NEW_DIALOG,
            )
        )

    def on_messages_changed(self, change: MessagesChanged) -> None:
        fresh = [row for row in change.inserted if self._is_news(row)]
        self._seen_keys.update(row.key for row in fresh)
        if fresh and self.message_is_news_for(change.dialog_id):
            row = self.service.dialog(change.dialog_id)
            name = row.dialog.contact_name if row else f"#{change.dialog_id}"
            self._notify(
                Notification(
                    change.dialog_id,
                    "message",
                    tr("Message from {name}").format(name=tray_safe(name, 60)),
                    tray_safe(fresh[-1].text),
                    SOUND_NEW_MESSAGE,
                )
            )

    def _is_news(self, row: Any) -> bool:
        return (
            row.author == Author.CLIENT
            and row.kind == MessageKind.MESSAGE
            and row.key not in self._seen_keys
            and row.created_at >= self.clock() - FRESH_FOR
        )

    def message_is_news_for(self, dialog_id: int) -> bool:
        """A background tab always; while the window is inactive, also any dialog of mine."""
        if self.window_active():
            return self.is_open_in_tab(dialog_id) and not self.is_current_tab(dialog_id)
        if self.is_open_in_tab(dialog_id):
            return True
        row = self.service.dialog(dialog_id)
        me = self.service.me
        return row is not None and me is not None and row.dialog.assignee_id == me.id

    # ---- telling ---------------------------------------------------------------------------

    def _notify(self, note: Notification) -> None:
        self.history.append(note)
        del self.history[:-50]
        if self.tray is not None:
            self.tray.showMessage(
                note.title, note.text, QSystemTrayIcon.MessageIcon.Information, 8000
            )
        if self.sounds_enabled and self._sound_due():
            self.player.play(note.sound)
        if self.alert_widget is not None:
            QApplication.alert(self.alert_widget, 0)
        self.notified.emit(note)

    def _sound_due(self) -> bool:
        now = self.clock()
        if self._last_sound and (now - self._last_sound).total_seconds() < SOUND_GAP_SECONDS:
            return False
        self._last_sound = now
        return True

    def _make_tray(self) -> QSystemTrayIcon | None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = QSystemTrayIcon(icon("app"), self)
        tray.setToolTip(tr("Operator desk"))
        tray.messageClicked.connect(self.tray_message_clicked)
        tray.activated.connect(self._tray_activated)
        tray.show()
        return tray

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.window_requested.emit()

    def tray_message_clicked(self) -> None:
        if self.history:
            self.open_requested.emit(self.history[-1].dialog_id)

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()


def install_notifications(window: MainWindow, sounds_enabled: bool | None = None) -> Notifier:
    """Hook the notifier to the window's bridge; a tray click brings the dialog forward.

    ``sounds_enabled`` defaults to the saved setting.
    """
    if sounds_enabled is None:
        sounds_enabled = load_settings().sounds
    notifier = Notifier(
        window.service,
        is_open_in_tab=lambda dialog_id: dialog_id in window.tabs_by_dialog,
        is_current_tab=lambda dialog_id: _current_dialog(window) == dialog_id,
        window_active=lambda: window.isActiveWindow() and not window.isMinimized(),
        alert_widget=window,
        sounds_enabled=sounds_enabled,
        parent=window,
    )
    window.bridge.assigned.connect(notifier.on_assigned)
    window.bridge.messages_changed.connect(notifier.on_messages_changed)

    def show_window() -> None:
        window.showNormal()
        window.raise_()
        window.activateWindow()

    def bring_forward(dialog_id: int) -> None:
        show_window()
        window.open_dialog(dialog_id)

    notifier.open_requested.connect(bring_forward)
    notifier.window_requested.connect(show_window)
    return notifier


def _current_dialog(window: MainWindow) -> int | None:
    tab = window.current_tab()
    return None if tab is None else tab.dialog_id
