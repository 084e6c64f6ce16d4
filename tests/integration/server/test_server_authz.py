"""Authorization matrix: each role x each action x dialogs inside and outside its queues.

Demo world, everyone set offline first so that no auto-assignment moves the objects.
Objects: ``own`` anna's active support dialog; ``wait_in`` waiting in Sales (anna and elena
work there); ``wait_out`` waiting in Billing; ``other_out`` boris's active Billing dialog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from operator_app.protocol import routes
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api

OK = "ok"
F = "forbidden"
NA = "not_assigned"
OBJECTS = ("own", "wait_in", "wait_out", "other_out")

# action -> role -> expected outcome per object, in OBJECTS order
SUPERVISES = (OK, OK, OK, OK)
READ = {"anna": (OK, OK, F, F), "elena": (F, OK, F, F), "olga": SUPERVISES, "admin": SUPERVISES}
MANAGE = {"anna": (OK, NA, F, F), "elena": (F, NA, F, F), "olga": SUPERVISES, "admin": SUPERVISES}
TAKE = {"anna": (OK, OK, F, F), "elena": (F, OK, F, F), "olga": SUPERVISES, "admin": SUPERVISES}
EXPECTED: dict[str, Mapping[str, tuple[str, ...]]] = {
    "view": READ,
    "messages": READ,
    "contact": READ,
    "typing": READ,
    "send": MANAGE,
    "comment": MANAGE,
    "tags": MANAGE,
    "close": MANAGE,
    "transfer": MANAGE,
    "take": TAKE,
}
PASSWORDS = {"admin": "admin"}


def _do(api: Api, action: str, dialog: dict[str, Any]) -> Any:
    dialog_id = dialog["id"]
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "view": ("GET", routes.DIALOG, {}),
        "messages": ("GET", routes.MESSAGES, {}),
        "typing": ("POST", routes.TYPING, {"json": {"on": True}}),
        "send": (
            "POST",
            routes.MESSAGES,
            {"json": {"client_msg_id": str(uuid.uuid4()), "text": "Добрый день"}},
        ),
        "comment": (
            "POST",
            routes.MESSAGES,
            {"json": {"client_msg_id": str(uuid.uuid4()), "text": "заметка", "kind": "comment"}},
        ),
        "tags": ("PUT", routes.TAGS, {"json": {"tags": ["проверено"]}}),
        "close": ("POST", routes.CLOSE, {"json": {"resolution": "решено"}}),
        "transfer": ("POST", routes.TRANSFER, {"json": {"to_queue_id": 2}}),
        "take": ("POST", routes.TAKE, {}),
    }
    if action == "contact":
        return api.request("GET", routes.CONTACT.format(contact_id=dialog["contact_id"]))
    method, path, kwargs = calls[action]
    return api.request(method, path.format(dialog_id=dialog_id), **kwargs)


@pytest.fixture
def frozen(server: EmbeddedServer) -> Iterator[tuple[EmbeddedServer, dict[str, dict[str, Any]]]]:
    admin = Api(server.url).login("admin", "admin")
    for operator in admin.ok("GET", routes.OPERATORS):
        admin.ok(
            "PUT",
            routes.OPERATOR_STATUS.format(operator_id=operator["id"]),
            json={"status": "offline"},
        )
    dialogs = admin.dialogs("supervised")
    by_login = {o["login"]: o["id"] for o in admin.ok("GET", routes.OPERATORS)}
    objects = {
        "own": next(
            d
            for d in dialogs
            if d["assignee_id"] == by_login["anna"]
            and d["state"] == "active"
            and d["queue_id"] == 2
        ),
        "wait_in": next(d for d in dialogs if d["state"] == "waiting" and d["queue_id"] == 1),
        "wait_out": next(d for d in dialogs if d["state"] == "waiting" and d["queue_id"] == 3),
        "other_out": next(
            d
            for d in dialogs
            if d["assignee_id"] == by_login["boris"]
            and d["state"] == "active"
            and d["queue_id"] == 3
        ),
    }
    admin.close()
    yield server, objects


READ_ONLY = ("view", "messages", "contact", "typing")
MUTATING = sorted(set(EXPECTED) - set(READ_ONLY))


@pytest.mark.parametrize("role", ["anna", "elena", "olga", "admin"])
def test_authorization_matrix_reads(
    frozen: tuple[EmbeddedServer, dict[str, dict[str, Any]]], role: str
) -> None:
    for action in READ_ONLY:  # they change nothing, so one world serves them all
        _check(frozen, role, action)


@pytest.mark.parametrize("role", ["anna", "elena", "olga", "admin"])
@pytest.mark.parametrize("action", MUTATING)
def test_authorization_matrix_actions(
    frozen: tuple[EmbeddedServer, dict[str, dict[str, Any]]], role: str, action: str
) -> None:
    _check(frozen, role, action)


def _check(
    frozen: tuple[EmbeddedServer, dict[str, dict[str, Any]]], role: str, action: str
) -> None:
    server, objects = frozen
    api = Api(server.url).login(role, PASSWORDS.get(role, "demo"))
    try:
        for name, expected in zip(OBJECTS, EXPECTED[action][role], strict=True):
            response = _do(api, action, objects[name])
            outcome = OK if response.status_code < 300 else response.json()["code"]
            assert outcome == expected, f"{role} {action} {name}: {response.text}"
            if outcome == F:
                # refused without a word about the dialog
                assert str(objects[name]["contact_name"]) not in response.text
                assert response.json()["details"] == {}
    finally:
        api.close()


def test_reports_and_admin_actions_by_role(server: EmbeddedServer) -> None:
    anna = Api(server.url).login("anna")
    olga = Api(server.url).login("olga")
    admin = Api(server.url).login("admin", "admin")
    boris_id = next(o["id"] for o in anna.ok("GET", routes.OPERATORS) if o["login"] == "boris")
    enabled = routes.OPERATOR_ENABLED.format(operator_id=boris_id)
    anna.refused("PUT", enabled, 403, "forbidden", json={"enabled": False})
    olga.refused("PUT", enabled, 403, "forbidden", json={"enabled": False})
    anna.refused(
        "PUT",
        routes.OPERATOR_STATUS.format(operator_id=boris_id),
        403,
        "forbidden",
        json={"status": "away"},
    )
    assert (
        olga.ok(
            "PUT", routes.OPERATOR_STATUS.format(operator_id=boris_id), json={"status": "away"}
        )["status"]
        == "away"
    )
    admin.refused(
        "PUT",
        routes.OPERATOR_ENABLED.format(operator_id=admin.id),
        409,
        "conflict",
        json={"enabled": False},
    )
    for api in (anna, olga, admin):
        api.close()


Login = Callable[..., Api]
