"""A fake ApiClient for the core unit tests: an in-memory server with the same answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from operator_app.net.api import ApiClient
from operator_app.net.errors import ApiError, ServerUnreachable
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import (
    Attachment,
    Author,
    Dialog,
    DialogScope,
    Message,
    Operator,
    Page,
    Queue,
    SendMessageRequest,
    SendMessageResponse,
    Template,
)
from tests.unit.core.core_factories import T0, operator, queue


class FakeApi:
    def __init__(self) -> None:
        self.token: str | None = "tok"
        self.base_url = "http://127.0.0.1:9"
        self.ssl_context = None
        self.me_operator: Operator = operator(1)
        self.operator_list: list[Operator] = [operator(1), operator(2)]
        self.queue_list: list[Queue] = [queue(10)]
        self.template_list: list[Template] = []
        self.dialog_list: list[Dialog] = []
        self.history: dict[int, list[Message]] = {}
        self.sent: dict[str, Message] = {}  # client_msg_id -> stored message
        self.calls: list[str] = []
        self.down = False
        self.lose_answers = 0  # store the message but fail the answer this many times
        self.refuse: dict[str, ApiError] = {}  # text -> refusal
        self.uploads: list[str] = []
        self.day_starts: list[Any] = []  # what each dialogs() call was given
        self._next_id = 1000

    def as_client(self) -> ApiClient:
        return cast(ApiClient, self)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise ServerUnreachable("connection refused")

    async def me(self) -> Operator:
        self._call("me")
        return self.me_operator

    async def operators(self) -> list[Operator]:
        self._call("operators")
        return self.operator_list

    async def queues(self) -> list[Queue]:
        self._call("queues")
        return self.queue_list

    async def templates(self) -> list[Template]:
        self._call("templates")
        return self.template_list

    async def dialogs(
        self,
        scope: DialogScope,
        *,
        cursor: str | None = None,
        limit: int = 100,
        updated_since: Any = None,
        day_start: Any = None,
    ) -> Page[Dialog]:
        self._call("dialogs")
        self.day_starts.append(day_start)
        start = int(cursor or 0)
        items = self.dialog_list[start : start + limit]
        more = start + limit < len(self.dialog_list)
        return Page[Dialog](items=items, next_cursor=str(start + limit) if more else None)

    async def dialog(self, dialog_id: int) -> Dialog:
        self._call(f"dialog:{dialog_id}")
        for dialog in self.dialog_list:
            if dialog.id == dialog_id:
                return dialog
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such dialog")

    async def messages(
        self,
        dialog_id: int,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> Page[Message]:
        self._call(f"messages:{dialog_id}:{before_id}")
        older = [
            m for m in self.history.get(dialog_id, []) if before_id is None or m.id < before_id
        ]
        page = older[-limit:]
        more = len(older) > len(page)
        return Page[Message](items=page, next_cursor=str(page[0].id) if more and page else None)

    async def send_message(self, dialog_id: int, body: SendMessageRequest) -> SendMessageResponse:
        self._call(f"send:{body.text}")
        if body.text in self.refuse:
            raise self.refuse[body.text]
        stored = self.sent.get(body.client_msg_id)
        if stored is None:
            self._next_id += 1
            stored = Message(
                id=self._next_id,
                dialog_id=dialog_id,
                author=Author.OPERATOR,
                author_id=1,
                author_name="Operator 1",
                kind=body.kind,
                text=body.text,
                client_msg_id=body.client_msg_id,
                attachments=[
                    Attachment(id=i, name="f", mime="text/plain", size=1, url=f"/a/{i}")
                    for i in body.attachment_ids
                ],
                created_at=T0 + timedelta(seconds=self._next_id),
            )
            self.sent[body.client_msg_id] = stored
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise ServerUnreachable("connection reset after the request was sent")
        return SendMessageResponse(message=stored, cursor=self._next_id)

    async def upload(self, path: Path) -> Attachment:
        self._call(f"upload:{path.name}")
        data = path.read_bytes()
        self.uploads.append(path.name)
        return Attachment(
            id=len(self.uploads),
            name=path.name,
            mime="text/plain",
            size=len(data),
            url=f"/a/{len(self.uploads)}",
        )

    async def aclose(self) -> None:
        self.calls.append("aclose")
