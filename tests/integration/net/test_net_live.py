"""The net layer against the real EmbeddedServer on 127.0.0.1: REST, errors, TLS, live events."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from operator_app.net import (
    ApiClient,
    ApiError,
    Backoff,
    ConnectionState,
    Phase,
    RealtimeConnection,
    ServerUnreachable,
    TlsFailure,
    ws_url_for,
)
from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.events import (
    EventFrame,
    HelloFrame,
    MessageCreated,
    ResyncRequiredFrame,
    ServerFrame,
)
from operator_app.protocol.models import (
    Channel,
    DialogScope,
    InboundAccepted,
    InboundMessage,
    MessageKind,
    SendMessageRequest,
    TemplateIn,
)
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.fault_proxy import FaultProxy

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True) as running:
        yield running


async def inbound(server: EmbeddedServer, text: str, address: str = "+79990001122") -> int:
    """A customer writes on Telegram (Anna's support queue); returns the dialog id."""
    body = InboundMessage(address=address, name="Пётр", text=text, external_id=str(uuid.uuid4()))
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            routes.INBOUND.format(channel=Channel.TELEGRAM.value),
            content=body.model_dump_json(),
            headers={
                "X-Channel-Secret": server.channel_secrets[Channel.TELEGRAM],
                "Content-Type": "application/json",
            },
        )
    response.raise_for_status()
    return InboundAccepted.model_validate_json(response.content).dialog_id


class Live:
    """A RealtimeConnection running in a task, recording frames and states."""

    def __init__(self, ws_url: str, token: str, **kwargs: Any) -> None:
        self.frames: list[ServerFrame] = []
        self.states: list[ConnectionState] = []
        self.cursor: int | None = None
        self.since_asked: list[int | None] = []
        self.conn = RealtimeConnection(
            ws_url,
            token=lambda: token,
            since_cursor=self._since,
            on_frame=self._on_frame,
            on_state=self.states.append,
            **kwargs,
        )
        self.task = asyncio.create_task(self.conn.run())

    def _since(self) -> int | None:
        self.since_asked.append(self.cursor)
        return self.cursor

    async def _on_frame(self, frame: ServerFrame) -> None:
        self.frames.append(frame)
        if isinstance(frame, EventFrame):
            self.cursor = frame.cursor
        elif isinstance(frame, HelloFrame) and self.cursor is None:
            self.cursor = frame.head_cursor

    def cursors(self, after: int = 0) -> list[int]:
        return [f.cursor for f in self.frames if isinstance(f, EventFrame) and f.cursor > after]

    def first_head(self) -> int:
        return next(f.head_cursor for f in self.frames if isinstance(f, HelloFrame))

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; states: {self.states[-5:]}"
            await asyncio.sleep(0.02)

    async def online(self) -> None:
        await self.wait_for(lambda: self.conn.state.phase is Phase.ONLINE)

    async def close(self) -> None:
        await self.conn.stop()
        await asyncio.wait_for(self.task, 5)


async def login(base_url: str, name: str = "anna", **kwargs: Any) -> ApiClient:
    api = ApiClient(base_url, **kwargs)
    await api.login(name, "demo")
    return api


@pytest.mark.asyncio
async def test_rest_round_trip_decodes_every_answer(server: EmbeddedServer) -> None:
    api = ApiClient(server.url)
    info = await api.info()
    answer = await api.login("boris", "demo")
    me = answer.operator
    assert info.protocol_version == PROTOCOL_VERSION and me.login == "boris"
    assert (await api.me()).id == me.id
    assert await api.operators() and await api.queues()

    mine = await api.dialogs(DialogScope.MINE, limit=500)
    dialog_id = next(d.id for d in mine.items if d.assignee_id == me.id)
    request = SendMessageRequest(client_msg_id=uuid.uuid4().hex, text="Добрый день")
    first = await api.send_message(dialog_id, request)
    again = await api.send_message(dialog_id, request)  # a retry after a lost answer
    assert again.message.id == first.message.id and again.cursor == first.cursor
    history = await api.messages(dialog_id, limit=10)
    assert history.items[-1].text == "Добрый день"
    comment = SendMessageRequest(
        client_msg_id=uuid.uuid4().hex, text="note", kind=MessageKind.COMMENT
    )
    assert (await api.send_message(dialog_id, comment)).message.kind is MessageKind.COMMENT
    await api.typing(dialog_id, True)
    card = await api.contact(mine.items[0].contact_id)
    assert card.contact.id == mine.items[0].contact_id

    fresh = await api.dialog(await inbound(server, "Здравствуйте! <b>не HTML</b>", "+7999000999"))
    try:  # the demo world may have filled Boris up: either answer must decode
        taken = await api.take(fresh.id)
    except ApiError as exc:
        assert exc.code is ErrorCode.OPERATOR_AT_CAPACITY and exc.status == 409
    else:
        assert taken.assignee_id == me.id

    template = await api.create_template(
        TemplateIn(shortcut=f"hi{uuid.uuid4().hex[:6]}", title="Hi", body="Hi {client_name}")
    )
    assert template.id in [t.id for t in await api.templates()]
    await api.delete_template(template.id)
    with pytest.raises(ApiError) as caught:
        await api.dialog(10_000_000)
    assert caught.value.code is ErrorCode.NOT_FOUND and caught.value.permanent
    await api.logout()
    await api.aclose()


