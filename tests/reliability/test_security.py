"""Security edges the other suites do not reach: token expiry (REST, a new socket and a live
socket), the login rate limit across logins, secrets never written to the cache, and the audit
log recording every operator action with actor and time.

Already covered elsewhere, not repeated here: the role x action x object matrix
(tests/integration/server/test_server_authz.py), revocation by logout and by disabling
(test_server_websocket.py, net/test_net_live.py), TLS with a trustme CA for https and wss
(test_server_live.py, net/test_net_live.py), a TLS profile refusing plain ws
(unit/net/test_net_realtime.py).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from operator_app.core.rows import Section
from operator_app.core.service import DeskService
from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.errors import WS_CLOSE_UNAUTHORIZED
from operator_app.protocol.models import OperatorStatus
from operator_app.server import cli
from operator_app.server.db import sqlite_url
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.keyring_backend import MemoryKeyring
from tests.helpers.reliability_world import FIGURES, close_desk, desk, eventually

Json = dict[str, object]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    url = sqlite_url(str(tmp_path / "server.db"))
    with EmbeddedServer(database_url=url, reply_to_operators=False) as srv:
        yield srv


def login(url: str, name: str, password: str = "demo") -> httpx.Response:
    body = {"login": name, "password": password, "protocol_version": PROTOCOL_VERSION}
    return httpx.post(url + routes.LOGIN, json=body, timeout=10)


def token_of(url: str, name: str, password: str = "demo") -> str:
    answer = login(url, name, password)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ws_close_code(url: str, token: str, timeout: float) -> int | None:
    """Open a socket with ``token`` and wait for the server to close it."""
    with connect(url.replace("http", "ws", 1) + routes.WS, max_size=None) as ws:
        ws.send(json.dumps({"type": "auth", "token": token, "protocol_version": PROTOCOL_VERSION}))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ws.recv(timeout=deadline - time.monotonic())
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            return None
    return None


def test_an_expired_token_is_refused_everywhere_and_ends_a_live_socket(
    server: EmbeddedServer,
) -> None:
    assert server.backend is not None
    server.backend.token_ttl = timedelta(seconds=2)
    token = token_of(server.url, "anna")
    assert httpx.get(server.url + routes.ME, headers=bearer(token)).status_code == 200
    # a socket opened now is closed by the server when the token runs out
    assert ws_close_code(server.url, token, timeout=6) == WS_CLOSE_UNAUTHORIZED
    expired = httpx.get(server.url + routes.ME, headers=bearer(token))
    assert expired.status_code == 401 and expired.json()["code"] == "unauthorized"
    assert ws_close_code(server.url, token, timeout=3) == WS_CLOSE_UNAUTHORIZED
    FIGURES.add("security: token expiry", bad_inputs_tried=3)


def test_the_login_limit_stops_guessing_without_locking_out_others(
    server: EmbeddedServer,
) -> None:
    assert server.backend is not None
    limiter = server.backend.rate_limiter
    tried = 0
    for _ in range(limiter.per_login):
        assert login(server.url, "boris", "guess").status_code == 401
        tried += 1
    assert login(server.url, "boris", "guess").status_code == 429
    assert login(server.url, "anna").status_code == 200, "one limited login locked out another"
    # one address guessing across many logins is stopped as a whole
    for n in range(limiter.per_address):
        if login(server.url, f"nobody{n}", "guess").status_code == 429:
            break
        tried += 1
    refused = login(server.url, "elena", "guess")
    assert refused.status_code == 429 and refused.json()["details"]["retry_after"] > 0
    FIGURES.add("security: login rate limit", bad_inputs_tried=tried + 2)


@pytest.mark.asyncio
async def test_the_cache_never_holds_the_password_or_the_token(
    server: EmbeddedServer, tmp_path: Path, hermetic_dirs: Path, test_keyring: MemoryKeyring
) -> None:
    password = f"Pw-{uuid.uuid4().hex}"
    database = server.database_url or ""
    assert cli.main(["add-operator", "--db", database, "--login", "zed", "--name", "Zed",
                     "--password", password, "--queues", "1,2,3"]) == 0  # fmt: skip
    cache_path = hermetic_dirs / "data" / "zed.sqlite3"
    service = await desk(server.url, "zed", cache_path, password=password)
    try:
        await eventually(lambda: service.cache.get_meta("snapshot_owed") is None, 20, "synced")
        service.send(await first_dialog_of(service), "a message written to the cache")
        await eventually(lambda: service.cache.outbox_size() == 0, 20, "sent")
        token = service.api.token
        assert token and token in test_keyring.secrets.values(), "the token is in the keyring"
    finally:
        await close_desk(service)
    files = [p for p in (tmp_path.rglob("*")) if p.is_file()]
    assert any(p.name.startswith("zed.sqlite3") for p in files)
    for path in files:
        if path.name == "server.db" or path.name.startswith("server.db"):
            continue  # the server keeps only hashes; not the client's business here
        data = path.read_bytes()
        for secret in (password, token):
            assert secret.encode() not in data, f"{secret[:6]}... found in {path}"
            assert secret.encode("utf-16-le") not in data, f"{secret[:6]}... in {path}"


async def first_dialog_of(service: DeskService) -> int:
    """Go online; a supervisor hands us a new customer's dialog."""
    await service.set_status(OperatorStatus.ONLINE)
    body = {"address": "web-secret-test", "text": "hello", "external_id": uuid.uuid4().hex}
    async with httpx.AsyncClient(base_url=service.api.base_url) as http:
        answer = await http.post(
            routes.INBOUND.format(channel="webchat"),
            json=body,
            headers={"X-Channel-Secret": "demo-webchat-secret"},
        )
    dialog_id = int(answer.json()["dialog_id"])
    olga = token_of(service.api.base_url, "olga")
    me = service.me
    assert me is not None
    moved = httpx.post(
        service.api.base_url + routes.TRANSFER.format(dialog_id=dialog_id),
        json={"to_operator_id": me.id},
        headers=bearer(olga),
    )
    assert moved.status_code in (200, 409), moved.text  # 409: routing gave it to us already
    await eventually(
        lambda: any(r.dialog.id == dialog_id for r in service.dialogs(Section.MINE)), 20, "routed"
    )
    return dialog_id


