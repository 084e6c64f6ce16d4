"""The lean inbound route (app.LeanRoutes) answers exactly as the FastAPI route does.

``application/json`` takes the lean route; ``application/vnd.api+json`` is JSON to FastAPI
but not to the lean route, so the same request through the framework gives the reference
answer to compare with, byte for byte.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from starlette.types import Message, Receive, Scope, Send

from operator_app.protocol import routes
from operator_app.protocol.limits import MAX_REQUEST_BYTES
from operator_app.server import inbound, security
from operator_app.server import schema as s
from operator_app.server.app import LeanRoutes
from operator_app.server.embedded import EmbeddedServer

LEAN = "application/json"
FRAMEWORK = "application/vnd.api+json"


def post(
    server: EmbeddedServer,
    body: Any,
    content_type: str,
    *,
    channel: str = "telegram",
    secret: str | None = "demo-telegram-secret",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Channel-Secret"] = secret
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        server.url + routes.INBOUND.format(channel=channel), content=raw, headers=headers
    )


def message(**fields: Any) -> dict[str, Any]:
    return {"address": "@fast", "text": "Привет", "external_id": uuid.uuid4().hex, **fields}


def same_answer(lean: httpx.Response, framework: httpx.Response) -> None:
    assert lean.status_code == framework.status_code
    assert lean.content == framework.content
    for header in ("content-type", "www-authenticate"):
        assert lean.headers.get(header) == framework.headers.get(header)


def test_a_message_and_its_retries_answer_alike_on_both_routes(server: EmbeddedServer) -> None:
    body = message()
    first = post(server, body, LEAN)
    assert first.status_code == 200
    accepted = first.json()
    assert accepted["duplicate"] is False
    retried_lean = post(server, body, LEAN)
    retried_framework = post(server, body, FRAMEWORK)
    same_answer(retried_lean, retried_framework)
    assert retried_lean.json() == {**accepted, "duplicate": True}
    fresh = post(server, message(address="@fast-2"), FRAMEWORK)
    assert set(fresh.json()) == set(accepted)  # the same fields on both routes


@pytest.mark.parametrize(
    ("body", "kwargs"),
    [
        (message(), {"secret": "wrong"}),
        (message(), {"secret": None}),
        (message(text="   "), {}),  # refused by the service: an empty message
        ({"address": "@fast", "external_id": "x"}, {}),  # no text: refused by the model
        (message(address=""), {}),
        (b"{not json", {}),
        (b"[1, 2]", {}),
        (message(), {"channel": "carrier-pigeon"}),
        (message(queue_id="nine"), {}),
    ],
)
def test_refusals_are_the_frameworks(
    server: EmbeddedServer, body: Any, kwargs: dict[str, Any]
) -> None:
    lean = post(server, body, LEAN, **kwargs)
    framework = post(server, body, FRAMEWORK, **kwargs)
    assert lean.status_code >= 400
    same_answer(lean, framework)


def test_an_invalid_body_is_refused_before_the_secret(server: EmbeddedServer) -> None:
    answer = post(server, {"address": "@fast"}, LEAN, secret="wrong")
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"


def test_a_streamed_body_is_read_whole_and_an_oversized_one_refused(
    server: EmbeddedServer,
) -> None:
    raw = json.dumps(message(text="по частям")).encode()

    def chunks(data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), 7):
            yield data[start : start + 7]

    url = server.url + routes.INBOUND.format(channel="telegram")
    headers = {"Content-Type": LEAN, "X-Channel-Secret": "demo-telegram-secret"}
    streamed = httpx.post(url, content=chunks(raw), headers=headers)
    assert streamed.status_code == 200, streamed.text
    assert streamed.json()["duplicate"] is False
    huge = json.dumps(message(text="x" * (MAX_REQUEST_BYTES + 10))).encode()
    for body in (huge, chunks(huge)):  # declared length, then streamed without one
        refused = httpx.post(url, content=body, headers=headers)
        assert refused.status_code == 413
        assert refused.json()["code"] == "payload_too_large"


@pytest.mark.asyncio
async def test_only_the_lean_route_answers_a_plain_json_post(server: EmbeddedServer) -> None:
    assert server.backend is not None
    reached: list[bytes] = []

    async def framework(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()  # the body the lean route read, replayed
        reached.append(message["body"])

    lean = LeanRoutes(framework, server.backend)
    body = json.dumps(message()).encode()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    for content_type, expected in ((LEAN, []), (FRAMEWORK, [body])):
        sent.clear()
        scope = {
            "type": "http",
            "method": "POST",
            "path": routes.INBOUND.format(channel="telegram"),
            "headers": [
                (b"content-type", content_type.encode()),
                (b"x-channel-secret", b"demo-telegram-secret"),
            ],
        }
        await lean(scope, receive, send)
        assert reached == expected
        if not expected:
            assert sent[0]["status"] == 200
            assert json.loads(sent[1]["body"])["duplicate"] is False


def test_a_remembered_secret_still_refuses_others_and_a_rotation(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(server, message(), LEAN).status_code == 200  # remembered from now on
    assert post(server, message(), LEAN, secret="demo-telegram-secreT").status_code == 401
    assert post(server, message(), LEAN, secret="").status_code == 401
    not_ascii = httpx.post(
        server.url + routes.INBOUND.format(channel="telegram"),
        json=message(),
        headers={b"X-Channel-Secret": "démo".encode("latin-1")},
    )
    assert not_ascii.status_code == 401
    assert server.backend is not None
    with server.backend.engine.begin() as conn:
        conn.execute(
            update(s.channels)
            .where(s.channels.c.channel == "telegram")
            .values(secret_hash=security.digest("rotated"))
        )
    monkeypatch.setattr(inbound, "SECRET_TTL", 0.0)  # the hash is read again at once
    assert post(server, message(), LEAN).status_code == 401
    assert post(server, message(), LEAN, secret="rotated").status_code == 200