@pytest.mark.asyncio
async def test_wrong_password_is_invalid_credentials(server: EmbeddedServer) -> None:
    api = ApiClient(server.url)
    with pytest.raises(ApiError) as caught:
        await api.login("anna", "wrong")
    await api.aclose()
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS and caught.value.permanent


@pytest.mark.asyncio
async def test_a_revoked_token_is_unauthorized_but_retryable(server: EmbeddedServer) -> None:
    api = await login(server.url)
    token = api.token
    await api.logout()
    api.token = token
    with pytest.raises(ApiError) as caught:
        await api.me()
    await api.aclose()
    assert caught.value.code is ErrorCode.UNAUTHORIZED and not caught.value.permanent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_a_dead_server_is_unreachable() -> None:
    api = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=3)
    with pytest.raises(ServerUnreachable, match="connection refused"):
        await api.login("anna", "demo")
    await api.aclose()


@pytest.mark.asyncio
async def test_a_stalled_server_times_out_as_unreachable(server: EmbeddedServer) -> None:
    proxy = FaultProxy("127.0.0.1", server.port)
    await proxy.start()
    proxy.stall(None)
    api = ApiClient(f"http://127.0.0.1:{proxy.port}", timeout=0.3)
    with pytest.raises(ServerUnreachable, match="timed out"):
        await api.info()
    await api.aclose()
    await proxy.stop()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedServer, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_pem.write_to_path(str(key_path))
    cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    with EmbeddedServer(demo=True, ssl_certfile=str(cert_path), ssl_keyfile=str(key_path)) as s:
        yield s, ca_path


@pytest.mark.asyncio
async def test_tls_verified_with_the_ca_and_refused_without(
    tls_server: tuple[EmbeddedServer, Path],
) -> None:
    server, ca_path = tls_server
    assert server.url.startswith("https://")
    trusted = ApiClient(server.url, verify=str(ca_path), require_tls=True)
    assert (await trusted.info()).protocol_version == PROTOCOL_VERSION
    await trusted.login("anna", "demo")
    await trusted.aclose()

    untrusted = ApiClient(server.url)  # system CAs only
    with pytest.raises(TlsFailure, match="not trusted"):
        await untrusted.info()
    await untrusted.aclose()

    plain = ApiClient(server.url.replace("https://", "http://"), timeout=3)
    with pytest.raises((ServerUnreachable, ApiError)):
        await plain.info()  # plain HTTP to a TLS port never succeeds
    await plain.aclose()


@pytest.mark.asyncio
async def test_wss_verified_with_the_ca_and_offline_without(
    tls_server: tuple[EmbeddedServer, Path],
) -> None:
    server, ca_path = tls_server
    api = await login(server.url, verify=str(ca_path))
    assert api.token is not None and api.ssl_context is not None
    ws_url = ws_url_for(server.url)
    assert ws_url.startswith("wss://")
    good = Live(ws_url, api.token, ssl=api.ssl_context, require_tls=True)
    await good.online()
    await good.close()

    bad = Live(ws_url, api.token)  # default context: the test CA is unknown
    await bad.wait_for(lambda: bad.conn.state.phase is Phase.OFFLINE and bool(bad.states))
    assert isinstance(bad.conn.state.error, TlsFailure)
    assert "not trusted" in bad.conn.state.reason
    await bad.close()
    with pytest.raises(TlsFailure):
        Live(ws_url.replace("wss://", "ws://"), api.token, require_tls=True)
    await api.aclose()


