"""The sign-in window against the real backend: errors in plain words, remember me, demo."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from operator_app.app import Launcher, Options
from operator_app.core.credentials import service_name
from operator_app.core.service import DeskService
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.login import Credentials, LoginDialog
from tests.helpers.keyring_backend import MemoryKeyring
from tests.helpers.qt_async import wait_until


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
    with EmbeddedServer(demo=True, simulate_rate=0.0) as running:
        yield running


def _dialog(launcher: Launcher, qtbot: QtBot) -> LoginDialog:
    async def attempt(credentials: Credentials) -> DeskService:
        profile = credentials.profile
        return await launcher.sign_in(
            profile.base_url, profile.login, credentials.password, remember=credentials.remember
        )

    dialog = LoginDialog([], "", attempt, launcher.start_demo, keyring_available=True)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _fill(dialog: LoginDialog, url: str, login: str, password: str) -> None:
    dialog.url_edit.setText(url)
    dialog.login_edit.setText(login)
    dialog.password_edit.setText(password)


async def _close(service: DeskService | None) -> None:
    if service is not None:
        await service.close()
        service.cache.close()


def test_wrong_password_is_said_plainly(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        launcher = Launcher(_options())
        dialog = _dialog(launcher, qtbot)
        _fill(dialog, server.url, "anna", "not-her-password")
        QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "Wrong login or password" in dialog.error_label.text())
        assert dialog.service is None and dialog.isVisible()
        assert dialog.sign_in_button.isEnabled()

    qloop.run_until_complete(scenario())


def test_unreachable_server_is_said_plainly(qloop: asyncio.AbstractEventLoop, qtbot: QtBot) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        dialog = _dialog(Launcher(_options()), qtbot)
        _fill(dialog, f"http://127.0.0.1:{port}", "anna", "demo")
        QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "cannot be reached" in dialog.error_label.text(), timeout=20)

    qloop.run_until_complete(scenario())


@pytest.mark.parametrize("remember", [True, False])
def test_remember_me_decides_whether_the_token_is_kept(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    test_keyring: MemoryKeyring,
    remember: bool,
) -> None:
    async def scenario() -> None:
        dialog = _dialog(Launcher(_options()), qtbot)
        _fill(dialog, server.url, "anna", "demo")
        dialog.remember_box.setChecked(remember)
        QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.service is not None, what="signed in")
        assert dialog.result() == LoginDialog.DialogCode.Accepted
        stored = test_keyring.get_password(service_name(server.url), "anna")
        assert (stored is not None) is remember
        assert dialog.service is not None and dialog.service.me is not None
        assert dialog.service.me.login == "anna"
        await _close(dialog.service)

    qloop.run_until_complete(scenario())


def test_try_the_demo_starts_the_embedded_backend(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario() -> None:
        launcher = Launcher(_options())
        dialog = _dialog(launcher, qtbot)
        QTest.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.service is not None, timeout=20, what="demo signed in")
        assert launcher.server is not None and dialog.service is not None
        assert dialog.service.profile.base_url == launcher.server.url
        await _close(dialog.service)
        await launcher.close()
        assert launcher.server is None

    qloop.run_until_complete(scenario())
