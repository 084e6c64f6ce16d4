"""The thinnest slice end to end, against the real embedded backend on loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from operator_app.app import DEMO_LOGIN, DEMO_PASSWORD, sign_in
from operator_app.core.connection import Phase
from operator_app.core.service import DeliveryState, Section
from operator_app.protocol.models import Author
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.main_window import MainWindow
from tests.helpers.qt_async import type_text, wait_until


def test_operator_replies_and_sees_the_customer_answer_live(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    server = EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=True)
    server.start()
    try:
        qloop.run_until_complete(_drive(server, qtbot, tmp_path))
    finally:
        server.stop()


async def _drive(server: EmbeddedServer, qtbot: QtBot, tmp_path: Path) -> None:
    service = await sign_in(server.url, DEMO_LOGIN, DEMO_PASSWORD, demo=True)
    window = MainWindow(service)
    qtbot.addWidget(window)
    window.show()
    try:
        await wait_until(lambda: service.connection.phase == Phase.ONLINE, what="online")
        model = window.models[Section.MINE]
        await wait_until(lambda: model.rowCount() > 0, what="my dialogs in the list")
        assert window.dialog_view.model() is model

        first = model.index(0)
        rect = window.dialog_view.visualRect(first)
        QTest.mouseClick(
            window.dialog_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
        )
        dialog_id = model.dialog_id_at(0)
        tab = window.tabs_by_dialog[dialog_id]
        assert window.chat_tabs.currentWidget() is tab
        await wait_until(lambda: tab.model.rowCount() > 0, what="the dialog's history")

        type_text(tab.composer, "Здравствуйте! Сейчас проверю ваш заказ.")
        QTest.keyClick(tab.composer, Qt.Key.Key_Return)
        assert tab.composer.toPlainText() == ""
        last = tab.model.message_at(tab.model.rowCount() - 1)
        assert last.text == "Здравствуйте! Сейчас проверю ваш заказ."
        assert last.author == Author.OPERATOR
        assert last.state in (DeliveryState.PENDING, DeliveryState.SENT)

        def state_of(key: str) -> DeliveryState:
            return tab.model.message_at(tab.model.row_of_key(key)).state

        await wait_until(lambda: state_of(last.key) == DeliveryState.SENT, what="sent")

        def customer_answered() -> bool:
            position = tab.model.row_of_key(last.key)
            later = [tab.model.message_at(n) for n in range(position + 1, tab.model.rowCount())]
            return any(r.author == Author.CLIENT for r in later)

        await wait_until(customer_answered, timeout=15, what="the customer's live answer")
        shot = window.grab()
        assert not shot.isNull() and shot.width() > 600
        shot.save(str(tmp_path / "walking-skeleton.png"))
    finally:
        window.close()
        await window.runner.cancel_all()
        await service.close()


def test_smoke_mode_exits_zero_after_a_real_send() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "operator_app", "--smoke", "--smoke-timeout", "40"],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "smoke: OK" in done.stdout
