"""Session restore: window geometry, splitter sizes, open tabs, the current tab, and whether
the supervisor console was open.

Saved on close into ``Settings.window_state`` as base64 blobs (geometry and splitter from Qt,
tabs as base64 JSON). Tabs are kept per server profile and login: dialog ids mean nothing on
another server. Geometry and splitter apply before the window shows; the tabs reopen after its
first paint (``MainWindow.finish_start``: each tab is a timeline to lay out, which the dialog
list should not wait for): the cached dialogs at once, ids the cache does not know yet when
the first sync brings them, or they are dropped after ``PENDING_SECONDS``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QWidget

from operator_app.core.settings import load_settings, save_settings

if TYPE_CHECKING:
    from .main_window import MainWindow

logger = logging.getLogger(__name__)

GEOMETRY = "geometry"
SPLITTER = "splitter"
PENDING_SECONDS = 60.0
MAX_TABS = 30
SAVED_FLAG = "sessionSaved"


def session_key(kind: str, window: MainWindow) -> str:
    """Where ``kind`` ("tabs", "console") is kept: per server profile and login."""
    profile = window.service.profile
    return f"{kind}:{profile.name}:{profile.login}"


def console_open(window: MainWindow) -> bool:
    console = window.findChild(QWidget, "supervisorConsole")  # by name: no console import
    return console is not None and console.isVisible()


def encode_tabs(dialog_ids: list[int], current: int | None) -> str:
    data = json.dumps({"tabs": dialog_ids[:MAX_TABS], "current": current})
    return base64.b64encode(data.encode()).decode("ascii")


def decode_tabs(blob: str) -> tuple[list[int], int | None]:
    """Tolerant: a damaged blob gives no tabs rather than an error at start."""
    if not blob:
        return [], None
    try:
        data = json.loads(base64.b64decode(blob, validate=True))
        tabs = [int(i) for i in data.get("tabs", []) if isinstance(i, int) and i > 0]
        current = data.get("current")
        return tabs[:MAX_TABS], current if isinstance(current, int) else None
    except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
        logger.info("saved tabs are unreadable (%s); starting without them", exc)
        return [], None


def _blob(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")


def _bytes(blob: str) -> QByteArray:
    return QByteArray.fromBase64(QByteArray(blob.encode("ascii", "ignore")))


def open_tab_ids(window: MainWindow) -> list[int]:
    from .chat_tab import ChatTab  # loaded when a tab opens, not at start

    tabs = window.chat_tabs
    widgets = (tabs.widget(number) for number in range(tabs.count()))
    return [tab.dialog_id for tab in widgets if isinstance(tab, ChatTab)]


def save_session(window: MainWindow) -> None:
    """Write geometry, splitter and tabs; once per window (close may run twice)."""
    if window.property(SAVED_FLAG):
        return
    window.setProperty(SAVED_FLAG, True)
    settings = load_settings()
    state = settings.window_state
    state[GEOMETRY] = _blob(window.saveGeometry())
    state[SPLITTER] = _blob(window.splitter.saveState())
    if window.session_restorer.started:  # else the saved tabs were never reopened: keep them
        current = window.current_tab()
        state[session_key("tabs", window)] = encode_tabs(
            open_tab_ids(window), None if current is None else current.dialog_id
        )
        state[session_key("console", window)] = "open" if console_open(window) else ""
    try:
        save_settings(settings)
    except OSError as exc:
        logger.warning("the session could not be saved: %s", exc)


class SessionRestorer:
    """Reopens the saved tabs once started: at once, or as soon as the sync brings their
    dialogs."""

    def __init__(
        self, window: MainWindow, tabs: list[int], current: int | None, console: bool = False
    ) -> None:
        self.window = window
        self.pending = list(tabs)
        self.current = current
        self.console = console  # the supervisor console was open: open it again
        self.deadline = 0.0
        self.started = False
        self.listening = False

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.deadline = time.monotonic() + PENDING_SECONDS
        self.open_ready()
        if self.console:
            self.window.open_supervisor_console()  # nothing for whom may not supervise
        if self.pending:
            self.window.bridge.dialogs_changed.connect(self._on_dialogs_changed)
            self.listening = True

    def open_ready(self) -> None:
        window = self.window
        ready = [i for i in self.pending if window.service.dialog(i) is not None]
        if not ready:
            return
        before = window.current_tab()
        for dialog_id in ready:
            window.open_dialog(dialog_id)
        self.pending = [i for i in self.pending if i not in ready]
        chosen = window.tabs_by_dialog.get(self.current) if self.current is not None else None
        keep = chosen if chosen is not None else before
        if keep is not None:
            window.chat_tabs.setCurrentWidget(keep)

    def _on_dialogs_changed(self, _ids: Any) -> None:
        if time.monotonic() > self.deadline:
            self.pending.clear()
        else:
            self.open_ready()
        if not self.pending and self.listening:  # opening a tab may re-enter here
            self.listening = False
            self.window.bridge.dialogs_changed.disconnect(self._on_dialogs_changed)


def restore_session(window: MainWindow) -> SessionRestorer:
    """Apply the saved geometry and splitter; the returned restorer reopens this profile's
    tabs when started."""
    state = load_settings().window_state
    if GEOMETRY in state and not window.restoreGeometry(_bytes(state[GEOMETRY])):
        logger.info("saved window geometry ignored: unreadable")
    if SPLITTER in state and not window.splitter.restoreState(_bytes(state[SPLITTER])):
        logger.info("saved splitter sizes ignored: unreadable")
    tabs, current = decode_tabs(state.get(session_key("tabs", window), ""))
    console = state.get(session_key("console", window)) == "open"
    return SessionRestorer(window, tabs, current, console)
