"""Shared pieces of the reliability suite (tests/reliability): sizes, figures, a killable
server process, client cores on real cache files, and the client-versus-server comparison.

Sizes: ``RELIABILITY_SCALE=full`` (``make reliability``) picks the big numbers, anything else
the small ones that run in CI on every commit. ``FIGURES`` gathers what every test injected
and observed; tests/reliability/conftest.py prints it as the summary table.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from operator_app.core.cache import Cache
from operator_app.core.profiles import ServerProfile
from operator_app.core.service import DeskService
from operator_app.net.api import ApiClient
from operator_app.net.realtime import Backoff, RealtimeConnection
from operator_app.protocol import routes
from operator_app.protocol.models import (
    Channel,
    DialogScope,
    InboundAccepted,
    InboundMessage,
    Message,
)
from operator_app.server.db import sqlite_url

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("RELIABILITY_SCALE", "fast").lower() == "full"
DEMO_PASSWORD = "demo"


def sized(fast: int, full: int) -> int:
    """The fast size in CI, the full one under ``make reliability``."""
    return full if FULL else fast


# ---- figures --------------------------------------------------------------------------------

FIGURE_NAMES = (
    "rounds",
    "faults injected",
    "messages sent",
    "lost",
    "duplicated",
    "bad inputs tried",
    "server errors",
)


@dataclass
class Figures:
    totals: Counter[str] = field(default_factory=Counter)
    per_test: dict[str, Counter[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, test: str, **values: int) -> None:
        """Add counts under the names of FIGURE_NAMES (underscores for spaces)."""
        row = self.per_test.setdefault(test, Counter())
        for key, value in values.items():
            name = key.replace("_", " ")
            if name not in FIGURE_NAMES:
                raise KeyError(f"unknown figure {name!r}")
            row[name] += value
            self.totals[name] += value

    def note(self, text: str) -> None:
        self.notes.append(text)

    def table(self) -> str:
        width = max([len(t) for t in self.per_test] + [len("TOTAL")])
        heads = ["rounds", "faults", "sent", "lost", "dup", "bad in", "5xx/crash"]
        lines = [f"{'test':<{width}}  " + "  ".join(f"{h:>9}" for h in heads)]
        rows = [*sorted(self.per_test.items()), ("TOTAL", self.totals)]
        for name, row in rows:
            cells = "  ".join(f"{row[n]:>9}" for n in FIGURE_NAMES)
            lines.append(f"{name:<{width}}  {cells}")
        return "\n".join(lines + self.notes)

    def to_json(self) -> str:
        return json.dumps(
            {"scale": "full" if FULL else "fast", "totals": dict(self.totals),
             "per_test": {k: dict(v) for k, v in self.per_test.items()}, "notes": self.notes},
            ensure_ascii=False, indent=2,
        )  # fmt: skip


FIGURES = Figures()


# ---- waiting --------------------------------------------------------------------------------


async def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


# ---- the server as a process ----------------------------------------------------------------


class ServerProcess:
    """tests/helpers/reliability_server.py on one database file and, after the first start,
    one fixed port, so clients find it again after a kill -9 and a restart."""

    def __init__(self, directory: Path, *, send_queue: int = 1000) -> None:
        self.directory = directory
        self.database_url = sqlite_url(str(directory / "server.db"))
        self.send_queue = send_queue
        self.port = 0
        self.url = ""
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._log = directory / "server.log"

    async def start(self) -> str:
        assert self.process is None, "already running"
        with self._log.open("ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.helpers.reliability_server",
                "--db", self.database_url, "--port", str(self.port),
                "--send-queue", str(self.send_queue),
                cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log_file,
            )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line.startswith(b"LISTENING "):
            await self.kill9()
            raise RuntimeError(f"the server did not start: {self.errors_text()[-2000:]}")
        self.url = line.decode().split()[1]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.starts += 1
        return self.url

    async def kill9(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    async def stop(self) -> None:
        """A graceful stop (SIGTERM), killed after 10 s."""
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.process = None

    def errors_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def crashes_logged(self) -> int:
        """Tracebacks the server wrote: every one is a server error in the summary."""
        return self.errors_text().count("Traceback (most recent call last)")


# ---- client cores ---------------------------------------------------------------------------


def fast_realtime(*args: Any, **kwargs: Any) -> RealtimeConnection:
    kwargs["backoff"] = Backoff(base=0.05, cap=0.5)
    return RealtimeConnection(*args, **kwargs)


async def desk(
    url: str, login: str, cache_path: Path, *, heartbeat: float = 1.0, password: str = "demo"
) -> DeskService:
    """A started client core on a real cache file, logged in, with quick retries."""
    service = DeskService(
        profile=ServerProfile("reliability", url, login=login),
        cache=Cache.open(cache_path),
        api=ApiClient(url, timeout=3.0),
        outbox_backoff=Backoff(base=0.05, cap=0.5),
        realtime_factory=fast_realtime,
        heartbeat_seconds=heartbeat,
    )
    for attempt in range(20):  # the login itself may meet a fault on the way
        try:
            await service.login(password)
            break
        except Exception:
            if attempt == 19:
                raise
            await asyncio.sleep(0.2)
    await service.start()
    return service


async def close_desk(service: DeskService) -> None:
    await service.close()
    service.cache.close()


async def logged_in(url: str, login: str, password: str = DEMO_PASSWORD) -> ApiClient:
    api = ApiClient(url, timeout=10.0)
    await api.login(login, password)
    return api


async def all_messages(api: ApiClient, dialog_id: int) -> list[Message]:
    """Every message of a dialog, oldest first, paging forwards."""
    found: list[Message] = []
    after: int | None = 0
    while after is not None:
        page = await api.messages(dialog_id, after_id=after, limit=500)
        found += page.items
        after = int(page.next_cursor) if page.next_cursor else None
    return found


# ---- customers ------------------------------------------------------------------------------


async def customer_writes(
    http: httpx.AsyncClient,
    secret: str,
    address: str,
    text: str,
    external_id: str,
    *,
    channel: Channel = Channel.TELEGRAM,
    attempts: int = 200,
) -> tuple[InboundAccepted, int]:
    """Post one customer message until the server accepts it (the external id makes retries
    harmless); returns the answer and how many tries failed on the way."""
    body = InboundMessage(address=address, name=address, text=text, external_id=external_id)
    failures = 0
    for _ in range(attempts):
        try:
            response = await http.post(
                routes.INBOUND.format(channel=channel.value),
                content=body.model_dump_json(),
                headers={"X-Channel-Secret": secret, "Content-Type": "application/json"},
            )
            if response.status_code >= 500:
                raise AssertionError(f"server error {response.status_code}: {response.text}")
            if response.status_code == 200:
                return InboundAccepted.model_validate_json(response.content), failures
            raise AssertionError(f"inbound refused {response.status_code}: {response.text}")
        except httpx.TransportError:
            failures += 1
            await asyncio.sleep(0.05)
    raise AssertionError(f"inbound {external_id} never accepted")


# ---- client versus server -------------------------------------------------------------------


def _dump(models: list[Any]) -> list[Any]:
    return sorted((m.model_dump(mode="json") for m in models), key=lambda d: d["id"])


async def table_differences(service: DeskService, api: ApiClient) -> list[str]:
    """Compare the client's cache with the server, table by table, as the same operator sees
    it (``api`` is logged in as that operator, straight to the server). Empty: converged."""
    cache = service.cache
    diffs: list[str] = []
    me = await api.me()
    cached_me = cache.me()
    if cached_me is None or cached_me.model_dump() != me.model_dump():
        diffs.append(f"me: cache {cached_me} != server {me}")
    for table, server_rows, cached_rows in (
        ("operators", await api.operators(), cache.operators()),
        ("queues", await api.queues(), cache.queues()),
        ("templates", await api.templates(), cache.templates()),
    ):
        if _dump(server_rows) != _dump(cached_rows):
            diffs.append(f"{table}: cache {_dump(cached_rows)} != server {_dump(server_rows)}")
    visible = (await api.dialogs(DialogScope.ALL_VISIBLE, limit=500)).items
    for dialog in visible:
        cached = cache.get_dialog(dialog.id)
        if cached is None or cached.model_dump() != dialog.model_dump():
            diffs.append(f"dialog {dialog.id}: cache {cached} != server {dialog}")
            continue
        diffs += await _message_differences(cache, api, dialog.id)
    if cache.outbox_size():
        diffs.append(f"outbox: {cache.outbox_size()} unsent")
    duplicates = cache.conn.execute(
        "SELECT client_msg_id, count(*) FROM messages WHERE client_msg_id IS NOT NULL "
        "GROUP BY client_msg_id HAVING count(*) > 1"
    ).fetchall()
    if duplicates:
        diffs.append(f"messages: client ids twice in the cache: {duplicates}")
    return diffs


def _message_key(m: Message) -> tuple[Any, ...]:
    return (m.id, m.author.value, m.kind.value, m.text, m.client_msg_id)


async def _message_differences(cache: Cache, api: ApiClient, dialog_id: int) -> list[str]:
    """Within the cached history window every server message is cached, once; outside it
    the cache holds nothing the server does not."""
    low, _ = cache.history_window(dialog_id)
    rows = cache.conn.execute(
        "SELECT server_id, author, kind, text, client_msg_id, state FROM messages "
        "WHERE dialog_id = ? ORDER BY id",
        (dialog_id,),
    ).fetchall()
    server = await all_messages(api, dialog_id)
    server_keys = {_message_key(m) for m in server}
    cached_keys = [tuple(r[:5]) for r in rows]
    diffs = []
    if any(r[5] != "sent" for r in rows):
        diffs.append(f"dialog {dialog_id}: rows not sent: {[r for r in rows if r[5] != 'sent']}")
    if len(set(cached_keys)) != len(cached_keys):
        diffs.append(f"dialog {dialog_id}: a message is cached twice")
    strangers = [k for k in cached_keys if k not in server_keys]
    if strangers:
        diffs.append(f"dialog {dialog_id}: cached but not on the server: {strangers}")
    if low is not None:
        window = [_message_key(m) for m in server if m.id >= low]
        cached_window = [k for k in cached_keys if k[0] is not None and k[0] >= low]
        if window != cached_window:
            missing = [k for k in window if k not in cached_window]
            diffs.append(f"dialog {dialog_id}: window from {low} misses {missing}")
    return diffs
