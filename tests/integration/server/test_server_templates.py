"""Templates: shared per queue for everyone in it, personal for their owner only; live events."""

from __future__ import annotations

from collections.abc import Callable

from operator_app.protocol import routes
from tests.integration.server.server_helpers import Api, Ws

Login = Callable[..., Api]
Socket = Callable[..., Ws]


def test_demo_templates_by_scope(login: Login) -> None:
    anna, elena = login("anna"), login("elena")
    mine = anna.ok("GET", routes.TEMPLATES)
    personal = [t for t in mine if t["scope"] == "personal"]
    assert len(personal) >= 3 and all(t["owner_id"] == anna.id for t in personal)
    assert sum(t["pinned"] for t in mine) == 3
    shared = [t for t in mine if t["scope"] == "shared"]
    assert len(shared) >= 10
    assert {t["queue_id"] for t in shared} <= {None, 1, 2}  # not billing's
    assert any("{client_name}" in t["body"] for t in shared)
    assert all(t["category"] for t in mine)
    hers = elena.ok("GET", routes.TEMPLATES)
    assert not [t for t in hers if t["scope"] == "personal"]  # anna's stay anna's
    assert {t["queue_id"] for t in hers if t["scope"] == "shared"} <= {None, 1}


def test_personal_template_lifecycle_is_private(login: Login, websocket: Socket) -> None:
    anna, boris = login("anna"), login("boris")
    anna_ws, boris_ws = websocket(anna), websocket(boris)
    anna_ws.handshake()
    boris_ws.handshake()
    created = anna.ok(
        "POST",
        routes.TEMPLATES,
        json={"shortcut": "eta", "title": "Срок", "body": "Будет к {date}", "category": "Моё"},
    )
    assert created["scope"] == "personal" and created["owner_id"] == anna.id
    changed = anna_ws.until(lambda f: f["type"] == "event")
    assert changed["event"] == {"kind": "template.changed", "template": created}
    path = routes.TEMPLATE.format(template_id=created["id"])
    boris.refused("PUT", path, 404, "not_found", json={"shortcut": "x", "title": "x", "body": "x"})
    boris.refused("DELETE", path, 404, "not_found")
    edited = anna.ok("PUT", path, json={"shortcut": "eta", "title": "Срок", "body": "Завтра"})
    assert edited["body"] == "Завтра"
    anna.ok("DELETE", path)
    gone = anna_ws.until(
        lambda f: f["type"] == "event" and f["event"]["kind"] == "template.deleted"
    )
    assert gone["event"]["template_id"] == created["id"]
    assert boris_ws.quiet() == []
    assert created["id"] not in {t["id"] for t in anna.ok("GET", routes.TEMPLATES)}


def test_shared_templates_need_queue_rights(login: Login, websocket: Socket) -> None:
    anna, olga, admin = login("anna"), login("olga"), login("admin", "admin")
    body = {"scope": "shared", "queue_id": 1, "shortcut": "sale", "title": "Скидка", "body": "-10%"}
    anna.refused("POST", routes.TEMPLATES, 403, "forbidden", json=body)
    anna_ws = websocket(anna)
    anna_ws.handshake()
    created = olga.ok("POST", routes.TEMPLATES, json=body)  # olga supervises Sales
    assert created["scope"] == "shared" and created["owner_id"] is None
    frame = anna_ws.until(lambda f: f["type"] == "event")
    assert frame["event"]["template"]["id"] == created["id"]
    everywhere = {**body, "queue_id": None, "shortcut": "all"}
    olga.refused("POST", routes.TEMPLATES, 403, "forbidden", json=everywhere)
    assert admin.ok("POST", routes.TEMPLATES, json=everywhere)["queue_id"] is None
    anna.refused("DELETE", routes.TEMPLATE.format(template_id=created["id"]), 403, "forbidden")
    anna.refused(
        "POST",
        routes.TEMPLATES,
        422,
        "validation_error",
        json={"shortcut": "has space", "title": "t", "body": "b"},
    )
    anna.refused(
        "POST",
        routes.TEMPLATES,
        422,
        "validation_error",
        json={"scope": "shared", "queue_id": 99, "shortcut": "x", "title": "t", "body": "b"},
    )
