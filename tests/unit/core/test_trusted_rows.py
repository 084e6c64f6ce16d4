"""Dialogs and ``me`` read back from the cache without validators: the same values as the
validator makes, and pydantic not even imported on the way (the start path reads plain rows)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from operator_app.core.cache import Cache
from operator_app.core.rows import DialogInfo, OperatorInfo, PreviewInfo
from operator_app.core.trusted import (
    DIALOG_FIELDS,
    OPERATOR_FIELDS,
    PREVIEW_FIELDS,
    dialog_info,
    dialog_info_from_json,
    dialog_model,
    operator_info,
    operator_info_from_json,
    operator_model,
)
from operator_app.protocol.models import (
    Author,
    Channel,
    Dialog,
    DialogState,
    MessagePreview,
    Operator,
    OperatorStatus,
    Role,
)
from tests.unit.core.core_factories import T0, dialog, message, operator


def full_dialog(**over: Any) -> Dialog:
    """Every field away from its default, Cyrillic and fractional seconds included."""
    last = message(77, 5, "Здравствуйте, ёлка", author=Author.OPERATOR)
    fields: dict[str, Any] = {
        "channel": Channel.WHATSAPP,
        "participant_ids": [3, 4],
        "tags": ["vip", "доставка"],
        "subject": "Заказ №5",
        "waiting_since": T0 + timedelta(seconds=1.25),
        "first_response_at": T0 + timedelta(minutes=2),
        "closed_at": T0 + timedelta(hours=1),
        "resolution": "done",
        "rating": 4,
        "message_count": 12,
    }
    return dialog(5, assignee_id=2, state=DialogState.CLOSED, last=last, **(fields | over))


def same_model(fast: Any, checked: Any) -> None:
    """Equal, field by field, with the same types (enums stay enums, times stay aware)."""
    assert fast == checked
    for name in type(checked).model_fields:
        mine, theirs = getattr(fast, name), getattr(checked, name)
        assert mine == theirs, name
        assert type(mine) is type(theirs) or {type(mine), type(theirs)} <= {int, bool}, name
        if hasattr(theirs, "utcoffset"):
            assert mine.utcoffset() == theirs.utcoffset(), name
        if isinstance(theirs, MessagePreview):
            same_model(mine, theirs)
    assert fast.model_fields_set == checked.model_fields_set
    assert fast.model_dump_json() == checked.model_dump_json()


def same_row(fast: Any, checked: Any) -> None:
    """A plain row equal to the one made from the validated model, with the same types."""
    assert fast == checked
    for field in fields(checked):
        mine, theirs = getattr(fast, field.name), getattr(checked, field.name)
        assert type(mine) is type(theirs), field.name
        if hasattr(theirs, "utcoffset"):
            assert mine.utcoffset() == theirs.utcoffset(), field.name
        if isinstance(theirs, PreviewInfo):
            same_row(mine, theirs)


DIALOGS = [
    full_dialog(),
    full_dialog(last_message=None, last_message_id=None, rating=None, closed_at=None),
    dialog(1),
    dialog(2, state=DialogState.ACTIVE, assignee_id=1, last=message(9, 2, "")),
]


@pytest.mark.parametrize("made", DIALOGS)
def test_a_dialog_read_back_is_the_validated_one(made: Dialog) -> None:
    data = made.model_dump_json()  # Cache.get_dialog's wire model
    same_model(dialog_model(dialog_info_from_json(data)), Dialog.model_validate_json(data))


@pytest.mark.parametrize("made", DIALOGS)
def test_a_dialog_row_read_back_holds_the_validated_values(made: Dialog) -> None:
    data = made.model_dump_json()
    checked = Dialog.model_validate_json(data)
    same_row(dialog_info_from_json(data), dialog_info(checked))
    assert dialog_info(checked).tags == tuple(checked.tags)


@pytest.mark.parametrize(
    "made",
    [
        operator(1),
        operator(2, role=Role.SUPERVISOR, status=OperatorStatus.AWAY, enabled=False, load=3),
        operator(3, name="Анна", queue_ids=[], supervised_queue_ids=[1, 2], capacity=0),
    ],
)
def test_an_operator_read_back_is_the_validated_one(made: Operator) -> None:
    data = made.model_dump_json()
    same_row(operator_info_from_json(data), operator_info(Operator.model_validate_json(data)))
    same_model(operator_model(operator_info_from_json(data)), Operator.model_validate_json(data))


def test_the_readers_know_every_field_of_the_models() -> None:
    # a field added to a model must be converted here too, or rows would keep raw JSON types
    assert set(Dialog.model_fields) == DIALOG_FIELDS
    assert set(MessagePreview.model_fields) == PREVIEW_FIELDS
    assert set(Operator.model_fields) == OPERATOR_FIELDS
    # and the plain rows carry exactly the models' fields
    assert {field.name for field in fields(DialogInfo)} == DIALOG_FIELDS
    assert {field.name for field in fields(PreviewInfo)} == PREVIEW_FIELDS
    assert {field.name for field in fields(OperatorInfo)} == OPERATOR_FIELDS


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: raw.pop("tags"),  # an older row: the validator fills the default
        lambda raw: raw.update(extra="ignored"),  # a newer row
        lambda raw: raw.update(id="5"),  # not this app's types: the validator coerces
        lambda raw: raw["last_message"].update(created_at="2026-11-23T09:00:00"),  # naive
    ],
)
def test_a_row_not_in_this_apps_form_goes_through_the_validator(change: Any) -> None:
    raw = json.loads(full_dialog().model_dump_json())
    change(raw)
    data = json.dumps(raw)
    checked = Dialog.model_validate_json(data)
    same_row(dialog_info_from_json(data), dialog_info(checked))
    assert dialog_model(dialog_info_from_json(data)).model_dump_json() == checked.model_dump_json()


def test_an_operator_not_in_this_apps_form_goes_through_the_validator() -> None:
    raw = json.loads(operator(2).model_dump_json())
    raw.pop("load")  # an older row: the validator fills the default
    data = json.dumps(raw)
    same_row(operator_info_from_json(data), operator_info(Operator.model_validate_json(data)))


def test_a_damaged_row_still_fails_loudly() -> None:
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        dialog_info_from_json('{"id": 1, "channel": "pigeon"}')


def test_the_start_reads_load_no_pydantic(tmp_path: Path) -> None:
    """A fresh process reads me and a page of dialog rows as the first paint does: neither
    pydantic nor the wire models are imported for it."""
    path = tmp_path / "c.sqlite3"
    cache = Cache.open(path)
    cache.set_me(operator(1))
    for number in range(1, 4):
        cache.upsert_dialog(full_dialog(id=number))
    cache.close()
    script = f"""
import json, sys
from operator_app.core.cache import Cache
cache = Cache.open(__import__("pathlib").Path({str(path)!r}))
me = cache.me_info()
rows = cache.dialog_rows([1, 2, 3])
print(json.dumps({{
    "me": me.name, "rows": len(rows), "tags": rows[2].dialog.tags,
    "loaded": [m for m in ("pydantic", "operator_app.protocol.models") if m in sys.modules],
}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {
        "me": "Operator 1",
        "rows": 3,
        "tags": ["vip", "доставка"],
        "loaded": [],
    }
