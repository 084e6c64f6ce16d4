"""Helpers for the server's integration tests: a REST client and a websocket client on loopback."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.server import cli

Json = Any
SMALL_PASSWORD = "small-world-pw"  # every account of the small world (conftest.small_world)


class Api:
    """httpx on the real server, with the bearer token of the operator it logged in as."""

    def __init__(self, base_url: str, **client_args: Any) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10, **client_args)
        self.token = ""
        self.me: Json = {}

    def close(self) -> None:
        self.http.close()

    def login(self, login: str, password: str = "demo") -> Api:
        response = self.http.post(
            routes.LOGIN,
            json={"login": login, "password": password, "protocol_version": PROTOCOL_VERSION},
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["token"]
        self.me = response.json()["operator"]
        return self

    @property
    def id(self) -> int:
        return int(self.me["id"])

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Json:
        response = self.request(method, path, **kwargs)
        assert 200 <= response.status_code < 300, f"{response.status_code} {response.text}"
        return response.json() if response.content else None

    def refused(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> Json:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, f"{response.status_code} {response.text}"
        body = response.json()
        assert body["code"] == code, body
        assert set(body) == {"code", "message", "details"}
        return body

    # shortcuts for the common calls
    def dialog(self, dialog_id: int) -> Json:
        return self.ok("GET", routes.DIALOG.format(dialog_id=dialog_id))

    def dialogs(self, scope: str = "all_visible", **params: Any) -> list[Json]:
        page = self.ok("GET", routes.DIALOGS, params={"scope": scope, "limit": 500, **params})
        return list(page["items"])

    def send(self, dialog_id: int, text: str, kind: str = "message", **extra: Any) -> Json:
        body = {"client_msg_id": str(uuid.uuid4()), "text": text, "kind": kind, **extra}
        return self.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)

    def messages(self, dialog_id: int, **params: Any) -> list[Json]:
        page = self.ok("GET", routes.MESSAGES.format(dialog_id=dialog_id), params=params)
        return list(page["items"])

    def status(self, status: str) -> Json:
        return self.ok("PUT", routes.MY_STATUS, json={"status": status})


def customer_says(
    base_url: str,
    channel: str,
    address: str,
    text: str,
    *,
    name: str = "",
    external_id: str | None = None,
    queue_id: int | None = None,
    secret: str | None = None,
) -> Json:
    body: dict[str, Any] = {
        "address": address,
        "name": name,
        "text": text,
        "external_id": external_id or str(uuid.uuid4()),
    }
    if queue_id is not None:
        body["queue_id"] = queue_id
    response = httpx.post(
        base_url + routes.INBOUND.format(channel=channel),
        json=body,
        headers={"X-Channel-Secret": secret or f"demo-{channel}-secret"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


class Ws:
    """A real websocket client that speaks the protocol's frames."""

    def __init__(self, base_url: str, token: str, since: int | None = None, **kw: Any) -> None:
        url = base_url.replace("http", "ws", 1) + routes.WS
        self.conn: ClientConnection = connect(url, max_size=None, legacy=True, **kw)
        if token:
            self.send(
                {
                    "type": "auth",
                    "token": token,
                    "protocol_version": PROTOCOL_VERSION,
                    "since_cursor": since,
                }
            )

    def send(self, frame: Json) -> None:
        self.conn.send(json.dumps(frame))

    def recv(self, timeout: float = 5.0) -> Json:
        return json.loads(self.conn.recv(timeout=timeout))

    def handshake(self) -> tuple[Json, list[Json], Json]:
        """hello, the replayed frames, and the frame that ended the replay."""
        hello = self.recv()
        assert hello["type"] == "hello", hello
        replayed: list[Json] = []
        while True:
            frame = self.recv()
            if frame["type"] in ("replay_done", "resync_required"):
                return hello, replayed, frame
            replayed.append(frame)

    def until(self, predicate: Callable[[Json], bool], timeout: float = 5.0) -> Json:
        """The first frame that matches; fails after the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no matching frame in time"
            frame = self.recv(timeout=left)
            if predicate(frame):
                return frame

    def quiet(self, seconds: float = 0.3) -> list[Json]:
        """Everything that arrives within a short while."""
        frames = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frames.append(self.recv(timeout=left))
            except TimeoutError:
                break
        return frames

    def close_code(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close the connection; returns its close code."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.conn.recv(timeout=deadline - time.monotonic())
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        raise AssertionError("the server did not close the websocket")

    def close(self) -> None:
        self.conn.close()


def event_kinds(frames: list[Json]) -> list[str]:
    return [f["event"]["kind"] for f in frames if f["type"] == "event"]


def run_cli(*args: str) -> None:
    assert cli.main(list(args)) == 0


def signs_in(url: str, login: str, password: str) -> bool:
    """Whether the password signs in; any other refusal than invalid_credentials fails."""
    api = Api(url)
    try:
        response = api.http.post(
            routes.LOGIN,
            json={"login": login, "password": password, "protocol_version": PROTOCOL_VERSION},
        )
    finally:
        api.close()
    if response.status_code == 200:
        return True
    assert response.json()["code"] == "invalid_credentials", response.text
    return False
