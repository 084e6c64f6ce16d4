"""SupervisorService's pure parts: report filters, the hourly staffing plan, CSV rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operator_app.core.rows import OperatorInfo
from operator_app.core.staffing import operators_needed
from operator_app.core.supervision import (
    CSV_COLUMNS,
    ReportFilter,
    StaffingTarget,
    may_supervise,
    plan_by_hour,
    report_csv_rows,
    write_report_csv,
)
from operator_app.core.trusted import operator_info
from operator_app.protocol.models import Operator, OperatorStatus, Role
from operator_app.protocol.reports import BucketSize, Report, ReportRow

START = datetime(2026, 3, 2, tzinfo=UTC).astimezone()  # a local midnight is not needed here


def hourly(days: int, arrivals_at: dict[int, int], handling: float) -> Report:
    rows = []
    for number in range(days * 24):
        start = START + timedelta(hours=number)
        count = arrivals_at.get(start.hour, 0)
        rows.append(
            ReportRow(
                start=start,
                dialogs=count,
                closed=count,
                handling_average=handling if count else None,
                operators_active=2 if count else 0,
            )
        )
    return Report(
        since=START,
        until=START + timedelta(days=days),
        bucket=BucketSize.HOUR,
        rows=rows,
        totals=ReportRow(start=START),
    )


def person(role: Role) -> OperatorInfo:
    return operator_info(
        Operator(id=1, login="x", name="X", role=role, status=OperatorStatus.ONLINE)
    )


def test_only_supervisors_and_admins_may_supervise() -> None:
    assert may_supervise(person(Role.SUPERVISOR)) and may_supervise(person(Role.ADMIN))
    assert not may_supervise(person(Role.OPERATOR)) and not may_supervise(None)


def test_report_filter_params() -> None:
    selection = ReportFilter(START, START + timedelta(days=1), BucketSize.HOUR, 3, None)
    params = selection.params()
    assert params["bucket"] == "hour" and params["queue_id"] == 3
    assert "operator_id" not in params
    assert datetime.fromisoformat(str(params["since"])) == START


def test_plan_by_hour_averages_days_and_applies_erlang_c() -> None:
    report = hourly(2, {START.hour: 12}, handling=300)
    target = StaffingTarget(level=0.8, seconds=30, concurrency=2)
    plans = plan_by_hour(report, target)
    assert [p.hour for p in plans] == list(range(24))
    busy = plans[START.hour]
    assert busy.arrivals_per_hour == 12 and busy.handling_seconds == 300
    expected = operators_needed(12, 300, target_seconds=30, target_level=0.8, concurrency=2)
    assert busy.needed == expected and busy.current_operators == 2
    assert busy.gap == expected.operators - 2
    quiet = plans[(START.hour + 5) % 24]
    assert quiet.needed is None and quiet.arrivals_per_hour == 0


def test_plan_needs_an_hourly_report() -> None:
    report = hourly(1, {}, 300).model_copy(update={"bucket": BucketSize.DAY})
    with pytest.raises(ValueError, match="hourly"):
        plan_by_hour(report, StaffingTarget())


def test_csv_rows_and_file(tmp_path: Path) -> None:
    report = hourly(1, {START.hour: 2}, handling=90.0)
    report.totals = ReportRow(start=START, dialogs=2, rating_average=4.5)
    rows = report_csv_rows(report)
    assert len(rows) == 25 and rows[-1][0] == "total"
    assert rows[0][1] == "2" and rows[0][5] == "90.0"
    assert rows[1][5] == ""  # no data is empty, never zero
    path = tmp_path / "r.csv"
    write_report_csv(report, path)
    assert path.read_bytes().startswith("\ufeff".encode())
    assert path.read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(CSV_COLUMNS)
