"""Server-side helpers: a server process on a copied database, tokens, inbound load, a proxy."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, delete, insert, select

from operator_app.protocol import routes
from operator_app.server import schema as s
from operator_app.server import security

MARK = "⏱"


def token_of(staff_id: int) -> str:
    return f"bench-token-{staff_id}"


def grant_tokens(database_url: str, staff: int) -> None:
    """Tokens for every staff member, straight into the database: 1,000 argon2 logins would
    take minutes and measure nothing we care about here."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(s.tokens))
        conn.execute(
            insert(s.tokens),
            [
                {
                    "token_hash": security.digest(token_of(i)),
                    "operator_id": i,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for i in range(1, staff + 1)
            ],
        )
    engine.dispose()


def head_cursor(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        head = conn.execute(select(s.event_sequence.c.head)).scalar()
    engine.dispose()
    return int(head or 0)


def copy_sqlite(source: Path, target: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    # on disk before the server starts: else its first checkpoint's sync writes the whole
    # fresh copy (~250 MB) back under the timed load, which no running server has to do
    with open(target, "rb+") as copy:
        os.fsync(copy.fileno())
    return f"sqlite:///{target}"


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@dataclass(frozen=True)
class CoreSplit:
    """Figure 7's servers on cores of their own, its instrument (the staff's clients and the
    customers' load) on the last one: they stand in for other machines, and on a shared
    core they took the server's CPU (and it theirs) under whichever server they measured."""

    servers: frozenset[int]
    instrument: frozenset[int]

    def describe(self) -> str:
        servers, instrument = (
            ",".join(map(str, sorted(c))) for c in (self.servers, self.instrument)
        )
        return f"servers on core {servers}, clients and load on core {instrument}"


def split_cores() -> CoreSplit | None:
    """None with fewer than two cores to split, or no CPU affinity (macOS, Windows)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return CoreSplit(frozenset(cores[:-1]), frozenset(cores[-1:]))


def pin(pid: int, cores: frozenset[int] | None) -> None:
    """Every thread of the process to ``cores``: a thread started later inherits the
    affinity of the thread that starts it. ``pid`` 0: this process."""
    if cores is None:
        return
    tasks = Path(f"/proc/{pid or os.getpid()}/task")
    for task in tasks.iterdir() if tasks.exists() else ():
        with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
            os.sched_setaffinity(int(task.name), cores)


@contextlib.contextmanager
def pinned(cores: frozenset[int] | None) -> Iterator[None]:
    """This process's threads (and the processes it starts) on ``cores`` for the block."""
    if cores is None:
        yield
        return
    before = frozenset(os.sched_getaffinity(0))
    pin(0, cores)
    try:
        yield
    finally:
        pin(0, before)


@contextlib.contextmanager
def server_process(
    database_url: str, cores: frozenset[int] | None = None
) -> Iterator[ServerProcess]:
    """``operator-server serve`` on a free port (its threads on ``cores``, if given), stopped
    (SIGTERM, then kill) on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "operator_app.server", "serve", "--db", database_url, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pin(process.pid, cores)  # before its imports end and its threads start
        url = ""
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("listening on "):
                url = line.split()[-1]
                break
        if not url:
            raise RuntimeError("the server did not start")
        pin(process.pid, cores)
        threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe open
        yield ServerProcess(process, url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def inbound_body(channel: str, address: str, text: str, external_id: str) -> dict[str, str]:
    return {"address": address, "text": text, "external_id": external_id, "name": ""}


async def post_inbound(
    client: httpx.AsyncClient, dialog: tuple[int, str], serial: str, text: str
) -> None:
    dialog_id, channel = dialog
    response = await client.post(
        routes.INBOUND.format(channel=channel),
        json=inbound_body(channel, f"{channel}-{dialog_id}", text, serial),
        headers={"X-Channel-Secret": security.demo_channel_secret(channel)},
    )
    response.raise_for_status()


class KeepAlivePool:
    """Customers' posts over plain HTTP/1.1 keep-alive connections: a load generator that
    needs a small fraction of httpx's CPU (httpx took ~80% of a core at ~80 posts/s here,
    on the 2 cores it shares with the server under test)."""

    def __init__(self, url: str, size: int) -> None:
        host_port = url.split("://", 1)[1].rstrip("/")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.size = size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._opened = 0

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        reader, writer = await self._take()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body
        try:
            writer.write(request)
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            lines = status_and_headers.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            lengths = [
                int(line.split(":", 1)[1])
                for line in lines[1:]
                if line.lower().startswith("content-length:")
            ]
            if not lengths:
                raise ValueError("a response without Content-Length")
            payload = await reader.readexactly(lengths[0])
        except BaseException:
            writer.close()
            self._opened -= 1
            raise
        self._idle.put_nowait((reader, writer))
        return status, payload

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._opened < self.size:
            self._opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self._opened -= 1
                raise
        return await self._idle.get()

    async def close(self) -> None:
        while not self._idle.empty():
            _reader, writer = self._idle.get_nowait()
            writer.close()


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """The load generator's own pauses are not the server's latency: a full collection of
    the bench process's heap (27 ms) once held back ten posts, which then reached the server
    as one burst (figure 7's slowest messages in that run). The heap is frozen and the
    collector off while the load runs."""
    gc.collect()
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


async def drive_inbound(
    url: str,
    dialogs: list[tuple[int, str]],
    *,
    rate: float,
    seconds: float,
    tag: str,
    marked_every: int = 1,
    concurrency: int = 32,
) -> dict[str, Any]:
    """Customers write at ``rate`` messages/s for ``seconds``; every ``marked_every``-th
    message (to ``dialogs[0]``) carries its send time after MARK. Returns what was achieved
    and why posts failed, if any did."""
    total = int(rate * seconds)
    sem = asyncio.Semaphore(concurrency)
    errors: Counter[str] = Counter()
    pool = KeepAlivePool(url, concurrency)
    secrets = {c: security.demo_channel_secret(c) for _d, c in dialogs}

    async def one(n: int) -> None:
        marked = n % marked_every == 0
        dialog_id, channel = dialogs[0 if marked and marked_every > 1 else n % len(dialogs)]
        async with sem:
            text = f"load {n} {MARK}{time.time():.6f}" if marked else f"load {n}"
            body = json.dumps(
                inbound_body(channel, f"{channel}-{dialog_id}", text, f"{tag}-{n}"),
                ensure_ascii=False,
            ).encode()
            try:
                status, _payload = await pool.post(
                    routes.INBOUND.format(channel=channel),
                    body,
                    {"X-Channel-Secret": secrets[channel]},
                )
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] += 1
                return
            if status != 200:
                errors[f"HTTP {status}"] += 1

    started = time.perf_counter()
    tasks = []
    with collector_held():
        for n in range(total):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await pool.close()
    failed = sum(errors.values())
    return {"sent": total, "failed": failed, "rate": total / elapsed, "errors": dict(errors)}


class Proxy:
    """A TCP proxy on 127.0.0.1 that can cut every connection and refuse new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> int:
        self._thread.start()
        self._ready.wait(10)
        return self.port

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):  # the proxy is stopping
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        def close_all() -> None:
            self.open = False
            for writer in list(self._writers):
                writer.transport.abort()

        self._loop.call_soon_threadsafe(close_all)

    def resume(self) -> None:
        self.open = True

    def stop(self) -> None:
        async def shutdown() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(10)
