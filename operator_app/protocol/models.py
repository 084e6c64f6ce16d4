"""Domain objects as they travel on the wire: REST bodies and websocket event payloads.

Times are timezone-aware UTC datetimes (ISO 8601 on the wire). Ids are server integers,
except ``client_msg_id``, a UUID string the client mints before it sends anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .enums import Author as Author
from .enums import Channel as Channel
from .enums import DialogScope as DialogScope
from .enums import DialogState as DialogState
from .enums import MessageKind as MessageKind
from .enums import OperatorStatus as OperatorStatus
from .enums import Role as Role
from .enums import TemplateScope as TemplateScope
from .limits import (
    MAX_COMMENT_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_PASSWORD_CHARS,
    MAX_QUEUES_LISTED,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MIN_PASSWORD_CHARS,
)


def without_nul(text: str) -> str:
    """NUL cannot be stored: PostgreSQL refuses it, and SQLite's string functions stop at it
    (a dialog's preview read back would end there while its event did not). Nobody types it:
    dropped rather than refused, so a customer's message is never lost to it."""
    return text.replace("\x00", "")


def _stored(value: object) -> object:
    """Before the length limits, so a text of NULs alone is as empty as it looks."""
    return without_nul(value) if isinstance(value, str) else value  # else pydantic refuses it


StoredText = Annotated[str, BeforeValidator(_stored)]  # text a request asks to store


class WireModel(BaseModel):
    """Base of every wire object: unknown fields are ignored so old clients read new servers.

    ``defer_build``: a model's validator is built at its first use, not at import; the app
    paints its window from the cache before it needs most of the ~100 wire models.
    """

    model_config = ConfigDict(
        extra="ignore", frozen=False, str_strip_whitespace=False, defer_build=True
    )


class Operator(WireModel):
    id: int
    login: str
    name: str
    role: Role
    status: OperatorStatus
    capacity: int = 5
    load: int = 0  # active dialogs assigned now
    queue_ids: list[int] = Field(default_factory=list)
    supervised_queue_ids: list[int] = Field(default_factory=list)
    enabled: bool = True


class Queue(WireModel):
    id: int
    name: str
    channels: list[Channel] = Field(default_factory=list)
    sla_seconds: int = 60  # target first response time
    member_ids: list[int] = Field(default_factory=list)
    supervisor_ids: list[int] = Field(default_factory=list)
    waiting_count: int = 0


class ContactIdentity(WireModel):
    channel: Channel
    address: str  # phone, @username, e-mail, vk id, webchat session...


class Contact(WireModel):
    id: int
    name: str
    identities: list[ContactIdentity] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    note: str = ""
    created_at: datetime


class Attachment(WireModel):
    id: int
    name: str
    mime: str
    size: int
    url: str  # relative to the server base URL, needs the bearer token


class MessagePreview(WireModel):
    author: Author
    kind: MessageKind
    text: str  # first characters only
    created_at: datetime


class Dialog(WireModel):
    id: int
    channel: Channel
    contact_id: int
    contact_name: str
    queue_id: int
    assignee_id: int | None = None
    participant_ids: list[int] = Field(default_factory=list)
    state: DialogState
    tags: list[str] = Field(default_factory=list)
    subject: str = ""
    created_at: datetime
    updated_at: datetime
    # when it last entered the queue, or got a client message nobody has answered yet
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str = ""
    rating: int | None = Field(default=None, ge=1, le=5)
    last_message: MessagePreview | None = None
    last_message_id: int | None = None
    message_count: int = 0


class Message(WireModel):
    id: int
    dialog_id: int
    author: Author
    author_id: int | None = None  # operator id for operator messages and comments
    author_name: str = ""
    kind: MessageKind = MessageKind.MESSAGE
    text: str
    attachments: list[Attachment] = Field(default_factory=list)
    client_msg_id: str | None = None
    created_at: datetime
    deleted: bool = False  # deleted after it was sent: text and attachments are gone


class Template(WireModel):
    id: int
    scope: TemplateScope
    queue_id: int | None = None  # shared templates belong to a queue (None: every queue)
    owner_id: int | None = None  # personal templates belong to an operator
    shortcut: str  # without the leading '/'
    title: str
    category: str = ""
    body: str  # may hold {client_name}, {operator_name}, {dialog_id} and custom {variables}
    pinned: bool = False


T = TypeVar("T")


class Page(WireModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None  # opaque; pass back to get the next page, None at the end


# ---- REST request and response bodies -------------------------------------------------------


class LoginRequest(WireModel):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    protocol_version: int
    client_name: str = Field(default="", max_length=64)


class LoginResponse(WireModel):
    token: str
    expires_at: datetime
    operator: Operator
    protocol_version: int
    server_version: str


class ServerInfo(WireModel):
    """GET /api/v1/info, unauthenticated: lets a client check compatibility before login."""

    server_version: str
    protocol_version: int
    min_protocol_version: int
    name: str = "Operator desk server"


class SendMessageRequest(WireModel):
    client_msg_id: str = Field(min_length=8, max_length=64)
    text: StoredText = Field(max_length=MAX_MESSAGE_CHARS)
    kind: MessageKind = MessageKind.MESSAGE
    attachment_ids: list[int] = Field(default_factory=list, max_length=10)


class SendMessageResponse(WireModel):
    message: Message
    cursor: int  # cursor of the message.created event; retries get the same answer


class TransferRequest(WireModel):
    to_operator_id: int | None = None
    to_queue_id: int | None = None
    comment: StoredText = Field(default="", max_length=MAX_COMMENT_CHARS)


class CloseRequest(WireModel):
    resolution: StoredText = Field(default="", max_length=MAX_COMMENT_CHARS)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)


class TagsRequest(WireModel):
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)


