"""Everything the net layer raises. Callers catch ``NetError`` and decide by subclass.

``ServerUnreachable`` is transient (retry later), ``TlsFailure`` and ``IncompatibleServer`` need a
person to act, ``ApiError`` is a refusal by the server (or a local refusal with the same meaning
before anything was sent) and says through ``permanent`` whether repeating it can ever succeed.
"""

from __future__ import annotations

from typing import Any

from operator_app.protocol.enums import PERMANENT_CODES, ErrorCode


class NetError(Exception):
    """Base of everything the net layer raises."""


class ServerUnreachable(NetError):
    """Refused, DNS failure, timeout, connection reset: transient, retry later."""


class TlsFailure(NetError):
    """Certificate or handshake problem: retrying will not help until someone fixes the setup."""


class IncompatibleServer(NetError):
    """The server does not speak our protocol version (from /info, login or ws close 4002)."""

    def __init__(self, message: str, *, server_version: str = "", protocol_version: int = 0):
        super().__init__(message)
        self.server_version = server_version
        self.protocol_version = protocol_version


class ApiError(NetError):
    """The server refused the request with an ``ErrorBody`` (or we refused it locally).

    ``status`` is the HTTP status; refusals made locally before any network call carry
    ``details["local"] = True``.
    """

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code.value}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details if details is not None else {}

    @property
    def permanent(self) -> bool:
        """True when the same request would be refused again: never retry it."""
        return self.code in PERMANENT_CODES
