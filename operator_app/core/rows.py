"""What the cache hands to the UI: immutable rows and enums, free of any storage detail.

Free of pydantic too: the dialog list and ``me`` are read for the first paint, before the
wire models (~70 ms of imports and class building) are needed. ``DialogInfo`` and
``OperatorInfo`` carry the fields of the wire's ``Dialog`` and ``Operator`` as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from operator_app.protocol.enums import (
    Author,
    Channel,
    DialogState,
    MessageKind,
    OperatorStatus,
    Role,
)

if TYPE_CHECKING:
    from operator_app.protocol.models import Attachment


class Section(StrEnum):
    MINE = "mine"
    WAITING = "waiting"
    CLOSED_TODAY = "closed_today"
    SUPERVISED = "supervised"


@dataclass(frozen=True, slots=True)
class DialogFilter:
    """What a dialog list is narrowed to: one channel, one tag, words of the client's name or
    of the dialog's last message (any case). The default narrows nothing."""

    channel: Channel | None = None
    tag: str | None = None
    text: str = ""


EVERY_DIALOG = DialogFilter()


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PreviewInfo:
    """The wire's ``MessagePreview``: the last message of a dialog, first characters only."""

    author: Author
    kind: MessageKind
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DialogInfo:
    """The wire's ``Dialog`` as the cache last stored it (same fields; lists as tuples)."""

    id: int
    channel: Channel
    contact_id: int
    contact_name: str
    queue_id: int
    assignee_id: int | None
    participant_ids: tuple[int, ...]
    state: DialogState
    tags: tuple[str, ...]
    subject: str
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    resolution: str
    rating: int | None
    last_message: PreviewInfo | None
    last_message_id: int | None
    message_count: int


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """The wire's ``Operator`` as the cache last stored it (``me``; lists as tuples)."""

    id: int
    login: str
    name: str
    role: Role
    status: OperatorStatus
    capacity: int
    load: int
    queue_ids: tuple[int, ...]
    supervised_queue_ids: tuple[int, ...]
    enabled: bool


@dataclass(frozen=True, slots=True)
class DialogRow:
    dialog: DialogInfo  # as last known
    unread: int  # client messages after the operator last had it open (mark_read)
    has_draft: bool
    queue_sla_seconds: int


@dataclass(frozen=True, slots=True)
class MessageRow:
    key: str  # stable across pending -> sent: client_msg_id if any, else f"s{server_id}"
    server_id: int | None  # None while pending/failed
    dialog_id: int
    author: Author
    author_id: int | None
    author_name: str
    kind: MessageKind
    text: str
    attachments: tuple[Attachment, ...]
    created_at: datetime
    state: DeliveryState
    error: str = ""  # why it failed (permanent rejection reason)
    deleted: bool = False  # deleted after it was sent: shown as a placeholder


@dataclass(frozen=True, slots=True)
class SearchHit:
    dialog_id: int
    contact_name: str
    message_key: str
    created_at: datetime
    snippet: str  # plain text, the hit marked by \x02 ... \x03; never HTML


@dataclass(frozen=True, slots=True)
class RenderedTemplate:
    text: str
    missing: list[str]  # variables left unfilled, e.g. ["order_number"]
