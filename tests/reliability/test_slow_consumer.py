"""A client that stops reading its websocket is disconnected once its bounded send queue fills,
and the other clients see no added latency while it happens.

tests/integration/server/test_server_live.py proves the drop itself; this measures the
bystander's delivery latency (send acknowledged -> event received) with and without the
stuck reader, on the same server and the same traffic.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
import uuid
from collections.abc import Callable

import httpx
from websockets.sync.client import ClientConnection, connect

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.limits import MAX_MESSAGE_CHARS
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.reliability_world import FIGURES, sized

PER_PHASE = sized(30, 200)
Until = Callable[[], bool] | None
QUEUE = 8


def login(url: str, name: str) -> str:
    body = {"login": name, "password": "demo", "protocol_version": PROTOCOL_VERSION}
    return str(httpx.post(url + routes.LOGIN, json=body, timeout=10).json()["token"])


def session(url: str, token: str, sock: socket.socket | None = None) -> ClientConnection:
    conn = connect(
        url.replace("http", "ws", 1) + routes.WS,
        max_size=None,
        compression=None,
        sock=sock,
        legacy=True,
    )
    conn.send(json.dumps({"type": "auth", "token": token, "protocol_version": PROTOCOL_VERSION}))
    while json.loads(conn.recv(timeout=5))["type"] != "replay_done":
        pass
    return conn


def latencies(
    http: httpx.Client, reader: ClientConnection, dialog_id: int, n: int, until: Until = None
) -> list[float]:
    """Seconds from each send until the reader holds its event; ``n`` sends, or more until
    ``until()`` holds (at most 1,000)."""
    found: list[float] = []
    text = "ж" * MAX_MESSAGE_CHARS  # big frames fill a stuck reader's buffers fast
    while len(found) < n or (until is not None and not until() and len(found) < 1000):
        body = {"client_msg_id": uuid.uuid4().hex, "text": text}
        sent = time.monotonic()
        answer = http.post(routes.MESSAGES.format(dialog_id=dialog_id), json=body)
        assert answer.status_code == 200, answer.text
        cursor = answer.json()["cursor"]
        while json.loads(reader.recv(timeout=5)).get("cursor") != cursor:
            pass
        found.append(time.monotonic() - sent)
    return found


def test_a_stuck_reader_is_dropped_and_adds_no_latency_to_others() -> None:
    with EmbeddedServer(send_queue_size=QUEUE, reply_to_operators=False) as server:
        assert server.backend is not None
        hub = server.backend.hub
        anna, olga = login(server.url, "anna"), login(server.url, "olga")
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {anna}"})
        dialog_id = http.get(routes.DIALOGS, params={"scope": "mine"}).json()["items"][0]["id"]
        fast = session(server.url, olga)
        before = latencies(http, fast, dialog_id, PER_PHASE)

        stuck_sock = socket.create_connection(("127.0.0.1", server.port))
        stuck_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck = session(server.url, olga, stuck_sock)  # from here on it never reads again
        assert hub.connection_count() == 2
        during = latencies(
            http, fast, dialog_id, PER_PHASE, until=lambda: hub.connection_count() == 1
        )
        dropped = hub.connection_count() == 1
        stuck.close_socket()
        fast.close()
        http.close()

    slower = statistics.median(during) - statistics.median(before)
    FIGURES.add(
        "slow consumer", rounds=2, faults_injected=1, messages_sent=len(before) + len(during)
    )
    FIGURES.note(
        f"slow consumer: bystander median latency {statistics.median(before) * 1000:.1f} ms "
        f"alone, {statistics.median(during) * 1000:.1f} ms beside a stuck reader (queue {QUEUE},"
        f" dropped after {len(during)} messages)"
    )
    assert dropped, "the stuck reader was never disconnected"
    assert slower < 0.05 + statistics.median(before), f"the bystander slowed by {slower:.3f}s"
