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
    text: str  # one of NOTICE_SENTENCES


# The core's notices are fixed sentences, so the UI can say them in the operator's language
# (ui/problems.py marks each for translation; tests/ui/test_problems.py keeps the two in step).
CACHE_REBUILT = (
    "The local cache was damaged and has been rebuilt from the server; "
    "the old file was kept beside it."
)
CACHE_DAMAGED = (
    "The local cache is damaged. It keeps working for now and will be rebuilt "
    "from the server at the next start."
)
SESSION_ENDED = "Your session has ended. Please sign in again."
SERVER_RESET = "The server was reset; the local cache is rebuilt."
NO_KEYRING = (
    "No system keyring is available, so the password is not remembered: "
    "it will be asked at each start."
)
NOTICE_SENTENCES = (CACHE_REBUILT, CACHE_DAMAGED, SESSION_ENDED, SERVER_RESET, NO_KEYRING)


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
