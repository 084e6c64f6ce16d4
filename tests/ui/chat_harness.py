"""Shared set-up of the chat tab, timeline and template tests: a real backend and a real core."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PySide6.QtCore import QEvent, QUrl
from PySide6.QtWidgets import QApplication

from operator_app.app import sign_in
from operator_app.core.connection import Phase
from operator_app.core.service import DeskService, MessagesChanged, Section, TypingChanged
from operator_app.protocol import routes
from operator_app.protocol.events import EventFrame, MessageCreated
from operator_app.protocol.models import Author, Channel, InboundMessage, InboundTyping, Message
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.bridge import CoreBridge
from operator_app.ui.chat_tab import ChatTab
from operator_app.ui.tasks import TaskRunner
from tests.helpers.qt_async import wait_until


def run_with_server(
    loop: asyncio.AbstractEventLoop,
    scenario: Callable[[EmbeddedServer], Coroutine[Any, Any, None]],
) -> None:
    server = EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False)
    server.start()
    try:
        loop.run_until_complete(scenario(server))
    finally:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        # collect the closed widgets here: Python's GC may otherwise run them down on the
        # server's thread, where Qt refuses to stop their timers (a warning fails the test)
        gc.collect()
        server.stop()


@dataclass
class Desk:
    server: EmbeddedServer
    service: DeskService
    runner: TaskRunner
    bridge: CoreBridge
    tabs: list[ChatTab] = field(default_factory=list)
    opened: list[QUrl] = field(default_factory=list)

    async def open_tab(self, dialog_id: int) -> ChatTab:
        """A chat tab opened and wired the way the main window does it."""
        await self.service.open_dialog(dialog_id)
        tab = ChatTab(self.service, dialog_id, self.runner, open_url=self.opened.append)
        self.adopt(tab)
        return tab

    def adopt(self, tab: ChatTab) -> None:
        """Route the core's changes to ``tab`` until it is closed, as the main window does."""
        self.tabs.append(tab)

        def on_messages(change: MessagesChanged) -> None:
            if tab in self.tabs and change.dialog_id == tab.dialog_id:
                tab.on_messages_changed(change)

        def on_typing(change: TypingChanged) -> None:
            if tab in self.tabs and change.dialog_id == tab.dialog_id:
                tab.on_typing(change)

        self.bridge.messages_changed.connect(on_messages)
        self.bridge.typing_changed.connect(on_typing)
        tab.resize(760, 620)
        tab.show()

    def close_tab(self, tab: ChatTab) -> None:
        tab.shutdown()
        tab.close()
        self.tabs.remove(tab)
        tab.deleteLater()
        # delete it now, on this thread: left to Python's GC it could die on the server's
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def mine(self) -> list[int]:
        return [row.dialog.id for row in self.service.dialogs(Section.MINE)]

    def waiting(self) -> list[int]:
        return [row.dialog.id for row in self.service.dialogs(Section.WAITING)]

    async def address_of(self, dialog_id: int) -> tuple[Channel, str]:
        row = self.service.dialog(dialog_id)
        assert row is not None
        card = await self.service.contact_card(row.dialog.contact_id)
        assert card is not None
        channel = row.dialog.channel
        identity = next(i for i in card.contact.identities if i.channel == channel)
        return channel, identity.address

    async def customer_says(self, channel: Channel, address: str, text: str, ext: str) -> int:
        body = InboundMessage(address=address, text=text, external_id=ext)
        answer = await self._inbound(routes.INBOUND, channel, body.model_dump_json())
        return int(answer.json()["message_id"])

    async def customer_types(self, channel: Channel, address: str, on: bool = True) -> None:
        body = InboundTyping(address=address, on=on)
        await self._inbound(routes.INBOUND_TYPING, channel, body.model_dump_json())

    async def _inbound(self, route: str, channel: Channel, body: str) -> httpx.Response:
        headers = {
            "X-Channel-Secret": self.server.channel_secrets[channel],
            "Content-Type": "application/json",
        }
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            answer = await client.post(
                route.format(channel=channel.value), content=body, headers=headers
            )
        answer.raise_for_status()
        return answer


@asynccontextmanager
async def desk(
    server: EmbeddedServer, login: str = "anna", *, with_dialogs: bool = True
) -> AsyncIterator[Desk]:
    """A signed-in session; one per login (the cache file is per server and login)."""
    password = "admin" if login == "admin" else "demo"  # the demo world's passwords
    service = await sign_in(server.url, login, password, demo=True)
    runner = TaskRunner()
    bridge = CoreBridge(service)
    session = Desk(server, service, runner, bridge)
    try:
        await wait_until(lambda: service.connection.phase == Phase.ONLINE, what="online")
        if with_dialogs:
            await wait_until(lambda: service.dialogs(Section.MINE), what="my dialogs synced")
        yield session
    finally:
        for tab in list(session.tabs):
            session.close_tab(tab)
        bridge.detach()
        await runner.cancel_all()
        await service.close()
        service.cache.close()


def replayed_messages(service: DeskService, dialog_id: int, count: int) -> list[EventFrame]:
    """``count`` customer messages for one dialog, past the cache's cursor and server ids."""
    dialog = service.cache.get_dialog(dialog_id)
    assert dialog is not None
    cursor = (service.cache.cursor or 0) + 1_000_000
    frames = []
    for n in range(count):
        at = datetime.now(UTC) + timedelta(milliseconds=n)
        message = Message(
            id=50_000_000 + n,
            dialog_id=dialog_id,
            author=Author.CLIENT,
            author_name="Client",
            text=f"replayed {n}",
            created_at=at,
        )
        dialog = dialog.model_copy(update={"updated_at": at, "last_message_id": message.id})
        frames.append(
            EventFrame(cursor=cursor + n, event=MessageCreated(message=message, dialog=dialog))
        )
    return frames
