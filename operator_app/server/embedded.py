"""The backend in a daemon thread: for the desktop app's demo mode and for tests."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import uvicorn
from sqlalchemy import Engine, insert, select

from operator_app.protocol.limits import MAX_WS_FRAME_BYTES
from operator_app.protocol.models import Channel

from . import db, demo, security
from . import schema as s
from .app import create_asgi_app
from .connectors import SimulatedConnector
from .service import Backend
from .simulator import Simulator
from .ws import SendNowProtocol

log = logging.getLogger(__name__)

START_TIMEOUT = 20.0


class EmbeddedServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        database_url: str | None = None,
        demo: bool = True,
        simulate_rate: float = 0.0,
        reply_to_operators: bool = True,
        event_retention: int = 100_000,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        send_queue_size: int = 1000,
        token_ttl_seconds: float = 12 * 3600,
    ) -> None:
        self.host = host
        self.port = port
        self.database_url = database_url
        self.demo = demo
        self.simulate_rate = simulate_rate
        self.reply_to_operators = reply_to_operators
        self.event_retention = event_retention
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.send_queue_size = send_queue_size
        self.token_ttl = timedelta(seconds=token_ttl_seconds)
        self.url = ""
        self.channel_secrets: dict[Channel, str] = {}
        self.connector = SimulatedConnector()
        self.backend: Backend | None = None
        self.simulator: Simulator | None = None
        self._tmpdir: str | None = None
        self._engine: Engine | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> str:
        if self._thread is not None:
            return self.url
        url = self.database_url
        if url is None:
            self._tmpdir = tempfile.mkdtemp(prefix="operator-server-")
            url = db.sqlite_url(str(Path(self._tmpdir) / "server.db"))
        self._engine = db.create(url)
        db.init_schema(self._engine)
        if self.demo and db.is_empty(self._engine):
            demo.seed(self._engine)
        self.channel_secrets = prepare_channels(self._engine, demo=self.demo)
        self.backend = Backend(
            self._engine,
            event_retention=self.event_retention,
            token_ttl=self.token_ttl,
            connector=self.connector,
        )
        self.backend.hub.queue_size = self.send_queue_size
        self.simulator = Simulator(
            self.backend, rate=self.simulate_rate, reply_to_operators=self.reply_to_operators
        )
        if self.demo:
            self.connector.listeners.append(self.simulator.on_outbound)
        app = create_asgi_app(self.backend, simulator=self.simulator if self.demo else None)
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            # "auto" takes httptools (a dependency: C parsing; h11 was ~10% of the server's
            # time at 500 posts/s) and falls back to h11 where it is missing
            http="auto",
            ws=SendNowProtocol,  # uvicorn's websockets-sansio, plus the hub's send_now
            ws_max_size=MAX_WS_FRAME_BYTES,
            log_level="warning",
            lifespan="on",
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
            timeout_graceful_shutdown=3,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="operator-server", daemon=True)
        self._thread.start()
        self._wait_until_listening()
        return self.url

    def _run(self) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # reported to start() or logged
            self._failure = exc
            log.exception("embedded server stopped with an error")

    def _wait_until_listening(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start: {self._failure!r}")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_certfile else "http"
        self.port = port
        self.url = f"{scheme}://{self.host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None
        if self.backend is not None:
            self.backend.shutdown()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def prepare_channels(engine: Engine, *, demo: bool) -> dict[Channel, str]:
    """The inbound secret of every channel this process can tell; creates missing channels.

    Demo secrets are the documented ``demo-<channel>-secret``. Otherwise a missing channel
    gets a fresh random secret (returned here once); existing ones stay unknown (only hashes).
    """
    known: dict[Channel, str] = {}
    with engine.begin() as conn:
        existing = {row.channel for row in conn.execute(select(s.channels.c.channel))}
        first_queue = conn.execute(select(s.queues.c.id).order_by(s.queues.c.id).limit(1)).scalar()
        for channel in Channel:
            if demo:
                known[channel] = security.demo_channel_secret(channel)
            if channel in existing:
                continue
            secret = known.get(channel) or secrets.token_urlsafe(24)
            known[channel] = secret
            conn.execute(
                insert(s.channels).values(
                    channel=channel,
                    secret_hash=security.digest(secret),
                    default_queue_id=first_queue,
                )
            )
    return known
