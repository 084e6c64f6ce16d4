"""A fake Chatwoot on 127.0.0.1: REST + ActionCable over real websockets (FastAPI + uvicorn).

Every JSON answer is checked against Chatwoot's OpenAPI document before it leaves, and so is
every request it receives, so the adapter is tested against what Chatwoot documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from .contract import Contract

ACCOUNT = 1
TOKEN = "agent-token-7"
ME = {"id": 7, "name": "Alice Agent", "email": "alice@example.test"}
BOB = {"id": 8, "name": "Bob Agent", "email": "bob@example.test"}
PUBSUB = "pubsub-alice"
TEAM = {"id": 3, "name": "Sales"}
INBOX = {"id": 1, "name": "Site", "channel_type": "Channel::WebWidget"}


@dataclass
class FakeChatwoot:
    contract: Contract
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    canned: dict[int, dict[str, Any]] = field(default_factory=dict)
    sockets: list[WebSocket] = field(default_factory=list)
    broadcasting: bool = True
    presence_pings: int = 0
    subscribe_identifiers: list[dict[str, Any]] = field(default_factory=list)
    ping_seconds: float = 1.0
    pubsub: str = PUBSUB  # a different one makes the cable reject the subscription
    files: dict[str, bytes] = field(default_factory=dict)  # ActiveStorage key -> content
    base_url: str = ""  # set by running()
    _clock: float = 0.0
    _next_message: int = 100

    # ---- world -----------------------------------------------------------------------------

    def now(self) -> float:
        self._clock = max(time.time(), self._clock + 0.001)  # strictly increasing
        return self._clock

    def add_conversation(
        self, display_id: int, contact_name: str, *, assignee: bool = True
    ) -> None:
        stamp = self.now()
        self.conversations[display_id] = {
            "id": display_id,
            "account_id": ACCOUNT,
            "inbox_id": INBOX["id"],
            "status": "open",
            "labels": [],
            "created_at": stamp,
            "updated_at": stamp,
            "timestamp": stamp,
            "last_activity_at": stamp,
            "unread_count": 0,
            "contact": {"id": 500 + display_id, "name": contact_name},
            "assignee_id": ME["id"] if assignee else None,
            "team_id": None,
        }

    def add_message(
        self,
        display_id: int,
        text: str,
        *,
        incoming: bool = True,
        private: bool = False,
        echo_id: str | None = None,
    ) -> dict[str, Any]:
        self._next_message += 1
        conversation = self.conversations[display_id]
        stamp = self.now()
        contact = conversation["contact"]
        message = {
            "id": self._next_message,
            "content": text,
            "account_id": ACCOUNT,
            "inbox_id": INBOX["id"],
            "conversation_id": display_id,
            "message_type": 0 if incoming else 1,
            "created_at": int(stamp),
            "updated_at": int(stamp),
            "private": private,
            "status": "sent",
            "source_id": None,
            "content_type": "text",
            "content_attributes": {},
            "sender_type": "Contact" if incoming else "User",
            "sender_id": contact["id"] if incoming else ME["id"],
            "sender": {"id": contact["id"], "name": contact["name"]}
            if incoming
            else {"id": ME["id"], "name": ME["name"], "type": "user"},
        }
        self.messages.append(message)
        conversation["updated_at"] = conversation["last_activity_at"] = stamp
        event = {**message, "echo_id": echo_id} if echo_id else dict(message)
        self.broadcast("message.created", event)
        return message

    def attach(self, display_id: int, name: str, data: bytes) -> dict[str, Any]:
        """A customer message with one file, linked the way Chatwoot links it (data_url)."""
        message = self.add_message(display_id, "")
        key = f"blob{len(self.files) + 1}"
        self.files[key] = data
        message["attachments"] = [
            {
                "id": len(self.files),
                "message_id": message["id"],
                "file_type": "image" if name.endswith(".png") else "file",
                "account_id": ACCOUNT,
                "data_url": f"{self.base_url}/rails/active_storage/blobs/redirect/{key}/{name}",
                "thumb_url": "",
                "file_size": len(data),
            }
        ]
        return message

    def edit_message(self, message_id: int, text: str) -> None:
        message = next(m for m in self.messages if m["id"] == message_id)
        message["content"], message["updated_at"] = text, int(self.now())
        self.broadcast("message.updated", dict(message))

    def delete_message(self, message_id: int) -> None:
        """As Chatwoot does: the row stays, its content is replaced and flagged deleted."""
        message = next(m for m in self.messages if m["id"] == message_id)
        message["content"] = "This message was deleted"
        message["content_attributes"] = {"deleted": True}
        message["updated_at"] = int(self.now())
        self.broadcast("message.updated", dict(message))

    def resolve(self, display_id: int) -> None:
        """Resolved in Chatwoot's web app: the activity message it adds bumps last_activity_at."""
        stamp = self.now()
        conversation = self.conversations[display_id]
        conversation["status"] = "resolved"
        conversation["updated_at"] = conversation["last_activity_at"] = stamp
        self.broadcast("conversation.status_changed", self.conversation_json(display_id))

    def conversation_json(self, display_id: int) -> dict[str, Any]:
        c = self.conversations[display_id]
        meta: dict[str, Any] = {
            "sender": c["contact"],
            "channel": INBOX["channel_type"],
            "hmac_verified": False,
        }
        if c["assignee_id"] is not None:
            agent = ME if c["assignee_id"] == ME["id"] else BOB
            meta["assignee"] = {**agent, "role": "agent"}
        if c["team_id"] is not None:
            meta["team"] = TEAM
        mine = [m for m in self.messages if m["conversation_id"] == display_id]
        body = {k: v for k, v in c.items() if k not in ("contact", "assignee_id", "team_id")}
        return {**body, "meta": meta, "messages": mine[-1:]}

    def touch(self, display_id: int, event: str) -> None:
        stamp = self.now()
        self.conversations[display_id]["updated_at"] = stamp
        self.broadcast(event, self.conversation_json(display_id))

    # ---- ActionCable -----------------------------------------------------------------------

    def broadcast(self, event: str, data: dict[str, Any]) -> None:
        if not self.broadcasting:
            return
        identifier = json.dumps({"channel": "RoomChannel"})
        frame = json.dumps(
            {
                "identifier": identifier,
                "message": {"event": event, "data": {**data, "account_id": ACCOUNT}},
            }
        )
        for ws in list(self.sockets):
            task = asyncio.get_running_loop().create_task(ws.send_text(frame))
            _PENDING.add(task)
            task.add_done_callback(_PENDING.discard)

    async def send_raw(self, text: str) -> None:
        for ws in list(self.sockets):
            await ws.send_text(text)

    async def drop_sockets(self) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1012)
        self.sockets.clear()


