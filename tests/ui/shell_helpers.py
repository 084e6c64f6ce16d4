"""Helpers of the shell tests: a signed-in main window on the real demo backend, customers."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from operator_app.app import DEMO_LOGIN, DEMO_PASSWORD, sign_in
from operator_app.core.connection import Phase
from operator_app.core.service import DeskService, Section
from operator_app.protocol import routes
from operator_app.protocol.models import Channel, InboundAccepted
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.chat_tab import ChatTab
from operator_app.ui.main_window import MainWindow
from tests.helpers.qt_async import wait_until


@pytest.fixture(autouse=True)
def collect_garbage_here() -> Iterator[None]:
    """Free the test's windows now, on the GUI thread: left to Python's cycle collector they
    may be freed later on the embedded server's thread, where Qt cannot stop their timers."""
    yield
    gc.collect()


@asynccontextmanager
async def signed_in_window(
    server: EmbeddedServer | str,
    qtbot: QtBot,
    login: str = DEMO_LOGIN,
    password: str = DEMO_PASSWORD,
    cache_dir: Path | None = None,
    *,
    expect_mine: bool = True,
) -> AsyncIterator[tuple[DeskService, MainWindow]]:
    """anna's main window, online, with her dialogs listed (``expect_mine``: a supervisor
    has none); closed properly afterwards, which saves the session. ``server``: the embedded
    server, or the address that reaches it (a fault proxy in front of it)."""
    url = server if isinstance(server, str) else server.url
    service = await sign_in(url, login, password, demo=True, cache_dir=cache_dir)
    window = MainWindow(service)
    qtbot.addWidget(window)
    window.show()
    try:
        await wait_until(lambda: service.connection.phase == Phase.ONLINE, what="online")
        mine = window.models[Section.MINE]
        if expect_mine:
            await wait_until(lambda: mine.rowCount() > 0, what="my dialogs in the list")
        yield service, window
    finally:
        await window.runner.cancel_all()  # first: the tasks' callbacks still find their tabs
        window.close()
        for timer in window.findChildren(QTimer):  # none may fire once the cache is closed
            timer.stop()
        await service.close()
        service.cache.close()


async def customer_writes(
    server: EmbeddedServer, channel: Channel, address: str, text: str, name: str = ""
) -> InboundAccepted:
    """A customer's message through the real inbound API, as a channel connector posts it."""
    body = {"address": address, "name": name, "text": text, "external_id": uuid.uuid4().hex}
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            server.url + routes.INBOUND.format(channel=channel.value),
            json=body,
            headers={"X-Channel-Secret": server.channel_secrets[channel]},
        )
    assert answer.status_code == 200, answer.text
    return InboundAccepted.model_validate_json(answer.text)


def current_tab(window: MainWindow) -> ChatTab:
    """The chat tab in front; the test fails when there is none."""
    tab = window.current_tab()
    assert tab is not None, "no chat tab in front"
    return tab


async def address_of(service: DeskService, dialog_id: int) -> tuple[Channel, str]:
    """The channel and customer address of a dialog, from the real contact card."""
    row = service.dialog(dialog_id)
    assert row is not None
    card = await service.contact_card(row.dialog.contact_id)
    assert card is not None
    identity = next(i for i in card.contact.identities if i.channel == row.dialog.channel)
    return identity.channel, identity.address