class StatusRequest(WireModel):
    status: OperatorStatus


class CapacityRequest(WireModel):
    capacity: int = Field(ge=0, le=50)


class EnabledRequest(WireModel):
    enabled: bool


class PasswordChange(WireModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    new_password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


class PasswordReset(WireModel):
    new_password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


QueueIds = Annotated[list[int], Field(max_length=MAX_QUEUES_LISTED)]


class QueueAssignment(WireModel):
    """The queues an operator works in, and (a supervisor only) the ones they supervise."""

    queue_ids: QueueIds = Field(default_factory=list)
    supervised_queue_ids: QueueIds = Field(default_factory=list)


class OperatorCreate(QueueAssignment):
    # no spaces, no control characters (PostgreSQL stores no NUL)
    login: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    name: StoredText = Field(min_length=1, max_length=120)
    role: Role = Role.OPERATOR
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
    capacity: int = Field(default=5, ge=0, le=50)


class TypingRequest(WireModel):
    on: bool = True


class TemplateIn(WireModel):
    scope: TemplateScope = TemplateScope.PERSONAL
    queue_id: int | None = None
    shortcut: str = Field(min_length=1, max_length=32, pattern=r"^[\w\-]+$")
    title: StoredText = Field(min_length=1, max_length=120)
    category: StoredText = Field(default="", max_length=60)
    body: StoredText = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    pinned: bool = False


class DialogHistoryItem(WireModel):
    """A previous dialog of the same contact, for the client card."""

    id: int
    channel: Channel
    state: DialogState
    created_at: datetime
    closed_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    last_text: str = ""


class ContactCard(WireModel):
    contact: Contact
    dialogs: list[DialogHistoryItem] = Field(default_factory=list)


class InboundMessage(WireModel):
    """A customer's message as a channel connector delivers it (webhook style)."""

    address: StoredText = Field(min_length=1, max_length=256)  # the customer's id on that channel
    name: StoredText = Field(default="", max_length=120)
    text: StoredText = Field(max_length=MAX_MESSAGE_CHARS)
    external_id: StoredText = Field(min_length=1, max_length=128)  # the channel's dedup key
    queue_id: int | None = None  # route hint; otherwise the channel's default queue


class InboundRating(WireModel):
    address: StoredText = Field(min_length=1, max_length=256)
    dialog_id: int
    rating: int = Field(ge=1, le=5)


class InboundTyping(WireModel):
    address: StoredText = Field(min_length=1, max_length=256)
    on: bool = True


class InboundAccepted(WireModel):
    dialog_id: int
    message_id: int
    duplicate: bool = False


def tag_ok(tag: str) -> bool:
    return 0 < len(tag) <= MAX_TAG_CHARS


def build_validators() -> None:
    """Build every wire model now and stop deferring: for the server, which validates them
    all anyway. FastAPI wraps a body model in an ``Annotated`` adapter made at route setup;
    a deferred one would build at the first request, outside FastAPI's warning filter."""
    from . import errors, events, reports  # noqa: F401  (their models must exist to be built)

    pending: list[type[BaseModel]] = [WireModel, errors.ErrorBody]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__pydantic_generic_metadata__["origin"] is not None:
            continue  # Page[Dialog] and the like: built with their generic
        model.model_config["defer_build"] = False
        if not model.__pydantic_complete__:
            model.model_rebuild(force=True)
