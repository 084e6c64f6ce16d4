"""ChatwootApi: the ``ApiClient`` surface the core calls, spoken to a Chatwoot server.

It subclasses ``ApiClient`` so DeskService, SyncEngine and Outbox take it unchanged; every
public method is overridden to call Chatwoot's REST API (header ``api_access_token``) under
``/api/v1/accounts/{account_id}/`` and to map the answers into our protocol models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from operator_app.protocol import PROTOCOL_VERSION
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import (
    Attachment,
    Channel,
    CloseRequest,
    ContactCard,
    Dialog,
    DialogHistoryItem,
    DialogScope,
    EnabledRequest,
    LoginResponse,
    Message,
    MessageKind,
    Operator,
    OperatorCreate,
    OperatorStatus,
    Page,
    PasswordChange,
    PasswordReset,
    Queue,
    QueueAssignment,
    SendMessageRequest,
    SendMessageResponse,
    Template,
    TemplateIn,
    TransferRequest,
)

from ..api import ApiClient, FileSource
from ..errors import ApiError
from ..tls import Verify
from . import mapping
from .capabilities import CAPABILITIES
from .mapping import Json, MappingError

T = TypeVar("T")
SERVER_VERSION = "chatwoot"
CONVERSATIONS_PAGE = 25  # Chatwoot's fixed page size of GET conversations
MESSAGES_AFTER_MAX = 100  # GET messages?after= returns at most this many
MESSAGES_BEFORE_MAX = 20  # GET messages (or ?before=) returns at most this many
RESEND_LOOKBACK = timedelta(seconds=30)  # clock skew allowed when matching a lost send

# scope -> (assignee_type, status) of GET conversations
_SCOPES = {
    DialogScope.MINE: ("me", "open"),
    DialogScope.WAITING: ("unassigned", "open"),
    DialogScope.CLOSED_TODAY: ("me", "resolved"),
    DialogScope.SUPERVISED: ("all", "open"),
    DialogScope.ALL_VISIBLE: ("all", "open"),
}
_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
}


def unsupported(what: str) -> ApiError:
    """A local, permanent refusal for what Chatwoot cannot do (see ``Capabilities``)."""
    return ApiError(422, ErrorCode.BAD_REQUEST, f"Chatwoot cannot {what}.", {"local": True})


class ChatwootApi(ApiClient):
    """``base_url`` is the Chatwoot address (no path); ``token`` the user's access token."""

    def __init__(
        self,
        base_url: str,
        account_id: int,
        *,
        token: str | None = None,
        verify: Verify = True,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        require_tls: bool = False,
    ) -> None:
        super().__init__(
            base_url,
            token=token,
            verify=verify,
            transport=transport,
            timeout=timeout,
            require_tls=require_tls,
        )
        if account_id <= 0:
            raise ValueError(f"the Chatwoot account id must be positive, not {account_id}")
        self.account_id = account_id
        self.capabilities = CAPABILITIES  # what the UI should disable, and the tooltip why
        self.profile_json: Json = {}  # the last GET /api/v1/profile: id, pubsub_token...
        self._inbox_channels: dict[int, Channel] = {}
        self._send_attempts: dict[str, datetime] = {}

    @property
    def _account(self) -> str:
        return f"/api/v1/accounts/{self.account_id}"

    # ---- session ---------------------------------------------------------------------------

    async def login(self, login: str, password: str) -> LoginResponse:
        """``password`` is the user's access token: checked with GET /api/v1/profile."""
        previous, self.token = self.token, password.strip()
        try:
            operator = await self.me()
        except BaseException:
            self.token = previous
            raise
        return LoginResponse(
            token=self.token,
            expires_at=datetime.now(UTC) + timedelta(days=3650),  # access tokens do not expire
            operator=operator,
            protocol_version=PROTOCOL_VERSION,
            server_version=SERVER_VERSION,
        )

    async def logout(self) -> None:
        """Chatwoot access tokens are not revoked by a client: only forgotten here."""
        self.token = None

    async def profile(self) -> Json:
        self.profile_json = _as_obj(await self._json("GET", "/api/v1/profile"))
        return self.profile_json

    async def me(self) -> Operator:
        """The profile; its queues are the teams it belongs to plus "no team" (every
        conversation without a team waits for everybody in Chatwoot)."""
        operator = _mapped(mapping.operator, await self.profile(), account_id=self.account_id)
        teams = _as_list(await self._json("GET", f"{self._account}/teams"))
        member = [int(t["id"]) for t in teams if t.get("is_member") and "id" in t]
        return operator.model_copy(update={"queue_ids": [mapping.NO_TEAM, *member]})

    async def set_my_status(self, status: OperatorStatus) -> Operator:
        raise unsupported("set the availability through its documented API")

    async def change_password(self, body: PasswordChange) -> None:
        raise unsupported("change the password of an access token's user")

    # ---- directory -------------------------------------------------------------------------

    async def operators(self) -> list[Operator]:
        agents = await self._json("GET", f"{self._account}/agents")
        return [_mapped(mapping.operator, a) for a in _as_list(agents)]

    async def queues(self) -> list[Queue]:
        teams = await self._json("GET", f"{self._account}/teams")
        return [_mapped(mapping.queue, t) for t in _as_list(teams)]

    async def set_enabled(self, operator_id: int, body: EnabledRequest) -> Operator:
        raise unsupported("switch an agent's sign-in on or off through its documented API")

    async def reset_password(self, operator_id: int, body: PasswordReset) -> None:
        raise unsupported("set an agent's password through its documented API")

    async def create_operator(self, body: OperatorCreate) -> Operator:
        raise unsupported("create agents through this app")

    async def set_queues(self, operator_id: int, body: QueueAssignment) -> Operator:
        raise unsupported("change an agent's teams through this app")

    async def inbox_channels(self) -> dict[int, Channel]:
        answer = _as_obj(await self._json("GET", f"{self._account}/inboxes"))
        inboxes = _as_list(answer.get("payload"))
        self._inbox_channels = {
            int(i["id"]): mapping.channel_of(i.get("channel_type")) for i in inboxes if "id" in i
        }
        return self._inbox_channels

    # ---- dialogs ---------------------------------------------------------------------------

    async def dialogs(
        self,
        scope: DialogScope,
        *,
        cursor: str | None = None,
        limit: int = 100,
        updated_since: datetime | None = None,
        day_start: datetime | None = None,
    ) -> Page[Dialog]:
        """One Chatwoot page (25, newest activity first); ``cursor`` is the page number.
        Chatwoot's "resolved" has no day: ``day_start`` is accepted and not used."""
        page = int(cursor) if cursor and cursor.isdigit() else 1
        assignee_type, status = _SCOPES[scope]
        params: dict[str, str | int] = {
            "assignee_type": assignee_type,
            "status": status,
            "page": page,
        }
        answer = _as_obj(await self._json("GET", f"{self._account}/conversations", params=params))
        payload = _as_list(_as_obj(answer.get("data")).get("payload"))
        items = [self._dialog(c) for c in payload]
        fresh = [d for d in items if updated_since is None or d.updated_at >= updated_since]
        more = len(payload) >= CONVERSATIONS_PAGE and len(fresh) == len(items)
        return Page[Dialog](items=fresh, next_cursor=str(page + 1) if more else None)

    async def dialog(self, dialog_id: int) -> Dialog:
        return self._dialog(await self._json("GET", self._conversation(dialog_id)))

    async def messages(
        self,
        dialog_id: int,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> Page[Message]:
        """Oldest first, like ``ApiClient.messages``; Chatwoot's own page sizes apply."""
        if before_id is not None and after_id is not None:
            raise ValueError("pass before_id or after_id, not both")
        params: dict[str, str | int] = {}
        if before_id is not None:
            params["before"] = before_id
        if after_id is not None:
            params["after"] = after_id
        path = f"{self._conversation(dialog_id)}/messages"
        answer = _as_obj(await self._json("GET", path, params=params))
        found = [
            _mapped(mapping.message, m, dialog_id=dialog_id)
            for m in _as_list(answer.get("payload"))
        ]
        found.sort(key=lambda m: m.id)
        if after_id is not None:
            more = len(found) >= MESSAGES_AFTER_MAX
            return Page[Message](items=found, next_cursor=str(found[-1].id) if more else None)
        more = len(found) >= MESSAGES_BEFORE_MAX
        return Page[Message](items=found, next_cursor=str(found[0].id) if more else None)

    async def send_message(self, dialog_id: int, body: SendMessageRequest) -> SendMessageResponse:
        """POST with ``echo_id`` = client_msg_id. Chatwoot does not deduplicate by echo_id, so
        a retry first looks for the message an earlier, unanswered attempt may have created."""
        if body.attachment_ids:
            raise unsupported("take attachments uploaded ahead of the message")
        first_try = self._send_attempts.get(body.client_msg_id)
        if first_try is None:
            self._send_attempts[body.client_msg_id] = datetime.now(UTC)
        else:
            earlier = await self._find_sent(dialog_id, body, first_try)
            if earlier is not None:
                self._send_attempts.pop(body.client_msg_id, None)
                return SendMessageResponse(message=earlier, cursor=0)
        payload = {
            "content": body.text,
            "message_type": "outgoing",
            "private": body.kind is MessageKind.COMMENT,
            "echo_id": body.client_msg_id,
        }
        answer = await self._json("POST", f"{self._conversation(dialog_id)}/messages", payload)
        message = _mapped(mapping.message, answer, dialog_id=dialog_id)
        self._send_attempts.pop(body.client_msg_id, None)
        sent = message.model_copy(update={"client_msg_id": body.client_msg_id})
        return SendMessageResponse(message=sent, cursor=0)

    async def _find_sent(
        self, dialog_id: int, body: SendMessageRequest, since: datetime
    ) -> Message | None:
        me = self.profile_json.get("id") or (await self.me()).id
        for message in (await self.messages(dialog_id)).items:
            if (
                message.author_id == me
                and message.text == body.text
                and message.kind is body.kind
                and message.created_at >= since - RESEND_LOOKBACK
            ):
                return message.model_copy(update={"client_msg_id": body.client_msg_id})
        return None

    async def take(self, dialog_id: int) -> Dialog:
        me = self.profile_json.get("id") or (await self.me()).id
        await self._json(
            "POST", f"{self._conversation(dialog_id)}/assignments", {"assignee_id": me}
        )
        return await self.dialog(dialog_id)

    async def transfer(self, dialog_id: int, body: TransferRequest) -> Dialog:
        """Assign to an agent or a team; the comment becomes a private note first."""
        if body.to_operator_id is None and body.to_queue_id is None:
            raise unsupported("transfer without a target agent or team")
        if body.comment.strip():
            await self._note(dialog_id, body.comment)
        target = (
            {"assignee_id": body.to_operator_id}
            if body.to_operator_id is not None
            else {"team_id": body.to_queue_id}
        )
        await self._json("POST", f"{self._conversation(dialog_id)}/assignments", target)
        return await self.dialog(dialog_id)

    async def close_dialog(self, dialog_id: int, body: CloseRequest) -> Dialog:
        """Resolve; tags are added to the labels, the resolution becomes a private note."""
        if body.tags:
            current = await self.dialog(dialog_id)
            await self._set_labels(dialog_id, [*current.tags, *body.tags])
        if body.resolution.strip():
            await self._note(dialog_id, body.resolution)
        await self.toggle_status(dialog_id, "resolved")
        return await self.dialog(dialog_id)

    async def reopen(self, dialog_id: int) -> Dialog:
        await self.toggle_status(dialog_id, "open")
        return await self.dialog(dialog_id)

    async def toggle_status(self, dialog_id: int, status: str) -> None:
        path = f"{self._conversation(dialog_id)}/toggle_status"
        await self._json("POST", path, {"status": status})

    async def set_tags(self, dialog_id: int, tags: list[str]) -> Dialog:
        await self._set_labels(dialog_id, tags)
        return await self.dialog(dialog_id)

    async def typing(self, dialog_id: int, on: bool) -> None:
        body = {"typing_status": "on" if on else "off", "is_private": False}
        await self._json("POST", f"{self._conversation(dialog_id)}/toggle_typing_status", body)

    async def contact(self, contact_id: int) -> ContactCard:
        """The contact and its conversations (newest first), as the client card shows them."""
        path = f"{self._account}/contacts/{contact_id}"
        answer = _as_obj(await self._json("GET", path))
        contact = _mapped(mapping.contact, _as_obj(answer.get("payload")))
        listed = _as_obj(await self._json("GET", f"{path}/conversations"))
        dialogs = [self._dialog(c) for c in _as_list(listed.get("payload"))]
        history = [
            DialogHistoryItem(
                id=d.id,
                channel=d.channel,
                state=d.state,
                created_at=d.created_at,
                closed_at=d.closed_at,
                tags=d.tags,
                last_text=d.last_message.text if d.last_message else "",
            )
            for d in sorted(dialogs, key=lambda d: d.created_at, reverse=True)
        ]
        return ContactCard(contact=contact, dialogs=history)

    # ---- templates -------------------------------------------------------------------------

    async def templates(self) -> list[Template]:
        answer = await self._json("GET", f"{self._account}/canned_responses")
        return [_mapped(mapping.template, t) for t in _as_list(answer)]

    async def create_template(self, body: TemplateIn) -> Template:
        payload = {"short_code": body.shortcut, "content": body.body}
        answer = await self._json("POST", f"{self._account}/canned_responses", payload)
        return _mapped(mapping.template, answer)

    async def update_template(self, template_id: int, body: TemplateIn) -> Template:
        payload = {"short_code": body.shortcut, "content": body.body}
        path = f"{self._account}/canned_responses/{template_id}"
        return _mapped(mapping.template, await self._json("PATCH", path, payload))

    async def delete_template(self, template_id: int) -> None:
        await self._json("DELETE", f"{self._account}/canned_responses/{template_id}")

    # ---- attachments: downloaded, never sent ----------------------------------------------

    async def upload(self, path: Path) -> Attachment:
        """Chatwoot's OpenAPI document has no multipart body for POST messages."""
        raise unsupported("take attachments through its documented API")

    def _file_source(self, url: str) -> FileSource:
        """``data_url`` is Chatwoot's file link (ActiveStorage: a signed URL that redirects to
        the storage). It must be on the Chatwoot server itself; the token never goes with it,
        and the redirect may lead to another host (S3 and the like)."""
        base = urlsplit(self.base_url)
        parts = urlsplit(urljoin(self.base_url + "/", url))
        same_server = (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
        if not same_server or parts.scheme not in ("http", "https"):
            raise ApiError(
                0,
                ErrorCode.BAD_REQUEST,
                f"refusing an attachment URL outside the Chatwoot server: {url[:100]!r}",
                {"local": True},
            )
        return FileSource(urlunsplit(parts), {}, follow_redirects=True)

    # ---- plumbing --------------------------------------------------------------------------

    def _conversation(self, dialog_id: int) -> str:
        return f"{self._account}/conversations/{dialog_id}"

    def _dialog(self, data: Any) -> Dialog:
        return _mapped(mapping.dialog, _as_obj(data), inbox_channels=self._inbox_channels)

    async def _note(self, dialog_id: int, text: str) -> None:
        body = {"content": text, "message_type": "outgoing", "private": True}
        await self._json("POST", f"{self._conversation(dialog_id)}/messages", body)

    async def _set_labels(self, dialog_id: int, labels: list[str]) -> None:
        unique = list(dict.fromkeys(labels))
        await self._json("POST", f"{self._conversation(dialog_id)}/labels", {"labels": unique})

    def _headers(self, *, auth: bool = True, json: bool = False) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if json else {}
        if auth and self.token:
            headers["api_access_token"] = self.token
        return headers

    async def _json(
        self,
        method: str,
        path: str,
        body: Json | None = None,
        *,
        params: dict[str, str | int] | None = None,
    ) -> Any:
        headers = self._headers(json=body is not None)
        started = time.monotonic()
        try:
            response = await self._client.request(
                method, path, params=params, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc) from exc
        _raise_for_status(response, time.monotonic() - started)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, ErrorCode.INTERNAL, "not JSON") from exc


def _raise_for_status(response: httpx.Response, _elapsed: float) -> None:
    if response.is_success:
        return
    status = response.status_code
    code = ErrorCode.INTERNAL if status >= 500 else _CODES.get(status, ErrorCode.BAD_REQUEST)
    try:
        detail = response.json()
        text = str(detail.get("error") or detail.get("message") or detail)[:200]
    except (ValueError, AttributeError):
        text = response.text[:200]
    raise ApiError(status, code, f"Chatwoot answered {status}: {text}")


def _as_obj(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _mapped(function: Callable[..., T], data: Any, **kwargs: Any) -> T:
    """Map, turning a payload that does not fit into a clear ``ApiError``."""
    try:
        return function(_as_obj(data), **kwargs)
    except (MappingError, ValueError, TypeError, ArithmeticError) as exc:
        raise ApiError(200, ErrorCode.INTERNAL, f"unexpected Chatwoot answer: {exc}") from exc
