"""The staffing helper: Erlang C need per hour of the day next to the staffing measured.

Load (arrivals, handling time) and the staffing seen come from the hourly report of the
chosen range; the target and the chats per operator are the supervisor's inputs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.supervision import HourPlan, StaffingTarget, plan_by_hour
from operator_app.protocol.reports import Report

from .. import theme
from ..i18n import N_, tr
from .charts import new_chart_view, show_bars

AnyIndex = QModelIndex | QPersistentModelIndex


class StaffingModel(QAbstractTableModel):
    HEADERS = (
        N_("Hour"),
        N_("Chats per hour"),
        N_("Handling time, min"),
        N_("Operators needed"),
        N_("Operators seen"),
        N_("Seen minus needed"),
        N_("Service level"),
    )
    # The columns share the width equally: the heading is short, its tooltip says the rest.
    SERVICE_LEVEL_TIP = N_("The share answered within the target time by the operators needed")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plans: list[HourPlan] = []

    def set_plans(self, plans: list[HourPlan]) -> None:
        self.beginResetModel()
        self.plans = plans
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.plans)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        if role == Qt.ItemDataRole.ToolTipRole and section == len(self.HEADERS) - 1:
            return tr(self.SERVICE_LEVEL_TIP)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.plans):
            return None
        plan = self.plans[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(plan, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 5 and plan.needed:
            return self._gap_colour(plan)
        return None

    @staticmethod
    def _cell(plan: HourPlan, column: int) -> str:
        needed = plan.needed
        if column == 0:
            return f"{plan.hour:02d}:00"
        if column == 1:
            return f"{plan.arrivals_per_hour:.1f}"
        if column == 2:
            return "—" if plan.handling_seconds is None else f"{plan.handling_seconds / 60:.1f}"
        if column == 3:
            return "—" if needed is None else str(needed.operators)
        if column == 4:
            return f"{plan.current_operators:.1f}"
        if column == 5:
            return "—" if needed is None else f"{-plan.gap:+.1f}"
        return "—" if needed is None else f"{needed.service_level:.0%}"

    @staticmethod
    def _gap_colour(plan: HourPlan) -> QColor:
        return theme.current().color("sla_breach" if plan.gap > 0 else "sla_ok")


class StaffingView(QWidget):
    target_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.report: Report | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._inputs())
        self.note = QLabel(
            tr(
                "Erlang C per hour, each operator counted as several chat slots. "
                "Load is measured over the range chosen in Reports."
            ),
            self,
        )
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.model = StaffingModel(self)
        self.table = QTableView(splitter)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.chart = new_chart_view(tr("Operators needed and seen, per hour"))
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        layout.addWidget(splitter, 1)

    def _inputs(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.level_spin = QSpinBox(self)
        self.level_spin.setRange(50, 99)
        self.level_spin.setValue(80)
        self.level_spin.setSuffix(" %")
        self.seconds_spin = QSpinBox(self)
        self.seconds_spin.setRange(5, 3600)
        self.seconds_spin.setValue(60)
        self.seconds_spin.setSuffix(tr(" s"))
        self.concurrency_spin = QSpinBox(self)
        self.concurrency_spin.setRange(1, 10)
        self.concurrency_spin.setValue(3)
        self.factor_spin = QDoubleSpinBox(self)
        self.factor_spin.setRange(1.0, 3.0)
        self.factor_spin.setSingleStep(0.1)
        self.factor_spin.setValue(1.0)
        for text, widget in (
            (tr("Answered"), self.level_spin),
            (tr("within"), self.seconds_spin),
            (tr("Chats per operator"), self.concurrency_spin),
            (tr("Slowdown factor"), self.factor_spin),
        ):
            row.addWidget(QLabel(text, self))
            row.addWidget(widget)
            widget.valueChanged.connect(self.recompute)
        row.addStretch(1)
        return row

    def target(self) -> StaffingTarget:
        return StaffingTarget(
            level=self.level_spin.value() / 100,
            seconds=float(self.seconds_spin.value()),
            concurrency=self.concurrency_spin.value(),
            concurrency_factor=self.factor_spin.value(),
        )

    def show_report(self, hourly: Report) -> None:
        self.report = hourly
        self.recompute()

    def recompute(self) -> None:
        if self.report is None:
            return
        plans = plan_by_hour(self.report, self.target())
        self.model.set_plans(plans)
        show_bars(
            self.chart,
            [f"{p.hour:02d}" for p in plans],
            [
                (tr("Needed"), [p.needed.operators if p.needed else 0 for p in plans]),
                (tr("Seen"), [p.current_operators for p in plans]),
            ],
        )
        self.target_changed.emit()
