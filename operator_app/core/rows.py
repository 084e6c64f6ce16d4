"""What the cache hands to the UI: immutable rows and enums, free of any storage detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from operator_app.protocol.models import Attachment, Author, Dialog, MessageKind


class Section(StrEnum):
    MINE = "mine"
    WAITING = "waiting"
    CLOSED_TODAY = "closed_today"
    SUPERVISED = "supervised"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DialogRow:
    dialog: Dialog  # as last known
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
