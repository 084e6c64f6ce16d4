"""What a DeskService holds, for assertions: a row that must be there, or the test fails."""

from __future__ import annotations

from operator_app.core.rows import DeliveryState, DialogInfo, OperatorInfo
from operator_app.core.service import DeskService


def message_state(service: DeskService, key: str) -> DeliveryState:
    """The delivery state of the message row ``key`` in the cache."""
    row = service.cache.message(key)
    assert row is not None, f"no message row {key}"
    return row.state


def dialog_of(service: DeskService, dialog_id: int) -> DialogInfo:
    """The dialog as the service shows it."""
    row = service.dialog(dialog_id)
    assert row is not None, f"no dialog {dialog_id}"
    return row.dialog


def me_of(service: DeskService) -> OperatorInfo:
    """The signed-in operator."""
    me = service.me
    assert me is not None, "no signed-in operator"
    return me
