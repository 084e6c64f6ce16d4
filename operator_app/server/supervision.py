"""Supervisor endpoints: the live boards, reports and whispers. Operators get 403 on every one.

Numbers are computed in Python from bounded queries (one range of dialogs, at most
``MAX_REPORT_DAYS``): simple and identical on SQLite and PostgreSQL. See docs/supervisor.md.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from sqlalchemy import Connection, select

from operator_app.protocol import models as m
from operator_app.protocol import reports as r
from operator_app.protocol import routes
from operator_app.protocol.errors import ErrorCode

from . import schema as s
from . import views
from .access import Caller, visible_dialog
from .errors import ApiError, aware, forbidden, invalid
from .schema import utcnow
from .service import Backend, start_of_today, store_line

WORKING_STATES = (m.DialogState.WAITING, m.DialogState.ACTIVE)


def supervisor_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    """The authenticated caller, refused with 403 unless a supervisor or an admin."""
    from .app import bearer_token  # the app module imports this one: import late

    backend: Backend = request.app.state.backend
    caller = backend.authenticate(bearer_token(authorization))
    if caller.role not in (m.Role.SUPERVISOR, m.Role.ADMIN):
        raise forbidden("the supervisor console")
    return caller


SupervisorDep = Annotated[Caller, Depends(supervisor_caller)]


def add_routes(app: FastAPI, backend: Backend) -> None:
    router = APIRouter()

    @router.get(routes.SUPERVISION_BOARD)
    def board(caller: SupervisorDep, day_start: datetime | None = None) -> r.Board:
        now = utcnow()
        start = start_of_today(day_start, now)
        with backend.read() as conn:
            return build_board(conn, supervised_queue_ids(conn, caller), start, now)

    @router.get(routes.REPORTS)
    def report(
        caller: SupervisorDep,
        since: datetime,
        until: datetime,
        bucket: r.BucketSize = r.BucketSize.DAY,
        queue_id: int | None = None,
        operator_id: Annotated[int | None, Query()] = None,
    ) -> r.Report:
        since, until = aware(since, "since"), aware(until, "until")
        if not since < until <= since + timedelta(days=r.MAX_REPORT_DAYS):
            raise invalid(f"since < until, at most {r.MAX_REPORT_DAYS} days apart")
        with backend.read() as conn:
            queues = supervised_queue_ids(conn, caller)
            if queue_id is not None:
                if queue_id not in queues:
                    raise forbidden("this queue")
                queues = [queue_id]
            return build_report(conn, queues, operator_id, since, until, bucket, utcnow())

    @router.post(routes.WHISPER, status_code=201)
    def whisper(dialog_id: int, body: r.WhisperRequest, caller: SupervisorDep) -> m.Message:
        return store_whisper(backend, caller, dialog_id, body.text)

    app.include_router(router)


# ---- access ---------------------------------------------------------------------------------


def supervised_queue_ids(conn: Connection, caller: Caller) -> list[int]:
    if caller.is_admin:
        return list(conn.execute(select(s.queues.c.id).order_by(s.queues.c.id)).scalars())
    return sorted(caller.supervised_ids)


# ---- the live board -------------------------------------------------------------------------


def build_board(
    conn: Connection, queue_ids: Sequence[int], day_start: datetime, now: datetime
) -> r.Board:
    queues = views.queues(conn, queue_ids)
    working = conn.execute(
        select(s.dialogs).where(
            s.dialogs.c.queue_id.in_(queue_ids), s.dialogs.c.state.in_(WORKING_STATES)
        )
    ).all()
    operator_ids = set(
        conn.execute(
            select(s.queue_members.c.operator_id).where(s.queue_members.c.queue_id.in_(queue_ids))
        ).scalars()
    )
    operators = [o for o in views.operators(conn, operator_ids) if o.enabled]
    return r.Board(
        generated_at=now,
        day_start=day_start,
        queues=[_queue_row(q, working, operators, now) for q in queues],
        operators=_operator_rows(conn, operators, working, day_start),
    )


def _queue_row(
    queue: m.Queue, working: Sequence[Any], operators: list[m.Operator], now: datetime
) -> r.QueueBoardRow:
    mine = [d for d in working if d.queue_id == queue.id]
    waiting = [d for d in mine if d.state == m.DialogState.WAITING]
    waits = [(now - (d.waiting_since or d.queued_at or d.created_at)) for d in waiting]
    late = [
        d.id
        for d in mine
        if d.waiting_since is not None
        and (now - d.waiting_since).total_seconds() > queue.sla_seconds
    ]
    members = [o for o in operators if queue.id in o.queue_ids]
    return r.QueueBoardRow(
        queue_id=queue.id,
        name=queue.name,
        sla_seconds=queue.sla_seconds,
        waiting=len(waiting),
        longest_wait_seconds=max((w.total_seconds() for w in waits), default=0.0),
        active=len(mine) - len(waiting),
        operators_online=sum(o.status == m.OperatorStatus.ONLINE for o in members),
        operators_total=len(members),
        over_sla=len(late),
        over_sla_dialog_ids=sorted(late),
    )


def _operator_rows(
    conn: Connection, operators: list[m.Operator], working: Sequence[Any], day_start: datetime
) -> list[r.OperatorBoardRow]:
    ids = [o.id for o in operators]
    today = conn.execute(
        select(s.dialogs).where(
            s.dialogs.c.assignee_id.in_(ids),
            (s.dialogs.c.closed_at >= day_start) | (s.dialogs.c.first_response_at >= day_start),
        )
    ).all()
    rows = []
    for operator in operators:
        own = [d for d in today if d.assignee_id == operator.id]
        closed = [d for d in own if d.closed_at is not None and d.closed_at >= day_start]
        firsts = [
            _seconds(d.first_response_at - d.created_at)
            for d in own
            if d.first_response_at is not None and d.first_response_at >= day_start
        ]
        ratings = [d.rating for d in closed if d.rating is not None]
        active = sorted(
            d.id for d in working if d.assignee_id == operator.id and d.state == "active"
        )
        rows.append(
            r.OperatorBoardRow(
                operator_id=operator.id,
                name=operator.name,
                login=operator.login,
                status=operator.status,
                capacity=operator.capacity,
                load=operator.load,
                active_dialog_ids=active,
                handled_today=len(closed),
                median_first_response_seconds=statistics.median(firsts) if firsts else None,
                average_rating=statistics.fmean(ratings) if ratings else None,
                queue_ids=operator.queue_ids,
            )
        )
    return rows


# ---- reports --------------------------------------------------------------------------------


def build_report(
    conn: Connection,
    queue_ids: Sequence[int],
    operator_id: int | None,
    since: datetime,
    until: datetime,
    bucket: r.BucketSize,
    now: datetime,
) -> r.Report:
    query = (
        select(s.dialogs, s.queues.c.sla_seconds)
        .join(s.queues, s.queues.c.id == s.dialogs.c.queue_id)
        .where(
            s.dialogs.c.queue_id.in_(queue_ids),
            s.dialogs.c.created_at >= since,
            s.dialogs.c.created_at < until,
        )
    )
    if operator_id is not None:
        query = query.where(s.dialogs.c.assignee_id == operator_id)
    dialogs = conn.execute(query).all()
    size = timedelta(hours=1) if bucket == r.BucketSize.HOUR else timedelta(days=1)
    count = math.ceil((until - since) / size)
    grouped: dict[int, list[Any]] = defaultdict(list)
    for d in dialogs:
        grouped[(d.created_at - since) // size].append(d)
    rows = [
        summarize(grouped.get(i, []), since + i * size, since + (i + 1) * size, now)
        for i in range(count)
    ]
    counts = [0] * 5
    for d in dialogs:
        if d.rating is not None and 1 <= d.rating <= 5:
            counts[d.rating - 1] += 1
    return r.Report(
        since=since,
        until=until,
        bucket=bucket,
        queue_id=queue_ids[0] if len(queue_ids) == 1 else None,
        operator_id=operator_id,
        rows=rows,
        totals=summarize(dialogs, since, until, now),
        rating_counts=counts,
    )


def summarize(dialogs: Sequence[Any], start: datetime, end: datetime, now: datetime) -> r.ReportRow:
    firsts = [
        _seconds(d.first_response_at - d.created_at)
        for d in dialogs
        if d.first_response_at is not None
    ]
    handling = [
        _seconds(d.closed_at - (d.assigned_at or d.created_at))
        for d in dialogs
        if d.closed_at is not None
    ]
    ratings = [d.rating for d in dialogs if d.rating is not None]
    return r.ReportRow(
        start=start,
        dialogs=len(dialogs),
        closed=len(handling),
        first_response_median=statistics.median(firsts) if firsts else None,
        first_response_p90=percentile(firsts, 0.9),
        handling_average=statistics.fmean(handling) if handling else None,
        handling_median=statistics.median(handling) if handling else None,
        rating_average=statistics.fmean(ratings) if ratings else None,
        ratings=len(ratings),
        sla_breaches=sum(_breached(d, now) for d in dialogs),
        operators_active=len(_holders(dialogs, start, min(end, now), now)),
    )


def percentile(values: Iterable[float], share: float) -> float | None:
    """Nearest-rank percentile (the value at or below which ``share`` of the values lie)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def _breached(d: Any, now: datetime) -> bool:
    answered = d.first_response_at or d.closed_at or now
    return _seconds(answered - d.created_at) > float(d.sla_seconds)


