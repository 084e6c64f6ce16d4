"""Change notifications the service delivers to its subscribers (the UI turns them into signals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from operator_app.net.state import ConnectionState

from .rows import MessageRow


@dataclass(frozen=True)
class DialogsChanged:
    ids: frozenset[int]  # rows to refresh (also new or removed ones)


@dataclass(frozen=True)
class MessagesChanged:
    dialog_id: int
    inserted: tuple[MessageRow, ...]
    updated: tuple[MessageRow, ...]


@dataclass(frozen=True)
class HistoryReset:
    dialog_id: int  # after a resync: reload the timeline


@dataclass(frozen=True)
class ConnectionChanged:
    state: ConnectionState


@dataclass(frozen=True)
class TypingChanged:
    dialog_id: int
    who: str
    operator_id: int | None
    on: bool


@dataclass(frozen=True)
class DirectoryChanged:
    what: Literal["me", "operators", "queues", "templates"]


@dataclass(frozen=True)
class Notice:
    level: Literal["info", "warning", "error"]
    text: str


@dataclass(frozen=True)
class Assigned:
    dialog_id: int  # newly assigned to me by someone else (for notifications)


Change = (
    DialogsChanged
    | MessagesChanged
    | HistoryReset
    | ConnectionChanged
    | TypingChanged
    | DirectoryChanged
    | Notice
    | Assigned
)
