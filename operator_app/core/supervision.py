"""SupervisorService: the supervisor console's facade (boards, reports, actions, staffing).

Qt-free. It works over the same ``ApiClient`` and cache as the ``DeskService`` it is given:
dialog actions (take over, transfer) go through the desk service so the cache stays the single
source of truth; board and report calls are plain requests. Every call raises the core's
``ActionError`` / ``OfflineError``, never a net error.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import (
    CapacityRequest,
    EnabledRequest,
    Message,
    Operator,
    OperatorCreate,
    OperatorStatus,
    PasswordReset,
    QueueAssignment,
    Role,
    StatusRequest,
)
from operator_app.protocol.reports import Board, BucketSize, Report, ReportRow, WhisperRequest

from .clock import local_midnight
from .errors import ActionError, build, guarded
from .roles import may_supervise as may_supervise  # re-exported for the console
from .service import DeskService
from .staffing import StaffingResult, operators_needed


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Memberships:
    """The queues an operator works in, and the ones they supervise (supervisors only)."""

    works_in: tuple[int, ...] = ()
    supervises: tuple[int, ...] = ()


@dataclass(frozen=True)
class NewAccount:
    login: str
    name: str
    password: str
    role: Role = Role.OPERATOR
    capacity: int = 5
    queues: Memberships = Memberships()


@dataclass(frozen=True)
class ReportFilter:
    since: datetime
    until: datetime
    bucket: BucketSize = BucketSize.DAY
    queue_id: int | None = None
    operator_id: int | None = None

    def params(self) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bucket": self.bucket.value,
        }
        if self.queue_id is not None:
            params["queue_id"] = self.queue_id
        if self.operator_id is not None:
            params["operator_id"] = self.operator_id
        return params


@dataclass(frozen=True)
class StaffingTarget:
    level: float = 0.8  # share of chats answered within ``seconds``
    seconds: float = 20.0
    concurrency: int = 3  # chats one operator handles at once
    concurrency_factor: float = 1.0  # > 1 when the handling time was measured on single chats


@dataclass(frozen=True)
class HourPlan:
    hour: int  # local hour of the day, 0..23
    arrivals_per_hour: float  # average over the days of the range
    handling_seconds: float | None
    current_operators: float  # average distinct operators holding dialogs in that hour
    needed: StaffingResult | None  # None when there is no handling time to plan with

    @property
    def gap(self) -> float:
        return (self.needed.operators if self.needed else 0) - self.current_operators


class SupervisorService:
    def __init__(self, desk: DeskService, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.desk = desk
        self.api = desk.api
        self._clock = clock

    @property
    def allowed(self) -> bool:
        return may_supervise(self.desk.me)

    # ---- live boards and reports -------------------------------------------------------------

    async def board(self) -> Board:
        """Queue and operator boards; "today" starts at the local midnight."""
        day_start = local_midnight(self._clock())
        return await guarded(self.api.supervision_board(day_start))

    async def report(self, selection: ReportFilter) -> Report:
        if selection.since.tzinfo is None or selection.until.tzinfo is None:
            raise ActionError(ErrorCode.VALIDATION_ERROR, "report dates need a time zone")
        if selection.since >= selection.until:
            raise ActionError(ErrorCode.VALIDATION_ERROR, "the report range is empty")
        return await guarded(self.api.report(selection.params()))

    # ---- actions ----------------------------------------------------------------------------

    async def set_operator_status(self, operator_id: int, status: OperatorStatus) -> Operator:
        body = build(StatusRequest, status=status)
        return await guarded(self.api.set_operator_status(operator_id, body))

    async def set_capacity(self, operator_id: int, capacity: int) -> Operator:
        body = build(CapacityRequest, capacity=capacity)
        return await guarded(self.api.set_capacity(operator_id, body))

    # ---- staff accounts (admins) ------------------------------------------------------------

    async def staff(self) -> tuple[list[Operator], dict[int, str]]:
        """Every account, enabled or not, by name; and every queue's name by id (asked now:
        an admin's cache may not hold the queues yet, nor ones they do not belong to)."""
        operators = await guarded(self.api.operators())
        queues = await guarded(self.api.queues())
        ordered = sorted(operators, key=lambda o: (o.name.casefold(), o.login))
        return ordered, {queue.id: queue.name for queue in queues}

    async def set_sign_in(self, operator_id: int, enabled: bool) -> Operator:
        """Disabling signs the operator out everywhere and returns their dialogs to the queues."""
        body = build(EnabledRequest, enabled=enabled)
        return await guarded(self.api.set_enabled(operator_id, body))

    async def create_account(self, account: NewAccount) -> Operator:
        body = build(
            OperatorCreate,
            login=account.login,
            name=account.name,
            role=account.role,
            password=account.password,
            capacity=account.capacity,
            queue_ids=list(account.queues.works_in),
            supervised_queue_ids=list(account.queues.supervises),
        )
        return await guarded(self.api.create_operator(body))

    async def set_queues(self, operator_id: int, queues: Memberships) -> Operator:
        """Their open desks re-read what they may see (the server sends them a resync)."""
        body = build(
            QueueAssignment,
            queue_ids=list(queues.works_in),
            supervised_queue_ids=list(queues.supervises),
        )
        return await guarded(self.api.set_queues(operator_id, body))

    async def reset_password(self, operator_id: int, new_password: str) -> None:
        """The operator is signed out everywhere and signs in with the new password."""
        body = build(PasswordReset, new_password=new_password)
        await guarded(self.api.reset_password(operator_id, body))

    async def take_over(self, dialog_id: int) -> None:
        await self.desk.take(dialog_id)

    async def reassign(self, dialog_id: int, operator_id: int, comment: str = "") -> None:
        await self.desk.transfer(dialog_id, to_operator_id=operator_id, comment=comment)

    async def move_to_queue(self, dialog_id: int, queue_id: int, comment: str = "") -> None:
        await self.desk.transfer(dialog_id, to_queue_id=queue_id, comment=comment)

    async def whisper(self, dialog_id: int, text: str) -> Message:
        """An internal comment addressed to the dialog's assignee."""
        body = build(WhisperRequest, text=text)
        return await guarded(self.api.whisper(dialog_id, body))

    # ---- staffing ---------------------------------------------------------------------------

    def staffing_plan(self, report: Report, target: StaffingTarget) -> list[HourPlan]:
        return plan_by_hour(report, target)


