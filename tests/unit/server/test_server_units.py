"""Unit tests of the server's parts that need no network: hub fan-out, security, frames."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri

from operator_app.protocol import events as ev
from operator_app.protocol.errors import WS_CLOSE_REVOKED, WS_CLOSE_TOO_SLOW
from operator_app.server import security, ws
from operator_app.server.errors import ApiError
from operator_app.server.hub import Hub, Published
from operator_app.server.service import start_of_today
from operator_app.server.txn import event_frame


def _published(cursor: int, audience: frozenset[int] | None) -> Published:
    return Published(cursor, f"frame-{cursor}", audience)


@pytest.mark.asyncio
async def test_hub_delivers_by_audience_and_to_everyone() -> None:
    hub = Hub(queue_size=10)
    anna, boris = hub.connect(1, "t1"), hub.connect(2, "t2")
    for conn in (anna, boris):
        conn.go_live(0)
    hub.publish([_published(1, frozenset({1})), _published(2, None), _published(3, frozenset({2}))])
    assert [anna.outbox.get_nowait() for _ in range(anna.outbox.qsize())] == ["frame-1", "frame-2"]
    assert [boris.outbox.get_nowait() for _ in range(boris.outbox.qsize())] == [
        "frame-2",
        "frame-3",
    ]


@pytest.mark.asyncio
async def test_events_during_replay_are_held_then_flushed_without_duplicates() -> None:
    hub = Hub(queue_size=10)
    conn = hub.connect(1, "t")
    hub.publish([_published(5, None), _published(6, None), _published(7, None)])
    assert conn.outbox.empty()  # held while the replay runs
    conn.go_live(replayed_through=6)  # the replay already covered 5 and 6
    assert conn.outbox.get_nowait() == "frame-7"
    assert conn.outbox.empty()


@pytest.mark.asyncio
async def test_a_replayed_event_published_after_go_live_is_not_sent_twice() -> None:
    # the replay read event 8 the moment it committed; its publication reached the loop
    # only after the replay had finished (a kill -9 test saw cursor 210 twice this way)
    hub = Hub(queue_size=10)
    conn = hub.connect(1, "t")
    conn.go_live(replayed_through=8)
    hub.publish([_published(7, None), _published(8, None), _published(9, None)])
    assert [conn.outbox.get_nowait() for _ in range(conn.outbox.qsize())] == ["frame-9"]


@pytest.mark.asyncio
async def test_a_full_queue_kills_only_that_connection_with_4004() -> None:
    hub = Hub(queue_size=2)
    slow, fast = hub.connect(1, "a"), hub.connect(1, "b")
    codes: list[int] = []
    slow.on_close = codes.append
    slow.go_live(0)
    fast.go_live(0)
    for cursor in range(1, 4):
        hub.publish([_published(cursor, None)])
        fast.outbox.get_nowait()  # the fast one reads
    assert codes == [WS_CLOSE_TOO_SLOW]
    assert slow.close_code == WS_CLOSE_TOO_SLOW
    assert hub.connection_count() == 1
    hub.publish([_published(9, None)])
    assert fast.outbox.get_nowait() == "frame-9"


class Socket:
    """The server's synchronous send, as ``ws.SendNowProtocol`` offers it: takes frames
    until told the socket pushes back."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.pushing_back = False

    def send_now(self, frame: str) -> bool:
        if self.pushing_back:
            return False
        self.written.append(frame)
        return True


@pytest.mark.asyncio
async def test_frames_are_written_at_once_until_the_socket_pushes_back_then_queue_in_order() -> (
    None
):
    hub = Hub(queue_size=10)
    conn = hub.connect(1, "t")
    sock = Socket()
    conn.send_now = sock.send_now
    conn.go_live(0)
    hub.publish([_published(1, None), _published(2, None)])
    hub.publish_ephemeral("typing", [1])
    assert sock.written == ["frame-1", "frame-2", "typing"] and conn.outbox.empty()
    sock.pushing_back = True
    hub.publish([_published(3, None)])
    sock.pushing_back = False  # the socket takes frames again, but 3 waits in the queue:
    hub.publish([_published(4, None)])  # 4 must not overtake it
    assert sock.written == ["frame-1", "frame-2", "typing"]
    assert [conn.outbox.get_nowait() for _ in range(2)] == ["frame-3", "frame-4"]
    conn.sending = True  # the session's task holds 4, its send not finished
    hub.publish([_published(5, None)])
    assert conn.outbox.get_nowait() == "frame-5"
    conn.sending = False
    hub.publish([_published(6, None)])
    assert sock.written[-1] == "frame-6" and conn.sent_at_once == 4


@pytest.mark.asyncio
async def test_frames_written_at_once_still_wait_for_the_replay() -> None:
    hub = Hub(queue_size=10)
    conn = hub.connect(1, "t")
    sock = Socket()
    conn.send_now = sock.send_now
    hub.publish([_published(5, None), _published(6, None)])
    assert sock.written == []  # held while the replay runs
    conn.go_live(replayed_through=5)
    assert sock.written == ["frame-6"]


@pytest.mark.asyncio
async def test_a_socket_that_keeps_pushing_back_fills_the_queue_and_is_dropped() -> None:
    hub = Hub(queue_size=2)
    conn = hub.connect(1, "t")
    sock = Socket()
    sock.pushing_back = True
    conn.send_now = sock.send_now
    conn.go_live(0)
    for cursor in range(1, 4):
        hub.publish([_published(cursor, None)])
    assert conn.close_code == WS_CLOSE_TOO_SLOW and hub.connection_count() == 0


