"""RealtimeConnection against a tiny scripted websockets server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any, Self

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from operator_app.net import (
    ApiError,
    Backoff,
    ConnectionState,
    IncompatibleServer,
    Phase,
    RealtimeConnection,
    TlsFailure,
    ws_url_for,
)
from operator_app.protocol import PROTOCOL_VERSION
from operator_app.protocol.errors import (
    WS_CLOSE_INCOMPATIBLE,
    WS_CLOSE_REVOKED,
    WS_CLOSE_UNAUTHORIZED,
    ErrorCode,
)
from operator_app.protocol.events import (
    AuthFrame,
    EventFrame,
    HelloFrame,
    PingFrame,
    PongFrame,
    ReplayDoneFrame,
    ServerFrame,
    TemplateDeleted,
    TypingFrame,
    decode_client_frame,
    encode_frame,
)

pytestmark = pytest.mark.timeout(20)

Script = Callable[[ServerConnection, int], Awaitable[None]]


def hello(heartbeat: float = 15.0) -> str:
    frame = HelloFrame(
        protocol_version=PROTOCOL_VERSION,
        server_version="test",
        operator_id=7,
        head_cursor=0,
        heartbeat_seconds=heartbeat,
    )
    return encode_frame(frame)


def event(cursor: int) -> str:
    return encode_frame(EventFrame(cursor=cursor, event=TemplateDeleted(template_id=cursor)))


class MaxRng(random.Random):
    """Always the top of the jitter range, so pauses are predictable."""

    def uniform(self, a: float, b: float) -> float:
        return b


class ScriptedServer:
    """Runs ``script(ws, n)`` for the n-th connection after reading its AuthFrame."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.auths: list[AuthFrame] = []
        self.received: list[Any] = []

    async def handle(self, ws: ServerConnection) -> None:
        index = len(self.auths)
        auth = decode_client_frame(await ws.recv())
        assert isinstance(auth, AuthFrame)
        self.auths.append(auth)
        await self.script(ws, index)

    async def read_all(self, ws: ServerConnection, answer_pings: bool = True) -> None:
        """Record the client's frames (answering pings) until it goes away."""
        async for raw in ws:
            frame = decode_client_frame(raw)
            self.received.append(frame)
            if answer_pings and isinstance(frame, PingFrame):
                await ws.send(encode_frame(PongFrame(nonce=frame.nonce)))


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer(script)
    async with serve(server.handle, "127.0.0.1", 0) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        yield server, f"ws://127.0.0.1:{port}/api/v1/ws"