def plan_by_hour(report: Report, target: StaffingTarget) -> list[HourPlan]:
    """Per local hour of the day: measured load, Erlang C need, and the staffing seen."""
    if report.bucket != BucketSize.HOUR:
        raise ValueError("staffing needs an hourly report")
    by_hour: dict[int, list[ReportRow]] = defaultdict(list)
    for row in report.rows:
        by_hour[row.start.astimezone().hour].append(row)
    plans = []
    for hour in range(24):
        rows = by_hour.get(hour, [])
        days = max(len(rows), 1)
        arrivals = sum(r.dialogs for r in rows) / days
        handling = _weighted_handling(rows)
        needed = None
        if handling is not None:
            needed = operators_needed(
                arrivals,
                handling,
                target_seconds=target.seconds,
                target_level=target.level,
                concurrency=target.concurrency,
                concurrency_factor=target.concurrency_factor,
            )
        current = statistics.fmean(r.operators_active for r in rows) if rows else 0.0
        plans.append(HourPlan(hour, arrivals, handling, current, needed))
    return plans


def _weighted_handling(rows: Iterable[ReportRow]) -> float | None:
    pairs = [(r.handling_average, r.closed) for r in rows if r.handling_average and r.closed]
    total = sum(n for _, n in pairs)
    if not total:
        return None
    return sum(value * n for value, n in pairs) / total


# ---- export ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "start",
    "dialogs",
    "closed",
    "first_response_median_s",
    "first_response_p90_s",
    "handling_average_s",
    "handling_median_s",
    "rating_average",
    "ratings",
    "sla_breaches",
    "operators_active",
)


def report_csv_rows(report: Report) -> list[list[str]]:
    def cell(value: float | int | None) -> str:
        if value is None:
            return ""
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    lines = []
    for row in [*report.rows, report.totals]:
        label = "total" if row is report.totals else row.start.astimezone().isoformat()
        lines.append(
            [
                label,
                *(
                    cell(getattr(row, name))
                    for name in (
                        "dialogs",
                        "closed",
                        "first_response_median",
                        "first_response_p90",
                        "handling_average",
                        "handling_median",
                        "rating_average",
                        "ratings",
                        "sla_breaches",
                        "operators_active",
                    )
                ),
            ]
        )
    return lines


def write_report_csv(report: Report, path: Path) -> None:
    """UTF-8 with a BOM, so spreadsheet programs read Cyrillic right."""
    with path.open("w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(report_csv_rows(report))


def default_range(now: datetime, days: int = 7) -> tuple[datetime, datetime]:
    """The last ``days`` local days, today included."""
    today = local_midnight(now)
    return today - timedelta(days=days - 1), today + timedelta(days=1)
