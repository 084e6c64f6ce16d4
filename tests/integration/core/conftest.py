"""Fixtures for core integration tests: the real server on loopback, real services, real files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from operator_app.core.cache import Cache
from operator_app.core.changes import Change
from operator_app.core.credentials import CredentialStore
from operator_app.core.profiles import ServerProfile
from operator_app.core.service import DeskService
from operator_app.net.api import ApiClient
from operator_app.net.realtime import Backoff, Phase, RealtimeConnection
from operator_app.protocol import routes
from operator_app.protocol.models import Channel, InboundAccepted, InboundMessage, Message
from operator_app.server.db import sqlite_url
from operator_app.server.embedded import EmbeddedServer


class LiveServer:
    """An EmbeddedServer on a fixed port and database file, so it can be restarted."""

    def __init__(self, directory: Path, event_retention: int = 100_000) -> None:
        self.database_url = sqlite_url(str(directory / "server.db"))
        self.event_retention = event_retention
        self.port = 0
        self.url = ""
        self.server: EmbeddedServer | None = None
        self.channel_secrets: dict[Channel, str] = {}

    def start(self) -> str:
        self.server = EmbeddedServer(
            port=self.port,
            database_url=self.database_url,
            demo=True,
            simulate_rate=0.0,
            reply_to_operators=False,
            event_retention=self.event_retention,
        )
        self.url = self.server.start()
        self.port = self.server.port
        self.channel_secrets = self.server.channel_secrets
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    async def inbound(self, address: str, text: str, external_id: str, name: str = "") -> int:
        """A customer writes on Telegram; returns the dialog id."""
        body = InboundMessage(
            address=address, name=name or address, text=text, external_id=external_id
        )
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.post(
                routes.INBOUND.format(channel=Channel.TELEGRAM.value),
                content=body.model_dump_json(),
                headers={
                    "X-Channel-Secret": self.channel_secrets[Channel.TELEGRAM],
                    "Content-Type": "application/json",
                },
            )
        response.raise_for_status()
        return InboundAccepted.model_validate_json(response.content).dialog_id


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Services:
    """Builds DeskServices on real cache files and closes them all at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.open: list[DeskService] = []

    async def make(
        self,
        url: str,
        login: str = "anna",
        password: str | None = "demo",
        *,
        cache_name: str | None = None,
        heartbeat_seconds: float = 15.0,
        credentials: CredentialStore | None = None,
    ) -> tuple[DeskService, list[Change]]:
        api = ApiClient(url, timeout=3.0)
        cache = Cache.open(self.tmp_path / (cache_name or f"{login}.sqlite3"))
        service = DeskService(
            credentials=credentials,
            profile=ServerProfile("test", url, login=login),
            cache=cache,
            api=api,
            outbox_backoff=Backoff(base=0.05, cap=0.5),
            realtime_factory=_fast_realtime,
            heartbeat_seconds=heartbeat_seconds,
        )
        changes: list[Change] = []
        service.subscribe(changes.append)
        if password is not None:
            try:
                await service.login(password)
            except Exception:
                await api.aclose()
                cache.close()
                raise
        await service.start()
        self.open.append(service)
        return service, changes

    async def close(self, service: DeskService) -> None:
        await service.close()
        service.cache.close()
        self.open.remove(service)


def _fast_realtime(*args: Any, **kwargs: Any) -> RealtimeConnection:
    kwargs["backoff"] = Backoff(base=0.05, cap=0.5)
    return RealtimeConnection(*args, **kwargs)


@pytest_asyncio.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    made = Services(tmp_path)
    yield made
    for service in list(made.open):
        await made.close(service)


async def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


async def online(service: DeskService, timeout: float = 10.0) -> None:
    await eventually(lambda: service.connection.phase is Phase.ONLINE, timeout, "online")
    await eventually(lambda: service.cache.get_meta("snapshot_owed") is None, timeout, "snapshot")


async def server_messages(url: str, dialog_id: int) -> list[Message]:
    """What the server holds for a dialog, read as the supervisor (sees every dialog)."""
    api = ApiClient(url)
    try:
        await api.login("olga", "demo")
        return (await api.messages(dialog_id, limit=500)).items
    finally:
        await api.aclose()
