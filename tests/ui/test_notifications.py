"""When the desk tells the operator about news, against the real backend's inbound API."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from operator_app.core.service import Section
from operator_app.core.settings import Settings, save_settings
from operator_app.protocol.models import Channel, DialogState
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.notifications import Notifier, SoundPlayer, quiet_qt_messages, tray_safe
from operator_app.ui.resources import icon
from tests.helpers.desk_rows import dialog_of
from tests.helpers.qt_async import wait_until
from tests.ui.shell_helpers import (
    address_of,
    collect_garbage_here,
    current_tab,
    customer_writes,
    signed_in_window,
)

__all__ = ["collect_garbage_here"]  # an autouse fixture


def test_tray_text_is_one_short_line_without_markup() -> None:
    assert tray_safe("<b>Привет</b>\nмир") == "‹b›Привет‹/b› мир"
    assert len(tray_safe("x" * 1000)) == 140


def test_missing_audio_is_silent(qapp: object) -> None:
    """No audio device here (or no QtMultimedia): play() says no, and nothing warns."""
    player = SoundPlayer()
    played = player.play("new-message")
    assert player.requested == ["new-message"]
    assert played == player.available
    with quiet_qt_messages("test"):
        pass  # the handler goes back to pytest-qt's, which still catches warnings after


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_news_in_background_tabs_and_while_away_but_not_in_front(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_background_and_away(server, qtbot))


async def _background_and_away(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        notifier: Notifier = window.notifier
        notifier.window_active = lambda: True
        mine = window.models[Section.MINE]
        background, front = mine.dialog_id_at(0), mine.dialog_id_at(1)
        window.open_dialog(background)
        window.open_dialog(front)
        back_address = await address_of(service, background)
        front_address = await address_of(service, front)

        await customer_writes(server, *front_address, "Я тут, в открытой вкладке")
        await customer_writes(server, *back_address, "А я в фоновой")
        await wait_until(lambda: _reasons(notifier, "message"), what="a notification")
        await asyncio.sleep(0.3)  # the front tab's message must not have notified meanwhile
        messages = [n for n in notifier.history if n.reason == "message"]
        assert [n.dialog_id for n in messages] == [background]
        assert "А я в фоновой" in messages[0].text

        notifier.window_active = lambda: False  # the operator is in another application
        await customer_writes(server, *front_address, "Ответьте, пожалуйста")
        await wait_until(lambda: len(_reasons(notifier, "message")) == 2, what="news while away")
        assert notifier.history[-1].dialog_id == front

        notifier.tray_message_clicked()  # the tray message opens its dialog
        assert current_tab(window).dialog_id == front


def _reasons(notifier: Notifier, reason: str) -> list[int]:
    return [n.dialog_id for n in notifier.history if n.reason == reason]


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_new_assignment_notifies_and_sounds_can_be_turned_off(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    save_settings(Settings(sounds=False))  # read by the window's notifier at start
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_assignment(server, qtbot))


async def _assignment(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        notifier: Notifier = window.notifier
        notifier.window_active = lambda: True
        assert not notifier.sounds_enabled
        me = service.me
        assert me is not None
        active = [r for r in service.dialogs(Section.MINE) if r.dialog.state == DialogState.ACTIVE]
        await service.close_dialog(active[0].dialog.id, resolution="готово")  # frees capacity
        await customer_writes(
            server, Channel.WHATSAPP, "+79990001122", "Хочу оформить заказ", "Новый Клиент"
        )

        def assigned_to_me() -> list[int]:
            return [
                dialog_id
                for dialog_id in _reasons(notifier, "assigned")
                if (row := service.dialog(dialog_id)) and row.dialog.assignee_id == me.id
            ]

        await wait_until(assigned_to_me, what="news of a dialog assigned to me")
        news = next(n for n in notifier.history if n.dialog_id == assigned_to_me()[0])
        assert dialog_of(service, news.dialog_id).contact_name in news.title
        assert notifier.player.requested == []  # sounds off: silent

        notifier.sounds_enabled = True
        notifier._last_sound = None
        window.open_dialog(news.dialog_id)
        window.open_dialog(next(r.dialog.id for r in active[1:]))
        channel, address = await address_of(service, news.dialog_id)
        await customer_writes(server, channel, address, "Алло?")
        await wait_until(lambda: _reasons(notifier, "message"), what="news from a background tab")
        assert notifier.player.requested == ["new-message"]
        notifier.tray_message_clicked()
        assert current_tab(window).dialog_id == news.dialog_id


@pytest.mark.qt_log_ignore("propagateSizeHints", "systemTrayWindowChanged")  # offscreen's tray
def test_closing_the_window_takes_its_tray_icon_away(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    """A new language or a log-out builds a new window: the old one's icon must not linger."""
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_tray_on_close(server, qtbot))


async def _tray_on_close(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (_service, window):
        tray = QSystemTrayIcon(icon("app"), window)  # stands in for a desktop's tray icon
        window.notifier.tray = tray
        tray.show()
        assert tray.isVisible()
        window.close()
        assert not tray.isVisible()
