"""Accounts and queue memberships over REST (admin): POST /operators and PUT
/operators/{id}/queues, against the real server on loopback, plus the hub's ordering of the
resync_required frame such a change sends.

The demo world: anna (1) works in Sales (1) and Support (2), olga (5) supervises all three
queues. The small world: ann (1) in Sales (1, webchat), bob and cid in Billing (2, email),
root (5) is admin; capacity 2 each.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select

from operator_app.protocol import routes
from operator_app.server import schema as s
from operator_app.server.embedded import EmbeddedServer
from operator_app.server.hub import Hub, Published
from tests.integration.server.conftest import SECRET
from tests.integration.server.server_helpers import Api, Json, Ws, customer_says, signs_in

Login = Callable[..., Api]
Socket = Callable[..., Ws]

PASSWORD = "long enough"
SALES, BILLING = 1, 2  # the small world's queues


def account(login: str = "zoe", **fields: object) -> dict[str, object]:
    return {"login": login, "name": login.title(), "password": PASSWORD, **fields}


def queues_path(operator_id: int) -> str:
    return routes.OPERATOR_QUEUES.format(operator_id=operator_id)


def audit_details(server: EmbeddedServer, action: str) -> list[Json]:
    assert server.backend is not None
    with server.backend.read() as conn:
        query = select(s.audit_log.c.details).where(s.audit_log.c.action == action)
        return list(conn.execute(query).scalars())


def frames_through(ws: Ws, kind: str) -> list[Json]:
    """Every frame up to and with the first of this type."""
    frames = [ws.recv()]
    while frames[-1]["type"] != kind:
        frames.append(ws.recv())
    return frames


def updated(frames: list[Json], kind: str) -> list[Json]:
    """The objects of the events of this kind (operator.updated: the operators)."""
    key = kind.split(".")[0]
    return [f["event"][key] for f in frames if f["type"] == "event" and f["event"]["kind"] == kind]


def says(server: EmbeddedServer, channel: str, address: str) -> int:
    return int(customer_says(server.url, channel, address, "Hello", secret=SECRET)["dialog_id"])


# ---- POST /operators ---------------------------------------------------------------------------


def test_an_admin_creates_an_account_that_signs_in_and_reaches_every_desk(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    admin, anna = login("admin", "admin"), login("anna")
    desk = websocket(anna)
    desk.handshake()
    response = admin.request("POST", routes.OPERATORS, json=account(queue_ids=[3, 1, 3]))
    assert response.status_code == 201, response.text
    zoe = response.json()
    assert zoe["login"] == "zoe" and zoe["role"] == "operator" and zoe["capacity"] == 5
    assert zoe["status"] == "offline" and zoe["enabled"] and zoe["load"] == 0
    assert zoe["queue_ids"] == [1, 3] and zoe["supervised_queue_ids"] == []  # no repeats

    frames = frames_through(desk, "event")
    frames += desk.quiet()
    assert [o["id"] for o in updated(frames, "operator.updated")] == [zoe["id"]]
    queues = {q["id"]: q for q in updated(frames, "queue.updated")}
    assert set(queues) == {1, 3} and all(zoe["id"] in q["member_ids"] for q in queues.values())
    assert zoe in anna.ok("GET", routes.OPERATORS)
    assert signs_in(server.url, "zoe", PASSWORD)
    (details,) = audit_details(server, "create_operator")
    assert details["login"] == "zoe" and details["queue_ids"] == [1, 3]
    assert "password" not in details and PASSWORD not in json.dumps(details)


def test_a_supervisor_account_supervises_its_queues(server: EmbeddedServer, login: Login) -> None:
    admin = login("admin", "admin")
    body = account("sam", role="supervisor", capacity=0, supervised_queue_ids=[2, 2])
    sam = admin.ok("POST", routes.OPERATORS, json=body)
    assert sam["role"] == "supervisor" and sam["capacity"] == 0
    assert sam["queue_ids"] == [] and sam["supervised_queue_ids"] == [2]
    (support,) = [q for q in admin.ok("GET", routes.QUEUES) if q["id"] == 2]
    assert sam["id"] in support["supervisor_ids"]


def test_creating_an_account_is_refused_without_a_trace(
    server: EmbeddedServer, login: Login
) -> None:
    admin, olga = login("admin", "admin"), login("olga")
    before = admin.ok("GET", routes.OPERATORS)
    taken = admin.refused("POST", routes.OPERATORS, 409, "conflict", json=account("anna"))
    assert taken["message"] == "the login is taken"
    for field in ("queue_ids", "supervised_queue_ids"):
        body = {**account(role="supervisor"), field: [1, 999, 2**63]}
        unknown = admin.refused("POST", routes.OPERATORS, 422, "validation_error", json=body)
        assert unknown["message"] == "unknown queue"
        assert unknown["details"] == {"field": field, "queue_ids": [999, 2**63]}
    for role in ("operator", "admin"):
        body = account(role=role, supervised_queue_ids=[1])
        wrong = admin.refused("POST", routes.OPERATORS, 409, "conflict", json=body)
        assert wrong["message"] == "only a supervisor supervises queues"
    denied = olga.refused("POST", routes.OPERATORS, 403, "forbidden", json=account())
    assert denied["message"] == "only an admin may do this"
    short = account(password="short")
    admin.refused("POST", routes.OPERATORS, 422, "validation_error", json=short)
    for control in ("zo\x00e", "zo\ne", "zo\x7fe"):  # PostgreSQL stores no NUL
        admin.refused("POST", routes.OPERATORS, 422, "validation_error", json=account(control))
    assert admin.ok("GET", routes.OPERATORS) == before
    assert audit_details(server, "create_operator") == []


def test_a_non_admin_is_refused_before_the_body_is_read(
    server: EmbeddedServer, login: Login
) -> None:
    """403 first: a 422 would tell a non-admin which fields the admin's routes take."""
    anna, olga = login("anna"), login("olga")
    for method, path, body in (
        ("POST", routes.OPERATORS, {"login": ""}),
        ("PUT", queues_path(anna.id), {"queue_ids": "all"}),
        ("PUT", routes.OPERATOR_PASSWORD.format(operator_id=anna.id), {"new_password": 1}),
        ("PUT", routes.OPERATOR_ENABLED.format(operator_id=anna.id), {"enabled": "maybe"}),
    ):
        denied = olga.refused(method, path, 403, "forbidden", json=body)
        assert denied["message"] == "only an admin may do this", path


