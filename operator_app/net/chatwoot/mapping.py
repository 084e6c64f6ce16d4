"""Chatwoot JSON -> our protocol models. Pure functions; customer text is copied verbatim.

Chatwoot sends epoch seconds (sometimes ISO strings), integers or names for enums, and omits
keys freely, so every reader here tolerates a missing or null field. A payload that lacks what
a model needs (an id) raises ``MappingError``, which callers turn into a clear refusal.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from operator_app.protocol.models import (
    Attachment,
    Author,
    Channel,
    Contact,
    ContactIdentity,
    Dialog,
    DialogState,
    Message,
    MessageKind,
    MessagePreview,
    Operator,
    OperatorStatus,
    Queue,
    Role,
    Template,
    TemplateScope,
)

Json = dict[str, Any]
NO_TEAM = 0  # queue_id of a conversation without a team: Chatwoot has no "default queue"
PREVIEW_CHARS = 120

_CHANNELS = {
    "Channel::Whatsapp": Channel.WHATSAPP,
    "Channel::Telegram": Channel.TELEGRAM,
    "Channel::WebWidget": Channel.WEBCHAT,
    "Channel::Email": Channel.EMAIL,
}
_MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
_AVAILABILITY = {
    "online": OperatorStatus.ONLINE,
    "available": OperatorStatus.ONLINE,
    "busy": OperatorStatus.AWAY,
    "offline": OperatorStatus.OFFLINE,
}


class MappingError(ValueError):
    """A Chatwoot payload that cannot become one of our models."""


def epoch(value: Any, default: datetime | None = None) -> datetime | None:
    """Epoch seconds (int, float or numeric string) or an ISO string -> aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return _from_timestamp(float(value), default)
    if isinstance(value, str):
        try:
            return _from_timestamp(float(value), default)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return default


def _from_timestamp(seconds: float, default: datetime | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # inf, nan, years beyond 9999
        return default


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def availability(value: Any) -> OperatorStatus:
    return _AVAILABILITY.get(str(value), OperatorStatus.OFFLINE)


def channel_of(channel_type: Any) -> Channel:
    return _CHANNELS.get(str(channel_type), Channel.EXTERNAL)


def _id(data: Json, key: str = "id") -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError(f"the Chatwoot object has no numeric {key!r}")
    try:
        return int(value)
    except (OverflowError, ValueError) as exc:  # inf or nan
        raise MappingError(f"the Chatwoot object has no usable {key!r}") from exc


def _obj(data: Any, key: str) -> Json:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _message_type(value: Any) -> int:
    if isinstance(value, str):
        return _MESSAGE_TYPES.get(value, 2)
    return int(value) if isinstance(value, int) else 2


def message(data: Json, *, dialog_id: int | None = None) -> Message:
    """A Chatwoot message (REST or ActionCable). Private notes become internal comments; a
    deleted one (``content_attributes.deleted``) keeps no text nor attachments."""
    kind_code = _message_type(data.get("message_type"))
    author = {0: Author.CLIENT, 1: Author.OPERATOR, 3: Author.OPERATOR}.get(
        kind_code, Author.SYSTEM
    )
    sender = _obj(data, "sender")
    by_user = data.get("sender_type") == "User"
    echo = data.get("echo_id")
    created = epoch(data.get("created_at"), datetime.now(UTC))
    deleted = bool(_obj(data, "content_attributes").get("deleted"))
    attachments = [] if deleted else data.get("attachments") or []
    try:
        return Message(
            id=_id(data),
            dialog_id=dialog_id if dialog_id is not None else _id(data, "conversation_id"),
            author=author,
            author_id=int(data["sender_id"]) if by_user and data.get("sender_id") else None,
            author_name=str(sender.get("available_name") or sender.get("name") or ""),
            kind=MessageKind.COMMENT if data.get("private") else MessageKind.MESSAGE,
            # Chatwoot keeps "This message was deleted" as the content: the UI says it instead
            text="" if deleted else str(data.get("content") or ""),
            attachments=[_attachment(a) for a in attachments if _is_obj(a)],
            client_msg_id=str(echo) if echo else None,
            created_at=created,
            deleted=deleted,
        )
    except ValidationError as exc:
        raise MappingError(f"a Chatwoot message does not fit: {exc.errors()[0]['msg']}") from exc


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict)


def _attachment(data: Json) -> Attachment:
    """``file_type`` is a kind (image, file, audio...), not a MIME type: that comes from the
    file name at the end of ``data_url``."""
    url = str(data.get("data_url") or "")
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or f"attachment-{data.get('id', 0)}"
    return Attachment(
        id=int(data.get("id") or 0),
        name=name,
        mime=mimetypes.guess_type(name)[0] or "application/octet-stream",
        size=int(data.get("file_size") or 0),
        url=url,
    )


