"""The Staff tab (admins): every account, whether it may sign in, and a new password for it.

The view only shows and asks; the console runs the requests and gives the list back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from operator_app.protocol.enums import Role
from operator_app.protocol.models import Operator

from .. import theme
from ..i18n import N_, tr
from ..table_columns import FillColumn
from .boards import AnyIndex, RowTableModel

ROLE_LABELS = {
    Role.OPERATOR: N_("Operator"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.ADMIN: N_("Admin"),
}


class StaffModel(RowTableModel[Operator]):
    HEADERS = (N_("Employee"), N_("Login"), N_("Role"), N_("Queues"), N_("Sign-in"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue_names: Mapping[int, str] = {}

    def key(self, row: Operator) -> int:
        return row.id

    def cell(self, row: Operator, column: int) -> str:
        values = (
            row.name,
            row.login,
            tr(ROLE_LABELS.get(row.role, row.role)),
            self.queues_text(row),
            tr("allowed") if row.enabled else tr("disabled"),
        )
        return values[column]

    def queues_text(self, row: Operator) -> str:
        """The queues they work in, then the ones they supervise."""
        parts = [self._names(row.queue_ids)] if row.queue_ids else []
        if row.supervised_queue_ids:
            names = self._names(row.supervised_queue_ids)
            parts.append(tr("supervises: {queues}").format(queues=names))
        return "; ".join(parts) or "—"

    def _names(self, ids: Sequence[int]) -> str:
        return ", ".join(self.queue_names.get(q, f"#{q}") for q in ids)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole:  # words, not the boards' numbers
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        return super().data(index, role)

    def colour(self, row: Operator, column: int) -> QColor | None:
        if not row.enabled:
            return theme.current().color("sla_breach" if column == 4 else "muted")
        return None


class StaffView(QWidget):
    account_asked = Signal()
    queues_asked = Signal(int)  # operator id
    password_asked = Signal(int)  # operator id
    sign_in_asked = Signal(int, bool)  # operator id, may sign in
    refresh_asked = Signal()

    def __init__(self, my_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.my_id = my_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        about = QLabel(
            tr(
                "Disabling an account signs it out everywhere and returns its dialogs to "
                "their queues. A new password signs the account out everywhere too."
            ),
            self,
        )
        about.setObjectName("muted")
        about.setWordWrap(True)
        layout.addWidget(about)
        self.model = StaffModel(self)
        self.table = self._table()
        layout.addWidget(self.table, 1)
        layout.addLayout(self._buttons())
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self._update_buttons()

    def _table(self) -> QTableView:
        table = QTableView(self)
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        FillColumn(table, 3)
        return table

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.account_button = QPushButton(tr("New account…"), self)
        self.account_button.clicked.connect(self.account_asked.emit)
        self.queues_button = QPushButton(tr("Queues…"), self)
        self.queues_button.clicked.connect(self._ask_queues)
        self.password_button = QPushButton(tr("New password…"), self)
        self.password_button.clicked.connect(self._ask_password)
        self.sign_in_button = QPushButton(tr("Disable sign-in…"), self)
        self.sign_in_button.clicked.connect(self._switch_sign_in)
        refresh = QPushButton(tr("Refresh"), self)
        refresh.clicked.connect(self.refresh_asked.emit)
        row.addWidget(self.account_button)
        row.addWidget(self.queues_button)
        row.addWidget(self.password_button)
        row.addWidget(self.sign_in_button)
        row.addStretch(1)
        row.addWidget(refresh)
        return row

    def show_staff(self, staff: Sequence[Operator], queue_names: Mapping[int, str]) -> None:
        chosen = self.selected()
        self.model.queue_names = queue_names
        self.model.set_rows(staff)
        if chosen is not None and (number := self.model.row_of(chosen.id)) >= 0:
            self.table.selectRow(number)
        self._update_buttons()

    def select(self, operator_id: int) -> None:
        self.table.selectRow(self.model.row_of(operator_id))

    def selected(self) -> Operator | None:
        number = self.table.selectionModel().currentIndex().row()
        return self.model.row_at(number) if 0 <= number < self.model.rowCount() else None

    def _ask_queues(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.queues_asked.emit(chosen.id)

    def _ask_password(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.password_asked.emit(chosen.id)

    def _switch_sign_in(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.sign_in_asked.emit(chosen.id, not chosen.enabled)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        others = chosen is not None and chosen.id != self.my_id
        self.queues_button.setEnabled(chosen is not None)
        self.password_button.setEnabled(others)
        self.sign_in_button.setEnabled(others)
        enabled = chosen is None or chosen.enabled
        self.sign_in_button.setText(tr("Disable sign-in…") if enabled else tr("Allow sign-in"))
        yours = tr("For your own account: Account → Change password.")
        self.password_button.setToolTip(yours if chosen is not None and not others else "")
