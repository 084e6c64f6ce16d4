"""Auto-distribution: waiting dialogs, FIFO, to online operators with free capacity.

Least loaded first, then the one idle longest (oldest last assignment). Runs inside the write
transaction of whatever freed capacity or added a waiting dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from operator_app.protocol.models import DialogState, OperatorStatus

from . import schema as s
from .hotsql import Hot
from .txn import Tx

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Candidate:
    id: int
    capacity: int
    load: int
    last_assigned_at: datetime

    def rank(self) -> tuple[int, datetime, int]:
        return (self.load, self.last_assigned_at, self.id)


def online_candidates(tx: Tx) -> dict[int, Candidate]:
    rows = tx.conn.execute(
        select(s.operators).where(
            s.operators.c.enabled.is_(True), s.operators.c.status == OperatorStatus.ONLINE
        )
    ).all()
    loads: dict[int, int] = dict(
        tx.conn.execute(
            select(s.dialogs.c.assignee_id, func.count())
            .where(s.dialogs.c.state == DialogState.ACTIVE)
            .group_by(s.dialogs.c.assignee_id)
        ).all()
    )
    return {
        r.id: Candidate(r.id, r.capacity, loads.get(r.id, 0), r.last_assigned_at or _NEVER)
        for r in rows
    }


def has_free_capacity(tx: Tx, operator_id: int) -> bool:
    settle(tx)  # a load decision sees every assignment the batch owes so far
    row = tx.conn.execute(select(s.operators).where(s.operators.c.id == operator_id)).one()
    return bool(row.capacity > load_of(tx, operator_id))


def load_of(tx: Tx, operator_id: int) -> int:
    return int(
        tx.conn.execute(
            select(func.count())
            .select_from(s.dialogs)
            .where(s.dialogs.c.assignee_id == operator_id)
            .where(s.dialogs.c.state == DialogState.ACTIVE)
        ).scalar_one()
    )


def distribute_later(tx: Tx) -> None:
    """In a group-commit batch, distribute once before the batch ends (``settle``), not
    after every customer message. The result is the same: no job of a batch reads loads
    without settling first, and the waiting line is FIFO either way."""
    if tx.memo is None:
        distribute(tx)
    else:
        tx.routing_pending = True


def settle(tx: Tx) -> None:
    if tx.routing_pending:
        distribute(tx)


# runs once per group-commit batch, usually to find nobody waiting: on the DB-API cursor
_WAITING = Hot(
    select(s.dialogs.c.id, s.dialogs.c.queue_id)
    .where(s.dialogs.c.state == DialogState.WAITING)
    .order_by(s.dialogs.c.queued_at, s.dialogs.c.id)
)


def distribute(tx: Tx) -> None:
    """Assign every waiting dialog that has a free online member, oldest in the queue first."""
    tx.routing_pending = False
    waiting = _WAITING.all(tx.conn)
    if not waiting:
        return
    candidates = online_candidates(tx)
    if not candidates:
        return
    members: dict[int, list[int]] = {}
    for queue_id, operator_id in tx.conn.execute(
        select(s.queue_members.c.queue_id, s.queue_members.c.operator_id)
    ).all():
        members.setdefault(queue_id, []).append(operator_id)
    for dialog in waiting:
        free = [
            candidates[o]
            for o in members.get(dialog.queue_id, [])
            if o in candidates and candidates[o].load < candidates[o].capacity
        ]
        if free:
            chosen = min(free, key=Candidate.rank)
            assign(tx, dialog.id, chosen.id)
            chosen.load += 1
            chosen.last_assigned_at = tx.now


def assign(tx: Tx, dialog_id: int, operator_id: int, *, emit: bool = True) -> None:
    """Make the dialog active on the operator; the previous assignee stops being involved."""
    row = tx.dialog_row(dialog_id)
    before = tx.audience(dialog_id) if emit else set()
    tx.conn.execute(
        update(s.dialogs)
        .where(s.dialogs.c.id == dialog_id)
        .values(
            state=DialogState.ACTIVE,
            assignee_id=operator_id,
            assigned_at=tx.now,
            queued_at=None,
            updated_at=tx.now,
        )
    )
    tx.conn.execute(
        update(s.operators).where(s.operators.c.id == operator_id).values(last_assigned_at=tx.now)
    )
    _touch(tx, row, operator_id)
    if emit:
        tx.emit_dialog(dialog_id, before)


def enqueue(tx: Tx, dialog_id: int, queue_id: int) -> None:
    """Put the dialog at the back of a queue's waiting line, with nobody assigned."""
    row = tx.dialog_row(dialog_id)
    tx.conn.execute(
        update(s.dialogs)
        .where(s.dialogs.c.id == dialog_id)
        .values(
            state=DialogState.WAITING,
            assignee_id=None,
            queue_id=queue_id,
            queued_at=tx.now,
            closed_at=None,
            updated_at=tx.now,
        )
    )
    _touch(tx, row, None)
    tx.touched_queues.add(queue_id)


def _touch(tx: Tx, before: Any, new_assignee: int | None) -> None:
    for op in (before.assignee_id, new_assignee):
        if op is not None:
            tx.touched_operators.add(op)
    tx.touched_queues.add(before.queue_id)