def test_a_login_is_compared_exactly_as_stored(server: EmbeddedServer, login: Login) -> None:
    admin = login("admin", "admin")
    other = admin.ok("POST", routes.OPERATORS, json=account("Anna", name="Ан\x00на"))
    assert other["login"] == "Anna" and other["name"] == "Анна"  # NUL dropped, as all text
    assert signs_in(server.url, "Anna", PASSWORD) and signs_in(server.url, "anna", "demo")


# ---- PUT /operators/{id}/queues ----------------------------------------------------------------


def test_changing_queues_is_refused_as_creating_is(server: EmbeddedServer, login: Login) -> None:
    admin, anna, olga = login("admin", "admin"), login("anna"), login("olga")
    move = {"queue_ids": [3]}
    missing = admin.refused("PUT", queues_path(999), 404, "not_found", json=move)
    assert missing["message"] == "operator not found"
    denied = olga.refused("PUT", queues_path(anna.id), 403, "forbidden", json=move)
    assert denied["message"] == "only an admin may do this"
    unknown = admin.refused(
        "PUT", queues_path(anna.id), 422, "validation_error", json={"queue_ids": [4]}
    )
    assert unknown["message"] == "unknown queue"
    wrong = admin.refused(
        "PUT", queues_path(anna.id), 409, "conflict", json={"supervised_queue_ids": [1]}
    )
    assert wrong["message"] == "only a supervisor supervises queues"
    assert anna.ok("GET", routes.ME)["queue_ids"] == [1, 2]
    narrowed = admin.ok("PUT", queues_path(olga.id), json={"supervised_queue_ids": [3, 3]})
    assert narrowed["supervised_queue_ids"] == [3] and narrowed["queue_ids"] == []
    assert audit_details(server, "set_queues") == [{"queue_ids": [], "supervised_queue_ids": [3]}]


