"""Fan-out helpers run as their own processes (run.py spawns them).

clients <ws-url> <n> [floor]   n websocket clients; for the app they authenticate as staff
                               1..n, for the floor they send their id. Prints
                               {"connected": n, "nice": niceness}, then on stdin
                               ``report [SINCE]`` prints the delivery latencies (message
                               created_at to receipt) of the messages created from SINCE
                               (Unix time) on, and of all.
floor <n> <rate> <seconds> <size> [db]  a bare websockets server that pushes the same
                               deliveries (assignee + queue supervisors) with ``broadcast``;
                               with ``db`` (a SQLite file) it first commits each message and
                               its event there, as the app must. Prints {"port": p}; starts
                               on stdin ``go``; prints what it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sqlite3
import sys
import time
from array import array
from datetime import UTC, datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.generate import SIZES, Plan, dialog_plans
from benchmarks.servers import MARK, token_of
from operator_app.protocol import PROTOCOL_VERSION
from operator_app.server.ws import COMPRESS_FROM_BYTES


def say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"count": len(ordered), "p50": pick(0.5), "p99": pick(0.99), "max": ordered[-1]}


async def stdin_lines() -> asyncio.Queue[str]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.strip())
        loop.call_soon_threadsafe(queue.put_nowait, "quit")

    loop.run_in_executor(None, pump)
    return queue


CLIENTS_PRIORITY = 5  # niceness below the servers', in the app's and the floor's windows alike


def raise_priority() -> int:
    """Operators' clients run on their own machines; here a thousand share one process and
    the two cores of the server they measure, and when it starved them of a core the wait
    counted as delivery latency (the app's server needs ~3x the floor's CPU). So they ask
    for a little priority over the servers; without the permission they run as they are.
    Returns the niceness they run at."""
    with contextlib.suppress(PermissionError):
        os.nice(-CLIENTS_PRIORITY)
    return os.nice(0)


class CollectorPauses:
    """The instrument's own collector passes from now on: they delay the deliveries that
    arrive meanwhile, whichever server sent them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds.append(time.perf_counter() - self._started)

    def summary(self) -> dict[str, float]:
        return {
            "passes": len(self.seconds),
            "ms": sum(self.seconds) * 1000,
            "max_ms": max(self.seconds, default=0.0) * 1000,
        }


async def run_clients(url: str, count: int, floor: bool) -> None:
    # one delivery per index, in arrays of numbers: a tuple per delivery was a tracked object,
    # and the collector's young passes over them (7 a second, ~0.6 ms each, and 2-3 ms
    # passes of the next generation) paused the instrument under the servers it measured
    cursors, created_at, received_at = array("q"), array("d"), array("d")

    async def reader(ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") == "event" and "message" in frame["event"]:
                    emitted = datetime.fromisoformat(frame["event"]["message"]["created_at"])
                    cursors.append(frame["cursor"])
                    created_at.append(emitted.timestamp())
                    received_at.append(now)
        except websockets.ConnectionClosed:
            pass

    async def one(staff_id: int) -> ClientConnection:
        ws = await connect(url, max_size=2**20, open_timeout=60, ping_interval=None)
        if floor:
            await ws.send(str(staff_id))
        else:
            auth = {
                "type": "auth",
                "token": token_of(staff_id),
                "protocol_version": PROTOCOL_VERSION,
            }
            await ws.send(json.dumps(auth))
        return ws

    sockets: list[ClientConnection] = []
    for start in range(1, count + 1, 50):
        batch = range(start, min(count, start + 49) + 1)
        sockets += await asyncio.gather(*(one(i) for i in batch))
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    await asyncio.sleep(0.5)
    # the instrument's own pauses are not the server's latency: the 1,000 connections are
    # long-lived, so a full collection over them (~100 ms, mid-run) is kept out of the count
    gc.collect()
    gc.freeze()
    gc.disable()  # a pass still came ~7 times a second, one of ~3 ms: the windows are short
    pauses = CollectorPauses()
    say({"connected": len(sockets), "nice": raise_priority()})
    commands = await stdin_lines()
    while (command := await commands.get()).startswith(("report", "dump")):
        if command.startswith("report"):  # report SINCE: messages created from SINCE on
            since = float(command.split()[1]) if " " in command else 0.0
            pairs = list(zip(created_at, received_at, strict=True))
            timed = [received - created for created, received in pairs if created >= since]
            every = [received - created for created, received in pairs]
            say(
                {
                    "latency": summary(timed),
                    "with_warm_up": summary(every),
                    "collector": pauses.summary(),
                }
            )
        else:  # dump PATH: one line per delivery, "cursor created_at received"
            with open(command.split(" ", 1)[1], "w", encoding="utf-8") as out:
                out.writelines(
                    f"{c} {e:.6f} {r:.6f}\n"
                    for c, e, r in zip(cursors, created_at, received_at, strict=True)
                )
            say({"dumped": len(cursors)})
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)


