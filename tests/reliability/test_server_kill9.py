"""kill -9 of the server in the middle of traffic, then a restart, several times over.

A Jepsen-style set check: writers send unique messages and retry each with the same
``client_msg_id`` (customers: the same ``external_id``) until it is acknowledged. The final
read must hold every acknowledged message exactly once. A watcher on the websocket records
every ``message.created`` it is told about: a published event must survive the crash (the
server commits, then acknowledges, then publishes), and its replay after each restart must
neither skip nor repeat a cursor. A client core (outbox and cache) rides along and must
converge.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import httpx
import pytest

from operator_app.net.api import ApiClient
from operator_app.net.errors import NetError
from operator_app.net.realtime import (
    Backoff,
    ConnectionState,
    Phase,
    RealtimeConnection,
    ws_url_for,
)
from operator_app.protocol.events import EventFrame, MessageCreated, ServerFrame
from operator_app.protocol.models import DialogScope, SendMessageRequest
from tests.helpers.reliability_world import (
    FIGURES,
    ServerProcess,
    all_messages,
    close_desk,
    customer_writes,
    desk,
    eventually,
    eventually_async,
    logged_in,
    sized,
    table_differences,
)

PER_WRITER = sized(15, 150)
KILLS = sized(2, 6)
WRITERS = ("anna", "boris", "elena")


class Watcher:
    """A websocket session as olga (sees every dialog) that records what was published."""

    def __init__(self, url: str, token: str) -> None:
        self.cursors: list[int] = []
        self.online = False
        self.created: dict[int, str] = {}  # message id -> text
        self.connection = RealtimeConnection(
            ws_url_for(url),
            token=lambda: token,
            since_cursor=lambda: self.cursors[-1] if self.cursors else None,
            on_frame=self.on_frame,
            on_state=self.on_state,
            backoff=Backoff(base=0.05, cap=0.5),
            heartbeat_seconds=1.0,
        )

    def on_state(self, state: ConnectionState) -> None:
        self.online = state.phase is Phase.ONLINE

    async def on_frame(self, frame: ServerFrame) -> None:
        if isinstance(frame, EventFrame):
            self.cursors.append(frame.cursor)
            if isinstance(frame.event, MessageCreated):
                self.created[frame.event.message.id] = frame.event.message.text


async def send_until_acked(api: ApiClient, dialog_id: int, text: str) -> int:
    """One message, retried with the same client id until acknowledged; returns the retries."""
    body = SendMessageRequest(client_msg_id=str(uuid.uuid4()), text=text)
    retries = 0
    while True:
        try:
            await api.send_message(dialog_id, body)
            return retries
        except NetError as exc:
            assert getattr(exc, "status", 0) < 500, f"server error: {exc}"
            retries += 1
            await asyncio.sleep(0.05)


def still_writing(n: int, killing: asyncio.Task[int]) -> bool:
    """At least PER_WRITER messages, and traffic until the last kill is over: a fast
    server must not finish the set before the killer has struck every time."""
    return n < PER_WRITER or not killing.done()


async def writer(
    api: ApiClient, dialog_id: int, login: str, acked: list[str], killing: asyncio.Task[int]
) -> int:
    retries = n = 0
    while still_writing(n, killing):
        text = f"set {login} #{n}"
        retries += await send_until_acked(api, dialog_id, text)
        acked.append(text)
        n += 1
    return retries


async def customer(http: httpx.AsyncClient, acked: list[str], killing: asyncio.Task[int]) -> int:
    retries = n = 0
    while still_writing(n, killing):
        text = f"set customer #{n}"
        _, failed = await customer_writes(
            http, "demo-telegram-secret", "@kill9-customer", text, f"kill9-{n}", attempts=2000
        )
        retries += failed
        acked.append(text)
        n += 1
    return retries


async def killer(server: ServerProcess, rng: random.Random, done: asyncio.Event) -> int:
    kills = 0
    while kills < KILLS and not done.is_set():
        await asyncio.sleep(rng.uniform(0.3, 0.9))
        await server.kill9()
        kills += 1
        await asyncio.sleep(rng.uniform(0.1, 0.5))
        await server.start()
    return kills


@pytest.mark.asyncio
@pytest.mark.timeout(600)
async def test_kill9_server_mid_traffic_loses_no_acknowledged_message(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    url = await server.start()
    apis = {login: await logged_in(url, login) for login in WRITERS}
    olga = await logged_in(url, "olga")
    watcher = Watcher(url, olga.token or "")
    watch_task = asyncio.create_task(watcher.connection.run(), name="kill9-watcher")
    http = httpx.AsyncClient(base_url=url, timeout=2.0)
    core = await desk(url, "boris", tmp_path / "boris.sqlite3")
    acked: dict[str, list[str]] = {login: [] for login in [*WRITERS, "customer", "core"]}
    done = asyncio.Event()
    try:
        dialogs = {
            login: (await api.dialogs(DialogScope.MINE)).items[0].id for login, api in apis.items()
        }
        core_dialog = (await apis["boris"].dialogs(DialogScope.MINE)).items[-1].id
        await eventually(lambda: watcher.online, 10, "the watcher online")
        kill_task = asyncio.create_task(killer(server, random.Random(9), done))
        work = [
            writer(apis[login], dialogs[login], login, acked[login], kill_task) for login in WRITERS
        ]
        work.append(customer(http, acked["customer"], kill_task))
        for n in range(PER_WRITER):  # the core queues into its outbox while the server dies
            core.send(core_dialog, f"set core #{n}")
            await asyncio.sleep(0.02)
        retries = sum(await asyncio.gather(*work))
        acked["core"] = [f"set core #{n}" for n in range(PER_WRITER)]
        done.set()
        kills = await kill_task
        core.retry_connection_now()
        await eventually(lambda: core.cache.outbox_size() == 0, 60, "the core's outbox drained")

        lost = duplicated = 0
        final: dict[str, list[str]] = {}
        for dialog_id in {*dialogs.values(), core_dialog, *await customer_dialogs(olga)}:
            for message in await all_messages(olga, dialog_id):
                if message.text.startswith("set "):
                    final.setdefault(message.text.split(" #")[0][4:], []).append(message.text)
        for who, texts in acked.items():
            stored = final.get(who, [])
            lost += sum(1 for t in texts if t not in stored)
            duplicated += len(stored) - len(set(stored))
            assert stored == texts, f"{who}: acknowledged {texts}, stored {stored}"

        marker = SendMessageRequest(client_msg_id=str(uuid.uuid4()), text="after the kills")
        head = (await apis["anna"].send_message(dialogs["anna"], marker)).cursor
        await eventually(
            lambda: bool(watcher.cursors) and watcher.cursors[-1] >= head, 30, "the watcher"
        )
        assert watcher.cursors == sorted(set(watcher.cursors)), "a cursor skipped back or twice"
        stored_ids = {m.id for d in dialogs.values() for m in await all_messages(olga, d)}
        published = {i for i, text in watcher.created.items() if text.startswith("set anna")}
        assert published <= stored_ids, "an event was published for a message that was lost"

        diffs: list[str] = []

        async def converged() -> bool:
            nonlocal diffs
            diffs = await table_differences(core, apis["boris"])
            return not diffs

        try:
            await eventually_async(converged, 30, "the core's cache to converge")
        except AssertionError:
            raise AssertionError("\n".join(diffs)) from None
        FIGURES.add(
            "server kill -9 (Jepsen set)",
            rounds=kills,
            faults_injected=kills,
            messages_sent=sum(len(t) for t in acked.values()),
            lost=lost,
            duplicated=duplicated,
            server_errors=server.crashes_logged(),
        )
        FIGURES.note(f"kill -9: {kills} kills, {retries} sends retried across a crash")
        assert kills == KILLS
        assert server.crashes_logged() == 0, server.errors_text()[-3000:]
    finally:
        done.set()
        await watcher.connection.stop()
        await watch_task
        await close_desk(core)
        await http.aclose()
        for api in [*apis.values(), olga]:
            await api.aclose()
        await server.stop()


async def customer_dialogs(olga: ApiClient) -> list[int]:
    items = (await olga.dialogs(DialogScope.ALL_VISIBLE, limit=500)).items
    return [d.id for d in items if d.contact_name == "@kill9-customer"]
