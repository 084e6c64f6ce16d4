"""Reports: filters (queue, operator, dates), six charts, CSV and a printable PDF.

The console fetches two reports for the chosen range: one bucketed per local day (the per-day
charts, percentiles included) and one per hour (the hour-of-day profile and the staffing
helper). This view only shows them and exports them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCharts import QChartView
from PySide6.QtCore import QDate, QMarginsF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.supervision import ReportFilter, write_report_csv
from operator_app.protocol.models import Operator, Queue
from operator_app.protocol.reports import MAX_REPORT_DAYS, BucketSize, Report, ReportRow

from ..i18n import tr
from .boards import seconds_text
from .charts import new_chart_view, printing_palette, show_bars, show_lines

DEFAULT_DAYS = 14
PDF_DPI = 96
LIGHT_PAPER = "#FFFFFF"


def as_date(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


def minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


class ReportsView(QWidget):
    refresh_requested = Signal()
    problem = Signal(str)

    def __init__(self, today: QDate | None = None) -> None:
        super().__init__()
        self.day_report: Report | None = None
        self.hour_report: Report | None = None
        today = today or QDate.currentDate()
        layout = QVBoxLayout(self)
        layout.addLayout(self._filters(today))
        self.summary = QLabel(tr("Choose the filters and press Show."), self)
        self.summary.setObjectName("muted")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        (
            self.per_day,
            self.per_hour,
            self.first_response,
            self.handling,
            self.ratings,
            self.breaches,
        ) = [new_chart_view(title) for title in chart_titles()]
        grid = QGridLayout()
        grid.setSpacing(8)
        for number, view in enumerate(self.chart_views()):
            grid.addWidget(view, number // 3, number % 3)
        layout.addLayout(grid, 1)

    def _filters(self, today: QDate) -> QHBoxLayout:
        row = QHBoxLayout()
        self.queue_combo = QComboBox(self)
        self.operator_combo = QComboBox(self)
        self.since_edit = QDateEdit(today.addDays(-(DEFAULT_DAYS - 1)), self)
        self.until_edit = QDateEdit(today, self)
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd.MM.yyyy")
        self.show_button = QPushButton(tr("Show"), self)
        self.show_button.setObjectName("primary")
        self.show_button.clicked.connect(self.refresh_requested)
        self.csv_button = QPushButton(tr("Export CSV…"), self)
        self.csv_button.clicked.connect(self._ask_csv)
        self.pdf_button = QPushButton(tr("Export PDF…"), self)
        self.pdf_button.clicked.connect(self._ask_pdf)
        for text, widget in (
            (tr("Queue"), self.queue_combo),
            (tr("Operator"), self.operator_combo),
            (tr("From"), self.since_edit),
            (tr("To"), self.until_edit),
        ):
            row.addWidget(QLabel(text, self))
            row.addWidget(widget)
        row.addWidget(self.show_button)
        row.addStretch(1)
        row.addWidget(self.csv_button)
        row.addWidget(self.pdf_button)
        self.set_directory([], [])
        return row

    def chart_views(self) -> list[QChartView]:
        return [
            self.per_day,
            self.per_hour,
            self.first_response,
            self.handling,
            self.ratings,
            self.breaches,
        ]

    def set_directory(self, queues: list[Queue], operators: list[Operator]) -> None:
        """Fill the filter choices, keeping the current choice when it still exists."""
        for combo, items in (
            (self.queue_combo, [(q.id, q.name) for q in queues]),
            (self.operator_combo, [(o.id, o.name) for o in operators]),
        ):
            chosen = combo.currentData()
            combo.clear()
            combo.addItem(tr("All"), None)
            for key, name in items:
                combo.addItem(name, key)
            combo.setCurrentIndex(max(combo.findData(chosen), 0))

    # ---- the selection ----------------------------------------------------------------------

    def selection(self, bucket: BucketSize) -> ReportFilter:
        """The chosen range as local midnights; raises ValueError with a message to show."""
        first, last = self.since_edit.date(), self.until_edit.date()
        if first > last:
            raise ValueError(tr("The start date is after the end date."))
        if first.daysTo(last) + 1 > MAX_REPORT_DAYS:
            raise ValueError(tr("Choose at most {n} days.").format(n=MAX_REPORT_DAYS))
        since = datetime.combine(as_date(first), time()).astimezone()
        until = datetime.combine(as_date(last), time()).astimezone() + timedelta(days=1)
        return ReportFilter(
            since=since,
            until=until,
            bucket=bucket,
            queue_id=self.queue_combo.currentData(),
            operator_id=self.operator_combo.currentData(),
        )

    # ---- showing ----------------------------------------------------------------------------

    def show_reports(self, day_report: Report, hour_report: Report) -> None:
        self.day_report, self.hour_report = day_report, hour_report
        fill_charts(self.chart_views(), day_report, hour_report)
        self.summary.setText(summary_text(day_report.totals))

    # ---- export -----------------------------------------------------------------------------

    def _ask_csv(self) -> None:
        self._ask_path(tr("Export CSV"), "report.csv", tr("CSV files (*.csv)"), self.export_csv)

    def _ask_pdf(self) -> None:
        self._ask_path(tr("Export PDF"), "report.pdf", tr("PDF files (*.pdf)"), self.export_pdf)

    def _ask_path(self, title: str, name: str, pattern: str, then: object) -> None:
        if self.day_report is None:
            self.problem.emit(tr("Show a report first."))
            return
        dialog = QFileDialog(self, title)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(pattern)
        dialog.selectFile(name)
        dialog.fileSelected.connect(lambda chosen: self._export(then, Path(chosen)))
        self.file_dialog = dialog
        dialog.open()

    def _export(self, action: object, path: Path) -> None:
        try:
            action(path)  # type: ignore[operator]
        except OSError as error:
            self.problem.emit(tr("Cannot write {path}: {why}").format(path=str(path), why=error))

    def export_csv(self, path: Path) -> None:
        if self.day_report is None:
            raise ValueError("no report to export")
        write_report_csv(self.day_report, path)

    def export_pdf(self, path: Path) -> None:
        """A4 pages: title, filters, totals, then the six charts two by two."""
        if self.day_report is None:
            raise ValueError("no report to export")
        writer = QPdfWriter(str(path))
        writer.setResolution(PDF_DPI)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(12, 12, 12, 12),
                QPageLayout.Unit.Millimeter,
            )
        )
        writer.setTitle(tr("Chat center report"))
        painter = QPainter(writer)
        try:
            self._paint_pdf(painter, writer)
        finally:
            painter.end()
        if not path.exists():
            raise OSError(f"the PDF was not written: {path}")

    def _paint_pdf(self, painter: QPainter, writer: QPdfWriter) -> None:
        page = writer.pageLayout().paintRectPixels(PDF_DPI)
        width = page.width()
        y = 0
        title = QFont(painter.font())
        title.setPointSize(16)
        title.setBold(True)
        painter.setFont(title)
        painter.setPen(QColor("#111827"))
        painter.drawText(
            QRect(0, y, width, 30), Qt.AlignmentFlag.AlignLeft, tr("Chat center report")
        )
        y += 36
        body = QFont(painter.font())
        body.setPointSize(9)
        body.setBold(False)
        painter.setFont(body)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        for line in self._pdf_lines():
            box = painter.boundingRect(QRect(0, y, width, 1000), flags, line)
            painter.drawText(box, flags, line)
            y += box.height() + 4
        y += 10
        cell_w, cell_h = (width - 10) // 2, 230
        for number, picture in enumerate(self._print_charts(QSize(cell_w, cell_h))):
            if y + cell_h > page.height():
                writer.newPage()
                y = 0
            x = 0 if number % 2 == 0 else cell_w + 10
            target = QRect(x, y, cell_w, cell_h)
            painter.drawPixmap(target, picture)
            if number % 2 == 1:
                y += cell_h + 10
        writer.newPage()
        self._paint_pdf_table(painter, writer, page.width(), page.height())

    def _print_charts(self, size: QSize) -> list[QPixmap]:
        """Fresh, light copies of the charts at the page's size (the screen may be dark)."""
        assert self.day_report is not None and self.hour_report is not None
        with printing_palette():
            views = [new_chart_view(title) for title in chart_titles()]
            for view in views:
                view.setParent(self)
                view.setWindowFlag(Qt.WindowType.Window)  # never laid out into this view
                view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
                view.resize(size)
                view.setBackgroundBrush(QColor(LIGHT_PAPER))
            fill_charts(views, self.day_report, self.hour_report)
        pictures = [view.grab() for view in views]
        for view in views:
            view.deleteLater()
        return pictures

    def _paint_pdf_table(
        self, painter: QPainter, writer: QPdfWriter, width: int, bottom: int
    ) -> None:
        """The numbers behind the charts, one line per day and the totals."""
        assert self.day_report is not None
        headers = [
            tr("Day"),
            tr("Dialogs"),
            tr("Closed"),
            tr("First response, median"),
            tr("90th percentile"),
            tr("Handling, average"),
            tr("Rating"),
            tr("SLA breaches"),
        ]
        rows = [
            [label, *pdf_cells(row)]
            for label, row in [
                *((r.start.astimezone().strftime("%d.%m.%Y"), r) for r in self.day_report.rows),
                (tr("Total"), self.day_report.totals),
            ]
        ]
        column = width // len(headers)
        y = 0
        for number, line in enumerate([headers, *rows]):
            font = QFont(painter.font())
            font.setBold(number == 0 or number == len(rows))
            painter.setFont(font)
            height = 50 if number == 0 else 18
            if y + height > bottom:
                writer.newPage()
                y = 0
            for index, text in enumerate(line):
                align = Qt.AlignmentFlag.AlignLeft if index == 0 else Qt.AlignmentFlag.AlignRight
                painter.drawText(
                    QRect(index * column, y, column - 6, height),
                    align | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                    text,
                )
            y += height + 2

    def _pdf_lines(self) -> list[str]:
        assert self.day_report is not None
        report = self.day_report
        since = report.since.astimezone().strftime("%d.%m.%Y")
        until = (report.until.astimezone() - timedelta(seconds=1)).strftime("%d.%m.%Y")
        return [
            tr("Period: {since} – {until}").format(since=since, until=until),
            tr("Queue: {queue}").format(queue=self.queue_combo.currentText()),
            tr("Operator: {operator}").format(operator=self.operator_combo.currentText()),
            summary_text(report.totals),
        ]


