"""Open the supervisor console against the real embedded backend, and poke the backend."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from PySide6.QtCore import Qt

from operator_app.app import sign_in
from operator_app.core.connection import Phase
from operator_app.core.service import DeskService
from operator_app.core.supervision import SupervisorService
from operator_app.protocol import routes
from operator_app.protocol.models import Channel
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.supervisor import SupervisorConsole
from operator_app.ui.supervisor.alerts import AlertSettings, AlertSound
from operator_app.ui.tasks import TaskRunner
from tests.helpers.qt_async import wait_until


@dataclass
class Desk:
    server: EmbeddedServer
    service: DeskService
    supervision: SupervisorService
    runner: TaskRunner
    console: SupervisorConsole
    errors: list[BaseException]

    def operator_id(self, login: str) -> int:
        return next(o.id for o in self.service.operators() if o.login == login)

    def queue_id(self, name: str) -> int:
        return next(q.id for q in self.service.queues() if q.name == name)


@asynccontextmanager
async def supervisor_desk(
    server: EmbeddedServer,
    login: str = "olga",
    settings: AlertSettings | None = None,
    password: str = "demo",
) -> AsyncIterator[Desk]:
    service = await sign_in(server.url, login, password, demo=True)
    errors: list[BaseException] = []
    runner = TaskRunner(on_error=errors.append)
    supervision = SupervisorService(service)
    console: SupervisorConsole | None = None
    try:
        await wait_until(lambda: service.connection.phase == Phase.ONLINE, what="online")
        await wait_until(lambda: len(service.operators()) > 0, what="the directory")
        console = SupervisorConsole(
            service,
            supervision,
            runner,
            alert_settings=settings or AlertSettings(queue_threshold=50, sound=False),
            sound=AlertSound(),
        )
        console.resize(1300, 820)
        console.show()
        await wait_until(lambda: console is not None and console.board is not None, what="board")
        yield Desk(server, service, supervision, runner, console, errors)
    finally:
        if console is not None:
            # deleted here, on the GUI thread: a top-level widget left to the garbage
            # collector may be destroyed on the server's thread
            console.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            console.close()
            await asyncio.sleep(0.05)
        await runner.cancel_all()
        await service.close()
        service.cache.close()
        # cyclic garbage holding Qt objects is freed here, on the GUI thread: left to a
        # later collection it may be destroyed on the server's thread (a Qt warning, or worse)
        gc.collect()
    assert not errors, errors


async def customer_writes(
    server: EmbeddedServer,
    address: str,
    text: str,
    external_id: str,
    queue_id: int | None = None,
    name: str = "Тест Клиент",
) -> int:
    """A customer message through the real inbound API; returns the dialog id."""
    body: dict[str, object] = {
        "address": address,
        "name": name,
        "text": text,
        "external_id": external_id,
    }
    if queue_id is not None:
        body["queue_id"] = queue_id
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            routes.INBOUND.format(channel="webchat"),
            json=body,
            headers={"X-Channel-Secret": server.channel_secrets[Channel.WEBCHAT]},
        )
        answer.raise_for_status()
        return int(answer.json()["dialog_id"])


async def customer_types(server: EmbeddedServer, address: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            routes.INBOUND_TYPING.format(channel="webchat"),
            json={"address": address, "on": True},
            headers={"X-Channel-Secret": server.channel_secrets[Channel.WEBCHAT]},
        )
        answer.raise_for_status()
