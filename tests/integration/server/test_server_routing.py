"""Routing, taking, transfer, closing, reopening and ratings in a small world built by the CLI.

Queue 1 Sales (webchat): ann, bob. Queue 2 Billing (email): bob, cid; sue supervises it.
Capacity 2 each.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event

from operator_app.protocol import models as m
from operator_app.protocol import routes
from operator_app.server import db, inbound, schema
from operator_app.server.embedded import EmbeddedServer
from operator_app.server.service import Backend
from tests.integration.server.conftest import SECRET
from tests.integration.server.server_helpers import Api, Ws, customer_says

Login = Callable[..., Api]


def says(
    server: EmbeddedServer, address: str, text: str = "Здравствуйте!", channel: str = "webchat"
) -> int:
    accepted = customer_says(server.url, channel, address, text, secret=SECRET)
    return int(accepted["dialog_id"])


def test_new_dialog_waits_when_nobody_is_online(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann")
    dialog_id = says(small_server, "web-1")
    dialog = ann.dialog(dialog_id)
    assert dialog["state"] == "waiting" and dialog["assignee_id"] is None
    assert dialog["queue_id"] == 1 and dialog["waiting_since"] is not None
    assert [d["id"] for d in ann.dialogs("waiting")] == [dialog_id]


def test_going_online_takes_the_waiting_line_in_fifo_order(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    first, second, third = (says(small_server, f"web-{i}") for i in range(3))
    ann = small_login("ann", online=True)  # capacity 2: the two oldest
    assert {d["id"] for d in ann.dialogs("mine")} == {first, second}
    assert ann.dialog(third)["state"] == "waiting"
    ann.ok("POST", routes.CLOSE.format(dialog_id=first), json={"resolution": "готово"})
    assert ann.dialog(third)["assignee_id"] == ann.id  # capacity freed: assigned at once


def test_least_loaded_then_idle_longest(small_server: EmbeddedServer, small_login: Login) -> None:
    ann = small_login("ann", online=True)
    bob = small_login("bob", online=True)
    root = small_login("root")
    a = says(small_server, "web-a")
    b = says(small_server, "web-b")
    owners = {root.dialog(a)["assignee_id"], root.dialog(b)["assignee_id"]}
    assert owners == {ann.id, bob.id}  # the second goes to the one with less load
    c = says(small_server, "web-c")
    first_owner = root.dialog(a)["assignee_id"]
    # equal loads: the one idle longest (assigned earliest) gets the next
    assert root.dialog(c)["assignee_id"] == first_owner


def test_manual_take_respects_capacity_and_queues(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann")  # offline: nothing is auto-assigned to her
    ids = [says(small_server, f"web-{i}") for i in range(3)]
    assert ann.ok("POST", routes.TAKE.format(dialog_id=ids[0]))["assignee_id"] == ann.id
    ann.ok("POST", routes.TAKE.format(dialog_id=ids[1]))
    ann.refused("POST", routes.TAKE.format(dialog_id=ids[2]), 409, "operator_at_capacity")
    cid = small_login("cid")  # billing only: the sales dialog is not his business
    cid.refused("POST", routes.TAKE.format(dialog_id=ids[2]), 403, "forbidden")
    bob = small_login("bob")  # in sales too: he saw it waiting, so he learns why it is gone
    bob.refused("POST", routes.TAKE.format(dialog_id=ids[0]), 409, "conflict")
    ann.ok("POST", routes.CLOSE.format(dialog_id=ids[0]), json={"resolution": "готово"})
    bob.refused("POST", routes.TAKE.format(dialog_id=ids[0]), 409, "dialog_closed")
    bob.refused("GET", routes.DIALOG.format(dialog_id=ids[0]), 403, "forbidden")  # still hidden


def test_transfer_to_an_operator_with_comment(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann", online=True)
    bob = small_login("bob", online=True)
    dialog_id = says(small_server, "web-t")
    owner, other = (ann, bob) if ann.dialog(dialog_id)["assignee_id"] == ann.id else (bob, ann)
    other_ws = Ws(small_server.url, other.token)
    owner_ws = Ws(small_server.url, owner.token)
    other_ws.handshake()
    owner_ws.handshake()
    moved = owner.ok(
        "POST",
        routes.TRANSFER.format(dialog_id=dialog_id),
        json={"to_operator_id": other.id, "comment": "клиент просит скидку"},
    )
    assert moved["assignee_id"] == other.id and moved["state"] == "active"
    note = other_ws.until(
        lambda f: (
            f["type"] == "event"
            and f["event"]["kind"] == "message.created"
            and f["event"]["message"]["kind"] == "comment"
        )
    )
    assert note["event"]["message"]["text"] == "клиент просит скидку"
    # the previous owner learns that it left them
    lost = owner_ws.until(lambda f: f["type"] == "event" and f["event"]["kind"] == "dialog.updated")
    assert lost["event"]["dialog"]["assignee_id"] == other.id
    owner.refused("GET", routes.DIALOG.format(dialog_id=dialog_id), 403, "forbidden")
    assert all(i.text != "клиент просит скидку" for i in small_server.connector.sent())
    other_ws.close()
    owner_ws.close()


def test_transfer_refusals_say_why(small_server: EmbeddedServer, small_login: Login) -> None:
    ann = small_login("ann", online=True)
    bob = small_login("bob")  # offline
    dialog_id = says(small_server, "web-r")
    path = routes.TRANSFER.format(dialog_id=dialog_id)
    body = ann.refused("POST", path, 409, "operator_offline", json={"to_operator_id": bob.id})
    assert body["details"] == {"operator_id": bob.id, "status": "offline"}
    ann.refused("POST", path, 422, "validation_error", json={})
    ann.refused(
        "POST", path, 422, "validation_error", json={"to_operator_id": bob.id, "to_queue_id": 2}
    )
    ann.refused("POST", path, 404, "not_found", json={"to_queue_id": 99})
    ann.refused("POST", path, 404, "not_found", json={"to_operator_id": 99})
    ann.refused("POST", path, 409, "conflict", json={"to_operator_id": ann.id})
    assert ann.dialog(dialog_id)["assignee_id"] == ann.id  # refusals changed nothing


def test_transfer_at_capacity_is_refused(small_server: EmbeddedServer, small_login: Login) -> None:
    cid = small_login("cid", online=True)  # bob, the other billing member, stays offline
    for i in range(2):
        says(small_server, f"mail-{i}@x.ru", channel="email")
    assert len(cid.dialogs("mine")) == 2  # capacity 2: full
    ann = small_login("ann", online=True)
    dialog_id = says(small_server, "web-cap")
    body = ann.refused(
        "POST",
        routes.TRANSFER.format(dialog_id=dialog_id),
        409,
        "operator_at_capacity",
        json={"to_operator_id": cid.id},
    )
    assert body["details"] == {"operator_id": cid.id, "capacity": 2}


def test_transfer_to_a_queue_routes_there(small_server: EmbeddedServer, small_login: Login) -> None:
    ann = small_login("ann", online=True)
    cid = small_login("cid", online=True)
    dialog_id = says(small_server, "web-q")
    moved = ann.ok(
        "POST",
        routes.TRANSFER.format(dialog_id=dialog_id),
        json={"to_queue_id": 2, "comment": "вопрос по счёту"},
    )
    assert moved["queue_id"] == 2
    assert moved["assignee_id"] == cid.id  # the free billing operator got it at once
    texts = [(m["kind"], m["text"]) for m in cid.messages(dialog_id)]
    assert ("comment", "вопрос по счёту") in texts


def test_close_asks_for_a_rating_and_the_channel_records_it(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    import httpx

    ann = small_login("ann", online=True)
    dialog_id = says(small_server, "web-close")
    ann.send(dialog_id, "Готово, заказ отправлен.")
    closed = ann.ok(
        "POST",
        routes.CLOSE.format(dialog_id=dialog_id),
        json={"resolution": "отправили заказ", "tags": ["доставка", "доставка", "vip"]},
    )
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert closed["tags"] == ["доставка", "vip"] and closed["resolution"] == "отправили заказ"
    asked = [i for i in small_server.connector.sent() if i.kind == "rating_request"]
    assert [i.dialog_id for i in asked] == [dialog_id]
    ann.refused(
        "POST",
        routes.MESSAGES.format(dialog_id=dialog_id),
        409,
        "dialog_closed",
        json={"client_msg_id": "12345678-late", "text": "ещё"},
    )
    response = httpx.post(
        small_server.url + routes.INBOUND_RATING.format(channel="webchat"),
        json={"address": "web-close", "dialog_id": dialog_id, "rating": 5},
        headers={"X-Channel-Secret": SECRET},
    )
    assert response.status_code == 200 and response.json()["rating"] == 5
    bad = httpx.post(
        small_server.url + routes.INBOUND_RATING.format(channel="webchat"),
        json={"address": "someone-else", "dialog_id": dialog_id, "rating": 1},
        headers={"X-Channel-Secret": SECRET},
    )
    assert bad.status_code == 404
    assert ann.dialog(dialog_id)["rating"] == 5


def test_customer_reopens_a_closed_dialog(small_server: EmbeddedServer, small_login: Login) -> None:
    ann = small_login("ann", online=True)
    dialog_id = says(small_server, "web-again")
    ann.ok("POST", routes.CLOSE.format(dialog_id=dialog_id), json={})
    assert says(small_server, "web-again", "И ещё вопрос") == dialog_id
    reopened = ann.dialog(dialog_id)
    assert reopened["state"] == "active" and reopened["assignee_id"] == ann.id  # same operator
    ann.ok("POST", routes.CLOSE.format(dialog_id=dialog_id), json={})
    ann.status("away")
    assert says(small_server, "web-again", "Алло?") == dialog_id
    back = small_login("bob").dialog(dialog_id)
    assert back["state"] == "waiting" and back["assignee_id"] is None  # ann is away: the queue


def test_supervisor_reassigns_in_supervised_queues_only(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    bob = small_login("bob", online=True)
    cid = small_login("cid", online=True)
    sue = small_login("sue")
    billing = says(small_server, "vip@x.ru", channel="email")
    sales = says(small_server, "web-s")
    owner = sue.dialog(billing)["assignee_id"]
    target = cid if owner == bob.id else bob
    moved = sue.ok(
        "POST", routes.TRANSFER.format(dialog_id=billing), json={"to_operator_id": target.id}
    )
    assert moved["assignee_id"] == target.id
    sue.refused("GET", routes.DIALOG.format(dialog_id=sales), 403, "forbidden")
    sue.refused(
        "POST", routes.TRANSFER.format(dialog_id=sales), 403, "forbidden", json={"to_queue_id": 2}
    )
    taken = sue.ok("POST", routes.TAKE.format(dialog_id=billing))
    assert taken["assignee_id"] == sue.id  # take-over of a supervised dialog


def test_status_and_capacity_changes_are_published(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann")
    sue = small_login("sue")
    root = small_login("root")
    ws = Ws(small_server.url, sue.token)
    ws.handshake()
    ann.status("online")
    frame = ws.until(lambda f: f["type"] == "event" and f["event"]["kind"] == "operator.updated")
    assert frame["event"]["operator"]["status"] == "online"
    sue.refused(
        "PUT",
        routes.OPERATOR_CAPACITY.format(operator_id=ann.id),
        403,
        "forbidden",
        json={"capacity": 4},
    )  # ann is not in sue's queue
    updated = root.ok(
        "PUT", routes.OPERATOR_CAPACITY.format(operator_id=ann.id), json={"capacity": 4}
    )
    assert updated["capacity"] == 4
    root.refused(
        "PUT",
        routes.OPERATOR_CAPACITY.format(operator_id=ann.id),
        422,
        "validation_error",
        json={"capacity": -1},
    )
    ws.close()


def test_an_old_closed_dialog_is_not_reopened(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    ann = small_login("ann", online=True)
    old = says(small_server, "web-old")
    ann.ok("POST", routes.CLOSE.format(dialog_id=old), json={})
    assert small_server.backend is not None
    with small_server.backend.engine.begin() as conn:  # the dialog was closed two days ago
        conn.execute(
            update(schema.dialogs)
            .where(schema.dialogs.c.id == old)
            .values(closed_at=schema.utcnow() - timedelta(days=2))
        )
    new = says(small_server, "web-old", "Снова здравствуйте")
    assert new != old
    assert ann.dialog(new)["contact_id"] == ann.dialog(old)["contact_id"]  # one history
    assert ann.dialog(old)["state"] == "closed"


def test_operator_actions_are_audited(small_server: EmbeddedServer, small_login: Login) -> None:
    from sqlalchemy import select

    ann = small_login("ann", online=True)
    dialog_id = says(small_server, "web-audit")
    ann.send(dialog_id, "Добрый день")
    ann.ok("PUT", routes.TAGS.format(dialog_id=dialog_id), json={"tags": ["a"]})
    ann.ok("POST", routes.CLOSE.format(dialog_id=dialog_id), json={"resolution": "ok"})
    assert small_server.backend is not None
    with small_server.backend.engine.connect() as conn:
        rows = conn.execute(
            select(schema.audit_log).where(schema.audit_log.c.operator_id == ann.id)
        ).all()
    actions = [(r.action, r.object_type, r.object_id) for r in rows]
    assert actions[0] == ("login", "operator", ann.id)
    for action in ("set_status", "send_message", "set_tags", "close"):
        assert any(a[0] == action for a in actions), actions
    assert all(r.created_at is not None for r in rows)


def test_only_a_new_or_reopened_dialog_makes_a_message_read_the_waiting_line(
    small_world: str,
) -> None:
    """A message to an open dialog changes nobody's load and adds nobody to the line: every
    change that could free an operator distributes itself, so the message's write skips it."""
    engine = db.create(small_world)
    statements: list[str] = []
    event.listen(engine, "connect", lambda raw, _record: raw.set_trace_callback(statements.append))
    backend = Backend(engine)

    def customer(address: str, text: str) -> list[str]:
        message = m.InboundMessage(address=address, name="", text=text, external_id=text)
        statements.clear()
        backend.writer.run(lambda tx: inbound._accept(tx, m.Channel.WEBCHAT, message))
        return [sql for sql in statements if "ORDER BY dialogs.queued_at" in sql]

    try:
        assert customer("web-line", "first") != []  # a new dialog joins the line
        assert customer("web-line", "second") == []  # the same dialog, open: no change
        with engine.begin() as conn:
            conn.execute(schema.dialogs.update().values(state="closed", closed_at=schema.utcnow()))
        assert customer("web-line", "third") != []  # reopened: back in the line
    finally:
        backend.shutdown()
        engine.dispose()