def chart_titles() -> list[str]:
    return [
        tr("Dialogs per day"),
        tr("Dialogs per hour of the day (average)"),
        tr("First response, minutes"),
        tr("Handling time, minutes"),
        tr("Ratings"),
        tr("SLA breaches per day"),
    ]


def fill_charts(views: list[QChartView], day_report: Report, hour_report: Report) -> None:
    per_day, per_hour, first_response, handling, ratings, breaches = views
    rows = day_report.rows
    days = [r.start.astimezone().strftime("%d.%m") for r in rows]
    show_bars(per_day, days, [(tr("Dialogs"), [r.dialogs for r in rows])])
    show_bars(
        per_hour,
        [f"{h:02d}" for h in range(24)],
        [(tr("Dialogs"), hour_of_day_average(hour_report))],
    )
    show_lines(
        first_response,
        days,
        [
            (tr("Median"), [minutes(r.first_response_median) for r in rows]),
            (tr("90th percentile"), [minutes(r.first_response_p90) for r in rows]),
        ],
    )
    show_lines(
        handling,
        days,
        [
            (tr("Average"), [minutes(r.handling_average) for r in rows]),
            (tr("Median"), [minutes(r.handling_median) for r in rows]),
        ],
    )
    show_bars(ratings, ["1", "2", "3", "4", "5"], [(tr("Ratings"), day_report.rating_counts)])
    show_bars(breaches, days, [(tr("SLA breaches"), [r.sla_breaches for r in rows])])