@pytest.mark.asyncio
async def test_resume_after_a_cut_replays_exactly_the_missed_events(
    server: EmbeddedServer,
) -> None:
    api = await login(server.url)
    assert api.token is not None
    proxy = FaultProxy("127.0.0.1", server.port)
    await proxy.start()
    reference = Live(ws_url_for(server.url), api.token)  # direct: sees everything live
    proxied = Live(ws_url_for(f"http://127.0.0.1:{proxy.port}"), api.token)
    await reference.online()
    await proxied.online()

    await inbound(server, "before the cut")
    await proxied.wait_for(lambda: len(proxied.cursors()) >= 1)
    await asyncio.sleep(0.1)
    applied_before = proxied.cursor

    await proxy.refuse(True)
    proxy.cut()
    await proxied.wait_for(lambda: proxied.conn.state.phase is Phase.RECONNECTING)
    for n in range(3):
        await inbound(server, f"while away {n}")
    await reference.wait_for(lambda: len(reference.cursors()) >= len(proxied.cursors()) + 3)
    await asyncio.sleep(0.2)  # let the reference settle on every event of those messages
    missed = [c for c in reference.cursors() if c > (applied_before or 0)]

    await proxy.refuse(False)
    proxied.conn.retry_now()
    await proxied.wait_for(lambda: proxied.cursors()[-len(missed) :] == missed)

    assert proxied.since_asked[-1] == applied_before  # resumed from the last applied cursor
    start = proxied.first_head()
    assert proxied.cursors() == reference.cursors(after=start)  # no gap, no dup, same order
    replayed = [f.event for f in proxied.frames if isinstance(f, EventFrame)][-len(missed) :]
    texts = [e.message.text for e in replayed if isinstance(e, MessageCreated)]
    assert [t for t in texts if t.startswith("while")] == [f"while away {n}" for n in range(3)]
    await proxied.close()
    await reference.close()
    await proxy.stop()
    await api.aclose()


@pytest.mark.asyncio
async def test_logout_closes_the_socket_as_revoked(server: EmbeddedServer) -> None:
    api = await login(server.url)
    assert api.token is not None
    live = Live(ws_url_for(server.url), api.token)
    await live.online()
    await api.logout()
    await live.wait_for(lambda: live.conn.state.phase is Phase.OFFLINE)
    assert live.conn.state.reason.startswith("token revoked")
    assert isinstance(live.conn.state.error, ApiError)
    await live.close()
    await api.aclose()


@pytest.mark.asyncio
async def test_server_restart_shows_reconnecting_then_online(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'server.db'}"
    first = EmbeddedServer(demo=True, database_url=database)
    url = await asyncio.to_thread(first.start)
    api = await login(url)
    assert api.token is not None
    live = Live(ws_url_for(url), api.token)
    await live.online()

    await asyncio.to_thread(first.stop)
    await live.wait_for(lambda: live.conn.state.phase is Phase.RECONNECTING)
    waiting = live.conn.state
    retry_in = waiting.retry_in()
    assert retry_in is not None and 0.0 <= retry_in <= 30.0 and waiting.reason

    second = EmbeddedServer(demo=True, database_url=database, port=first.port)
    await asyncio.to_thread(second.start)
    await live.online()
    phases = [s.phase for s in live.states]
    assert phases[:2] == [Phase.CONNECTING, Phase.ONLINE] and phases[-1] is Phase.ONLINE
    assert Phase.RECONNECTING in phases[2:]
    await live.close()
    await api.aclose()
    await asyncio.to_thread(second.stop)


def test_ssl_context_only_for_https(server: EmbeddedServer) -> None:
    assert ApiClient(server.url).ssl_context is None
    context = ApiClient("https://desk.example", verify=False).ssl_context
    assert isinstance(context, ssl.SSLContext) and context.verify_mode is ssl.CERT_NONE