_PENDING: set[asyncio.Task[None]] = set()


def build_app(fake: FakeChatwoot) -> FastAPI:
    app = FastAPI()
    contract = fake.contract
    base = f"/api/v1/accounts/{ACCOUNT}"

    async def answer(request: Request, body: Any, status: int = 200) -> Response:
        raw = await request.body()
        received = json.loads(raw) if raw else None
        contract.check_request(
            request.method,
            request.url.path,
            dict(request.query_params),
            received,
            dict(request.headers),
        )
        contract.check_response(request.method, request.url.path, status, body)
        return JSONResponse(body, status_code=status)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        signed = request.url.path.startswith("/rails/active_storage/")  # signed URLs: no token
        if not signed and request.headers.get("api_access_token") != TOKEN:
            return JSONResponse({"error": "Invalid Access Token"}, status_code=401)
        response: Response = await call_next(request)
        return response

    @app.get("/api/v1/profile")
    async def profile(request: Request) -> Response:
        accounts = [
            {
                "id": ACCOUNT,
                "name": "Shop",
                "role": "agent",
                "availability": "online",
                "availability_status": "online",
                "auto_offline": True,
            }
        ]
        body = {
            **ME,
            "pubsub_token": PUBSUB,
            "access_token": TOKEN,
            "role": "agent",
            "accounts": accounts,
        }
        return await answer(request, body)

    @app.get(f"{base}/agents")
    async def agents(request: Request) -> Response:
        listed = [
            {**a, "role": "agent", "availability_status": "available", "account_id": ACCOUNT}
            for a in (ME, BOB)
        ]
        return await answer(request, listed)

    @app.get(f"{base}/teams")
    async def teams(request: Request) -> Response:
        return await answer(request, [{**TEAM, "account_id": ACCOUNT, "is_member": True}])

    @app.get(f"{base}/inboxes")
    async def inboxes(request: Request) -> Response:
        return await answer(request, {"payload": [INBOX]})

    @app.get(f"{base}/canned_responses")
    async def canned(request: Request) -> Response:
        return await answer(request, list(fake.canned.values()))

    @app.post(f"{base}/canned_responses")
    async def canned_create(request: Request) -> Response:
        data = await request.json()
        new_id = max(fake.canned, default=0) + 1
        fake.canned[new_id] = {"id": new_id, "account_id": ACCOUNT, **data}
        return await answer(request, fake.canned[new_id])

    @app.get(f"{base}/conversations")
    async def conversations(request: Request) -> Response:
        status = request.query_params.get("status", "open")
        kind = request.query_params.get("assignee_type", "all")
        page = int(request.query_params.get("page", "1"))
        chosen = [
            c
            for c in fake.conversations.values()
            if (status == "all" or c["status"] == status)
            and (kind == "all" or (kind == "me") == (c["assignee_id"] == ME["id"]))
        ]
        chosen.sort(key=lambda c: c["last_activity_at"], reverse=True)
        window = chosen[(page - 1) * 25 : page * 25]
        payload = [fake.conversation_json(c["id"]) for c in window]
        meta = {
            "mine_count": 0,
            "assigned_count": 0,
            "unassigned_count": 0,
            "all_count": len(chosen),
        }
        return await answer(request, {"data": {"meta": meta, "payload": payload}})

    @app.get(base + "/conversations/{display_id}")
    async def conversation(request: Request, display_id: int) -> Response:
        if display_id not in fake.conversations:
            return await answer(request, {"error": "not found"}, 404)
        return await answer(request, fake.conversation_json(display_id))

    @app.get(base + "/conversations/{display_id}/messages")
    async def history(request: Request, display_id: int) -> Response:
        mine = [m for m in fake.messages if m["conversation_id"] == display_id]
        after, before = request.query_params.get("after"), request.query_params.get("before")
        if after is not None:
            mine = [m for m in mine if m["id"] > int(after)][:100]
        else:
            if before is not None:
                mine = [m for m in mine if m["id"] < int(before)]
            mine = mine[-20:]
        return await answer(request, {"meta": {"labels": []}, "payload": mine})

    @app.post(base + "/conversations/{display_id}/messages")
    async def send(request: Request, display_id: int) -> Response:
        data = await request.json()
        message = fake.add_message(
            display_id,
            data["content"],
            incoming=False,
            private=bool(data.get("private")),
            echo_id=data.get("echo_id"),
        )
        return await answer(request, message)

    @app.post(base + "/conversations/{display_id}/toggle_status")
    async def toggle(request: Request, display_id: int) -> Response:
        data = await request.json()
        fake.conversations[display_id]["status"] = data["status"]
        fake.touch(display_id, "conversation.status_changed")
        payload = {"success": True, "current_status": data["status"], "conversation_id": display_id}
        return await answer(request, {"meta": {}, "payload": payload})

    @app.post(base + "/conversations/{display_id}/assignments")
    async def assign(request: Request, display_id: int) -> Response:
        data = await request.json()
        conversation = fake.conversations[display_id]
        if data.get("assignee_id") is not None:
            conversation["assignee_id"] = data["assignee_id"]
            fake.touch(display_id, "assignee.changed")
        else:
            conversation["team_id"] = data.get("team_id")
            fake.touch(display_id, "team.changed")
        agent = ME if conversation["assignee_id"] == ME["id"] else BOB
        return await answer(request, {**agent, "role": "agent"})

    @app.post(base + "/conversations/{display_id}/labels")
    async def labels(request: Request, display_id: int) -> Response:
        data = await request.json()
        fake.conversations[display_id]["labels"] = list(data["labels"])
        fake.touch(display_id, "conversation.updated")
        return await answer(request, {"payload": list(data["labels"])})

    @app.post(base + "/conversations/{display_id}/toggle_typing_status")
    async def typing(request: Request, display_id: int) -> Response:
        await answer(request, None)
        return Response(status_code=200)

    @app.get(base + "/contacts/{contact_id}")
    async def contact(request: Request, contact_id: int) -> Response:
        for c in fake.conversations.values():
            if c["contact"]["id"] == contact_id:
                body = {
                    "id": contact_id,
                    "name": c["contact"]["name"],
                    "email": None,
                    "phone_number": "+100200300",
                    "created_at": int(c["created_at"]),
                }
                return await answer(request, {"payload": body})
        return await answer(request, {"error": "not found"}, 404)

    @app.get(base + "/contacts/{contact_id}/conversations")
    async def contact_conversations(request: Request, contact_id: int) -> Response:
        mine = [
            fake.conversation_json(c["id"])
            for c in fake.conversations.values()
            if c["contact"]["id"] == contact_id
        ]
        return await answer(request, {"payload": mine})

    @app.get("/rails/active_storage/blobs/redirect/{key}/{name}")
    async def blob(key: str, name: str) -> Response:
        """As ActiveStorage does: a redirect to where the bytes are served."""
        target = f"/rails/active_storage/disk/{key}/{name}"
        return Response(status_code=302, headers={"Location": target})

    @app.get("/rails/active_storage/disk/{key}/{name}")
    async def disk(key: str, name: str) -> Response:
        if key not in fake.files:
            return Response(status_code=404)
        return Response(fake.files[key], media_type="application/octet-stream")

    @app.websocket("/cable")
    async def cable(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(json.dumps({"type": "welcome"}))
        pinger = asyncio.get_running_loop().create_task(_ping(ws, fake.ping_seconds))
        try:
            while True:
                frame = json.loads(await ws.receive_text())
                if frame.get("command") == "subscribe":
                    identifier = json.loads(frame["identifier"])
                    fake.subscribe_identifiers.append(identifier)
                    ok = identifier.get("pubsub_token") == fake.pubsub
                    reply = "confirm_subscription" if ok else "reject_subscription"
                    await ws.send_text(
                        json.dumps({"identifier": frame["identifier"], "type": reply})
                    )
                    if ok:
                        fake.sockets.append(ws)
                elif frame.get("command") == "message" and _is_presence(frame):
                    fake.presence_pings += 1
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            pinger.cancel()
            if ws in fake.sockets:
                fake.sockets.remove(ws)

    return app


def _is_presence(frame: dict[str, Any]) -> bool:
    return bool(json.loads(frame["data"]).get("action") == "update_presence")


async def _ping(ws: WebSocket, every: float) -> None:
    with contextlib.suppress(Exception):
        while True:
            await asyncio.sleep(every)
            await ws.send_text(json.dumps({"type": "ping", "message": int(time.time())}))


@contextlib.asynccontextmanager
async def running(fake: FakeChatwoot) -> AsyncIterator[str]:
    config = uvicorn.Config(
        build_app(fake),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake.base_url
    finally:
        await fake.drop_sockets()
        server.should_exit = True
        await task