def _holders(dialogs: Sequence[Any], start: datetime, end: datetime, now: datetime) -> set[int]:
    return {
        d.assignee_id
        for d in dialogs
        if d.assignee_id is not None
        and d.assigned_at is not None
        and d.assigned_at < end
        and (d.closed_at or now) >= start
    }


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


# ---- whisper --------------------------------------------------------------------------------


def store_whisper(backend: Backend, caller: Caller, dialog_id: int, text: str) -> m.Message:
    """An internal comment addressed to the assignee; the supervisor does not join the dialog."""
    if not text.strip():
        raise invalid("a whisper needs text", field="text")
    with backend.write() as tx:
        row = visible_dialog(tx.conn, caller, dialog_id)
        if not caller.supervises(row.queue_id):
            raise forbidden("this dialog")
        if row.state == m.DialogState.CLOSED:
            raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
        if row.assignee_id is None:
            raise ApiError(ErrorCode.CONFLICT, "nobody is assigned to this dialog")
        assignee = tx.conn.execute(
            select(s.operators.c.name).where(s.operators.c.id == row.assignee_id)
        ).scalar_one()
        whisper = f"@{assignee}: {text}"
        message_id = store_line(
            tx, dialog_id, m.Author.OPERATOR, caller.id, m.MessageKind.COMMENT, whisper
        )
        tx.audit(caller.id, "whisper", "dialog", dialog_id, to_operator_id=row.assignee_id)
        return views.message(tx.conn, message_id)