def frame_for(message_id: int, dialog_id: int, text: str) -> str:
    """The same shape and size as the app's message.created event frame."""
    message = {
        "id": message_id,
        "dialog_id": dialog_id,
        "author": "client",
        "author_id": None,
        "author_name": "",
        "kind": "message",
        "text": text,
        "attachments": [],
        "client_msg_id": None,
        "created_at": datetime.now(UTC).isoformat(),
    }
    dialog = {
        "id": dialog_id,
        "channel": "telegram",
        "contact_id": dialog_id,
        "contact_name": f"Customer {dialog_id}",
        "queue_id": 1,
        "assignee_id": 100,
        "participant_ids": [],
        "state": "active",
        "tags": [],
        "subject": "",
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
        "waiting_since": "2026-11-23T10:00:00Z",
        "last_message": {"author": "client", "kind": "message", "text": text[:80]},
        "last_message_id": message_id,
        "message_count": 100,
    }
    event = {"kind": "message.created", "message": message, "dialog": dialog}
    return json.dumps({"type": "event", "cursor": message_id, "event": event}, ensure_ascii=False)


def floor_compression(dialog_id: int) -> str | None:
    """The frames go out as the app's server sends a live event: plain under
    ws.COMPRESS_FROM_BYTES (the bench's ~0.8 KiB frames are), else permessage-deflate, there
    with websockets' default context takeover: broadcast compresses for each connection, and
    with the app's parameters (a fresh compressor per message, ws.deflate_factory) that cost
    the floor more (194 against 142 us of loop CPU per ten-frame event in-process)."""
    sample = frame_for(0, dialog_id, f"load 0 {MARK}{time.time():.6f}")
    return "deflate" if len(sample.encode()) >= COMPRESS_FROM_BYTES else None


class DurableLog:
    """What a durable server does before it delivers, at its barest: the message and its
    event (the frame) committed to SQLite in WAL mode, synchronous=NORMAL, as the app's
    server configures it."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, dialog_id INTEGER,"
            " text TEXT, created_at TEXT)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS events (cursor INTEGER PRIMARY KEY, frame TEXT)"
        )

    def commit(self, dialog_id: int, text: str, frame: str) -> None:
        self.db.execute("BEGIN")
        cursor = self.db.execute(
            "INSERT INTO messages (dialog_id, text, created_at) VALUES (?, ?, ?)",
            (dialog_id, text, datetime.now(UTC).isoformat()),
        )
        self.db.execute(
            "INSERT INTO events (cursor, frame) VALUES (?, ?)", (cursor.lastrowid, frame)
        )
        self.db.execute("COMMIT")


async def run_floor(
    count: int, rate: float, seconds: float, size: str, durable_path: str | None
) -> None:
    durable = DurableLog(durable_path) if durable_path else None
    plan = Plan(SIZES[size])
    active = [d for d in dialog_plans(plan, __import__("random").Random(0)) if d.state == "active"]
    by_id: dict[int, ServerConnection] = {}

    async def handler(ws: ServerConnection) -> None:
        staff_id = int(await ws.recv())
        by_id[staff_id] = ws
        await ws.wait_closed()

    async with serve(
        handler,
        "127.0.0.1",
        0,
        max_size=2**20,
        ping_interval=None,
        compression=floor_compression(active[0].id),
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        say({"port": port})
        commands = await stdin_lines()
        await commands.get()
        total = int(rate * seconds)
        started = time.perf_counter()
        deliveries = 0
        for n in range(total):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            dialog = active[n % len(active)]
            audience = [dialog.assignee_id, *plan.supervisors(dialog.queue_id)]
            targets = [by_id[i] for i in audience if i in by_id]
            text = f"load {n} {MARK}{time.time():.6f}"
            frame = frame_for(n, dialog.id, text)  # stamped created_at: before the commit
            if durable is not None:
                durable.commit(dialog.id, text, frame)
            broadcast(targets, frame)
            deliveries += len(targets)
        say({"sent": total, "deliveries": deliveries, "seconds": time.perf_counter() - started})
        await commands.get()


if __name__ == "__main__":
    if sys.argv[1] == "clients":
        asyncio.run(run_clients(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4))
    else:
        durable_path = sys.argv[6] if len(sys.argv) > 6 else None
        asyncio.run(
            run_floor(
                int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], durable_path
            )
        )
