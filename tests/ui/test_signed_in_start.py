"""Starting signed in: "Remember me" opens the workspace at the next start, without the sign-in
window; a refused token ends in the sign-in window with a message; a dead server opens offline.

Each scenario runs the app's own ``run()`` (the real start path) against the real embedded
backend, with the test keyring and hermetic settings, and watches the top-level windows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import TypeVar

import keyring
import pytest
from keyring.backends.null import Keyring as NullKeyring
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from operator_app import app as app_module
from operator_app.app import Launcher, Options, run
from operator_app.core.cache import cache_path_for, lock_path
from operator_app.core.connection import Phase
from operator_app.core.credentials import service_name
from operator_app.core.filelock import FileLock
from operator_app.core.service import DeliveryState, DeskService, Section
from operator_app.core.settings import load_settings
from operator_app.net.api import ApiClient
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.i18n import install_language
from operator_app.ui.login import LoginDialog
from operator_app.ui.main_window import MainWindow
from operator_app.ui.settings_dialog import apply_settings
from tests.helpers.keyring_backend import MemoryKeyring
from tests.helpers.qt_async import wait_until

W = TypeVar("W", bound=QWidget)


def _options() -> Options:
    return Options(
        demo=False,
        smoke=False,
        server="",
        login="",
        password="",
        language="en",
        theme="light",
        simulate_rate=0.0,
        smoke_timeout=10,
    )


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as running:
        yield running


@pytest.fixture
def sign_in_windows(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time the app shows the sign-in window, with the message it shows."""
    shown: list[str] = []
    original = app_module.ask_to_sign_in

    async def recording(launcher: Launcher, *, message: str = "") -> DeskService | None:
        shown.append(message)
        return await original(launcher, message=message)

    monkeypatch.setattr(app_module, "ask_to_sign_in", recording)
    return shown


def _visible(kind: type[W]) -> W | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, kind) and widget.isVisible():
            return widget
    return None


async def _window(kind: type[W], what: str, timeout: float = 15.0) -> W:
    await wait_until(lambda: _visible(kind) is not None, timeout=timeout, what=what)
    window = _visible(kind)
    assert window is not None
    return window


async def _sign_in_with_remember_me(
    server: EmbeddedServer, qtbot: QtBot, *, keyring: bool = True
) -> None:
    """A first session through the sign-in window, "Remember me" on (when there is a
    keyring: without one the box is off and disabled); then quit."""
    session = _start()
    dialog = await _window(LoginDialog, "the sign-in window")
    dialog.url_edit.setText(server.url)
    dialog.login_edit.setText("anna")
    dialog.password_edit.setText("demo")
    assert dialog.remember_box.isChecked() is keyring
    QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    window = await _window(MainWindow, "the main window")
    await wait_until(lambda: window.service.connection.phase == Phase.ONLINE, what="online")
    await wait_until(lambda: bool(window.service.dialogs(Section.MINE)), what="mine cached")
    window.close()
    assert await asyncio.wait_for(session, 15) == 0


def _start() -> asyncio.Future[int]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return asyncio.ensure_future(run(app, _options()))


def _scenario(qloop: asyncio.AbstractEventLoop, body: Callable[[], Awaitable[None]]) -> None:
    qloop.run_until_complete(body())


def test_a_remembered_session_opens_the_workspace_without_the_sign_in_window(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    sign_in_windows: list[str],
) -> None:
    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot)
        assert sign_in_windows == [""]
        assert load_settings().remembered_profile == load_settings().last_profile != ""

        restarted = _start()
        window = await _window(MainWindow, "the main window at restart")
        assert window.dialog_view.model().rowCount() > 0  # the cached dialogs, at once
        await wait_until(lambda: window.service.connection.phase == Phase.ONLINE, what="online")
        assert window.list_filters.tag_combo.count() > 1  # filled right after the first paint
        assert window.me_label.text()  # the operator, from the cache
        assert sign_in_windows == [""]  # the restart never showed the sign-in window

        # "Log out" forgets the token and returns to the sign-in window ...
        window._leave("logout")
        dialog = await _window(LoginDialog, "the sign-in window after log out")
        assert load_settings().remembered_profile == ""
        dialog.close()
        assert await asyncio.wait_for(restarted, 15) == 0
        # ... and the next start asks again.
        again = _start()
        dialog = await _window(LoginDialog, "the sign-in window at the next start")
        dialog.close()
        assert await asyncio.wait_for(again, 15) == 0
        assert sign_in_windows == ["", "", ""]

    _scenario(qloop, body)


