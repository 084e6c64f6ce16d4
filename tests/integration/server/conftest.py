"""Fixtures: the real server on 127.0.0.1 (demo world or an empty one), logged-in clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import SMALL_PASSWORD, Api, Ws, run_cli

SECRET = "small-world-secret"
PG_ENV = "OPERATOR_TEST_PG_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storage.db'}"
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"{PG_ENV} not set: no PostgreSQL server")
    name = f"opdesk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    """The demo world; simulated customers stay silent unless a test asks for them."""
    with EmbeddedServer(reply_to_operators=False) as srv:
        yield srv


@pytest.fixture
def login(server: EmbeddedServer) -> Iterator[Callable[..., Api]]:
    clients: list[Api] = []

    def make(name: str, password: str = "demo") -> Api:
        api = Api(server.url).login(name, password)
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


@pytest.fixture
def websocket(server: EmbeddedServer) -> Iterator[Callable[..., Ws]]:
    sockets: list[Ws] = []

    def make(api: Api | None, since: int | None = None) -> Ws:
        """A websocket that sent the api's auth frame (none when api is None)."""
        ws = Ws(server.url, api.token if api else "", since)
        sockets.append(ws)
        return ws

    yield make
    for ws in sockets:
        ws.close()


@pytest.fixture
def small_world(tmp_path: Path) -> str:
    """An empty database built with the admin CLI: two queues, four people, no dialogs.

    Queue 1 "Sales" (webchat): ann, bob. Queue 2 "Billing" (email): bob, cid.
    sue supervises queue 2; root is admin. Every password is SMALL_PASSWORD.
    """
    url = f"sqlite:///{tmp_path / 'small.db'}"
    run_cli("init", "--db", url)
    run_cli("add-queue", "--db", url, "--name", "Sales", "--sla", "60", "--channels", "webchat")
    run_cli("add-queue", "--db", url, "--name", "Billing", "--sla", "300", "--channels", "email")
    people = [
        ("ann", "operator", "1", ""),
        ("bob", "operator", "1,2", ""),
        ("cid", "operator", "2", ""),
        ("sue", "supervisor", "", "2"),
        ("root", "admin", "", ""),
    ]
    for name, role, queues, supervises in people:
        run_cli(
            "add-operator",
            "--db",
            url,
            "--login",
            name,
            "--name",
            name.title(),
            "--role",
            role,
            "--password",
            SMALL_PASSWORD,
            "--queues",
            queues,
            "--supervises",
            supervises,
            "--capacity",
            "2",
        )
    run_cli("set-channel", "--db", url, "--channel", "webchat", "--secret", SECRET, "--queue", "1")
    run_cli("set-channel", "--db", url, "--channel", "email", "--secret", SECRET, "--queue", "2")
    return url


@pytest.fixture
def small_server(small_world: str) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(database_url=small_world, demo=False) as srv:
        yield srv


@pytest.fixture
def small_login(small_server: EmbeddedServer) -> Iterator[Callable[..., Api]]:
    """Log in to the small world; ``online=True`` also sets the status online."""
    clients: list[Api] = []

    def make(name: str, online: bool = False) -> Api:
        api = Api(small_server.url).login(name, SMALL_PASSWORD)
        clients.append(api)
        if online:
            api.status("online")
        return api

    yield make
    for api in clients:
        api.close()
