"""The live bench's hop trace (OPERATOR_SERVER_HOP_TRACE): one line per event frame sent."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_app.server import hub
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api, Ws, customer_says


def trace_lines(out: io.StringIO, count: int, timeout: float = 5.0) -> list[list[float]]:
    """The first ``count`` lines: the frame is noted after the send returned, which may be
    after the client read it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [[float(v) for v in line.split()] for line in out.getvalue().splitlines()]
        if len(lines) >= count:
            return lines
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} trace lines: {out.getvalue()!r}")


def test_each_event_sent_is_traced_with_its_hops_in_order(
    server: EmbeddedServer,
    login: Callable[..., Api],
    websocket: Callable[..., Ws],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(hub, "HOP_TRACE", hub.HopTrace(out))
    olga = login("olga")  # supervises every queue: sees the new customers' dialogs
    ws = websocket(olga)
    ws.handshake()
    before = time.time()
    customer_says(server.url, "telegram", "tg-hop-trace-1", "first")
    customer_says(server.url, "telegram", "tg-hop-trace-2", "second")
    cursors = [
        ws.until(lambda f: f["type"] == "event" and f["event"]["kind"] == "message.created")[
            "cursor"
        ]
        for _ in range(2)
    ]
    traced = {int(line[0]): line[1:] for line in trace_lines(out, 2)}
    for cursor in cursors:  # the hello and replay_done frames are not events: no line
        committed, published, sent = traced[cursor]
        assert before <= committed <= published <= sent <= time.time()
    assert set(traced) >= set(cursors)


def test_only_event_frames_have_a_cursor_to_trace() -> None:
    assert hub.event_cursor('{"type":"event","cursor":42,"event":{"kind":"x"}}') == 42
    assert hub.event_cursor('{"type":"hello","head_cursor":42}') is None
    assert hub.event_cursor('{"type":"replay_done","cursor":42}') is None


def test_the_trace_is_off_unless_the_environment_names_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(hub.HOP_TRACE_ENV, raising=False)
    assert hub.HopTrace.from_env() is None
    monkeypatch.setenv(hub.HOP_TRACE_ENV, str(tmp_path / "hops.txt"))
    trace = hub.HopTrace.from_env()
    assert trace is not None
    trace.committed([7])
    trace.published([7])
    trace.sent('{"type":"event","cursor":7,"event":{}}')
    trace.close()
    cursor, *times = (tmp_path / "hops.txt").read_text().split()
    assert cursor == "7" and len(times) == 3 and all(float(t) > 0 for t in times)


def test_the_trace_keeps_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "TRACED_CURSORS", 10)
    out = io.StringIO()
    trace = hub.HopTrace(out)
    trace.committed(range(1, 26))
    trace.published(range(1, 26))
    trace.sent('{"type":"event","cursor":25,"event":{}}')
    [line] = out.getvalue().splitlines()
    cursor, committed, published, _sent = line.split()
    assert cursor == "25" and float(committed) > 0 and float(published) > 0
    assert len(trace._committed) <= 10 and len(trace._published) <= 10
    trace.sent('{"type":"event","cursor":1,"event":{}}')  # forgotten: its hops read as 0
    assert out.getvalue().splitlines()[1].split()[1:3] == ["0.000000", "0.000000"]
