"""Rows of our own cache, read back without pydantic.

The cache stores dialogs and ``me`` as the JSON their models dumped (``model_dump_json``), so
reading them back needs no validation, only the same types: enums, aware datetimes, nested
rows. The dialog list and ``me`` are read for the first paint: they come back as the plain
rows of ``rows.py`` (``DialogInfo``, ``OperatorInfo``), so that pydantic and the wire models
(~70 ms of imports and class building) load after it. Validating them put the validator
builds and pydantic's plugin loader (which scans every installed distribution) there too.

A row that does not look like what this app writes (an older or damaged row) goes through
the validator instead: the result is the same either way (tests/unit/core/test_trusted_rows.py
compares them field by field). ``dialog_model`` and ``operator_model`` give the wire models
themselves, built with ``model_construct`` (no validator), for the readers that need one
(``Cache.get_dialog``, ``Cache.me``; off the start path).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from operator_app.protocol.enums import (
    Author,
    Channel,
    DialogState,
    MessageKind,
    OperatorStatus,
    Role,
)

from .rows import DialogInfo, OperatorInfo, PreviewInfo

if TYPE_CHECKING:
    from operator_app.protocol.models import Dialog, Operator

log = logging.getLogger(__name__)

# The fields each reader converts: the rows' own (a test checks them against the models').
DIALOG_FIELDS = frozenset(field.name for field in fields(DialogInfo))
PREVIEW_FIELDS = frozenset(field.name for field in fields(PreviewInfo))
OPERATOR_FIELDS = frozenset(field.name for field in fields(OperatorInfo))


def dialog_info_from_json(data: str) -> DialogInfo:
    """A dialog row as the cache wrote it, as plain data (the dialog list's read)."""
    try:
        return _dialog(json.loads(data))
    except (KeyError, TypeError, ValueError) as exc:
        log.info("cache: a dialog row is not in this app's form (%s); validating it", exc)
        from operator_app.protocol.models import Dialog

        return dialog_info(Dialog.model_validate_json(data))


def operator_info_from_json(data: str) -> OperatorInfo:
    """``me`` (or another operator) as the cache wrote it, as plain data."""
    try:
        return _operator(json.loads(data))
    except (KeyError, TypeError, ValueError) as exc:
        log.info("cache: an operator row is not in this app's form (%s); validating it", exc)
        from operator_app.protocol.models import Operator

        return operator_info(Operator.model_validate_json(data))


def dialog_info(dialog: Dialog) -> DialogInfo:
    """The wire model's fields as a plain row (what an upsert leaves for the list to read)."""
    values = _copy(dialog, DialogInfo, tuple)
    preview = dialog.last_message
    values["last_message"] = None if preview is None else PreviewInfo(**_copy(preview, PreviewInfo))
    return DialogInfo(**values)


def operator_info(operator: Operator) -> OperatorInfo:
    return OperatorInfo(**_copy(operator, OperatorInfo, tuple))


def dialog_model(info: DialogInfo) -> Dialog:
    """The wire model of a row already checked by ``_dialog``: no validator is built."""
    from operator_app.protocol.models import Dialog, MessagePreview

    values = _copy(info, DialogInfo, list)
    preview = info.last_message
    if preview is not None:
        values["last_message"] = MessagePreview.model_construct(**_copy(preview, PreviewInfo))
    return Dialog.model_construct(**values)


def operator_model(info: OperatorInfo) -> Operator:
    """The wire model of a row already checked by ``_operator``: no validator is built."""
    from operator_app.protocol.models import Operator

    return Operator.model_construct(**_copy(info, OperatorInfo, list))


_SEQUENCES = frozenset({"participant_ids", "tags", "queue_ids", "supervised_queue_ids"})


def _copy(
    source: Any, row_type: type[Any], sequence: Callable[[Any], Any] = tuple
) -> dict[str, Any]:
    """``row_type``'s fields read from a row or a model: the models' lists become
    ``sequence`` (tuples in rows, lists in models); nested values are the caller's."""
    values = {name: getattr(source, name) for name in _field_names(row_type)}
    for name in _SEQUENCES.intersection(values):
        values[name] = sequence(values[name])
    return values


def _field_names(row_type: type[Any]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(row_type))


def _dialog(raw: dict[str, Any]) -> DialogInfo:
    _expect(raw, DIALOG_FIELDS)
    preview = raw["last_message"]
    return DialogInfo(
        id=_int(raw["id"]),
        channel=Channel(raw["channel"]),
        contact_id=_int(raw["contact_id"]),
        contact_name=_str(raw["contact_name"]),
        queue_id=_int(raw["queue_id"]),
        assignee_id=_optional_int(raw["assignee_id"]),
        participant_ids=tuple(_int(value) for value in raw["participant_ids"]),
        state=DialogState(raw["state"]),
        tags=tuple(_str(tag) for tag in raw["tags"]),
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


def _preview(raw: dict[str, Any]) -> PreviewInfo:
    _expect(raw, PREVIEW_FIELDS)
    return PreviewInfo(
        author=Author(raw["author"]),
        kind=MessageKind(raw["kind"]),
        text=_str(raw["text"]),
        created_at=_moment(raw["created_at"]),
    )


def _operator(raw: dict[str, Any]) -> OperatorInfo:
    _expect(raw, OPERATOR_FIELDS)
    enabled = raw["enabled"]
    if not isinstance(enabled, bool):
        raise TypeError("enabled is not a boolean")
    return OperatorInfo(
        id=_int(raw["id"]),
        login=_str(raw["login"]),
        name=_str(raw["name"]),
        role=Role(raw["role"]),
        status=OperatorStatus(raw["status"]),
        capacity=_int(raw["capacity"]),
        load=_int(raw["load"]),
        queue_ids=tuple(_int(value) for value in raw["queue_ids"]),
        supervised_queue_ids=tuple(_int(value) for value in raw["supervised_queue_ids"]),
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
