"""Small QtCharts builders in the house colours: bars and lines over category labels."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from .. import theme

SERIES_COLOURS = ("accent", "sla_warn", "sla_ok", "sla_breach")
MAX_LABELS = 12  # more category labels than this overlap: the rest stay blank
MAX_TICKS = 6  # of a small count's value axis: 0-5 in ones, up to 10 in twos


_override: list[theme.Theme] = []


def palette() -> theme.Theme:
    """The app's theme, or the one forced while printing."""
    return _override[-1] if _override else theme.current()


@contextmanager
def printing_palette() -> Iterator[None]:
    """Charts built inside use the light theme: paper is white whatever the screen shows."""
    _override.append(theme.LIGHT)
    try:
        yield
    finally:
        _override.pop()


def new_chart_view(title: str) -> QChartView:
    chart = QChart()
    chart.setTitle(title)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumSize(320, 220)
    style_chart(chart)
    return view


def style_chart(chart: QChart) -> None:
    t = palette()
    chart.setBackgroundBrush(QColor(t.base))
    chart.setBackgroundRoundness(6)
    chart.setTitleBrush(QColor(t.text))
    title_font = QFont(chart.titleFont())
    title_font.setBold(True)
    chart.setTitleFont(title_font)
    chart.legend().setLabelColor(QColor(t.text))


def thin_labels(labels: Sequence[str]) -> list[str]:
    """Every n-th label shown; the others padded with distinct runs of spaces (they must differ)."""
    step = max(1, -(-len(labels) // MAX_LABELS))
    return [label if n % step == 0 else " " * (n + 1) for n, label in enumerate(labels)]


def show_bars(
    view: QChartView, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> None:
    chart = _reset(view)
    bars = QBarSeries()
    for number, (name, values) in enumerate(series):
        bar_set = QBarSet(name)
        bar_set.append([float(v) for v in values])
        bar_set.setColor(palette().color(SERIES_COLOURS[number % len(SERIES_COLOURS)]))
        bar_set.setBorderColor(bar_set.color())
        bars.append(bar_set)
    chart.addSeries(bars)
    _axes(chart, bars, labels, [v for _, values in series for v in values])
    chart.legend().setVisible(len(series) > 1)


def show_lines(
    view: QChartView,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
) -> None:
    """Lines over category positions; gaps (None) split nothing, they are simply skipped."""
    chart = _reset(view)
    values_seen: list[float] = []
    for number, (name, values) in enumerate(series):
        line = QLineSeries()
        line.setName(name)
        pen = QPen(palette().color(SERIES_COLOURS[number % len(SERIES_COLOURS)]))
        pen.setWidthF(2.0)
        line.setPen(pen)
        line.setPointsVisible(True)
        for position, value in enumerate(values):
            if value is not None:
                line.append(position, value)
                values_seen.append(value)
        chart.addSeries(line)
        _axes(chart, line, labels, values_seen)
    chart.legend().setVisible(len(series) > 1)


def _reset(view: QChartView) -> QChart:
    chart = view.chart()
    chart.removeAllSeries()
    for axis in chart.axes():
        chart.removeAxis(axis)
    style_chart(chart)
    return chart


def _axes(
    chart: QChart,
    series: QBarSeries | QLineSeries,
    labels: Sequence[str],
    values: Sequence[float | None],
) -> None:
    t = palette()
    x_axes = chart.axes(Qt.Orientation.Horizontal)
    y_axes = chart.axes(Qt.Orientation.Vertical)
    if x_axes and y_axes:
        x_axis, y_axis = x_axes[0], y_axes[0]
    else:
        x_axis = QBarCategoryAxis()
        x_axis.append(thin_labels(labels) or [" "])
        x_axis.setTruncateLabels(False)
        x_axis.setLabelsAngle(-45 if len(labels) > 8 else 0)
        y_axis = QValueAxis()
        y_axis.setLabelFormat("%.0f")
        for axis in (x_axis, y_axis):
            axis.setLabelsColor(QColor(t.muted))
            axis.setGridLineColor(QColor(t.border))
            axis.setLinePenColor(QColor(t.border))
            small = QFont(axis.labelsFont())
            small.setPointSizeF(max(small.pointSizeF() - 1.5, 6.5))
            axis.setLabelsFont(small)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    top = max((v for v in values if v is not None), default=0.0)
    assert isinstance(y_axis, QValueAxis)
    ceiling = max(math.ceil(top * 1.1), 1)
    if ceiling <= 10:  # small counts: whole-number ticks, never "1, 1, 2"
        # eleven ticks crowded a chart on a laptop's screen, and Qt cut every label to "…"
        step = 1 if ceiling < MAX_TICKS else 2
        ceiling = -(-ceiling // step) * step
        y_axis.setRange(0, ceiling)
        y_axis.setTickCount(ceiling // step + 1)
    else:
        y_axis.setRange(0, ceiling)
        y_axis.applyNiceNumbers()
    series.attachAxis(x_axis)
    series.attachAxis(y_axis)
    if isinstance(x_axis, QBarCategoryAxis) and isinstance(series, QLineSeries):
        x_axis.setRange(x_axis.at(0), x_axis.at(x_axis.count() - 1))
