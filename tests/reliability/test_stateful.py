"""A hypothesis state machine drives one client core and the real server through sends,
acknowledgements, dropped and stalled links, duplicated and reordered events, duplicated
requests, customer messages and crashes. Invariant, once everything settles: the client's
cache equals the server's state (table by table) and no message appears twice.
"""

from __future__ import annotations

import asyncio
import io
import random
import tempfile
import uuid
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from operator_app.core.service import DeskService
from operator_app.net.api import ApiClient
from operator_app.net.realtime import Phase
from operator_app.protocol.events import EventFrame, ServerFrame
from operator_app.protocol.models import DialogScope, SendMessageRequest, without_nul
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.reliability_world import (
    FIGURES,
    FULL,
    all_messages,
    close_desk,
    customer_writes,
    desk,
    eventually,
    sized,
    table_differences,
)

EXAMPLES = sized(5, 60)
STEPS = sized(15, 40)
# Each example runs seconds of real I/O, so shrinking a failure takes many minutes: the fast
# size (CI) reports the failing example as found; `make reliability` shrinks it.
STAGES = tuple(Stage) if FULL else tuple(s for s in Stage if s is not Stage.shrink)
T = TypeVar("T")


class World:
    """What outlives one example: the server (shared), and the running totals."""

    server: EmbeddedServer
    examples = 0
    steps = 0
    faults = 0
    sent = 0
    lost = 0
    duplicated = 0


STEP_LIMIT = 120.0  # the longest step (a login through faults) takes ~65 s at worst


async def _bounded(coro: Awaitable[T], loop: asyncio.AbstractEventLoop) -> T:
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=STEP_LIMIT)
    if not done:  # the stacks before cancelling: a cancelled task forgets where it waited
        stacks = io.StringIO()
        for stuck in asyncio.all_tasks(loop):
            print(repr(stuck), file=stacks)
            stuck.print_stack(file=stacks)
        task.cancel()
        raise AssertionError(f"a step hung for {STEP_LIMIT:.0f} s:\n{stacks.getvalue()}")
    return task.result()


class DeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="stateful-"))
        self.cache_path = self.folder / "anna.sqlite3"
        self.proxy = FaultProxy("127.0.0.1", World.server.port)
        self.service: DeskService | None = None
        self.direct: ApiClient | None = None
        self.http = httpx.AsyncClient(base_url=World.server.url, timeout=5)
        self.dialog_id = 0
        self.expected: list[str] = []
        self.acked_bodies: list[SendMessageRequest] = []
        self.seen_frames: list[EventFrame] = []
        self.settled = True
        self.tag = uuid.uuid4().hex[:6]
        World.examples += 1

    def run(self, coro: Awaitable[T]) -> T:
        """One step's work; a step stuck for STEP_LIMIT seconds fails at once with every task's
        stack (a hang once cost the suite its 15-minute timeout and told nothing)."""
        return self.loop.run_until_complete(_bounded(coro, self.loop))

    # ---- setup ----------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.via_proxy = f"http://127.0.0.1:{self.run(self.proxy.start())}"
        self.direct = self.run(_login(World.server.url))
        dialogs = self.run(self.direct.dialogs(DialogScope.MINE))
        self.dialog_id = dialogs.items[0].id
        self.run(self._open())

    async def _open(self) -> None:
        self.service = await desk(self.via_proxy, "anna", self.cache_path)
        original = self.service.sync.on_frame

        async def recording(frame: ServerFrame) -> None:
            if isinstance(frame, EventFrame):
                self.seen_frames.append(frame)
            await original(frame)

        self.service.sync.on_frame = recording  # type: ignore[method-assign]
        await self._wait_online()
        await self.service.open_dialog(self.dialog_id)

    async def _wait_online(self) -> None:
        assert self.service is not None
        service = self.service
        service.retry_connection_now()
        await eventually(lambda: service.connection.phase is Phase.ONLINE, 20, "online")
        await eventually(lambda: service.cache.get_meta("snapshot_owed") is None, 20, "snapshot")

    # ---- rules ----------------------------------------------------------------------------

    @rule(words=st.text(min_size=1, max_size=30).filter(str.strip))
    def send(self, words: str) -> None:
        assert self.service is not None
        text = f"sm {self.tag} {len(self.expected)} {words}"
        self.service.send(self.dialog_id, text)
        self.expected.append(without_nul(text))  # the protocol stores no NUL (StoredText)
        self.settled = False

    @rule()
    def acknowledge(self) -> None:
        """Let the outbox deliver everything it holds."""
        self.proxy.pass_through()
        self.run(self._drain())

    async def _drain(self) -> None:
        assert self.service is not None
        service = self.service
        service.outbox.wake()
        service.retry_connection_now()
        await eventually(lambda: service.cache.outbox_size() == 0, 30, "the outbox drained")

    @rule(how=st.sampled_from(["cut", "reset"]))
    def drop(self, how: str) -> None:
        self.proxy.cut() if how == "cut" else self.proxy.reset()
        World.faults += 1
        self.run(asyncio.sleep(0.05))

    @rule(seconds=st.floats(0.05, 0.4))
    def disconnect(self, seconds: float) -> None:
        """The link hangs for a while, then comes back."""
        self.proxy.stall(seconds)
        World.faults += 1
        self.run(asyncio.sleep(seconds))

    @rule(data=st.data())
    @precondition(lambda self: bool(self.seen_frames))
    def duplicate_or_reorder_event(self, data: st.DataObject) -> None:
        """An old event arrives again, after newer ones: it must change nothing."""
        assert self.service is not None
        frame = data.draw(st.sampled_from(self.seen_frames))
        World.faults += 1
        self.run(self.service.sync.on_frame(frame))

    @rule()
    def duplicate_request(self) -> None:
        """A send the server already acknowledged arrives once more (a retried request)."""
        assert self.direct is not None
        if not self.acked_bodies:
            self.acknowledge()  # the outbox's earlier sends come first, as the model expects
            body = SendMessageRequest(client_msg_id=uuid.uuid4().hex, text=f"sm {self.tag} dup")
            self.run(self.direct.send_message(self.dialog_id, body))
            self.expected.append(body.text)
            self.acked_bodies.append(body)
        again = random.Random(len(self.expected)).choice(self.acked_bodies)
        self.run(self.direct.send_message(self.dialog_id, again))
        World.faults += 1
        self.settled = False

    @rule()
    def customer_message(self) -> None:
        text = f"customer {self.tag} {uuid.uuid4().hex[:6]}"
        self.run(
            customer_writes(
                self.http, "demo-telegram-secret", f"@sm-{self.tag}", text, uuid.uuid4().hex
            )
        )
        self.settled = False

    @rule()
    def crash(self) -> None:
        """The client stops without draining (pending rows stay in the file) and restarts."""
        assert self.service is not None
        self.run(close_desk(self.service))
        self.service = None
        World.faults += 1
        self.run(self._open())

    @rule()
    def settle(self) -> None:
        self.proxy.pass_through()
        self.run(self._drain())
        self.run(self._converge())
        self.settled = True

    async def _converge(self) -> None:
        assert self.service is not None and self.direct is not None
        deadline = self.loop.time() + 20
        while True:
            diffs = await table_differences(self.service, self.direct)
            if not diffs:
                break
            assert self.loop.time() < deadline, "\n".join(diffs)
            await asyncio.sleep(0.1)
        stored = [
            m.text
            for m in await all_messages(self.direct, self.dialog_id)
            if m.text.startswith(f"sm {self.tag}")
        ]
        World.lost += sum(1 for t in self.expected if t not in stored)
        World.duplicated += len(stored) - len(set(stored))
        assert stored == self.expected, f"sent {self.expected}, stored {stored}"

    @invariant()
    def no_id_twice(self) -> None:
        World.steps += 1
        if self.service is None:
            return
        (twice,) = self.service.cache.conn.execute(
            "SELECT count(*) FROM (SELECT server_id FROM messages WHERE server_id IS NOT NULL "
            "GROUP BY server_id HAVING count(*) > 1)"
        ).fetchone()
        assert twice == 0

    def teardown(self) -> None:
        try:
            if self.service is not None:
                self.settle()
                World.sent += len(self.expected)
        finally:
            if self.service is not None:
                self.run(close_desk(self.service))
            if self.direct is not None:
                self.run(self.direct.aclose())
            self.run(self.http.aclose())
            self.run(self.proxy.stop())
            self.loop.close()


async def _login(url: str) -> ApiClient:
    api = ApiClient(url, timeout=10)
    await api.login("anna", "demo")
    return api


@pytest.fixture
def world() -> Iterator[type[World]]:
    with EmbeddedServer(reply_to_operators=False) as server:
        World.server = server
        yield World


@pytest.mark.timeout(900)
def test_state_machine_cache_equals_server_and_no_id_twice(world: type[World]) -> None:
    run_state_machine_as_test(
        DeskMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            phases=STAGES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    FIGURES.add(
        "state machine (hypothesis)",
        rounds=world.steps,
        faults_injected=world.faults,
        messages_sent=world.sent,
        lost=world.lost,
        duplicated=world.duplicated,
    )