class Client:
    """Collects frames and states of one RealtimeConnection running in a task."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.token: str | None = "tok"
        self.cursor: int | None = None
        self.frames: list[ServerFrame] = []
        self.states: list[ConnectionState] = []
        self.fail_on_cursor: int | None = None
        self.fail_times = 1
        kwargs.setdefault("backoff", Backoff(base=0.05, cap=0.2))
        self.conn = RealtimeConnection(
            url,
            token=lambda: self.token,
            since_cursor=lambda: self.read_cursor(),
            on_frame=self.on_frame,
            on_state=self.states.append,
            **kwargs,
        )
        self.task: asyncio.Task[None] | None = None

    def read_cursor(self) -> int | None:
        """What the connection resumes from; tests may replace it on the instance."""
        return self.cursor

    async def on_frame(self, frame: ServerFrame) -> None:
        if isinstance(frame, EventFrame) and frame.cursor == self.fail_on_cursor:
            self.fail_times -= 1
            if not self.fail_times:
                self.fail_on_cursor = None
            raise RuntimeError("cache is locked")
        self.frames.append(frame)
        if isinstance(frame, EventFrame):
            self.cursor = frame.cursor

    def cursors(self) -> list[int]:
        return [f.cursor for f in self.frames if isinstance(f, EventFrame)]

    def phases(self) -> list[Phase]:
        return [s.phase for s in self.states]

    def went(self, phase: Phase) -> bool:
        """Whether the connection has been in ``phase`` since it started (and is there now)."""
        return bool(self.states) and self.conn.state.phase is phase

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; states: {self.states}"
            await asyncio.sleep(0.01)

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(self.conn.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 3)
        assert self.conn.state.phase is Phase.OFFLINE


async def hold(ws: ServerConnection) -> None:
    """Keep the connection open, silently, until the client leaves."""
    await ws.wait_closed()


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_frames_arrive_in_order_and_malformed_ones_are_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await ws.send(event(1))
        await ws.send("{not json")
        await ws.send('{"type": "event", "cursor": "x"}')
        await ws.send(encode_frame(PongFrame(nonce="n")))
        await ws.send(event(2))
        await ws.send(encode_frame(ReplayDoneFrame(cursor=2)))
        await hold(ws)

    async with scripted(script) as (server, url), Client(url) as client:
        client.cursor = 41
        await client.wait_for(lambda: len(client.frames) == 4)
        assert client.phases() == [Phase.CONNECTING, Phase.ONLINE]

    assert server.auths[0].token == "tok" and server.auths[0].since_cursor == 41
    assert server.auths[0].protocol_version == PROTOCOL_VERSION
    assert [f.type for f in client.frames] == ["hello", "event", "event", "replay_done"]
    assert client.cursors() == [1, 2]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "{not json" in warnings[0] and "cursor" in warnings[1]


@pytest.mark.asyncio
async def test_silence_for_two_heartbeats_reconnects_and_resumes() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await ws.send(event(index + 1))
        if index == 0:
            async for _ in ws:  # swallow pings: a dead peer that keeps the socket open
                pass
        await server.read_all(ws)

    async with scripted(script) as (server, url), Client(url, heartbeat_seconds=0.2) as client:
        await client.wait_for(lambda: client.cursors() == [1, 2])
        await asyncio.sleep(0.5)  # the second connection answers pings and stays up

    assert [a.since_cursor for a in server.auths] == [None, 1]
    lost = [s for s in client.states if s.phase is Phase.RECONNECTING]
    assert len(lost) == 1 and lost[0].reason == "no heartbeat from the server"
    assert sum(isinstance(f, PingFrame) for f in server.received) >= 2


@pytest.mark.asyncio
async def test_pings_keep_a_quiet_connection_up() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await server.read_all(ws)

    async with scripted(script) as (server, url), Client(url, heartbeat_seconds=0.1) as client:
        await asyncio.sleep(0.8)
        assert client.phases() == [Phase.CONNECTING, Phase.ONLINE]
    assert len(server.auths) == 1 and len(server.received) >= 5
    assert [f.type for f in client.frames] == ["hello"]  # pongs are not delivered


@pytest.mark.parametrize(
    ("code", "error_type", "reason"),
    [
        (WS_CLOSE_UNAUTHORIZED, ApiError, "unauthorized: go away"),
        (WS_CLOSE_REVOKED, ApiError, "token revoked: go away"),
        (WS_CLOSE_INCOMPATIBLE, IncompatibleServer, "incompatible server: go away"),
    ],
)
@pytest.mark.asyncio
async def test_refusals_park_offline_until_retry_now(
    code: int, error_type: type[Exception], reason: str
) -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        if index == 0:
            await ws.close(code, "go away")
            return
        await ws.send(hello())
        await hold(ws)

    async with scripted(script) as (server, url), Client(url) as client:
        await client.wait_for(lambda: client.went(Phase.OFFLINE))
        offline = client.conn.state
        await asyncio.sleep(0.3)
        assert len(server.auths) == 1  # no retry loop
        client.conn.retry_now()
        await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)

    assert offline.reason == reason and isinstance(offline.error, error_type)
    assert offline.retry_at is None and offline.retry_in() is None
    if isinstance(offline.error, ApiError):
        assert offline.error.code is ErrorCode.UNAUTHORIZED


@pytest.mark.asyncio
async def test_retry_now_skips_the_backoff_pause() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        if index == 0:
            await ws.close(1012, "restart")
            return
        await hold(ws)

    backoff = Backoff(base=20.0, cap=20.0, rng=MaxRng())
    async with scripted(script) as (server, url), Client(url, backoff=backoff) as client:
        await client.wait_for(lambda: client.conn.state.phase is Phase.RECONNECTING)
        waiting = client.conn.state
        client.conn.retry_now()
        await client.wait_for(lambda: len(server.auths) == 2)
        await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)

    assert waiting.reason == "the server is restarting: restart" and waiting.error is None
    retry_in = waiting.retry_in()
    assert retry_in is not None and 15.0 < retry_in <= 20.0


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_failing_on_frame_resumes_and_replays_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        start = server.auths[index].since_cursor or 0
        for cursor in range(start + 1, 4):
            await ws.send(event(cursor))
        await ws.send(encode_frame(ReplayDoneFrame(cursor=3)))
        await hold(ws)

    async with scripted(script) as (server, url), Client(url) as client:
        client.fail_on_cursor = 2
        await client.wait_for(lambda: client.cursors()[-1:] == [3])

    assert client.cursors() == [1, 2, 3]
    assert [a.since_cursor for a in server.auths] == [None, 1]
    assert any("applying a event frame failed" in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_no_token_waits_offline_until_retry_now() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await hold(ws)

    async with scripted(script) as (server, url), Client(url) as client:
        client.token = None  # run() has not started yet: this test's task only runs on await
        await client.wait_for(lambda: client.went(Phase.OFFLINE))
        assert client.conn.state.reason == "not logged in" and server.auths == []
        client.token = "later"
        client.conn.retry_now()
        await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)
    assert server.auths[0].token == "later"


@pytest.mark.asyncio
async def test_a_cancel_in_the_same_turn_as_a_wake_ends_the_run() -> None:
    """Closing the app wakes the connection and cancels it at once: the cancel must win (on
    Python 3.11 ``asyncio.wait_for`` returned the wake instead, and the run went on)."""
    slow_retries = Backoff(base=30.0, cap=30.0, rng=random.Random(1))  # the first pause ~4 s
    client = Client("ws://127.0.0.1:9/api/v1/ws", backoff=slow_retries)  # nothing listens
    task = asyncio.create_task(client.conn.run())
    await client.wait_for(lambda: client.went(Phase.RECONNECTING))
    client.conn.retry_now()
    task.cancel()
    await asyncio.wait([task], timeout=3)  # not ``await task``: a timeout would cancel it again
    assert task.cancelled()


@pytest.mark.asyncio
async def test_send_typing_only_when_online() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await server.read_all(ws)

    async with scripted(script) as (server, url):
        client = Client(url)
        assert await client.conn.send_typing(3, True) is False
        async with client:
            await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)
            assert await client.conn.send_typing(3, True) is True
            await client.wait_for(lambda: bool(server.received))
    assert server.received == [TypingFrame(dialog_id=3, on=True)]


@pytest.mark.asyncio
async def test_refused_connection_backs_off_and_stop_ends_it_quickly() -> None:
    async with scripted(hold_after_auth) as (_server, url):
        pass  # closed: the port now refuses
    backoff = Backoff(base=5.0, cap=5.0, rng=MaxRng())
    async with Client(url, backoff=backoff) as client:
        await client.wait_for(lambda: client.conn.state.phase is Phase.RECONNECTING)
        assert client.conn.state.reason == "connection refused"
        started = time.monotonic()
    assert time.monotonic() - started < 1.0


async def hold_after_auth(ws: ServerConnection, index: int) -> None:
    await hold(ws)


@pytest.mark.asyncio
async def test_stop_while_the_handshake_hangs() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):  # never answer the upgrade request
            pass
        writer.close()

    mute_server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = mute_server.sockets[0].getsockname()[1]
    async with Client(f"ws://127.0.0.1:{port}/api/v1/ws") as client:
        await client.wait_for(lambda: client.conn.state.phase is Phase.CONNECTING)
        await asyncio.sleep(0.1)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    mute_server.close()


def test_ws_url_for_keeps_the_scheme_and_base_path() -> None:
    assert ws_url_for("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/api/v1/ws"
    assert ws_url_for("https://desk.example/ops/") == "wss://desk.example/ops/api/v1/ws"
    with pytest.raises(ValueError):
        ws_url_for("ftp://desk.example")
    with pytest.raises(ValueError):
        ws_url_for("desk.example")


def test_a_tls_profile_refuses_plain_ws() -> None:
    async def ignore(frame: ServerFrame) -> None:
        return None

    with pytest.raises(TlsFailure, match="requires TLS"):
        RealtimeConnection(
            "ws://desk.example/api/v1/ws",
            token=lambda: "t",
            since_cursor=lambda: None,
            on_frame=ignore,
            on_state=lambda state: None,
            require_tls=True,
        )


def test_retry_in_counts_down_and_never_goes_negative() -> None:
    state = ConnectionState(Phase.RECONNECTING, retry_at=100.0)
    assert state.retry_in(now=97.5) == 2.5
    assert state.retry_in(now=0.0) == 100.0
    assert state.retry_in(now=120.0) == 0.0
    assert ConnectionState(Phase.ONLINE).retry_in() is None


@pytest.mark.asyncio
async def test_run_again_after_stop_and_stop_before_run() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await hold(ws)

    async with scripted(script) as (server, url):
        client = Client(url)
        async with client:
            await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)
        async with client:  # e.g. after logging in again
            await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)
        await client.conn.stop()  # before the next run: that run ends at once
        await asyncio.wait_for(client.conn.run(), 3)
    assert len(server.auths) == 2
    assert client.phases()[-1] is Phase.OFFLINE and client.conn.state.reason == "stopped"


@pytest.mark.asyncio
async def test_a_server_that_never_says_hello_is_dropped_without_spinning() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await hold(ws)

    async with scripted(script) as (_server, url), Client(url, heartbeat_seconds=0.2) as client:
        started = time.process_time()
        await client.wait_for(lambda: client.conn.state.phase is Phase.RECONNECTING)
        assert time.process_time() - started < 0.3  # waited, did not busy-loop
    lost = next(s for s in client.states if s.phase is Phase.RECONNECTING)
    assert lost.reason == "no heartbeat from the server"


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_failing_since_cursor_callback_is_logged_and_retried(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        await hold(ws)

    calls = 0

    def flaky_cursor() -> int | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("cache closed")
        return None

    async with scripted(script) as (server, url), Client(url) as client:
        monkeypatch.setattr(client, "read_cursor", flaky_cursor)
        await client.wait_for(lambda: client.conn.state.phase is Phase.ONLINE)
    assert len(server.auths) == 1 and calls == 2
    assert any("failed unexpectedly" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "phase", "reason"),
    [
        (401, Phase.OFFLINE, "the server refused the socket"),
        (404, Phase.RECONNECTING, "the server answered HTTP 404"),
        (502, Phase.RECONNECTING, "the server answered HTTP 502"),
    ],
)
@pytest.mark.asyncio
async def test_an_http_refusal_of_the_upgrade(status: int, phase: Phase, reason: str) -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus(status), "no\n")

    async def never(ws: ServerConnection) -> None:
        raise AssertionError("the upgrade was refused")

    backoff = Backoff(base=5.0, cap=5.0, rng=MaxRng())
    async with serve(never, "127.0.0.1", 0, process_request=refuse) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        async with Client(f"ws://127.0.0.1:{port}/api/v1/ws", backoff=backoff) as client:
            await client.wait_for(lambda: client.went(phase))
            assert client.conn.state.reason == reason


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_poisoned_event_backs_off_instead_of_spinning() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        start = server.auths[index].since_cursor or 0
        for cursor in range(start + 1, 3):
            await ws.send(event(cursor))
        await ws.send(encode_frame(ReplayDoneFrame(cursor=2)))
        await hold(ws)

    backoff = Backoff(base=0.01, cap=1.0, rng=MaxRng())
    async with scripted(script) as (server, url), Client(url, backoff=backoff) as client:
        client.fail_on_cursor, client.fail_times = 2, 3
        await client.wait_for(lambda: client.cursors()[-1:] == [2])
    assert client.cursors() == [1, 2] and len(server.auths) == 4
    # each hello would reset it to 0 (and pause 0.01 s forever); it kept growing instead
    assert backoff.attempt == 3


class BatchClient(Client):
    """Takes event frames in runs through ``on_frames``; ``runs`` records their sizes."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, on_frames=self.on_frames, **kwargs)
        self.runs: list[int] = []
        self.fail_runs = 0

    async def on_frames(self, frames: Sequence[EventFrame]) -> None:
        if self.fail_runs:
            self.fail_runs -= 1
            raise RuntimeError("cache is locked")
        self.runs.append(len(frames))
        for frame in frames:
            await self.on_frame(frame)


