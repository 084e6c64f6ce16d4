"""Error codes: every refusal, REST or websocket, carries one of these in an ``ErrorBody``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built at the first refusal, not at import

    code: ErrorCode
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


# Websocket close codes (4000-4999 are application codes).
WS_CLOSE_UNAUTHORIZED = 4001
WS_CLOSE_INCOMPATIBLE = 4002
WS_CLOSE_BAD_FRAME = 4003
WS_CLOSE_TOO_SLOW = 4004  # the client did not read and its send queue filled
WS_CLOSE_REVOKED = 4005  # logout or operator disabled
WS_CLOSE_TOO_LARGE = 1009