@pytest.mark.asyncio
async def test_revocation_closes_by_token_and_by_operator() -> None:
    hub = Hub()
    first, second, other = hub.connect(1, "t1"), hub.connect(1, "t2"), hub.connect(2, "t3")
    hub.close_token("t1", WS_CLOSE_REVOKED)
    assert (first.close_code, second.close_code) == (WS_CLOSE_REVOKED, None)
    hub.close_operator(1, WS_CLOSE_REVOKED)
    assert second.close_code == WS_CLOSE_REVOKED and other.close_code is None
    hub.publish_ephemeral("typing", [1, 2], skip=2)
    assert other.outbox.empty()
    await asyncio.sleep(0)


def test_event_frame_is_a_valid_server_frame() -> None:
    payload = ev.TemplateDeleted(template_id=4).model_dump_json()
    frame = ev.decode_server_frame(event_frame(12, payload))
    assert isinstance(frame, ev.EventFrame)
    assert frame.cursor == 12 and isinstance(frame.event, ev.TemplateDeleted)
    assert json.loads(event_frame(1, payload))["event"]["template_id"] == 4


def test_passwords_are_argon2_and_verified() -> None:
    stored = security.hash_password("секрет")
    assert stored.startswith("$argon2")
    assert security.verify_password(stored, "секрет")
    assert not security.verify_password(stored, "секрет ")
    assert not security.verify_password(None, "секрет")
    assert not security.verify_password("garbage", "секрет")


def test_tokens_are_random_and_stored_as_digests() -> None:
    one, two = security.new_token(), security.new_token()
    assert one != two and len(one) >= 40
    assert security.same_digest(one, security.digest(one))
    assert not security.same_digest(two, security.digest(one))


def test_rate_limiter_counts_failures_per_login_and_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the time module security reads
    limiter = security.LoginRateLimiter(per_login=3, per_address=5, window_seconds=60)
    for _ in range(3):
        assert limiter.retry_after("Anna", "1.2.3.4") == 0
        limiter.failed("Anna", "1.2.3.4")
    assert limiter.retry_after("anna", "5.6.7.8") == pytest.approx(60)  # per login, any case
    assert limiter.retry_after("boris", "1.2.3.4") == 0  # 3 of 5 for the address
    for _ in range(2):
        limiter.failed("boris", "1.2.3.4")
    assert limiter.retry_after("olga", "1.2.3.4") > 0  # the address is now limited
    now[0] += 61
    assert limiter.retry_after("anna", "1.2.3.4") == 0  # the window slid past
    limiter.failed("anna", "9.9.9.9")
    limiter.succeeded("anna")
    assert limiter.retry_after("anna", "10.0.0.1") == 0


def test_today_starts_at_the_callers_midnight_kept_within_the_last_26_hours() -> None:
    now = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    moscow_midnight = datetime(2026, 11, 24, tzinfo=timezone(timedelta(hours=3)))
    assert start_of_today(moscow_midnight, now) == moscow_midnight  # 22:30 UTC the day before
    assert start_of_today(None, now) == datetime(2026, 11, 24, tzinfo=UTC)
    # a client's clock that is off: brought into the last 26 hours, not refused
    assert start_of_today(now - timedelta(days=3), now) == now - timedelta(hours=26)
    assert start_of_today(now + timedelta(hours=5), now) == now
    with pytest.raises(ApiError, match="time zone"):
        start_of_today(datetime(2026, 11, 24), now)


@pytest.mark.parametrize("size", [10, 125, 126, 530, 540, 4_000, 65_535, 65_536, 70_000])
@pytest.mark.parametrize("compressed", [False, True])
def test_a_shared_frame_reads_back_as_its_text(size: int, compressed: bool) -> None:
    """SharedFrames builds its frames' bytes outside the connection's protocol (RSV1 set by
    a marker extension): a client that took the shared deflate parameters reads them as the
    same text, at every length encoding of the header."""
    text = ("сообщение " * size)[:size]  # 530 and 540 characters: 1007 and 1026 bytes
    client = ClientProtocol(parse_uri("ws://test/"), state=State.OPEN)
    if compressed:  # as the handshake leaves a client that took deflate_factory's answer
        client.extensions = [
            PerMessageDeflate(
                remote_no_context_takeover=True,
                local_no_context_takeover=False,
                remote_max_window_bits=ws.DEFLATE_WINDOW_BITS,
                local_max_window_bits=ws.DEFLATE_WINDOW_BITS,
            )
        ]
    shared = ws.SharedFrames()
    wire = shared.wire(text, deflated=compressed)
    assert shared.wire(text, deflated=compressed) is wire  # built once per text
    # compressed from COMPRESS_FROM_BYTES on; a smaller one goes plain (RSV1 clear) to a
    # client that took the compression too, and reads back the same
    squeezed = compressed and len(text.encode()) >= ws.COMPRESS_FROM_BYTES
    assert shared.compressions == (1 if squeezed else 0)
    assert bool(wire[0] & 0x40) == squeezed  # RSV1: "this message is compressed"
    client.receive_data(wire + wire)  # twice: each message decodes on its own
    frames = [event for event in client.events_received() if isinstance(event, Frame)]
    assert [bytes(f.data).decode() for f in frames] == [text, text]
    assert all(f.fin for f in frames) and client.parser_exc is None


def test_shared_frames_follow_the_text_they_were_built_for() -> None:
    shared = ws.SharedFrames()
    first = shared.wire("первое " * 200, deflated=True)
    assert shared.wire("второе " * 200, deflated=True) != first
    assert shared.compressions == 2
    assert shared.wire("третье", deflated=True) == shared.wire("третье", deflated=False)
