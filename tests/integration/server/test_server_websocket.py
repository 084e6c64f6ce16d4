"""The websocket over real loopback: auth, hello, replay by audience, resync, live events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol import events as ev
from operator_app.protocol.errors import (
    WS_CLOSE_BAD_FRAME,
    WS_CLOSE_INCOMPATIBLE,
    WS_CLOSE_REVOKED,
    WS_CLOSE_TOO_LARGE,
    WS_CLOSE_UNAUTHORIZED,
)
from operator_app.protocol.limits import MAX_WS_FRAME_BYTES
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api, Ws, customer_says, event_kinds

Login = Callable[..., Api]
Socket = Callable[..., Ws]


def test_hello_then_replay_done_at_the_head(login: Login, websocket: Socket) -> None:
    anna = login("anna")
    hello, replayed, done = websocket(anna).handshake()
    ev.decode_server_frame(json.dumps(hello))
    assert hello["operator_id"] == anna.id
    assert hello["protocol_version"] == PROTOCOL_VERSION
    assert replayed == []
    assert done == {"type": "replay_done", "cursor": hello["head_cursor"]}


@pytest.mark.parametrize("path", [routes.WS + "/more", routes.WS[:-1], "/ws"])
def test_a_websocket_at_another_path_is_refused(server: EmbeddedServer, path: str) -> None:
    """Only the staff websocket's own path takes the lean route (app.LeanRoutes); any other
    goes to the framework, which has no websocket route and refuses it."""
    with pytest.raises(InvalidStatus) as refused:
        connect(server.url.replace("http", "ws", 1) + path, open_timeout=5)
    assert refused.value.response.status_code == 403


def test_live_message_reaches_only_its_audience(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna, elena, olga = login("anna"), login("elena"), login("olga")
    sockets = {
        name: websocket(api) for name, api in (("anna", anna), ("elena", elena), ("olga", olga))
    }
    for ws in sockets.values():
        ws.handshake()
    dialog = anna.dialogs("mine")[0]  # a support or sales dialog of anna's
    sent = anna.send(dialog["id"], "Минуту, уточняю.")
    frame = sockets["anna"].until(lambda f: f["type"] == "event")
    assert frame["cursor"] == sent["cursor"]
    assert frame["event"]["kind"] == "message.created"
    assert frame["event"]["message"]["text"] == "Минуту, уточняю."
    assert frame["event"]["dialog"]["id"] == dialog["id"]
    ev.decode_server_frame(json.dumps(frame))
    assert sockets["olga"].until(lambda f: f["type"] == "event")["cursor"] == sent["cursor"]
    assert sockets["elena"].quiet() == []  # not hers, not waiting: she may not see it


def test_replay_returns_exactly_the_missed_visible_events(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna, boris = login("anna"), login("boris")
    _hello, _, done = websocket(anna).handshake()
    start = done["cursor"]
    annas = anna.dialogs("mine")
    boris_dialog = boris.dialogs("mine")[0]
    cursors = [anna.send(annas[0]["id"], "раз")["cursor"]]
    boris.send(boris_dialog["id"], "чужое")  # not in anna's audience
    cursors.append(anna.send(annas[1]["id"], "два")["cursor"])
    _hello, replayed, done = websocket(anna, since=start).handshake()
    texts = [
        f["event"]["message"]["text"] for f in replayed if f["event"]["kind"] == "message.created"
    ]
    assert texts == ["раз", "два"]
    got = [f["cursor"] for f in replayed]
    assert got == sorted(got) and set(cursors) <= set(got)
    assert done["type"] == "replay_done" and done["cursor"] >= max(got)
    # replaying from the middle gives only what came after
    _h, later, _d = websocket(anna, since=cursors[0]).handshake()
    assert [f["cursor"] for f in later] == [c for c in got if c > cursors[0]]


def test_events_during_replay_are_neither_lost_nor_doubled(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna = login("anna")
    dialog_id = anna.dialogs("mine")[0]["id"]
    sent = [anna.send(dialog_id, f"до {i}")["cursor"] for i in range(30)]
    ws = websocket(anna, since=0)
    more = [anna.send(dialog_id, f"во время {i}")["cursor"] for i in range(10)]
    received: list[int] = []
    while len(received) < len(sent) + len(more):
        frame = ws.recv()
        if frame["type"] == "event":
            received.append(frame["cursor"])
    assert received == sorted(received)
    assert len(received) == len(set(received))
    assert set(sent + more) <= set(received)


def test_resync_required_when_the_cursor_is_beyond_retention(login: Login) -> None:
    with EmbeddedServer(event_retention=5, reply_to_operators=False) as srv:
        anna = Api(srv.url).login("anna")
        dialog_id = anna.dialogs("mine")[0]["id"]
        for i in range(12):
            last = anna.send(dialog_id, f"сообщение {i}")["cursor"]
        ws = Ws(srv.url, anna.token, since=1)
        hello, replayed, frame = ws.handshake()
        assert replayed == []
        assert frame["type"] == "resync_required"
        assert frame["head_cursor"] == hello["head_cursor"] >= last
        ws.close()
        ws = Ws(srv.url, anna.token, since=last - 2)  # still held: a normal replay
        _h, replayed, frame = ws.handshake()
        assert frame["type"] == "replay_done"
        assert replayed[-1]["cursor"] >= last
        ws.close()
        anna.close()


def test_a_cursor_from_the_future_also_needs_a_resync(login: Login, websocket: Socket) -> None:
    anna = login("anna")
    _h, _r, frame = websocket(anna, since=10**9).handshake()
    assert frame["type"] == "resync_required"


def test_first_frame_must_be_a_valid_auth(login: Login, websocket: Socket) -> None:
    anna = login("anna")
    ws = websocket(None)
    ws.send({"type": "ping"})
    assert ws.recv()["code"] == "bad_request"
    assert ws.close_code() == WS_CLOSE_BAD_FRAME
    ws = websocket(None)
    ws.conn.send("not json at all")
    assert ws.recv()["type"] == "error"
    assert ws.close_code() == WS_CLOSE_BAD_FRAME
    ws = websocket(None)
    ws.send({"type": "auth", "token": anna.token, "protocol_version": PROTOCOL_VERSION + 5})
    error = ws.recv()
    assert error["code"] == "incompatible_protocol" and str(PROTOCOL_VERSION) in error["message"]
    assert ws.close_code() == WS_CLOSE_INCOMPATIBLE
    anna.token = "wrong-token"
    ws = websocket(anna)
    assert ws.recv()["code"] == "unauthorized"
    assert ws.close_code() == WS_CLOSE_UNAUTHORIZED


def test_bad_frames_after_auth_get_errors_and_the_session_survives(
    login: Login, websocket: Socket
) -> None:
    anna = login("anna")
    ws = websocket(anna)
    ws.handshake()
    ws.conn.send("{{{")
    assert ws.recv() == {"type": "error", "code": "bad_request", "message": "undecodable frame"}
    ws.send({"type": "typing", "dialog_id": "x"})
    assert ws.recv()["code"] == "bad_request"
    ws.send({"type": "auth", "token": anna.token, "protocol_version": PROTOCOL_VERSION})
    assert ws.recv()["code"] == "bad_request"
    ws.send({"type": "ping", "nonce": "n1"})
    assert ws.recv() == {"type": "pong", "nonce": "n1"}


def test_oversized_frame_closes_with_1009(login: Login, websocket: Socket) -> None:
    anna = login("anna")
    ws = websocket(anna)
    ws.handshake()
    ws.conn.send("x" * (MAX_WS_FRAME_BYTES + 1))
    assert ws.close_code() == WS_CLOSE_TOO_LARGE


def test_logout_closes_the_websocket_within_a_second(login: Login, websocket: Socket) -> None:
    anna = login("anna")
    ws = websocket(anna)
    ws.handshake()
    started = time.monotonic()
    anna.ok("POST", routes.LOGOUT)
    assert ws.close_code(timeout=1.0) == WS_CLOSE_REVOKED
    assert time.monotonic() - started < 1.0


def test_disabling_an_operator_revokes_and_requeues(login: Login, websocket: Socket) -> None:
    admin, anna, olga = login("admin", "admin"), login("anna"), login("olga")
    ws = websocket(anna)
    ws.handshake()
    watcher = websocket(olga)
    watcher.handshake()
    annas = {d["id"] for d in anna.dialogs("mine")}
    result = admin.ok(
        "PUT", routes.OPERATOR_ENABLED.format(operator_id=anna.id), json={"enabled": False}
    )
    assert result["enabled"] is False and result["status"] == "offline"
    assert ws.close_code(timeout=1.0) == WS_CLOSE_REVOKED
    anna.refused("GET", routes.ME, 401, "unauthorized")
    for dialog_id in annas:
        assert olga.dialog(dialog_id)["assignee_id"] != anna.id
    stranger = Api(admin.base_url)
    stranger.refused(
        "POST",
        routes.LOGIN,
        401,
        "invalid_credentials",
        json={"login": "anna", "password": "x", "protocol_version": PROTOCOL_VERSION},
    )
    stranger.close()


def test_typing_is_ephemeral_both_ways(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna, olga = login("anna"), login("olga")
    anna_ws, olga_ws = websocket(anna), websocket(olga)
    anna_ws.handshake()
    olga_ws.handshake()
    dialog = anna.dialogs("mine")[0]
    anna_ws.send({"type": "typing", "dialog_id": dialog["id"], "on": True})
    seen = olga_ws.until(lambda f: f["type"] == "ephemeral")
    assert seen["event"] == {
        "kind": "typing",
        "dialog_id": dialog["id"],
        "who": "operator",
        "operator_id": anna.id,
        "on": True,
    }
    assert any(i.kind == "typing" for i in server.connector.sent())
    identity = server.connector  # the customer side types through the inbound API
    address = _address_of(olga, dialog)
    import httpx

    response = httpx.post(
        server.url + routes.INBOUND_TYPING.format(channel=dialog["channel"]),
        json={"address": address, "on": True},
        headers={"X-Channel-Secret": f"demo-{dialog['channel']}-secret"},
    )
    assert response.status_code == 204, response.text
    typing = anna_ws.until(lambda f: f["type"] == "ephemeral")
    assert typing["event"]["who"] == "client" and typing["event"]["dialog_id"] == dialog["id"]
    # ephemeral: never replayed
    _h, replayed, _d = websocket(anna, since=0).handshake()
    assert all(f["type"] == "event" for f in replayed)
    assert identity is server.connector


def _address_of(api: Api, dialog: dict[str, object]) -> str:
    card = api.ok("GET", routes.CONTACT.format(contact_id=dialog["contact_id"]))
    address: str = next(
        i["address"] for i in card["contact"]["identities"] if i["channel"] == dialog["channel"]
    )
    return address


def test_inbound_message_creates_a_dialog_visible_live(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    elena = login("elena")  # away: sees her queue's waiting dialogs but gets none assigned
    ws = websocket(elena)
    ws.handshake()
    accepted = customer_says(
        server.url, "webchat", "web-new-1", "Здравствуйте, есть вопрос", name="Пётр"
    )
    frame = ws.until(lambda f: f["type"] == "event" and f["event"]["kind"] == "message.created")
    assert frame["event"]["dialog"]["id"] == accepted["dialog_id"]
    assert frame["event"]["message"]["author"] == "client"
    again = customer_says(server.url, "webchat", "web-new-1", "дубль", external_id="dup-1")
    dup = customer_says(server.url, "webchat", "web-new-1", "дубль", external_id="dup-1")
    assert dup == {**again, "duplicate": True}


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_inbound_needs_the_channel_secret(server: EmbeddedServer, secret: str | None) -> None:
    import httpx

    headers = {"X-Channel-Secret": secret} if secret else {}
    response = httpx.post(
        server.url + routes.INBOUND.format(channel="telegram"),
        json={"address": "@x", "text": "hi", "external_id": "1"},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert event_kinds([]) == []


def test_an_expired_token_ends_rest_and_websocket_access() -> None:
    with EmbeddedServer(token_ttl_seconds=1.0, reply_to_operators=False) as srv:
        anna = Api(srv.url).login("anna")
        ws = Ws(srv.url, anna.token)
        ws.handshake()
        assert anna.ok("GET", routes.ME)["login"] == "anna"
        assert ws.close_code(timeout=3.0) == WS_CLOSE_UNAUTHORIZED
        anna.refused("GET", routes.ME, 401, "unauthorized")
        ws.close()
        anna.close()


def test_a_replay_carries_only_the_events_the_operator_may_see(
    login: Callable[..., Api], websocket: Callable[..., Ws]
) -> None:
    """The events of a dialog go to its audience only, on replay as live: the assignee and
    the queue's supervisors, not another operator of the team."""
    anna, boris, olga = login("anna"), login("boris"), login("olga")
    dialog_id = anna.dialogs("mine")[0]["id"]
    body = {"client_msg_id": str(uuid.uuid4()), "text": "только для своих"}
    cursor = anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)["cursor"]

    def replayed(api: Api) -> set[int]:
        _hello, frames, _done = websocket(api, since=cursor - 1).handshake()
        return {frame["cursor"] for frame in frames}

    assert cursor in replayed(anna)
    assert cursor in replayed(olga)  # she supervises the dialog's queue
    assert cursor not in replayed(boris)
