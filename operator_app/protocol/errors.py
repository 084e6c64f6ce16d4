"""Error codes: every refusal, REST or websocket, carries one of these in an ``ErrorBody``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .enums import PERMANENT_CODES as PERMANENT_CODES
from .enums import ErrorCode as ErrorCode


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
