"""What core actions raise for the UI; net errors never leak past the service."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from operator_app.net.errors import ApiError, IncompatibleServer, NetError, ServerUnreachable
from operator_app.protocol.enums import ErrorCode

T = TypeVar("T")


class ActionError(Exception):
    """The server (or a local check) refused an action; ``message`` is for the operator."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class OfflineError(Exception):
    """The action needs the server and it cannot be reached now."""


def translate(exc: NetError) -> ActionError | OfflineError:
    if isinstance(exc, ApiError):
        return ActionError(exc.code, exc.message)
    if isinstance(exc, IncompatibleServer):
        return ActionError(ErrorCode.INCOMPATIBLE_PROTOCOL, str(exc))
    if isinstance(exc, ServerUnreachable):
        return OfflineError(str(exc) or "the server cannot be reached")
    return OfflineError(str(exc))  # TLS trouble: the server is out of reach until fixed


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await a net call, turning net errors into ``ActionError`` / ``OfflineError``."""
    try:
        return await awaitable
    except NetError as exc:
        raise translate(exc) from exc
