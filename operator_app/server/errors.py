"""The one exception the service layer raises for a refusal; the app turns it into ErrorBody."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from operator_app.protocol.errors import ErrorCode

_STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.ACCOUNT_DISABLED: 403,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.INCOMPATIBLE_PROTOCOL: 426,
    ErrorCode.OPERATOR_OFFLINE: 409,
    ErrorCode.OPERATOR_AT_CAPACITY: 409,
    ErrorCode.DIALOG_CLOSED: 409,
    ErrorCode.NOT_ASSIGNED: 403,
    ErrorCode.INTERNAL: 500,
}


def http_status(code: ErrorCode) -> int:
    return _STATUS[code]


class ApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return http_status(self.code)


def forbidden(what: str = "this object") -> ApiError:
    # says nothing about the object: the caller may not learn it exists or what it holds
    return ApiError(ErrorCode.FORBIDDEN, f"you may not access {what}")


def not_found(what: str) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"{what} not found")


def invalid(message: str, **details: Any) -> ApiError:
    return ApiError(ErrorCode.VALIDATION_ERROR, message, **details)


def aware(moment: datetime, name: str) -> datetime:
    """A time from a query, refused without a time zone (the server's times are UTC)."""
    if moment.tzinfo is None:
        raise invalid(f"{name} needs a time zone", field=name)
    return moment