ACTIONS = {
    "login",
    "set_status",
    "send_message",
    "send_comment",
    "set_tags",
    "transfer",
    "close",
    "take",
    "template_create",
    "template_delete",
    "whisper",
    "set_capacity",
    "logout",
}


def test_the_audit_log_records_every_operator_action_with_actor_and_time(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    anna, olga = token_of(server.url, "anna"), token_of(server.url, "olga")
    me = httpx.get(server.url + routes.ME, headers=bearer(anna)).json()
    http = httpx.Client(base_url=server.url, timeout=10)

    def ok(token: str, method: str, path: str, body: Json | None = None) -> Json:
        answer = http.request(method, path, headers=bearer(token), json=body)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else {}

    dialogs = http.get(routes.DIALOGS, params={"scope": "mine"}, headers=bearer(anna)).json()
    first, second = dialogs["items"][0]["id"], dialogs["items"][1]["id"]
    ok(anna, "PUT", routes.MY_STATUS, {"status": "online"})
    ok(anna, "POST", routes.MESSAGES.format(dialog_id=first),
       {"client_msg_id": uuid.uuid4().hex, "text": "audited"})  # fmt: skip
    ok(anna, "POST", routes.MESSAGES.format(dialog_id=first),
       {"client_msg_id": uuid.uuid4().hex, "text": "note", "kind": "comment"})  # fmt: skip
    ok(anna, "PUT", routes.TAGS.format(dialog_id=first), {"tags": ["audit"]})
    ok(olga, "POST", routes.WHISPER.format(dialog_id=first), {"text": "psst"})
    ok(anna, "POST", routes.TRANSFER.format(dialog_id=second), {"to_queue_id": 2})
    ok(olga, "PUT", routes.OPERATOR_CAPACITY.format(operator_id=me["id"]), {"capacity": 9})
    ok(olga, "POST", routes.TAKE.format(dialog_id=second))  # a supervisor takes over
    ok(anna, "POST", routes.CLOSE.format(dialog_id=first), {"resolution": "done"})
    template = ok(anna, "POST", routes.TEMPLATES,
                  {"shortcut": "aud", "title": "Audit", "body": "hello"})  # fmt: skip
    http.delete(routes.TEMPLATE.format(template_id=template["id"]), headers=bearer(anna))
    ok(anna, "POST", routes.LOGOUT)
    http.close()
    ended = datetime.now(UTC) + timedelta(seconds=1)

    assert server.database_url is not None
    conn = sqlite3.connect(server.database_url.removeprefix("sqlite:///"))
    rows = conn.execute(
        "SELECT operator_id, action, object_type, object_id, created_at FROM audit_log"
    ).fetchall()
    conn.close()
    recent = [r for r in rows if started <= _utc(r[4]) <= ended]
    seen = {action for _, action, *_ in recent}
    missing = ACTIONS - seen
    assert not missing, f"actions without an audit record: {sorted(missing)}; seen {sorted(seen)}"
    assert all(operator_id is not None for operator_id, *_ in recent), "an action without actor"
    by_action = {action: operator_id for operator_id, action, *_ in recent}
    assert by_action["send_message"] == me["id"]
    assert by_action["whisper"] == by_action["take"] != me["id"]  # olga's, not anna's
    FIGURES.add("security: audit log", rounds=len(ACTIONS))


def _utc(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