def test_moving_an_operator_resyncs_their_desk_after_the_change(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann", online=True)
    root = small_login("root")
    mine = {says(small_server, "webchat", f"web-{i}") for i in range(2)}  # her capacity: 2
    left_behind = says(small_server, "webchat", "web-late")
    billing = says(small_server, "email", "mail-1")
    assert {d["id"] for d in ann.dialogs("mine")} == mine
    assert [d["id"] for d in ann.dialogs("waiting")] == [left_behind]
    desk = Ws(small_server.url, ann.token)
    try:
        desk.handshake()
        moved = root.ok("PUT", queues_path(ann.id), json={"queue_ids": [BILLING]})
        assert moved["queue_ids"] == [BILLING] and moved["load"] == 2
        frames = frames_through(desk, "resync_required")
    finally:
        desk.close()
    resync = frames[-1]
    assert resync["reason"] == "queues changed"
    assert resync["head_cursor"] == max(f["cursor"] for f in frames if f["type"] == "event")
    assert small_server.backend is not None
    assert resync["head_cursor"] == small_server.backend.replay_bounds(0)[0]
    assert updated(frames, "operator.updated")[0]["queue_ids"] == [BILLING]
    assert {q["id"] for q in updated(frames, "queue.updated")} == {SALES, BILLING}
    assert {d["id"] for d in ann.dialogs("mine")} == mine  # assigned ones stay hers
    assert [d["id"] for d in ann.dialogs("waiting")] == [billing]
    assert audit_details(small_server, "set_queues") == [
        {"queue_ids": [BILLING], "supervised_queue_ids": []}
    ]


def test_a_new_queue_routes_its_waiting_dialogs_to_an_online_member(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann", online=True)
    root = small_login("root")
    billing = says(small_server, "email", "mail-1")  # bob and cid are offline: it waits
    moved = root.ok("PUT", queues_path(ann.id), json={"queue_ids": [SALES, BILLING]})
    assert moved["load"] == 1
    assert root.dialog(billing)["assignee_id"] == ann.id


def test_a_desk_that_was_away_during_the_change_resyncs_instead_of_replaying(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann, root = small_login("ann"), small_login("root")
    desk = Ws(small_server.url, ann.token)
    _hello, _replayed, done = desk.handshake()
    desk.close()
    root.ok("PUT", queues_path(ann.id), json={"queue_ids": [BILLING]})
    back = Ws(small_server.url, ann.token, since=done["cursor"])
    try:
        hello, replayed, ended = back.handshake()
    finally:
        back.close()
    assert replayed == [] and ended["type"] == "resync_required"
    assert ended["reason"] == "queues changed" and ended["head_cursor"] == hello["head_cursor"]
    later = Ws(small_server.url, ann.token, since=hello["head_cursor"])
    try:
        assert later.handshake()[2]["type"] == "replay_done"  # that change is behind it
    finally:
        later.close()


def test_the_same_queues_again_change_nothing(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann, root = small_login("ann"), small_login("root")
    desk = Ws(small_server.url, ann.token)
    try:
        desk.handshake()
        root.ok("PUT", queues_path(ann.id), json={"queue_ids": [SALES, SALES]})
        assert desk.quiet() == []  # no event, no resync
    finally:
        desk.close()


def test_a_live_session_types_only_where_its_new_queues_let_it(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann, root = small_login("ann"), small_login("root")
    waiting = says(small_server, "webchat", "web-1")
    desk = Ws(small_server.url, ann.token)
    try:
        desk.handshake()
        root.ok("PUT", queues_path(ann.id), json={"queue_ids": [BILLING]})
        frames_through(desk, "resync_required")
        desk.send({"type": "typing", "dialog_id": waiting, "on": True})
        refused = desk.until(lambda f: f["type"] == "error")
    finally:
        desk.close()
    assert refused["code"] == "forbidden"


# ---- the hub -----------------------------------------------------------------------------------


def test_a_resync_waits_for_the_replay_and_the_events_held_meanwhile() -> None:
    hub = Hub()
    conn = hub.connect(1, "token")  # replaying until go_live
    event = Published(7, '{"type":"event"}', None)
    hub.publish([event])
    hub.resync_operator(1, "resync")
    assert conn.outbox.empty()  # the replay's frames go first
    conn.outbox.put_nowait("replay_done")
    conn.go_live(6)
    sent = [conn.outbox.get_nowait() for _ in range(conn.outbox.qsize())]
    assert sent == ["replay_done", '{"type":"event"}', "resync"]
    hub.resync_operator(1, "again")  # live: at once
    assert conn.outbox.get_nowait() == "again" and conn.rescoped
