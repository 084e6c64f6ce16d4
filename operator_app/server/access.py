"""Who may see and do what: the caller, dialog visibility and the audience of dialog events."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import DialogState, Role

from . import schema as s
from .errors import ApiError, forbidden, not_found
from .hotsql import Hot


@dataclass(frozen=True)
class Caller:
    id: int
    login: str
    name: str
    role: Role
    queue_ids: frozenset[int]
    supervised_ids: frozenset[int]
    token_hash: str = ""
    expires_at: datetime | None = None  # of the token this caller authenticated with

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def supervises(self, queue_id: int) -> bool:
        return self.is_admin or queue_id in self.supervised_ids

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ApiError(ErrorCode.FORBIDDEN, "only an admin may do this")


# every authenticated request loads its caller: on the DB-API cursor (hotsql.py)
_OPERATOR = Hot(select(s.operators).where(s.operators.c.id == bindparam("operator_id")))
_MEMBER_OF = Hot(
    select(s.queue_members.c.queue_id).where(
        s.queue_members.c.operator_id == bindparam("operator_id")
    )
)
_SUPERVISOR_OF = Hot(
    select(s.queue_supervisors.c.queue_id).where(
        s.queue_supervisors.c.operator_id == bindparam("operator_id")
    )
)
_DIALOG = Hot(select(s.dialogs).where(s.dialogs.c.id == bindparam("dialog_id")))


def load_caller(conn: Connection, operator_id: int, token_hash: str = "") -> Caller | None:
    key = {"operator_id": operator_id}
    row = _OPERATOR.first(conn, key)
    if row is None or not row.enabled:
        return None
    members = _MEMBER_OF.scalars(conn, key)
    supervised = _SUPERVISOR_OF.scalars(conn, key)
    return Caller(
        id=row.id,
        login=row.login,
        name=row.name,
        role=Role(row.role),
        queue_ids=frozenset(members),
        supervised_ids=frozenset(supervised),
        token_hash=token_hash,
    )


_PARTICIPANTS = Hot(
    select(s.dialog_participants.c.operator_id)
    .where(s.dialog_participants.c.dialog_id == bindparam("dialog_id"))
    .order_by(s.dialog_participants.c.operator_id)
)


def participant_ids(conn: Connection, dialog_id: int) -> list[int]:
    """In id order, as the wire dialog lists them."""
    return list(_PARTICIPANTS.scalars(conn, {"dialog_id": dialog_id}))


def participants_of(conn: Connection, dialog_id: int) -> set[int]:
    return set(participant_ids(conn, dialog_id))


def can_see(caller: Caller, dialog: Any, participants: set[int]) -> bool:
    """The single visibility rule; ``dialog_audience`` is its mirror image."""
    if caller.is_admin or caller.supervises(dialog.queue_id):
        return True
    if dialog.assignee_id == caller.id or caller.id in participants:
        return True
    return dialog.state == DialogState.WAITING and dialog.queue_id in caller.queue_ids


def dialog_audience(
    conn: Connection,
    dialog: Any,
    memo: dict[Any, Any] | None = None,
    participants: Collection[int] | None = None,
) -> set[int]:
    """Operator ids who may see the dialog in its current state (enabled or not).

    ``memo`` (a batch's, see ``writer``) keeps the queue staff and the admins for the rest of
    the transaction: the batched jobs never change them. ``participants``: the dialog's, if
    the caller has just read them.
    """
    audience = set(participant_ids(conn, dialog.id) if participants is None else participants)
    if dialog.assignee_id is not None:
        audience.add(dialog.assignee_id)
    audience.update(_staff(conn, "supervisors", dialog.queue_id, memo))
    if dialog.state == DialogState.WAITING:
        audience.update(_staff(conn, "members", dialog.queue_id, memo))
    audience.update(_staff(conn, "admins", 0, memo))
    return audience


_STAFF = {
    "supervisors": Hot(
        select(s.queue_supervisors.c.operator_id).where(
            s.queue_supervisors.c.queue_id == bindparam("queue_id")
        )
    ),
    "members": Hot(
        select(s.queue_members.c.operator_id).where(
            s.queue_members.c.queue_id == bindparam("queue_id")
        )
    ),
    "admins": Hot(select(s.operators.c.id).where(s.operators.c.role == Role.ADMIN)),
}


def _staff(
    conn: Connection, kind: str, queue_id: int, memo: dict[Any, Any] | None
) -> frozenset[int]:
    key = ("staff", kind, queue_id)
    if memo is not None and key in memo:
        found: frozenset[int] = memo[key]
        return found
    staff = frozenset(_STAFF[kind].scalars(conn, {"queue_id": queue_id}))
    if memo is not None:
        memo[key] = staff
    return staff


def visible_dialog(
    conn: Connection, caller: Caller, dialog_id: int, *, to_take: bool = False
) -> Any:
    """The dialog row if the caller may see it; 404 if it does not exist, else 403.

    ``to_take``: a dialog of the caller's queues that left the waiting line meanwhile says why
    (a colleague took it, or it was closed): the caller saw it waiting, so that is no secret.
    """
    row = _DIALOG.first(conn, {"dialog_id": dialog_id})
    if row is None:
        raise not_found("dialog")
    if not can_see(caller, row, participants_of(conn, dialog_id)):
        if to_take and row.queue_id in caller.queue_ids:
            if row.state == DialogState.CLOSED:
                raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
            raise ApiError(ErrorCode.CONFLICT, "the dialog is already assigned")
        raise forbidden("this dialog")
    return row
