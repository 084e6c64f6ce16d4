"""What core actions raise for the UI; net errors never leak past the service."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from operator_app.net.errors import ApiError, IncompatibleServer, NetError, ServerUnreachable
from operator_app.protocol.enums import ErrorCode
from operator_app.protocol.limits import FIELD_LIMIT_KEYS

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field, as the validator classified it: the field's name, the
    kind of problem (pydantic's error type, e.g. ``string_too_long``) and its limit, if any."""

    field: str
    kind: str
    limit: int | str | None = None
    words: str = ""  # the validator's own (English) words, for a kind the UI does not know

    @classmethod
    def of(cls, error: Mapping[str, Any]) -> FieldProblem:
        """From a validation error: pydantic's own, or one entry of a server's 422 details."""
        loc = [str(part) for part in error.get("loc", ())]
        if len(loc) > 1 and loc[0] == "body":  # a server's 422: where in the request
            loc = loc[1:]
        ctx = error.get("ctx") or {}
        limit = next((ctx[k] for k in FIELD_LIMIT_KEYS if k in ctx), error.get("limit"))
        return cls(".".join(loc), str(error.get("type", "")), limit, str(error.get("msg", "")))


class ActionError(Exception):
    """The server (or a local check) refused an action; ``message`` is for the operator.
    ``problem``: for a refused field, what is wrong with it (the UI words it)."""

    def __init__(self, code: ErrorCode, message: str, problem: FieldProblem | None = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.problem = problem


def invalid_input(exc: ValidationError) -> ActionError:
    """A local validation failure as the refusal of its first field."""
    errors = exc.errors()
    if not errors:
        return ActionError(ErrorCode.VALIDATION_ERROR, str(exc))
    first = errors[0]
    return ActionError(
        ErrorCode.VALIDATION_ERROR, str(first.get("msg", exc)), FieldProblem.of(first)
    )


def build(model: type[M], **fields: Any) -> M:
    """A request body from the operator's input; bad input is an ``ActionError``."""
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise invalid_input(exc) from exc


class OfflineError(Exception):
    """The action needs the server and it cannot be reached now."""


def translate(exc: NetError) -> ActionError | OfflineError:
    if isinstance(exc, ApiError):
        return ActionError(exc.code, exc.message, _first_problem(exc))
    if isinstance(exc, IncompatibleServer):
        return ActionError(ErrorCode.INCOMPATIBLE_PROTOCOL, str(exc))
    if isinstance(exc, ServerUnreachable):
        return OfflineError(str(exc) or "the server cannot be reached")
    return OfflineError(str(exc))  # TLS trouble: the server is out of reach until fixed


def _first_problem(exc: ApiError) -> FieldProblem | None:
    """The first refused field of a server's 422 (``details.errors``), if it says which."""
    errors = exc.details.get("errors")
    if exc.code != ErrorCode.VALIDATION_ERROR or not isinstance(errors, list) or not errors:
        return None
    first = errors[0]
    return FieldProblem.of(first) if isinstance(first, Mapping) and first.get("type") else None


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await a net call, turning net errors into ``ActionError`` / ``OfflineError``."""
    try:
        return await awaitable
    except NetError as exc:
        raise translate(exc) from exc