@pytest.mark.asyncio
@pytest.mark.allow_warnings  # the failing run is logged as an error
async def test_buffered_events_are_handed_over_in_runs_in_order() -> None:
    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        start = (server.auths[-1].since_cursor or 0) + 1
        for cursor in range(start, 301):  # a replay: written at once, buffered by the client
            await ws.send(event(cursor))
        await ws.send(encode_frame(PongFrame(nonce="n")))
        await ws.send(event(301))
        await ws.send(encode_frame(ReplayDoneFrame(cursor=301)))
        await hold(ws)

    async with scripted(script) as (server, url), BatchClient(url) as client:
        client.fail_runs = 1  # the first run fails: the connection resumes from the cursor
        await client.wait_for(lambda: len(client.cursors()) == 301)
        await client.wait_for(lambda: client.frames[-1].type == "replay_done")

    assert client.cursors() == list(range(1, 302))  # each once, in order, across runs
    assert [f.type for f in client.frames[:1]] == ["hello"]
    assert len(server.auths) == 2 and server.auths[1].since_cursor is None
    assert max(client.runs) > 1 and sum(client.runs) == 301


@pytest.mark.asyncio
async def test_a_replay_larger_than_one_socket_read_arrives_whole_and_in_order() -> None:
    from operator_app.net.realtime import READ_CHUNK_BYTES

    padding = "x" * 2000  # incompressible enough: 300 frames span many reads of 32 KB

    def big_event(cursor: int) -> str:
        frame = EventFrame(cursor=cursor, event=TemplateDeleted(template_id=cursor))
        return encode_frame(frame)[:-1] + f', "padding": "{padding}{cursor}"}}'

    reads: list[int] = []

    async def script(ws: ServerConnection, index: int) -> None:
        await ws.send(hello())
        for cursor in range(1, 301):  # a replay: written at once, buffered by the client
            await ws.send(big_event(cursor))
        await ws.send(encode_frame(ReplayDoneFrame(cursor=300)))
        await hold(ws)

    async with scripted(script) as (_server, url), BatchClient(url) as client:
        await client.wait_for(lambda: bool(client.frames) and client.frames[-1].type != "hello")
        await client.wait_for(lambda: client.frames[-1].type == "replay_done")
        ws = client.conn._ws
        assert ws is not None
        reads.append(getattr(ws.transport, "max_size", 0))

    assert client.cursors() == list(range(1, 301))
    assert reads == [READ_CHUNK_BYTES]  # each socket callback reads (and inflates) this at most
