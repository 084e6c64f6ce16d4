"""Live fan-out of events to websocket connections, indexed by operator id.

Runs on the server's event loop only. Writers hand over committed events with
``loop.call_soon_threadsafe(hub.publish, ...)``, so frames go out in cursor order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from operator_app.protocol.errors import WS_CLOSE_TOO_SLOW

log = logging.getLogger(__name__)

HOP_TRACE_ENV = "OPERATOR_SERVER_HOP_TRACE"
TRACED_CURSORS = 100_000  # times kept per hop: a traced server runs for days too


class HopTrace:
    """A diagnostic for the live bench: for each event, when the writer committed it and
    handed it to the loop, when the hub offered it to the connections, and when its frame was
    written to a socket. One line per frame sent: ``cursor committed published sent`` (Unix
    times). On only when OPERATOR_SERVER_HOP_TRACE names a file; the wire is unchanged."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()  # the writer thread and the loop both note times
        self._committed: dict[int, float] = {}
        self._published: dict[int, float] = {}

    @classmethod
    def from_env(cls) -> HopTrace | None:
        path = os.environ.get(HOP_TRACE_ENV)
        return cls(open(path, "a", encoding="utf-8")) if path else None

    def committed(self, cursors: Iterable[int]) -> None:
        self._note(self._committed, cursors)

    def published(self, cursors: Iterable[int]) -> None:
        self._note(self._published, cursors)

    def _note(self, times: dict[int, float], cursors: Iterable[int]) -> None:
        now = time.time()
        with self._lock:
            times.update((cursor, now) for cursor in cursors)
            if len(times) > TRACED_CURSORS:  # a frame is sent long before this many follow
                for cursor in list(times)[: len(times) - TRACED_CURSORS // 2]:
                    del times[cursor]

    def close(self) -> None:
        self._out.close()

    def sent(self, frame: str) -> None:
        cursor = event_cursor(frame)
        if cursor is None:
            return
        now = time.time()
        with self._lock:
            committed = self._committed.get(cursor, 0.0)
            published = self._published.get(cursor, 0.0)
            # written out when the buffer fills and at close: a write per frame was a system
            # call and a file-time update per delivery on the loop of the server it measures
            self._out.write(f"{cursor} {committed:.6f} {published:.6f} {now:.6f}\n")


def event_cursor(frame: str) -> int | None:
    """The cursor of an event frame as txn.event_frame assembles it, else None."""
    head = '{"type":"event","cursor":'
    if not frame.startswith(head):
        return None
    end = frame.find(",", len(head))
    return int(frame[len(head) : end]) if end > 0 else None


HOP_TRACE = HopTrace.from_env()


@dataclass(frozen=True)
class Published:
    """One committed durable event: its encoded frame is built once and shared by everyone."""

    cursor: int
    frame: str
    audience: frozenset[int] | None  # None: every connected operator


class Connection:
    """One authenticated websocket: a bounded send queue and a buffer while replaying.

    A frame nothing waits before (the queue empty, no send in flight) is written at once
    through ``send_now`` when the server offers one (``ws.SendNowProtocol``): it declines when
    the socket pushes back, and the frame takes the queue and its task, which keep the
    order and drop a client that stops reading."""

    def __init__(
        self,
        operator_id: int,
        token_hash: str,
        queue_size: int,
        on_kill: Callable[[Connection, int], None],
    ) -> None:
        self.operator_id = operator_id
        self.token_hash = token_hash
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.replaying = True
        self.held: list[tuple[int, str]] = []  # live events that arrived during the replay
        self.after_replay: list[str] = []  # frames that follow the replay and the held events
        self.rescoped = False  # the operator's queues changed: the session reloads its caller
        self.replayed_through = 0
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._on_kill = on_kill
        self.on_close: Callable[[int], None] | None = None  # set by the websocket session
        self.send_now: Callable[[str], bool] | None = None  # set by the websocket session
        self.sending = False  # the session's task holds a frame from the queue
        self.sent_at_once = 0

    def offer(self, cursor: int | None, frame: str) -> None:
        if self.close_code is not None:
            return
        if cursor is not None:
            if self.replaying:
                self.held.append((cursor, frame))
                return
            if cursor <= self.replayed_through:
                # committed before the replay read it, published after go_live: sent already
                return
        if (
            self.send_now is not None
            and not self.sending
            and self.outbox.empty()
            and self.send_now(frame)
        ):
            self.sent_at_once += 1
            if HOP_TRACE is not None:
                HOP_TRACE.sent(frame)
            return
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.kill(WS_CLOSE_TOO_SLOW)

    def go_live(self, replayed_through: int) -> None:
        """Flush the held live events the replay did not already cover, then stay live."""
        self.replaying = False
        self.replayed_through = replayed_through
        held, self.held = self.held, []
        for cursor, frame in held:
            self.offer(cursor, frame)
        later, self.after_replay = self.after_replay, []
        for frame in later:
            self.offer(None, frame)

    def offer_after_events(self, frame: str) -> None:
        """A frame that is no event but must follow the events offered before it: while
        replaying, it waits for the replay and the held events (``offer`` would send it at
        once, ahead of them)."""
        if self.replaying:
            self.after_replay.append(frame)
        else:
            self.offer(None, frame)

    def kill(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.closed.set()
            self._on_kill(self, code)
            if self.on_close is not None:
                self.on_close(code)


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._by_operator: dict[int, set[Connection]] = {}

    def connect(self, operator_id: int, token_hash: str) -> Connection:
        conn = Connection(operator_id, token_hash, self.queue_size, self._forget)
        self._by_operator.setdefault(operator_id, set()).add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self._forget(conn, 0)

    def _forget(self, conn: Connection, _code: int) -> None:
        peers = self._by_operator.get(conn.operator_id)
        if peers is not None:
            peers.discard(conn)
            if not peers:
                del self._by_operator[conn.operator_id]

    def publish(self, events: Iterable[Published]) -> None:
        if HOP_TRACE is not None:
            events = list(events)
            HOP_TRACE.published(event.cursor for event in events)
        for event in events:
            for conn in self._targets(event.audience):
                conn.offer(event.cursor, event.frame)

    def publish_ephemeral(
        self, frame: str, audience: Iterable[int], skip: int | None = None
    ) -> None:
        for conn in self._targets(frozenset(audience) - {skip}):
            conn.offer(None, frame)

    def _targets(self, audience: frozenset[int] | None) -> list[Connection]:
        if audience is None:
            return [c for peers in self._by_operator.values() for c in peers]
        return [c for op in audience for c in self._by_operator.get(op, ())]

    def resync_operator(self, operator_id: int, frame: str) -> None:
        """Sends the operator's desks a resync_required frame after the events offered so far:
        what they may see changed, and they re-read everything."""
        for conn in list(self._by_operator.get(operator_id, ())):
            conn.rescoped = True
            conn.offer_after_events(frame)

    def close_revoked(self, operator_ids: set[int], live_tokens: set[str], code: int) -> None:
        """Closes the operators' sessions whose token is no longer among ``live_tokens``."""
        for conn in self._targets(frozenset(operator_ids)):
            if conn.token_hash not in live_tokens:
                conn.kill(code)

    def close_token(self, token_hash: str, code: int) -> None:
        for conn in self._targets(None):
            if conn.token_hash == token_hash:
                conn.kill(code)

    def close_operator(self, operator_id: int, code: int, keep_token: str | None = None) -> None:
        """``keep_token``: the session of this token stays (a password change keeps the
        caller's own)."""
        for conn in list(self._by_operator.get(operator_id, ())):
            if conn.token_hash != keep_token:
                conn.kill(code)

    def close_all(self, code: int) -> None:
        for conn in self._targets(None):
            conn.kill(code)

    def connection_count(self) -> int:
        return sum(len(peers) for peers in self._by_operator.values())
