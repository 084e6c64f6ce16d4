"""Bad input against the real server: schemathesis over /openapi.json, hypothesis-made REST
bodies and websocket frames. No 500, no crash, other clients keep being served, oversized
frames are refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.errors import WS_CLOSE_BAD_FRAME, WS_CLOSE_TOO_LARGE
from operator_app.protocol.limits import MAX_WS_FRAME_BYTES
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.reliability_world import FIGURES, sized

EXAMPLES = sized(2, 40)
FUZZ_EXAMPLES = sized(40, 600)
SKIPPED_OPERATIONS = {"POST /api/v1/auth/logout"}  # would revoke the fuzzing session itself
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(reply_to_operators=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: EmbeddedServer) -> str:
    return login(server.url, "anna")


def login(url: str, name: str) -> str:
    body = {"login": name, "password": "demo", "protocol_version": PROTOCOL_VERSION}
    answer = httpx.post(url + routes.LOGIN, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def still_serving(url: str, token: str) -> None:
    """Another client is served normally."""
    info = httpx.get(url + routes.INFO, timeout=5)
    assert info.status_code == 200
    me = httpx.get(url + routes.ME, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200, me.text


def assert_clear_refusal(response: httpx.Response | Any, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.text[:500]}"
    if status >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "details"}, f"{what}: {body}"


def test_schemathesis_finds_no_server_error(server: EmbeddedServer, token: str) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}", "X-Channel-Secret": "demo-telegram-secret"}
    tried = 0
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation of the schema is invalid: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 25, "the OpenAPI schema lost its routes"
    for operation in operations:
        if f"{operation.method.upper()} {operation.path}" in SKIPPED_OPERATIONS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                nonlocal tried
                tried += 1
                response = case.call(base_url=server.url, headers=headers, timeout=10)
                assert_clear_refusal(response, f"{case.method} {case.formatted_path}")

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break: no parameters
    still_serving(server.url, token)
    FIGURES.add("bad input: schemathesis", bad_inputs_tried=tried)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
BODY_ROUTES = [
    ("POST", routes.LOGIN, ("login", "password", "protocol_version", "client_name")),
    ("POST", routes.MESSAGES.format(dialog_id=1), ("client_msg_id", "text", "kind")),
    ("POST", routes.TRANSFER.format(dialog_id=1), ("to_operator_id", "to_queue_id", "comment")),
    ("POST", routes.CLOSE.format(dialog_id=1), ("resolution", "tags")),
    ("PUT", routes.TAGS.format(dialog_id=1), ("tags",)),
    ("PUT", routes.MY_STATUS, ("status",)),
    ("POST", routes.TEMPLATES, ("scope", "shortcut", "title", "body", "queue_id")),
    ("POST", routes.INBOUND.format(channel="telegram"), ("address", "text", "external_id")),
    ("POST", routes.INBOUND_RATING.format(channel="telegram"), ("address", "dialog_id")),
    ("POST", routes.WHISPER.format(dialog_id=1), ("text",)),
]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, str, bytes]:
    method, path, fields = draw(st.sampled_from(BODY_ROUTES))
    shape = draw(st.sampled_from(["fields", "json", "bytes"]))
    if shape == "fields":  # the right names with wrong or hostile values
        body: Any = {name: draw(json_values) for name in fields if draw(st.booleans())}
        raw = json.dumps(body).encode()
    elif shape == "json":
        raw = json.dumps(draw(json_values)).encode()
    else:
        raw = draw(st.binary(max_size=300))
    return method, path, raw


def test_hypothesis_rest_bodies_get_clear_refusals(server: EmbeddedServer, token: str) -> None:
    tried = 0
    client = httpx.Client(base_url=server.url, timeout=10)
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Channel-Secret": "demo-telegram-secret",
        "Content-Type": "application/json",
    }

    @FUZZ_SETTINGS
    @given(bodies())
    def post(request: tuple[str, str, bytes]) -> None:
        nonlocal tried
        method, path, raw = request
        tried += 1
        response = client.request(method, path, content=raw, headers=headers)
        assert_clear_refusal(response, f"{method} {path} {raw[:200]!r}")

    try:
        post()
    finally:
        client.close()
    still_serving(server.url, token)
    FIGURES.add("bad input: REST bodies", bad_inputs_tried=tried)


def ws_url(url: str) -> str:
    return url.replace("http", "ws", 1) + routes.WS


def open_session(url: str, token: str) -> ClientConnection:
    conn = connect(ws_url(url), max_size=None, compression=None, legacy=True)
    auth = {"type": "auth", "token": token, "protocol_version": PROTOCOL_VERSION}
    conn.send(json.dumps(auth))
    while json.loads(conn.recv(timeout=5))["type"] != "replay_done":
        pass
    return conn


frames = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["ping", "typing", "auth", "event", "hello", "x"])},
        optional={"dialog_id": json_values, "on": json_values, "nonce": json_values},
    ).map(json.dumps),
)


def test_hypothesis_websocket_frames_never_hurt_the_server(
    server: EmbeddedServer, token: str
) -> None:
    """Every bad frame gets an error frame or a 4003 close; a bystander keeps its pongs."""
    bystander = open_session(server.url, login(server.url, "boris"))
    state: dict[str, Any] = {"conn": open_session(server.url, token), "tried": 0, "closed": 0}

    @FUZZ_SETTINGS
    @given(frames)
    def send(frame: str | bytes) -> None:
        state["tried"] += 1
        conn: ClientConnection = state["conn"]
        try:
            conn.send(frame)
            conn.send(json.dumps({"type": "ping", "nonce": "after"}))
            deadline = time.monotonic() + 5
            while json.loads(conn.recv(timeout=deadline - time.monotonic())) != {
                "type": "pong",
                "nonce": "after",
            }:
                pass
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            assert code == WS_CLOSE_BAD_FRAME, f"closed with {code} after {frame!r:.200}"
            state["closed"] += 1
            state["conn"] = open_session(server.url, token)

    try:
        send()
        bystander.send(json.dumps({"type": "ping", "nonce": "bystander"}))
        assert json.loads(bystander.recv(timeout=5)) == {"type": "pong", "nonce": "bystander"}
        oversized = state["conn"]
        oversized.send("x" * (MAX_WS_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            oversized.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == WS_CLOSE_TOO_LARGE
    finally:
        bystander.close()
        state["conn"].close()
    still_serving(server.url, token)
    FIGURES.add("bad input: websocket frames", bad_inputs_tried=state["tried"] + 1)
    FIGURES.note(f"websocket fuzz: {state['closed']} sessions closed with 4003, none with 1011")
