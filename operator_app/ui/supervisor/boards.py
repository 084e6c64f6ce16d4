"""Table models of the live boards: queues, operators, and the supervised dialogs.

Rows are replaced in place when a fresh board arrives: same keys emit ``dataChanged`` only,
a different set of keys resets the model (boards hold a few dozen rows). Dragging a dialog,
or a queue (its longest-waiting dialog), onto an operator row asks to reassign it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from operator_app.core.service import DeskService, DialogRow, Section
from operator_app.protocol.models import DialogState, OperatorStatus
from operator_app.protocol.reports import OperatorBoardRow, QueueBoardRow

from .. import theme
from ..formatting import elapsed_short
from ..i18n import N_, tr
from ..labels import STATUS_LABELS

AnyIndex = QModelIndex | QPersistentModelIndex
DIALOG_MIME = "application/x-operator-desk-dialog"
QUEUE_MIME = "application/x-operator-desk-queue"
KeyRole = Qt.ItemDataRole.UserRole + 1
R = TypeVar("R")


def utcnow() -> datetime:
    return datetime.now(UTC)


def seconds_text(value: float | None) -> str:
    return "—" if value is None else elapsed_short(timedelta(seconds=value))


def encode_id(mime: str, value: int) -> QMimeData:
    data = QMimeData()
    data.setData(mime, QByteArray(str(value).encode()))
    return data


def decode_id(data: QMimeData, mime: str) -> int | None:
    """The id a drag carries; None for foreign or malformed drops (never an exception)."""
    if not data.hasFormat(mime):
        return None
    raw = bytes(data.data(mime).data()).decode("ascii", "replace")
    return int(raw) if raw.isdigit() else None


class RowTableModel(QAbstractTableModel, Generic[R]):
    """A table of immutable rows with a key; subclasses name the columns and cells."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def key(self, row: R) -> int:
        raise NotImplementedError

    def cell(self, row: R, column: int) -> str:
        raise NotImplementedError

    def colour(self, row: R, column: int) -> QColor | None:
        return None

    def set_rows(self, rows: Sequence[R]) -> None:
        rows = list(rows)
        if [self.key(r) for r in rows] != [self.key(r) for r in self._rows]:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
            return
        self._rows = rows
        if rows:
            last = self.index(len(rows) - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.DisplayRole])

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, number: int) -> R:
        return self._rows[number]

    def row_of(self, key: int) -> int:
        return next((n for n, r in enumerate(self._rows) if self.key(r) == key), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.HEADERS):
            return tr(self.HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, index.column())
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.colour(row, index.column())
        if role == KeyRole:
            return self.key(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
        return None


class QueueBoardModel(RowTableModel[QueueBoardRow]):
    HEADERS = (
        N_("Queue"),
        N_("In the queue"),
        N_("Longest wait"),
        N_("In work"),
        N_("Operators online"),
        N_("Over SLA"),
    )

    def key(self, row: QueueBoardRow) -> int:
        return row.queue_id

    def cell(self, row: QueueBoardRow, column: int) -> str:
        values = (
            row.name,
            str(row.waiting),
            seconds_text(row.longest_wait_seconds) if row.waiting else "—",
            str(row.active),
            f"{row.operators_online} / {row.operators_total}",
            str(row.over_sla),
        )
        return values[column]

    def colour(self, row: QueueBoardRow, column: int) -> QColor | None:
        t = theme.current()
        if column == 5 and row.over_sla:
            return t.color("sla_breach")
        if column == 2 and row.waiting and row.longest_wait_seconds > row.sla_seconds:
            return t.color("sla_warn")
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [QUEUE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        valid = [i for i in indexes if i.isValid()]
        return encode_id(QUEUE_MIME, self.key(self._rows[valid[0].row()])) if valid else QMimeData()


class OperatorBoardModel(RowTableModel[OperatorBoardRow]):
    HEADERS = (
        N_("Operator"),
        N_("Status"),
        N_("Load"),
        N_("Handled today"),
        N_("First response (median)"),
        N_("Rating"),
    )
    dialog_dropped = Signal(int, int)  # dialog id, operator id
    queue_dropped = Signal(int, int)  # queue id, operator id

    def key(self, row: OperatorBoardRow) -> int:
        return row.operator_id

    def cell(self, row: OperatorBoardRow, column: int) -> str:
        values = (
            row.name,
            tr(STATUS_LABELS[row.status]),
            f"{row.load} / {row.capacity}",
            str(row.handled_today),
            seconds_text(row.median_first_response_seconds),
            "—" if row.average_rating is None else f"{row.average_rating:.1f}",
        )
        return values[column]

    def colour(self, row: OperatorBoardRow, column: int) -> QColor | None:
        t = theme.current()
        if column == 1:
            return {
                OperatorStatus.ONLINE: t.color("sla_ok"),
                OperatorStatus.AWAY: t.color("sla_warn"),
            }.get(row.status, t.color("muted"))
        if column == 2 and row.load >= row.capacity > 0:
            return t.color("sla_breach")
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDropEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [DIALOG_MIME, QUEUE_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        carries = data.hasFormat(DIALOG_MIME) or data.hasFormat(QUEUE_MIME)
        return carries and self._target(row, parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        operator_id = self._target(row, parent)
        if operator_id is None:
            return False
        dialog_id = decode_id(data, DIALOG_MIME)
        if dialog_id is not None:
            self.dialog_dropped.emit(dialog_id, operator_id)
            return False  # nothing moves in this model: the server decides, the board follows
        queue_id = decode_id(data, QUEUE_MIME)
        if queue_id is not None:
            self.queue_dropped.emit(queue_id, operator_id)
        return False

    def _target(self, row: int, parent: AnyIndex) -> int | None:
        number = parent.row() if parent.isValid() else row
        if 0 <= number < len(self._rows):
            return self._rows[number].operator_id
        return None


class SupervisedDialogsModel(RowTableModel[DialogRow]):
    """Waiting and active dialogs of the supervised queues, from the cache; longest wait first."""

    HEADERS = (N_("Client"), N_("Queue"), N_("State"), N_("Operator"), N_("Unanswered for"))

    def __init__(
        self,
        service: DeskService,
        clock: Callable[[], datetime] = utcnow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.clock = clock
        self._queue_names: dict[int, str] = {}
        self._operator_names: dict[int, str] = {}

    def refresh(self) -> None:
        self._queue_names = {q.id: q.name for q in self.service.queues()}
        self._operator_names = {o.id: o.name for o in self.service.operators()}
        rows = [
            r
            for r in self.service.dialogs(Section.SUPERVISED, limit=1000)
            if r.dialog.state != DialogState.CLOSED
        ]
        rows.sort(key=self._wait_key)
        self.set_rows(rows)

    def _wait_key(self, row: DialogRow) -> tuple[int, datetime]:
        since = row.dialog.waiting_since
        return (0, since) if since is not None else (1, row.dialog.updated_at)

    def key(self, row: DialogRow) -> int:
        return row.dialog.id

    def waiting_seconds(self, row: DialogRow) -> float | None:
        since = row.dialog.waiting_since
        return None if since is None else (self.clock() - since).total_seconds()

    def cell(self, row: DialogRow, column: int) -> str:
        d = row.dialog
        if column == 0:
            return d.contact_name
        if column == 1:
            return self._queue_names.get(d.queue_id, f"#{d.queue_id}")
        if column == 2:
            return tr("In the queue") if d.state == DialogState.WAITING else tr("In work")
        if column == 3:
            return self._operator_names.get(d.assignee_id, "—") if d.assignee_id else "—"
        return seconds_text(self.waiting_seconds(row))

    def colour(self, row: DialogRow, column: int) -> QColor | None:
        waited = self.waiting_seconds(row)
        if column == 4 and waited is not None and waited > row.queue_sla_seconds:
            return theme.current().color("sla_breach")
        return None

    def tick(self) -> None:
        """Waiting times move every second; only that column repaints."""
        if self._rows:
            top, bottom = self.index(0, 4), self.index(len(self._rows) - 1, 4)
            self.dataChanged.emit(
                top, bottom, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole]
            )

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [DIALOG_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        valid = [i for i in indexes if i.isValid()]
        return (
            encode_id(DIALOG_MIME, self.key(self._rows[valid[0].row()])) if valid else QMimeData()
        )
