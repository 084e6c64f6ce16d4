"""DeskService with a fake server and a fake socket: wiring, validation, listeners, retention."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from operator_app.core.cache import Cache
from operator_app.core.changes import Change, ConnectionChanged, DialogsChanged, Notice
from operator_app.core.errors import ActionError
from operator_app.core.profiles import ServerProfile
from operator_app.core.service import DeskService
from operator_app.net.errors import ApiError
from operator_app.net.realtime import ConnectionState, Phase, RealtimeConnection
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.limits import MAX_COMMENT_CHARS
from operator_app.protocol.models import DialogState, MessageKind
from tests.unit.core.core_factories import T0, dialog, operator
from tests.unit.core.core_fakes import FakeApi


class FakeRealtime:
    """Records how the service built it; its state is driven by the test."""

    def __init__(self, ws_url: str, **kwargs: Any) -> None:
        self.ws_url = ws_url
        self.on_state: Callable[[ConnectionState], None] = kwargs["on_state"]
        self.on_frame: Callable[[Any], Awaitable[None]] = kwargs["on_frame"]
        self.since_cursor: Callable[[], int | None] = kwargs["since_cursor"]
        self.stopped = asyncio.Event()
        self.retries = 0

    async def run(self) -> None:
        await self.stopped.wait()

    def retry_now(self) -> None:
        self.retries += 1

    async def send_typing(self, dialog_id: int, on: bool) -> bool:
        return True

    async def stop(self) -> None:
        self.stopped.set()


class Desk:
    def __init__(self, tmp_path: Path, **options: Any) -> None:
        self.api = FakeApi()
        self.cache = Cache.open(tmp_path / "c.sqlite3")
        self.cache.set_me(operator(1))
        self.sockets: list[FakeRealtime] = []
        self.changes: list[Change] = []

        def factory(*args: Any, **kwargs: Any) -> RealtimeConnection:
            socket = FakeRealtime(*args, **kwargs)
            self.sockets.append(socket)
            return cast(RealtimeConnection, socket)  # a fake with the connection's surface

        self.service = DeskService(
            profile=ServerProfile("t", "http://127.0.0.1:9", login="anna"),
            cache=self.cache,
            api=self.api.as_client(),
            realtime_factory=factory,
            **({"clock": lambda: T0} | options),
        )
        self.service.subscribe(self.changes.append)


@pytest.mark.asyncio
async def test_start_wires_the_socket_to_the_cache(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.cache.set_cursor(41)
    await desk.service.start()
    [socket] = desk.sockets
    assert socket.ws_url == "ws://127.0.0.1:9/api/v1/ws"
    assert socket.since_cursor() == 41
    socket.on_state(ConnectionState(Phase.ONLINE))
    assert desk.service.connection.phase is Phase.ONLINE
    assert ConnectionChanged(ConnectionState(Phase.ONLINE)) in desk.changes
    desk.service.retry_connection_now()
    assert socket.retries == 1
    await desk.service.close()
    assert socket.stopped.is_set() and "aclose" in desk.api.calls


@pytest.mark.asyncio
async def test_a_revoked_token_is_forgotten(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.service.credentials.set_token("anna", "tok")
    desk.api.token = None
    await desk.service.start()
    assert desk.api.token == "tok"  # from the keyring
    refused = ApiError(401, ErrorCode.UNAUTHORIZED, "token revoked")
    desk.sockets[0].on_state(ConnectionState(Phase.OFFLINE, reason="revoked", error=refused))
    assert desk.service.needs_login
    assert desk.service.credentials.get_token("anna") is None
    assert any(isinstance(c, Notice) for c in desk.changes)
    await desk.service.close()


@pytest.mark.asyncio
async def test_send_refuses_bad_input_before_storing_anything(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    with pytest.raises(ActionError):
        desk.service.send(1, "  \n ")
    with pytest.raises(ActionError) as too_long:
        desk.service.send(1, "x" * (MAX_COMMENT_CHARS + 1), MessageKind.COMMENT)
    assert too_long.value.code == ErrorCode.PAYLOAD_TOO_LARGE
    assert desk.cache.outbox_size() == 0
    row = desk.service.send(1, "fine")
    assert row.author_id == 1 and row.author_name == "Operator 1"
    assert desk.service.messages(1)[-1].key == row.key


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_failing_listener_does_not_starve_the_others(tmp_path: Path) -> None:
    desk = Desk(tmp_path)

    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    unsubscribe_broken = desk.service.subscribe(broken)
    seen: list[Change] = []
    unsubscribe = desk.service.subscribe(seen.append)
    desk.service.save_draft(3, "draft")
    assert seen == [DialogsChanged(frozenset({3}))]
    unsubscribe()
    unsubscribe_broken()
    desk.service.save_draft(3, "")
    assert len(seen) == 1


@pytest.mark.asyncio
async def test_retention_runs_in_the_background_at_start(tmp_path: Path) -> None:
    later = T0 + timedelta(days=45)
    desk = Desk(tmp_path, retention_days=30, retention_max_messages=None, clock=lambda: later)
    old = dialog(1, state=DialogState.CLOSED, assignee_id=1)
    recent = dialog(2, state=DialogState.CLOSED, assignee_id=1, minutes=60 * 24 * 40)
    desk.cache.upsert_dialog(old)
    desk.cache.upsert_dialog(recent)
    await desk.service.start()
    for _ in range(20):
        await asyncio.sleep(0)
    assert desk.cache.get_dialog(1) is None
    assert desk.cache.get_dialog(2) is not None
    await desk.service.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("settle", [False, True])
async def test_the_app_freezes_its_heap_once_at_the_first_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settle: bool
) -> None:
    from operator_app.core import heap

    freezes: list[int] = []
    monkeypatch.setattr(heap, "_frozen", False)  # a fresh process, as far as heap knows
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))  # the gc module heap calls
    desk = Desk(tmp_path)
    desk.service.settle_heap_online = settle  # the app sets it; tests and tools never do
    await desk.service.start()
    [socket] = desk.sockets
    socket.on_state(ConnectionState(Phase.CONNECTING))
    assert freezes == []  # not before the window is up and connected
    for _ in range(2):  # a reconnect does not freeze again
        socket.on_state(ConnectionState(Phase.ONLINE))
        socket.on_state(ConnectionState(Phase.RECONNECTING))
    assert freezes == ([1] if settle else [])
    await desk.service.close()


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_the_deep_check_of_a_large_cache_waits_then_reports_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from operator_app.core import cache as cache_module
    from tests.unit.core.core_factories import fill_cache_file

    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)  # every file counts as large
    path = tmp_path / "c.sqlite3"
    fill_cache_file(path)
    with path.open("r+b") as handle:  # scribble over a page in the middle
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 4096)
    desk = Desk(tmp_path)
    desk.service.deep_check_delay = 0.2
    await desk.service.start()
    await asyncio.sleep(0.05)
    assert not [c for c in desk.changes if isinstance(c, Notice)]  # not while tabs open
    for _ in range(100):
        await asyncio.sleep(0.05)
        if [c for c in desk.changes if isinstance(c, Notice)]:
            break
    [notice] = [c for c in desk.changes if isinstance(c, Notice)]
    assert "damaged" in notice.text
    await desk.service.close()


@pytest.mark.asyncio
async def test_the_token_is_read_off_the_loop_thread_and_a_close_meanwhile_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    read_in: list[str] = []
    release = threading.Event()
    desk = Desk(tmp_path)
    desk.service.api.token = None

    def slow_token(login: str) -> str:
        read_in.append(threading.current_thread().name)
        release.wait(5)
        return "t0ken"

    monkeypatch.setattr(desk.service.credentials, "get_token", slow_token)
    starting = asyncio.create_task(desk.service.start())
    for _ in range(100):
        await asyncio.sleep(0.01)
        if read_in:
            break
    assert read_in and read_in[0] != threading.main_thread().name
    await desk.service.close()
    release.set()
    await starting
    assert desk.sockets == []  # no connection opened by a service already closed