def _state(status: Any, assignee_id: int | None) -> DialogState:
    if status == "resolved":
        return DialogState.CLOSED
    return DialogState.ACTIVE if assignee_id is not None else DialogState.WAITING


def _last_message(data: Json) -> Json | None:
    last = data.get("last_non_activity_message")
    if isinstance(last, dict):
        return last
    messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
    return messages[-1] if messages else None


def dialog(data: Json, *, inbox_channels: dict[int, Channel] | None = None) -> Dialog:
    """A conversation (list item, show, or ActionCable event data); its id is the display id."""
    meta = _obj(data, "meta")
    sender, assignee, team = _obj(meta, "sender"), _obj(meta, "assignee"), _obj(meta, "team")
    assignee_id = int(assignee["id"]) if assignee.get("id") is not None else None
    if assignee_id is None and data.get("assignee_id") is not None:
        assignee_id = int(data["assignee_id"])
    inbox_id = data.get("inbox_id")
    channel = channel_of(meta.get("channel") or data.get("channel"))
    if channel is Channel.EXTERNAL and inbox_channels and isinstance(inbox_id, int):
        channel = inbox_channels.get(inbox_id, Channel.EXTERNAL)
    created = epoch(data.get("created_at") or data.get("timestamp"), datetime.now(UTC))
    assert created is not None
    updated = epoch(data.get("updated_at") or data.get("last_activity_at"), created)
    assert updated is not None
    last = _last_message(data)
    state = _state(data.get("status"), assignee_id)
    try:
        return Dialog(
            id=_id(data),
            channel=channel,
            contact_id=int(sender.get("id") or 0),
            contact_name=str(sender.get("name") or ""),
            queue_id=int(team["id"]) if team.get("id") is not None else NO_TEAM,
            assignee_id=assignee_id,
            state=state,
            tags=[str(label) for label in data.get("labels") or []],
            created_at=created,
            updated_at=max(updated, created),
            waiting_since=epoch(data.get("waiting_since")),
            first_response_at=epoch(data.get("first_reply_created_at")),
            closed_at=updated if state is DialogState.CLOSED else None,
            last_message=_preview(last),
            last_message_id=_id(last) if last and last.get("id") is not None else None,
        )
    except ValidationError as exc:
        raise MappingError(f"a Chatwoot conversation does not fit: {exc.errors()[0]}") from exc


def _preview(last: Json | None) -> MessagePreview | None:
    if last is None or last.get("id") is None:
        return None
    mapped = message(last, dialog_id=0)
    return MessagePreview(
        author=mapped.author,
        kind=mapped.kind,
        text=mapped.text[:PREVIEW_CHARS],
        created_at=mapped.created_at,
    )


def operator(data: Json, *, account_id: int | None = None) -> Operator:
    """An agent (GET agents) or the profile (GET /api/v1/profile) as an Operator."""
    status, role = data.get("availability_status"), data.get("role")
    for account in data.get("accounts") or []:  # the profile carries them per account
        if isinstance(account, dict) and account.get("id") == account_id:
            status = account.get("availability_status") or account.get("availability")
            role = account.get("role")
    return Operator(
        id=_id(data),
        login=str(data.get("email") or data.get("uid") or data.get("id")),
        name=str(data.get("available_name") or data.get("name") or ""),
        role=Role.ADMIN if role == "administrator" else Role.OPERATOR,
        status=availability(status),
    )


def queue(data: Json) -> Queue:
    """A team as a queue. Chatwoot does not tell waiting counts or SLAs per team."""
    return Queue(id=_id(data), name=str(data.get("name") or ""))


def template(data: Json) -> Template:
    """A canned response as a shared template for every queue; short_code is the shortcut."""
    code = str(data.get("short_code") or "")
    return Template(
        id=_id(data),
        scope=TemplateScope.SHARED,
        shortcut=code,
        title=code,
        body=str(data.get("content") or ""),
    )


def contact(data: Json) -> Contact:
    identities: list[ContactIdentity] = []
    if data.get("email"):
        identities.append(ContactIdentity(channel=Channel.EMAIL, address=str(data["email"])))
    if data.get("phone_number"):
        identities.append(
            # a phone number says nothing of the channel it came through
            ContactIdentity(channel=Channel.EXTERNAL, address=str(data["phone_number"]))
        )
    created = epoch(data.get("created_at"), datetime.now(UTC))
    assert created is not None
    return Contact(
        id=_id(data),
        name=str(data.get("name") or ""),
        identities=identities,
        created_at=created,
    )
