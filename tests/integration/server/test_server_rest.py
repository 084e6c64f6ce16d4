"""REST over real HTTP on loopback: auth, listing, paging, idempotent send, error bodies."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.limits import MAX_MESSAGE_CHARS, MAX_REQUEST_BYTES
from operator_app.server import schema as s
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api

Login = Callable[..., Api]


def test_info_needs_no_login_and_openapi_is_served(server: EmbeddedServer) -> None:
    info = httpx.get(server.url + routes.INFO).json()
    assert info["protocol_version"] == PROTOCOL_VERSION
    assert info["min_protocol_version"] <= PROTOCOL_VERSION
    spec = httpx.get(server.url + "/openapi.json").json()
    assert routes.MESSAGES in spec["paths"]
    assert routes.INBOUND in spec["paths"]


def test_login_returns_token_and_operator(login: Login) -> None:
    anna = login("anna")
    assert anna.me["name"] == "Анна Смирнова"
    assert anna.me["role"] == "operator"
    assert anna.me["load"] == 4 and anna.me["capacity"] == 5
    assert anna.ok("GET", routes.ME)["login"] == "anna"


@pytest.mark.parametrize(
    ("name", "password"), [("anna", "wrong"), ("nobody", "demo"), ("ANNA", "demo")]
)
def test_wrong_credentials_are_refused_alike(
    server: EmbeddedServer, name: str, password: str
) -> None:
    api = Api(server.url)
    body = api.refused(
        "POST",
        routes.LOGIN,
        401,
        "invalid_credentials",
        json={"login": name, "password": password, "protocol_version": PROTOCOL_VERSION},
    )
    assert "anna" not in body["message"]
    api.close()


def test_incompatible_client_gets_a_clear_error(server: EmbeddedServer) -> None:
    api = Api(server.url)
    body = api.refused(
        "POST",
        routes.LOGIN,
        426,
        "incompatible_protocol",
        json={"login": "anna", "password": "demo", "protocol_version": PROTOCOL_VERSION + 1},
    )
    assert body["details"]["server_protocol_version"] == PROTOCOL_VERSION
    api.close()


def test_login_is_rate_limited_after_repeated_failures(server: EmbeddedServer) -> None:
    api = Api(server.url)
    wrong = {"login": "boris", "password": "nope", "protocol_version": PROTOCOL_VERSION}
    limit = server.backend.rate_limiter.per_login if server.backend else 0
    for _ in range(limit):
        api.refused("POST", routes.LOGIN, 401, "invalid_credentials", json=wrong)
    body = api.refused("POST", routes.LOGIN, 429, "rate_limited", json=wrong)
    assert body["details"]["retry_after"] > 0
    # even the right password waits: guessing cannot continue under the limit
    right = {**wrong, "password": "demo"}
    api.refused("POST", routes.LOGIN, 429, "rate_limited", json=right)
    api.close()


def test_missing_or_bad_token_is_unauthorized(server: EmbeddedServer) -> None:
    api = Api(server.url)
    api.refused("GET", routes.ME, 401, "unauthorized")
    api.token = "not-a-token"
    api.refused("GET", routes.DIALOGS, 401, "unauthorized")
    api.close()


def test_logout_revokes_the_token(login: Login) -> None:
    anna = login("anna")
    anna.ok("POST", routes.LOGOUT)
    anna.refused("GET", routes.ME, 401, "unauthorized")


def test_dialog_scopes_for_an_operator(login: Login) -> None:
    anna = login("anna")
    mine = anna.dialogs("mine")
    assert len(mine) == 4
    assert all(d["assignee_id"] == anna.id and d["state"] == "active" for d in mine)
    waiting = anna.dialogs("waiting")
    assert waiting, "the demo has dialogs waiting in anna's queues"
    assert all(d["state"] == "waiting" and d["queue_id"] in (1, 2) for d in waiting)
    closed = anna.dialogs("closed_today")
    assert closed and all(d["state"] == "closed" for d in closed)
    assert anna.dialogs("supervised") == []
    everything = {d["id"] for d in anna.dialogs()}
    assert {d["id"] for d in mine + waiting + closed} <= everything


def test_closed_today_begins_at_the_day_start_the_caller_gives(
    server: EmbeddedServer, login: Login
) -> None:
    anna = login("anna")
    backdated = anna.dialogs("closed_today")[0]["id"]
    now = datetime.now(UTC)
    assert server.backend is not None
    with server.backend.engine.begin() as conn:  # closed four hours ago
        conn.execute(
            update(s.dialogs)
            .where(s.dialogs.c.id == backdated)
            .values(closed_at=now - timedelta(hours=4))
        )

    def closed_since(hours: float) -> set[int]:
        start = (now - timedelta(hours=hours)).isoformat()
        return {d["id"] for d in anna.dialogs("closed_today", day_start=start)}

    assert backdated in closed_since(5)
    assert backdated not in closed_since(3)
    everything = anna.dialogs(day_start=(now - timedelta(hours=5)).isoformat())
    assert backdated in {d["id"] for d in everything}
    assert closed_since(3) <= closed_since(5)


@pytest.mark.parametrize("path", [routes.DIALOGS, routes.SUPERVISION_BOARD])
def test_a_day_start_without_a_time_zone_is_refused(login: Login, path: str) -> None:
    olga = login("olga")
    params = {"day_start": "2026-11-24T00:00:00"}
    body = olga.refused("GET", path, 422, "validation_error", params=params)
    assert body["message"] == "day_start needs a time zone"


def test_a_refused_field_says_where_what_kind_and_its_limit(login: Login) -> None:
    anna = login("anna")
    dialog_id = anna.dialogs("mine")[0]["id"]
    path = routes.TRANSFER.format(dialog_id=dialog_id)
    body = anna.refused("POST", path, 422, "validation_error", json={"comment": "я" * 2001})
    first = body["details"]["errors"][0]
    assert first["loc"] == ["body", "comment"]
    assert first["type"] == "string_too_long" and first["limit"] == 2000
    assert first["msg"]  # pydantic's words stay for a client that does not know the kind


def test_dialog_list_pages_with_an_opaque_cursor(login: Login) -> None:
    olga = login("olga")
    every = olga.dialogs("supervised")
    assert len(every) == 30
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"scope": "supervised", "limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = olga.ok("GET", routes.DIALOGS, params=params)
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [d["id"] for d in every]
    assert len(set(seen)) == 30


def test_messages_page_backwards_and_forwards(login: Login) -> None:
    anna = login("anna")
    long_one = max(anna.dialogs("mine"), key=lambda d: d["message_count"])
    path = routes.MESSAGES.format(dialog_id=long_one["id"])
    everything = anna.ok("GET", path, params={"limit": 500})["items"]
    ids = [m["id"] for m in everything]
    assert ids == sorted(ids) and len(ids) == long_one["message_count"] == 25

    newest = anna.ok("GET", path, params={"limit": 10})
    assert [m["id"] for m in newest["items"]] == ids[-10:]
    assert newest["next_cursor"] == str(ids[-10])
    older = anna.ok("GET", path, params={"limit": 10, "before_id": newest["next_cursor"]})
    assert [m["id"] for m in older["items"]] == ids[-20:-10]
    oldest = anna.ok("GET", path, params={"limit": 10, "before_id": older["next_cursor"]})
    assert [m["id"] for m in oldest["items"]] == ids[:5]
    assert oldest["next_cursor"] is None

    forward = anna.ok("GET", path, params={"limit": 10, "after_id": ids[2]})
    assert [m["id"] for m in forward["items"]] == ids[3:13]
    assert forward["next_cursor"] == str(ids[12])
    tail = anna.ok("GET", path, params={"limit": 50, "after_id": ids[12]})
    assert [m["id"] for m in tail["items"]] == ids[13:]
    assert tail["next_cursor"] is None


def test_send_is_idempotent_by_client_msg_id(login: Login) -> None:
    anna = login("anna")
    dialog = anna.dialogs("mine")[0]
    path = routes.MESSAGES.format(dialog_id=dialog["id"])
    body = {"client_msg_id": str(uuid.uuid4()), "text": "Уже проверяю ваш заказ."}
    first = anna.ok("POST", path, json=body)
    again = anna.ok("POST", path, json=body)
    assert again == first
    assert first["message"]["author_id"] == anna.id
    texts = [m["text"] for m in anna.messages(dialog["id"], limit=500)]
    assert texts.count("Уже проверяю ваш заказ.") == 1
    after = anna.dialog(dialog["id"])
    assert after["message_count"] == dialog["message_count"] + 1
    assert after["waiting_since"] is None and after["first_response_at"] is not None
    # the same id in another dialog is a client bug, not a retry
    other = anna.dialogs("mine")[1]
    anna.refused("POST", routes.MESSAGES.format(dialog_id=other["id"]), 409, "conflict", json=body)


def test_internal_comment_never_reaches_the_customer(server: EmbeddedServer, login: Login) -> None:
    anna = login("anna")
    dialog = anna.dialogs("mine")[0]
    anna.send(dialog["id"], "клиент VIP, не торопить", kind="comment")
    anna.send(dialog["id"], "Спасибо за ожидание!")
    outgoing = [item.text for item in server.connector.sent() if item.dialog_id == dialog["id"]]
    assert outgoing == ["Спасибо за ожидание!"]
    stored = anna.messages(dialog["id"], limit=2)
    assert [m["kind"] for m in stored] == ["comment", "message"]


def test_bad_input_gets_error_bodies(server: EmbeddedServer, login: Login) -> None:
    anna = login("anna")
    dialog_id = anna.dialogs("mine")[0]["id"]
    path = routes.MESSAGES.format(dialog_id=dialog_id)
    body = anna.refused("POST", path, 422, "validation_error", json={"text": "no id"})
    assert body["details"]["errors"]
    too_long = {"client_msg_id": str(uuid.uuid4()), "text": "x" * (MAX_MESSAGE_CHARS + 1)}
    anna.refused("POST", path, 422, "validation_error", json=too_long)
    blank = {"client_msg_id": str(uuid.uuid4()), "text": "   "}
    anna.refused("POST", path, 422, "validation_error", json=blank)
    anna.refused(
        "POST",
        path,
        422,
        "validation_error",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    anna.refused("GET", routes.DIALOGS, 422, "validation_error", params={"scope": "everything"})
    anna.refused("GET", routes.DIALOGS, 422, "validation_error", params={"limit": 100000})
    anna.refused("GET", routes.DIALOGS, 422, "validation_error", params={"cursor": "zz"})
    anna.refused("GET", "/api/v1/no-such-thing", 404, "not_found")
    anna.refused("GET", routes.DIALOG.format(dialog_id=999999), 404, "not_found")
    huge = b'{"text": "' + b"x" * (MAX_REQUEST_BYTES + 10) + b'"}'
    anna.refused(
        "POST",
        path,
        413,
        "payload_too_large",
        content=huge,
        headers={"Content-Type": "application/json"},
    )


def test_oversized_streamed_body_is_refused(server: EmbeddedServer, login: Login) -> None:
    anna = login("anna")
    path = routes.MESSAGES.format(dialog_id=anna.dialogs("mine")[0]["id"])

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 10_000

    anna.refused(
        "POST",
        path,
        413,
        "payload_too_large",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )


def test_contact_card_shows_the_omnichannel_history(login: Login) -> None:
    anna = login("anna")
    vip = next(d for d in anna.dialogs("mine") if "VIP" in d["tags"])
    card = anna.ok("GET", routes.CONTACT.format(contact_id=vip["contact_id"]))
    channels = {i["channel"] for i in card["contact"]["identities"]}
    assert channels == {"whatsapp", "telegram"}
    history = {(h["channel"], h["state"]) for h in card["dialogs"]}
    assert ("whatsapp", "closed") in history and ("telegram", "active") in history


def test_operators_and_queues_are_listed(login: Login) -> None:
    boris = login("boris")
    operators = {o["login"]: o for o in boris.ok("GET", routes.OPERATORS)}
    assert set(operators) == {"anna", "boris", "elena", "dmitry", "olga", "admin"}
    assert operators["olga"]["supervised_queue_ids"] == [1, 2, 3]
    assert operators["elena"]["status"] == "away"
    queues = {q["name"]: q for q in boris.ok("GET", routes.QUEUES)}
    assert {q["sla_seconds"] for q in queues.values()} == {60, 120, 300}
    assert queues["Продажи"]["waiting_count"] >= 1