def test_a_new_language_builds_the_window_again_over_the_same_session(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    sign_in_windows: list[str],
) -> None:
    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot)
        session = _start()
        window = await _window(MainWindow, "the main window")
        await wait_until(lambda: window.service.connection.phase == Phase.ONLINE, what="online")
        dialog_id = window.service.dialogs(Section.MINE)[0].dialog.id
        window.open_dialog(dialog_id)
        window.tabs_by_dialog[dialog_id].composer.setPlainText("черновик")  # saved as typed
        assert window.section_bar.tabText(0).startswith("Mine")
        original = load_settings()
        try:
            apply_settings(window, replace(original, language="ru"), original)
            await wait_until(
                lambda: _visible(MainWindow) not in (None, window), what="the window built again"
            )
            again = _visible(MainWindow)
            assert again is not None and not window.isVisible()
            assert again.section_bar.tabText(0).startswith("Мои")
            assert again.service is window.service  # the same session: no sign-in, no restart
            assert again.service.connection.phase == Phase.ONLINE
            assert again.service.dialogs(Section.MINE)  # its cache still open
            await wait_until(lambda: dialog_id in again.tabs_by_dialog, what="the tab back")
            assert again.tabs_by_dialog[dialog_id].composer.toPlainText() == "черновик"
            assert sign_in_windows == [""] and load_settings().language == "ru"
            again.close()
            assert await asyncio.wait_for(session, 15) == 0
        finally:
            install_language("en")

    _scenario(qloop, body)


def test_without_a_keyring_each_start_asks_to_sign_in(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    sign_in_windows: list[str],
) -> None:
    # headless: no Secret Service (restored by the fixture); keyring's __init__ is unannotated
    keyring.set_keyring(NullKeyring())  # type: ignore[no-untyped-call]

    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot, keyring=False)
        assert load_settings().remembered_profile == ""
        restarted = _start()
        dialog = await _window(LoginDialog, "the sign-in window at restart")
        assert dialog.login_edit.text() == "anna" and dialog.error_label.text() == ""
        assert _visible(MainWindow) is None
        dialog.close()
        assert await asyncio.wait_for(restarted, 15) == 0
        assert sign_in_windows == ["", ""]

    _scenario(qloop, body)


def test_a_profile_open_in_another_window_is_not_opened_twice(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    sign_in_windows: list[str],
) -> None:
    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot)
        other_app = FileLock(lock_path(cache_path_for(server.url, "anna")))
        assert other_app.acquire()  # another app window holds the cache
        try:
            restarted = _start()
            dialog = await _window(LoginDialog, "the sign-in window")
            assert "already open in another" in sign_in_windows[-1]
            assert dialog.error_label.text() == sign_in_windows[-1]
            assert _visible(MainWindow) is None
            dialog.password_edit.setText("demo")  # signing in anyway is refused the same way
            QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
            await wait_until(
                lambda: (
                    "already open" in dialog.error_label.text()
                    and dialog.sign_in_button.isEnabled()
                ),
                what="the refusal",
            )
            dialog.close()
            assert await asyncio.wait_for(restarted, 15) == 0
        finally:
            other_app.release()

    _scenario(qloop, body)


def test_a_refused_token_ends_in_the_sign_in_window_with_a_message(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    test_keyring: MemoryKeyring,
    sign_in_windows: list[str],
) -> None:
    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot)
        token = test_keyring.get_password(service_name(server.url), "anna")
        assert token
        revoker = ApiClient(server.url)  # the session ends on the server (another log out)
        revoker.token = token
        await revoker.logout()
        await revoker.aclose()

        restarted = _start()
        dialog = await _window(LoginDialog, "the sign-in window", timeout=20)
        assert "session has ended" in dialog.error_label.text()
        assert sign_in_windows[-1] == dialog.error_label.text()
        assert _visible(MainWindow) is None
        assert test_keyring.get_password(service_name(server.url), "anna") is None
        assert load_settings().remembered_profile == ""
        assert dialog.url_edit.text() == server.url  # the profile is offered again
        assert dialog.login_edit.text() == "anna"
        dialog.close()
        assert await asyncio.wait_for(restarted, 15) == 0

    _scenario(qloop, body)


def test_a_dead_server_opens_the_workspace_offline_from_the_cache(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    test_keyring: MemoryKeyring,
    sign_in_windows: list[str],
) -> None:
    async def body() -> None:
        await _sign_in_with_remember_me(server, qtbot)
        server.stop()

        restarted = _start()
        window = await _window(MainWindow, "the main window, offline")
        assert window.dialog_view.model().rowCount() > 0
        await wait_until(
            lambda: window.service.connection.phase in (Phase.RECONNECTING, Phase.OFFLINE),
            what="not connected",
        )
        await wait_until(window.banner.isVisible, what="the offline banner")
        assert "Online" not in window.connection_label.text()
        # Writing while offline: the message waits in the outbox, nothing is lost.
        dialog_id = window.service.dialogs(Section.MINE)[0].dialog.id
        window.open_dialog(dialog_id)
        pending = window.service.send(dialog_id, "written offline")
        await asyncio.sleep(0.3)
        assert window.isVisible() and sign_in_windows == [""]
        assert test_keyring.get_password(service_name(server.url), "anna")  # token kept
        window.close()
        assert await asyncio.wait_for(restarted, 15) == 0

        # The pending message is still in the outbox of the cache at the next start.
        again = open_remembered_cache()
        try:
            rows = again.cache.messages(dialog_id, limit=5)
            assert any(r.key == pending.key and r.state == DeliveryState.PENDING for r in rows)
        finally:
            again.cache.close()
            await again.api.aclose()

    _scenario(qloop, body)


def open_remembered_cache() -> DeskService:
    service = app_module.open_remembered(load_settings())
    assert service is not None
    return service