@pytest.mark.asyncio
async def test_a_stalled_link_is_caught_by_the_heartbeat(server: EmbeddedServer) -> None:
    api = await login(server.url)
    assert api.token is not None
    proxy = FaultProxy("127.0.0.1", server.port)
    await proxy.start()
    url = ws_url_for(f"http://127.0.0.1:{proxy.port}")
    live = Live(url, api.token, heartbeat_seconds=0.3, open_timeout=1.0)
    await live.online()
    proxy.stall(None)  # the socket stays open, nothing gets through: a dead NAT, a sleeping VPN
    await live.wait_for(lambda: live.conn.state.phase is not Phase.ONLINE, timeout=5)
    lost = next(s for s in live.states if s.phase is Phase.RECONNECTING)
    assert lost.reason == "no heartbeat from the server"
    proxy.pass_through()
    live.conn.retry_now()
    await live.online()
    await live.close()
    await proxy.stop()
    await api.aclose()


@pytest.mark.asyncio
@pytest.mark.slow
async def test_random_faults_never_lose_reorder_or_repeat_events(server: EmbeddedServer) -> None:
    api = await login(server.url)
    assert api.token is not None
    proxy = FaultProxy("127.0.0.1", server.port)
    await proxy.start()
    reference = Live(ws_url_for(server.url), api.token)
    chaotic = Live(
        ws_url_for(f"http://127.0.0.1:{proxy.port}"),
        api.token,
        heartbeat_seconds=0.5,
        open_timeout=1.0,
        backoff=Backoff(base=0.05, cap=0.3),
    )
    await reference.online()
    await chaotic.online()
    proxy.random_faults(seed=20261123, rate=0.15, max_stall=0.3, max_delay=0.05)
    for n in range(12):
        await inbound(server, f"chaos {n}", address=f"+7999123{n % 4:04}")
        await asyncio.sleep(0.05)
    proxy.pass_through()
    chaotic.conn.retry_now()
    start = chaotic.first_head()
    await reference.wait_for(lambda: len(reference.cursors(after=start)) >= 12)
    await asyncio.sleep(0.2)
    expected = reference.cursors(after=start)
    await chaotic.wait_for(lambda: chaotic.cursors() == expected, timeout=20)

    assert sum(proxy.faults.values()) > 0, "the proxy injected nothing: the test proves nothing"
    assert chaotic.cursors() == expected
    await chaotic.close()
    await reference.close()
    await proxy.stop()
    await api.aclose()


@pytest.mark.asyncio
async def test_https_to_a_plain_http_server_says_so(server: EmbeddedServer) -> None:
    api = ApiClient(server.url.replace("http://", "https://"))
    with pytest.raises(TlsFailure, match="does the server speak plain HTTP"):
        await api.info()
    await api.aclose()


@pytest.mark.asyncio
async def test_a_certificate_for_another_host_is_a_tls_failure(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("desk.example")  # not 127.0.0.1
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "k.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_pem.write_to_path(str(key_path))
    cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    server = EmbeddedServer(demo=False, ssl_certfile=str(cert_path), ssl_keyfile=str(key_path))
    url = await asyncio.to_thread(server.start)
    api = ApiClient(url, verify=str(ca_path))
    with pytest.raises(TlsFailure, match="not trusted: IP address mismatch"):
        await api.info()
    await api.aclose()
    await asyncio.to_thread(server.stop)


@pytest.mark.asyncio
async def test_a_cursor_the_server_never_issued_asks_for_a_resync(server: EmbeddedServer) -> None:
    api = await login(server.url)
    assert api.token is not None
    live = Live(ws_url_for(server.url), api.token)
    live.cursor = 10**12  # e.g. a cache restored against a freshly reset server
    await live.online()
    await live.wait_for(lambda: any(isinstance(f, ResyncRequiredFrame) for f in live.frames))
    assert live.since_asked == [10**12]
    await live.close()
    await api.aclose()


async def served_paths(base_url: str) -> set[str]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/openapi.json")
    return set(response.json().get("paths", {})) if response.status_code == 200 else set()


@pytest.mark.asyncio
async def test_upload_then_download_round_trip(server: EmbeddedServer, tmp_path: Path) -> None:
    if routes.ATTACHMENTS not in await served_paths(server.url):
        pytest.skip("the server does not serve POST routes.ATTACHMENTS yet (server/app.py)")
    api = await login(server.url, "boris")
    original = tmp_path / "счёт №5.pdf"
    original.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 400)
    uploaded = await api.upload(original)
    assert uploaded.name == original.name and uploaded.size == original.stat().st_size
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    saved = await api.download(uploaded, downloads)
    assert saved.parent == downloads and saved.read_bytes() == original.read_bytes()
    await api.aclose()
