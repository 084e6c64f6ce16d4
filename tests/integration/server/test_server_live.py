"""Demo behaviour and transport edges: simulated customers, slow clients, TLS."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trustme
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)

from operator_app.protocol import routes
from operator_app.protocol.limits import MAX_MESSAGE_CHARS
from operator_app.server import ws
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api, Json, Ws


def at_cursor(cursor: int) -> Callable[[Json], bool]:
    """Matches the event frame of one cursor."""
    return lambda frame: frame.get("cursor") == cursor


def test_the_customer_answers_the_operator_live() -> None:
    with EmbeddedServer() as srv:  # demo with reply_to_operators
        assert srv.simulator is not None
        srv.simulator.reply_delay = (0.2, 0.4)  # the real 1.5-4 s would only slow the test
        anna = Api(srv.url).login("anna")
        ws = Ws(srv.url, anna.token)
        ws.handshake()
        english = next(d for d in anna.dialogs("mine") if d["contact_name"] == "Emily Clark")
        russian = next(d for d in anna.dialogs("mine") if d["contact_name"] != "Emily Clark")
        anna.send(russian["id"], "Здравствуйте! Уже смотрю ваш заказ.")
        anna.send(russian["id"], "внутренняя пометка", kind="comment")
        anna.send(english["id"], "Hello! Let me check that for you.")
        replies: dict[int, str] = {}
        while len(replies) < 2:
            frame = ws.until(
                lambda f: (
                    f["type"] == "event"
                    and f["event"]["kind"] == "message.created"
                    and f["event"]["message"]["author"] == "client"
                ),
                timeout=5,
            )
            replies[frame["event"]["dialog"]["id"]] = frame["event"]["message"]["text"]
        assert any("а" <= ch <= "я" for ch in replies[russian["id"]].lower())
        assert not any("а" <= ch <= "я" for ch in replies[english["id"]].lower())
        time.sleep(0.6)  # the comment must not have provoked a third reply
        extra = [
            f
            for f in ws.quiet(0.2)
            if f["type"] == "event" and f["event"]["kind"] == "message.created"
        ]
        assert not extra
        ws.close()
        anna.close()


def test_live_frames_are_written_at_once_by_the_shipped_server() -> None:
    """uvicorn's websocket protocol is subclassed (ws.SendNowProtocol) to offer the hub a
    synchronous send; a uvicorn release that moves what it relies on fails here."""
    with EmbeddedServer(reply_to_operators=False) as srv:
        assert srv.backend is not None
        anna = Api(srv.url).login("anna")
        ws = Ws(srv.url, anna.token)
        ws.handshake()
        dialog_id = anna.dialogs("mine")[0]["id"]
        cursors = [anna.send(dialog_id, f"сообщение {n}")["cursor"] for n in range(5)]
        got = [ws.until(at_cursor(cursor))["cursor"] for cursor in cursors]
        assert got == cursors
        (conn,) = srv.backend.hub._targets(frozenset({anna.id}))
        assert conn.sent_at_once == len(cursors)
        ws.close()
        anna.close()


def test_a_live_event_is_compressed_once_for_all_its_connections() -> None:
    """Clients that took the server's deflate parameters (websockets' default client) share
    one compressed frame; one without compression and one that asked for a smaller window
    get frames of their own. Every one of them reads the same text."""
    with EmbeddedServer(reply_to_operators=False) as srv:
        assert srv.backend is not None and srv.backend.loop is not None
        loop = srv.backend.loop
        anna, olga = Api(srv.url).login("anna"), Api(srv.url).login("olga")
        sockets = [
            Ws(srv.url, anna.token),
            Ws(srv.url, olga.token),
            Ws(srv.url, olga.token, compression=None),
            Ws(
                srv.url,
                olga.token,
                compression=None,
                extensions=[ClientPerMessageDeflateFactory(server_max_window_bits=10)],
            ),
        ]
        for sock in sockets:
            sock.handshake()

        (small_window,) = sockets[3].conn.protocol.extensions
        assert isinstance(small_window, PerMessageDeflate)
        assert small_window.remote_max_window_bits == 10  # the server compresses for it alone

        async def compressions() -> int:
            return ws.shared_frames().compressions  # the loop thread's own

        before = asyncio.run_coroutine_threadsafe(compressions(), loop).result()
        text = "Добрый день! Проверяю ваш заказ. " * 30
        cursor = anna.send(anna.dialogs("mine")[0]["id"], text)["cursor"]
        for sock in sockets:
            assert sock.until(at_cursor(cursor))["event"]["message"]["text"] == text
        after = asyncio.run_coroutine_threadsafe(compressions(), loop).result()
        assert after - before == 1
        shared = sorted(
            conn.send_now.__self__.shared  # type: ignore[union-attr]
            for conn in srv.backend.hub._targets(frozenset({anna.id, olga.id}))
        )
        assert shared == [False, True, True, True]
        for sock in sockets:
            sock.close()
        anna.close()
        olga.close()


def test_simulated_traffic_flows_at_the_asked_rate() -> None:
    with EmbeddedServer(simulate_rate=20.0, reply_to_operators=False) as srv:
        olga = Api(srv.url).login("olga")
        ws = Ws(srv.url, olga.token)
        ws.handshake()
        start = time.monotonic()
        seen = 0
        while time.monotonic() - start < 1.5:
            frames = ws.quiet(0.2)
            seen += sum(
                1
                for f in frames
                if f["type"] == "event" and f["event"]["kind"] == "message.created"
            )
        assert 5 <= seen <= 100  # about 30 expected; loose bounds for a busy CI machine
        ws.close()
        olga.close()


@pytest.mark.slow
def test_a_client_that_stops_reading_is_dropped_without_slowing_others() -> None:
    with EmbeddedServer(send_queue_size=4, reply_to_operators=False) as srv:
        assert srv.backend is not None
        anna, olga = Api(srv.url).login("anna"), Api(srv.url).login("olga")
        slow_sock = socket.create_connection(("127.0.0.1", srv.port))
        slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow = Ws(srv.url, olga.token, sock=slow_sock, compression=None)
        slow.handshake()
        fast = Ws(srv.url, olga.token, compression=None)
        fast.handshake()
        dialog_id = anna.dialogs("mine")[0]["id"]
        rnd = random.Random(1)
        alphabet = "абвгдеёжзийклмнопрстуфхцчшщэюя "
        sent = 0
        while srv.backend.hub.connection_count() > 1 and sent < 800:
            text = "".join(rnd.choice(alphabet) for _ in range(MAX_MESSAGE_CHARS))
            cursor = anna.send(dialog_id, text)["cursor"]
            sent += 1
            got = fast.until(at_cursor(cursor), timeout=5)
            assert got["event"]["message"]["text"] == text  # the reader keeps up throughout
        # dropped from the fan-out; its close frame (4004) waits behind the unread backlog,
        # which this test does not drain (see the hub unit tests for the close code)
        assert srv.backend.hub.connection_count() == 1, "the slow client was never dropped"
        more = anna.send(dialog_id, "после отключения")["cursor"]
        assert fast.until(lambda f: f.get("cursor") == more)["event"]["message"]["text"]
        slow.close()
        fast.close()
        anna.close()
        olga.close()


def test_frames_held_back_by_a_full_socket_arrive_later_in_order() -> None:
    """A client that stops reading for a while (short of being dropped) gets every frame,
    in order, once it reads again: nothing is lost while its socket pushes back."""
    with EmbeddedServer(send_queue_size=1000, reply_to_operators=False) as srv:
        assert srv.backend is not None
        anna, olga = Api(srv.url).login("anna"), Api(srv.url).login("olga")
        # a normal socket: the kernel takes a few MB before it pushes back, then the backlog
        # reads fast (a tiny receive buffer would make reading it take minutes)
        paused = Ws(srv.url, olga.token, compression=None)
        paused.handshake()
        fast = Ws(srv.url, olga.token, compression=None)
        fast.handshake()
        dialog_id = anna.dialogs("mine")[0]["id"]
        rnd = random.Random(2)
        sent: list[int] = []
        queued = 0  # frames waiting behind a held-back write
        while queued < 3 and len(sent) < 2000:  # until the socket has pushed back a while
            text = "".join(rnd.choice("абвгдеёжз ") for _ in range(MAX_MESSAGE_CHARS))
            sent.append(anna.send(dialog_id, text)["cursor"])
            fast.until(at_cursor(sent[-1]), timeout=5)
            queued = max(c.outbox.qsize() for c in srv.backend.hub._targets(None))
        assert queued >= 3, "the socket never pushed back: the test proves nothing"
        # written at once while the socket took them, queued once it pushed back
        assert min(c.sent_at_once for c in srv.backend.hub._targets(None)) > 0
        got = [paused.until(lambda f: f.get("cursor") is not None, timeout=10) for _ in sent]
        assert [f["cursor"] for f in got] == sent  # none lost, none reordered
        assert srv.backend.hub.connection_count() == 2
        for client in (paused, fast, anna, olga):
            client.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    return ca, cert_file, key_file


def test_tls_when_given_a_certificate(certificate: tuple[trustme.CA, Path, Path]) -> None:
    ca, cert_file, key_file = certificate
    with EmbeddedServer(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context()
        ca.configure_trust(context)
        info = httpx.get(srv.url + routes.INFO, verify=context)
        assert info.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(srv.url + routes.INFO)  # an unknown CA is refused
        anna = Api(srv.url, verify=context).login("anna")
        ws = Ws(srv.url, anna.token, ssl=context)
        hello, _, _ = ws.handshake()
        assert hello["operator_id"] == anna.id
        ws.close()
        anna.close()
