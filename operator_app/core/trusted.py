"""Rows of our own cache, read back without pydantic's validators.

The cache stores dialogs and ``me`` as the JSON their models dumped (``model_dump_json``), so
reading them back needs no validation, only the same types: enums, aware datetimes, nested
models. Validating them anyway put the first two validator builds (``Operator`` for ``me``,
``Dialog`` for the list) and pydantic's plugin loader, which imports ``importlib.metadata``
and scans every installed distribution, on the start path before the first paint.

Each reader builds the model with ``model_construct`` and falls back to the validator when a
row does not look like what this app writes (an older or damaged row): the result is the
same model either way (tests/unit/core/test_trusted_rows.py compares them field by field).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from operator_app.protocol.models import (
    Author,
    Channel,
    Dialog,
    DialogState,
    MessageKind,
    MessagePreview,
    Operator,
    OperatorStatus,
    Role,
)

log = logging.getLogger(__name__)

# The fields each reader converts; a model that gains a field must be taught here (a test
# checks these against the models' fields).
DIALOG_FIELDS = frozenset(
    {
        "id",
        "channel",
        "contact_id",
        "contact_name",
        "queue_id",
        "assignee_id",
        "participant_ids",
        "state",
        "tags",
        "subject",
        "created_at",
        "updated_at",
        "waiting_since",
        "first_response_at",
        "closed_at",
        "resolution",
        "rating",
        "last_message",
        "last_message_id",
        "message_count",
    }
)
PREVIEW_FIELDS = frozenset({"author", "kind", "text", "created_at"})
OPERATOR_FIELDS = frozenset(
    {
        "id",
        "login",
        "name",
        "role",
        "status",
        "capacity",
        "load",
        "queue_ids",
        "supervised_queue_ids",
        "enabled",
    }
)


def dialog_from_json(data: str) -> Dialog:
    """A dialog row as the cache wrote it."""
    try:
        return _dialog(json.loads(data))
    except (KeyError, TypeError, ValueError) as exc:
        log.info("cache: a dialog row is not in this app's form (%s); validating it", exc)
        return Dialog.model_validate_json(data)


def operator_from_json(data: str) -> Operator:
    """``me`` (or another operator) as the cache wrote it."""
    try:
        return _operator(json.loads(data))
    except (KeyError, TypeError, ValueError) as exc:
        log.info("cache: an operator row is not in this app's form (%s); validating it", exc)
        return Operator.model_validate_json(data)


def _dialog(raw: dict[str, Any]) -> Dialog:
    _expect(raw, DIALOG_FIELDS)
    preview = raw["last_message"]
    return Dialog.model_construct(
        id=_int(raw["id"]),
        channel=Channel(raw["channel"]),
        contact_id=_int(raw["contact_id"]),
        contact_name=_str(raw["contact_name"]),
        queue_id=_int(raw["queue_id"]),
        assignee_id=_optional_int(raw["assignee_id"]),
        participant_ids=[_int(value) for value in raw["participant_ids"]],
        state=DialogState(raw["state"]),
        tags=[_str(tag) for tag in raw["tags"]],
        subject=_str(raw["subject"]),
        created_at=_moment(raw["created_at"]),
        updated_at=_moment(raw["updated_at"]),
        waiting_since=_optional_moment(raw["waiting_since"]),
        first_response_at=_optional_moment(raw["first_response_at"]),
        closed_at=_optional_moment(raw["closed_at"]),
        resolution=_str(raw["resolution"]),
        rating=_optional_int(raw["rating"]),
        last_message=None if preview is None else _preview(preview),
        last_message_id=_optional_int(raw["last_message_id"]),
        message_count=_int(raw["message_count"]),
    )


def _preview(raw: dict[str, Any]) -> MessagePreview:
    _expect(raw, PREVIEW_FIELDS)
    return MessagePreview.model_construct(
        author=Author(raw["author"]),
        kind=MessageKind(raw["kind"]),
        text=_str(raw["text"]),
        created_at=_moment(raw["created_at"]),
    )


def _operator(raw: dict[str, Any]) -> Operator:
    _expect(raw, OPERATOR_FIELDS)
    enabled = raw["enabled"]
    if not isinstance(enabled, bool):
        raise TypeError("enabled is not a boolean")
    return Operator.model_construct(
        id=_int(raw["id"]),
        login=_str(raw["login"]),
        name=_str(raw["name"]),
        role=Role(raw["role"]),
        status=OperatorStatus(raw["status"]),
        capacity=_int(raw["capacity"]),
        load=_int(raw["load"]),
        queue_ids=[_int(value) for value in raw["queue_ids"]],
        supervised_queue_ids=[_int(value) for value in raw["supervised_queue_ids"]],
        enabled=enabled,
    )


def _expect(raw: dict[str, Any], fields: frozenset[str]) -> None:
    """Exactly the fields this app writes: anything else goes through the validator."""
    if raw.keys() != fields:
        raise KeyError(f"fields {sorted(raw.keys() ^ fields)}")


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"not an integer: {value!r}")
    return value


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"not a string: {value!r}")
    return value


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(_str(value))
    if moment.tzinfo is None:
        raise ValueError(f"a naive time: {value!r}")
    return moment


def _optional_moment(value: Any) -> datetime | None:
    return None if value is None else _moment(value)