def pdf_cells(row: ReportRow) -> list[str]:
    rating = "—" if row.rating_average is None else f"{row.rating_average:.2f}"
    return [
        str(row.dialogs),
        str(row.closed),
        seconds_text(row.first_response_median),
        seconds_text(row.first_response_p90),
        seconds_text(row.handling_average),
        rating,
        str(row.sla_breaches),
    ]


def hour_of_day_average(report: Report) -> list[float]:
    """Average arrivals per local hour of the day over the days of the range."""
    by_hour: dict[int, list[int]] = defaultdict(list)
    for row in report.rows:
        by_hour[row.start.astimezone().hour].append(row.dialogs)
    return [sum(by_hour[h]) / len(by_hour[h]) if by_hour[h] else 0.0 for h in range(24)]


def summary_text(totals: ReportRow) -> str:
    rating = "—" if totals.rating_average is None else f"{totals.rating_average:.2f}"
    return tr(
        "Dialogs: {dialogs}, closed: {closed}. First response: median {median}, "
        "90% within {p90}. Handling: average {handling}. Rating: {rating} ({ratings}). "
        "SLA breaches: {breaches}."
    ).format(
        dialogs=totals.dialogs,
        closed=totals.closed,
        median=seconds_text(totals.first_response_median),
        p90=seconds_text(totals.first_response_p90),
        handling=seconds_text(totals.handling_average),
        rating=rating,
        ratings=totals.ratings,
        breaches=totals.sla_breaches,
    )
