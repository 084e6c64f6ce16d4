"""Reports (filters, charts, CSV, PDF) and the staffing helper, against the real backend."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCharts import QBarSeries, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from operator_app.core.clock import local_midnight
from operator_app.core.staffing import operators_needed
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import theme
from operator_app.ui.supervisor.charts import new_chart_view, show_lines
from tests.helpers.qt_async import wait_until

from .console_harness import Desk, supervisor_desk
from .history import Seeded, add_closed_dialogs

DAYS_AGO = 2
HOUR = 10


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as srv:
        when = local_midnight(datetime.now(UTC)) - timedelta(days=DAYS_AGO, hours=-HOUR)
        add_closed_dialogs(
            srv,
            "dmitry",
            "Биллинг",
            [
                Seeded(when, 30, 300, 5),
                Seeded(when + timedelta(minutes=10), 60, 600, 4),
                Seeded(when + timedelta(minutes=20), 90, 900, None),
            ],
        )
        yield srv


def choose(desk: Desk, *, operator: str | None, queue: str | None, first: int, last: int) -> None:
    view = desk.console.reports
    today = QDate.currentDate()
    view.since_edit.setDate(today.addDays(-first))
    view.until_edit.setDate(today.addDays(-last))
    operator_id = desk.operator_id(operator) if operator else None
    queue_id = desk.queue_id(queue) if queue else None
    view.operator_combo.setCurrentIndex(view.operator_combo.findData(operator_id))
    view.queue_combo.setCurrentIndex(view.queue_combo.findData(queue_id))


async def show(desk: Desk, qtbot: QtBot) -> None:
    shown: list[bool] = []
    desk.console.reports_shown.connect(lambda: shown.append(True))
    QTest.mouseClick(desk.console.reports.show_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: shown, what="the reports")


def test_reports_filter_chart_and_export(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            console = desk.console
            console.tabs.setCurrentWidget(console.reports)  # loads the default range
            await wait_until(lambda: console.reports.day_report is not None, what="default")

            choose(desk, operator="dmitry", queue=None, first=4, last=1)
            await show(desk, qtbot)
            report = console.reports.day_report
            assert report is not None and len(report.rows) == 4
            totals = report.totals
            assert (totals.dialogs, totals.closed, totals.ratings) == (3, 3, 2)
            assert totals.first_response_median == pytest.approx(60)
            assert totals.first_response_p90 == pytest.approx(90)
            assert totals.handling_average == pytest.approx(600)
            assert totals.rating_average == pytest.approx(4.5)
            assert report.rating_counts == [0, 0, 0, 1, 1]
            assert [r.dialogs for r in report.rows] == [0, 0, 3, 0]
            assert console.reports.summary.text().startswith("Dialogs: 3, closed: 3.")
            bars = console.reports.per_day.chart().series()[0]
            assert isinstance(bars, QBarSeries)
            assert [bars.barSets()[0].at(n) for n in range(4)] == [0, 0, 3, 0]
            p90 = console.reports.first_response.chart().series()[1]
            assert isinstance(p90, QLineSeries) and p90.count() == 1

            # CSV: a row per day and the totals, readable by spreadsheets (BOM, UTF-8)
            csv_path = tmp_path / "report.csv"
            console.reports.export_csv(csv_path)
            with csv_path.open(encoding="utf-8-sig", newline="") as stream:
                rows = list(csv.reader(stream))
            assert rows[0][:3] == ["start", "dialogs", "closed"]
            assert len(rows) == 1 + 4 + 1 and rows[-1][:3] == ["total", "3", "3"]

            # PDF: a real PDF with the charts
            pdf_path = tmp_path / "report.pdf"
            console.reports.export_pdf(pdf_path)
            data = pdf_path.read_bytes()
            assert data.startswith(b"%PDF") and len(data) > 20_000

            # the queue filter: dmitry's dialogs are all in Billing
            choose(desk, operator="dmitry", queue="Продажи", first=4, last=1)
            await show(desk, qtbot)
            filtered = console.reports.day_report
            assert filtered is not None and filtered.totals.dialogs == 0

            # a theme switched while open repaints the console and its charts
            app = QApplication.instance()
            assert isinstance(app, QApplication)
            try:
                theme.apply(app, "dark")
                assert console.styled_for == "dark"
                background = console.reports.per_day.chart().backgroundBrush().color()
                assert background.name().upper() == theme.DARK.base.upper()
            finally:
                theme.apply(app, "light")
            assert console.styled_for == "light"

            # a backwards range is refused with a message, nothing is requested
            choose(desk, operator=None, queue=None, first=1, last=4)
            QTest.mouseClick(console.reports.show_button, Qt.MouseButton.LeftButton)
            assert "start date is after" in console.status_line.text()

    qloop.run_until_complete(scenario())


def test_staffing_helper_per_hour_next_to_the_staffing_seen(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            console = desk.console
            choose(desk, operator="dmitry", queue=None, first=4, last=1)
            await show(desk, qtbot)
            console.tabs.setCurrentWidget(console.staffing)
            view = console.staffing
            model = view.model
            assert model.rowCount() == 24
            row = HOUR  # local hours: the report's buckets start at local midnight

            def cell(column: int) -> str:
                return str(model.index(row, column).data())

            assert cell(0) == f"{HOUR:02d}:00"
            assert cell(1) == "0.8"  # 3 chats in that hour over 4 days
            assert cell(2) == "10.0"  # 600 s handling
            expected = operators_needed(
                0.75, 600, target_seconds=60, target_level=0.8, concurrency=3
            )
            assert cell(3) == str(expected.operators)
            assert model.plans[row].current_operators == pytest.approx(0.25)  # one day in four
            view.concurrency_spin.setValue(1)
            single = operators_needed(0.75, 600, target_seconds=60, target_level=0.8)
            assert cell(3) == str(single.operators)
            assert model.index(3, 3).data() == "—"  # nothing measured at 03:00
            assert len(view.chart.chart().series()) == 1

    qloop.run_until_complete(scenario())


def test_staffing_headings_fit_their_columns_in_russian(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer, russian: None
) -> None:
    """The columns share the width equally: on a 1024-pixel console every heading must still
    be read whole ("Ожидаемый уровень сервиса" was cut at both ends)."""

    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            console = desk.console
            console.resize(1024, 700)
            console.tabs.setCurrentWidget(console.staffing)
            await asyncio.sleep(0.05)
            header = console.staffing.table.horizontalHeader()
            model = console.staffing.model
            headings = [
                str(model.headerData(c, Qt.Orientation.Horizontal))
                for c in range(model.columnCount())
            ]
            assert headings[-1] == "Уровень сервиса"
            for column, heading in enumerate(headings):
                width = header.fontMetrics().horizontalAdvance(heading) + 8  # the section's margins
                assert width <= header.sectionSize(column), heading

    qloop.run_until_complete(scenario())


@pytest.mark.parametrize(
    ("values", "top", "ticks"),
    [([0.4], 1, 2), ([3.0, 2.0], 4, 5), ([4.6], 6, 4), ([8.3, 7.0], 10, 6), ([42.0], 50, 6)],
)
def test_a_value_axis_has_few_enough_ticks_to_read(
    qapp: QApplication, values: list[float], top: int, ticks: int
) -> None:
    """First response in minutes (top ~8) had eleven ticks: in a chart of a laptop-sized
    console Qt cut every label to "…". Small values step by one up to five, else by two."""
    view = new_chart_view("t")
    show_lines(view, [f"{n}" for n in range(len(values))], [("v", values)])
    (axis,) = view.chart().axes(Qt.Orientation.Vertical)
    assert isinstance(axis, QValueAxis)
    assert (axis.min(), axis.max(), axis.tickCount()) == (0, top, ticks)
    assert axis.max() >= max(values)
