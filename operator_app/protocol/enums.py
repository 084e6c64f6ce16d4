"""The wire's enumerations and error codes, apart from the pydantic models that carry them.

Importing pydantic and building the wire models costs ~70 ms; the app's first paint (the
dialog list from the cache) needs only these values. ``models`` and ``errors`` re-export
them, so the wire format and the old import paths are unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class OperatorStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    VIBER = "viber"
    VK = "vk"
    WEBCHAT = "webchat"
    EMAIL = "email"
    EXTERNAL = "external"


class DialogState(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class Author(StrEnum):
    CLIENT = "client"
    OPERATOR = "operator"
    SYSTEM = "system"


class MessageKind(StrEnum):
    MESSAGE = "message"
    COMMENT = "comment"  # internal: never delivered to the customer's channel


class DialogScope(StrEnum):
    """Which dialogs a list request asks for; the server intersects it with the caller's rights."""

    MINE = "mine"  # assigned to the caller, waiting or active
    WAITING = "waiting"  # waiting in the caller's queues
    CLOSED_TODAY = "closed_today"  # closed today, assigned to the caller
    SUPERVISED = "supervised"  # every dialog of the queues the caller supervises
    ALL_VISIBLE = "all_visible"  # union of the above, for a full sync


class TemplateScope(StrEnum):
    SHARED = "shared"
    PERSONAL = "personal"


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    VALIDATION_ERROR = "validation_error"
    UNAUTHORIZED = "unauthorized"  # no token, unknown, expired or revoked token
    INVALID_CREDENTIALS = "invalid_credentials"  # wrong login or password
    ACCOUNT_DISABLED = "account_disabled"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INCOMPATIBLE_PROTOCOL = "incompatible_protocol"
    OPERATOR_OFFLINE = "operator_offline"
    OPERATOR_AT_CAPACITY = "operator_at_capacity"
    DIALOG_CLOSED = "dialog_closed"
    NOT_ASSIGNED = "not_assigned"  # acting on a dialog that is not yours
    INTERNAL = "internal"


# Codes a client must not retry: the same request would be refused again.
PERMANENT_CODES = frozenset(
    {
        ErrorCode.BAD_REQUEST,
        ErrorCode.VALIDATION_ERROR,
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.PAYLOAD_TOO_LARGE,
        ErrorCode.INCOMPATIBLE_PROTOCOL,
        ErrorCode.DIALOG_CLOSED,
        ErrorCode.NOT_ASSIGNED,
        ErrorCode.OPERATOR_OFFLINE,
        ErrorCode.OPERATOR_AT_CAPACITY,
        ErrorCode.ACCOUNT_DISABLED,
        ErrorCode.INVALID_CREDENTIALS,
    }
)
