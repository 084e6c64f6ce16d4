"""Transfer a dialog to an operator or a queue, with a comment; works from the keyboard alone."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.service import DeskService
from operator_app.protocol.models import OperatorStatus

from .capabilities import why_not
from .i18n import tr
from .labels import STATUS_LABELS
from .resources import icon

STATUS_ORDER = {OperatorStatus.ONLINE: 0, OperatorStatus.AWAY: 1, OperatorStatus.OFFLINE: 2}


@dataclass(frozen=True)
class TransferTarget:
    operator_id: int | None
    queue_id: int | None
    comment: str


class TransferDialog(QDialog):
    def __init__(self, service: DeskService, dialog_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.dialog_id = dialog_id
        self.setWindowTitle(tr("Transfer dialog #{n}").format(n=dialog_id))
        self.resize(460, 520)
        column = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(tr("Search operators and queues…"))
        self.search.textChanged.connect(self._fill)
        self.search.installEventFilter(self)
        column.addWidget(self.search)
        self.targets = QListWidget(self)
        column.addWidget(self.targets, 1)
        column.addWidget(
            QLabel(tr("Comment for the receiver (internal, the client won't see it)"), self)
        )
        self.comment = QPlainTextEdit(self)
        if (why := why_not(service, "transfer_comment")) is not None:
            self.comment.setToolTip(why)
        self.comment.setMaximumHeight(90)
        self.comment.setTabChangesFocus(True)
        column.addWidget(self.comment)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Transfer"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self._fill("")

    def _fill(self, text: str) -> None:
        needle = text.casefold().strip()
        self.targets.clear()
        me = self.service.me
        operators = sorted(
            (o for o in self.service.operators() if me is None or o.id != me.id),
            key=lambda o: (STATUS_ORDER[o.status], o.load >= o.capacity, o.name),
        )
        for operator in operators:
            if needle and needle not in operator.name.casefold():
                continue
            full = operator.load >= operator.capacity
            status = tr(STATUS_LABELS[operator.status])
            label = f"{operator.name} — {status}, {operator.load}/{operator.capacity}"
            if full:
                label += " · " + tr("at capacity")
            item = QListWidgetItem(icon(f"status-{operator.status.value}"), label)
            item.setData(Qt.ItemDataRole.UserRole, ("operator", operator.id))
            available = operator.status == OperatorStatus.ONLINE and not full
            if not available:
                item.setForeground(self.palette().placeholderText())
            self.targets.addItem(item)
        for queue in self.service.queues():
            if needle and needle not in queue.name.casefold():
                continue
            label = tr("Queue {name} — {n} waiting").format(name=queue.name, n=queue.waiting_count)
            item = QListWidgetItem(icon("transfer"), label)
            item.setData(Qt.ItemDataRole.UserRole, ("queue", queue.id))
            self.targets.addItem(item)
        if self.targets.count():
            self.targets.setCurrentRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in the search field move through the targets."""
        arrows = (Qt.Key.Key_Down, Qt.Key.Key_Up)
        if (
            watched is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in arrows
        ):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.targets.count() - 1, self.targets.currentRow() + step))
            self.targets.setCurrentRow(row)
            return True
        return super().eventFilter(watched, event)

    def _accept(self) -> None:
        if self.targets.currentItem() is not None:
            self.accept()

    def choice(self) -> TransferTarget | None:
        item = self.targets.currentItem()
        if item is None:
            return None
        kind, target_id = item.data(Qt.ItemDataRole.UserRole)
        comment = self.comment.toPlainText().strip()
        if kind == "operator":
            return TransferTarget(operator_id=target_id, queue_id=None, comment=comment)
        return TransferTarget(operator_id=None, queue_id=target_id, comment=comment)
