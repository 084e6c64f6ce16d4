"""One dialog's timeline: a windowed model over the cache, and the delegate that paints bubbles.

The model holds a window of rows (the newest page, growing upwards with fetchMore) keyed by
``MessageRow.key``, so a local echo that becomes *sent* is updated in place (Quaternion's way).
The delegate paints plain text only (customer text is never HTML) and caches each row's height
by (key, width), so a new message lays out one row, not all of them.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QTextLayout, QTextOption
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

from operator_app.core.service import DeliveryState, DeskService, MessageRow, MessagesChanged
from operator_app.protocol.models import Author, MessageKind

from . import theme
from .formatting import day_label
from .i18n import tr
from .tasks import TaskRunner

MessageRowRole = Qt.ItemDataRole.UserRole + 1
DayHeaderRole = Qt.ItemDataRole.UserRole + 2
PAGE = 100

AnyIndex = QModelIndex | QPersistentModelIndex


def sort_key(row: MessageRow) -> tuple[int, datetime, int]:
    """Sent rows by server order; pending and failed local echoes after them, in send order."""
    local = row.server_id is None
    return (1 if local else 0, row.created_at, row.server_id or 0)


class TimelineModel(QAbstractListModel):
    older_loading = Signal(bool)

    def __init__(self, service: DeskService, dialog_id: int, runner: TaskRunner) -> None:
        super().__init__()
        self.service = service
        self.dialog_id = dialog_id
        self.runner = runner
        self._rows: list[MessageRow] = service.messages(dialog_id, limit=PAGE)
        self._fetching = False

    # ---- Qt model API ----------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == MessageRowRole:
            return row
        if role == DayHeaderRole:
            return self._day_header(index.row())
        return None

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self._fetching:
            return False
        return self._has_cached_older() or self.service.has_older(self.dialog_id)

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._fetching:
            return
        if self._prepend_cached():
            return
        self._fetching = True
        self.older_loading.emit(True)
        self.runner.start(self._load_older(), key=f"older:{self.dialog_id}")

    # ---- updates from the core -------------------------------------------------------------

    def apply(self, change: MessagesChanged) -> None:
        for row in change.updated:
            self._update(row)
        for row in change.inserted:
            if self._position(row.key) >= 0:
                self._update(row)
            elif not self._rows or sort_key(row) >= sort_key(self._rows[0]):
                self._insert(row)
            # older than our window: fetchMore will bring it when scrolled to

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self.service.messages(self.dialog_id, limit=PAGE)
        self.endResetModel()

    def row_of_key(self, key: str) -> int:
        return self._position(key)

    def message_at(self, row: int) -> MessageRow:
        return self._rows[row]

    # ---- internals -------------------------------------------------------------------------

    def _position(self, key: str) -> int:
        for number in range(len(self._rows) - 1, -1, -1):
            if self._rows[number].key == key:
                return number
        return -1

    def _insert(self, row: MessageRow) -> None:
        keys = [sort_key(r) for r in self._rows]
        at = bisect_right(keys, sort_key(row))
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, row)
        self.endInsertRows()
        if at + 1 < len(self._rows):  # the next row's day header may disappear
            nxt = self.index(at + 1)
            self.dataChanged.emit(nxt, nxt)

    def _update(self, row: MessageRow) -> None:
        at = self._position(row.key)
        if at < 0:
            return
        if sort_key(self._rows[at]) != sort_key(row):
            self.beginRemoveRows(QModelIndex(), at, at)
            del self._rows[at]
            self.endRemoveRows()
            self._insert(row)
            return
        self._rows[at] = row
        index = self.index(at)
        self.dataChanged.emit(index, index)

    def _day_header(self, number: int) -> str:
        row = self._rows[number]
        now = datetime.now(UTC)
        if number == 0:
            return day_label(row.created_at, now)
        previous = self._rows[number - 1]
        if previous.created_at.astimezone().date() != row.created_at.astimezone().date():
            return day_label(row.created_at, now)
        return ""

    def _has_cached_older(self) -> bool:
        if not self._rows:
            return False
        return bool(self.service.messages(self.dialog_id, before_key=self._rows[0].key, limit=1))

    def _prepend_cached(self) -> bool:
        if not self._rows:
            return False
        older = self.service.messages(self.dialog_id, before_key=self._rows[0].key, limit=PAGE)
        if not older:
            return False
        self.beginInsertRows(QModelIndex(), 0, len(older) - 1)
        self._rows[0:0] = older
        self.endInsertRows()
        first_old = self.index(len(older))
        self.dataChanged.emit(first_old, first_old)
        return True

    async def _load_older(self) -> None:
        try:
            await self.service.load_older(self.dialog_id)
        finally:
            self._fetching = False
            self.older_loading.emit(False)
        if self._rows:
            self._prepend_cached()
        else:
            self.reload()


class MessageDelegate(QStyledItemDelegate):
    """Bubbles: client left, operator right, comments amber with a lock, system lines centred."""

    retry_requested = Signal(str)  # message key

    MARGIN = 12
    PAD = 9
    GAP = 6
    MAX_BUBBLE = 560

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heights: dict[tuple[str, int, int], int] = {}
        self._option = QTextOption()
        self._option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)

    # ---- geometry --------------------------------------------------------------------------

    def _bubble_width(self, total: int) -> int:
        return max(120, min(self.MAX_BUBBLE, int(total * 0.72)))

    def _text_height(self, text: str, font: QFont, width: int) -> int:
        layout = QTextLayout(text, font)
        layout.setTextOption(self._option)
        layout.beginLayout()
        height = 0.0
        widest = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, height))
            height += line.height()
            widest = max(widest, line.naturalTextWidth())
        layout.endLayout()
        return int(height) + 1

    def _text_width(self, text: str, font: QFont, width: int) -> int:
        metrics = QFontMetrics(font)
        natural = max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)
        return min(natural + 2, width)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        row: MessageRow | None = index.data(MessageRowRole)
        width = option.rect.width() or 600  # type: ignore[attr-defined]
        if row is None:
            return QSize(width, 0)
        header = index.data(DayHeaderRole) or ""
        key = (row.key, width, hash((row.text, row.state, row.error, header)))
        cached = self._heights.get(key)
        if cached is None:
            cached = self._measure(row, option.font, width, bool(header))  # type: ignore[attr-defined]
            self._heights[key] = cached
        return QSize(width, cached)

    def _measure(self, row: MessageRow, font: QFont, width: int, header: bool) -> int:
        extra = 30 if header else 0
        if row.author == Author.SYSTEM:
            return extra + QFontMetrics(font).height() + 12
        text_width = self._bubble_width(width) - 2 * self.PAD
        body = self._text_height(row.text or " ", font, text_width)
        meta = QFontMetrics(self._small(font)).height()
        return extra + body + meta + 2 * self.PAD + self.GAP + 4

    @staticmethod
    def _small(font: QFont) -> QFont:
        small = QFont(font)
        small.setPointSizeF(max(font.pointSizeF() - 1.5, 7))
        return small

    # ---- painting --------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        row: MessageRow | None = index.data(MessageRowRole)
        if row is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRect(option.rect)  # type: ignore[attr-defined]
        font = QFont(option.font)  # type: ignore[attr-defined]
        header = index.data(DayHeaderRole) or ""
        if header:
            self._paint_day(painter, QRect(rect.left(), rect.top(), rect.width(), 30), header, font)
            rect.setTop(rect.top() + 30)
        if row.author == Author.SYSTEM:
            self._paint_system(painter, rect, row, font)
        else:
            self._paint_bubble(painter, rect, row, font)
        painter.restore()

    def _paint_day(self, painter: QPainter, rect: QRect, label: str, font: QFont) -> None:
        t = theme.current()
        small = self._small(font)
        small.setBold(True)
        painter.setFont(small)
        painter.setPen(t.color("muted"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_system(self, painter: QPainter, rect: QRect, row: MessageRow, font: QFont) -> None:
        t = theme.current()
        small = self._small(font)
        painter.setFont(small)
        painter.setPen(t.color("system_text"))
        text = f"{row.text}  ·  {row.created_at.astimezone():%H:%M}"
        elided = QFontMetrics(small).elidedText(
            text, Qt.TextElideMode.ElideMiddle, rect.width() - 40
        )
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, elided)

    def _paint_bubble(self, painter: QPainter, rect: QRect, row: MessageRow, font: QFont) -> None:
        t = theme.current()
        comment = row.kind == MessageKind.COMMENT
        mine_side = row.author == Author.OPERATOR
        max_width = self._bubble_width(rect.width())
        text_width = max_width - 2 * self.PAD
        small = self._small(font)
        meta = self._meta_text(row)
        meta_width = QFontMetrics(small).horizontalAdvance(meta) + 4
        width = max(self._text_width(row.text, font, text_width), meta_width) + 2 * self.PAD
        width = min(width, max_width)
        height = rect.height() - self.GAP - 4
        left = rect.right() - self.MARGIN - width if mine_side else rect.left() + self.MARGIN
        bubble = QRect(left, rect.top() + 3, width, height)

        fill = t.color(
            "bubble_comment" if comment else ("bubble_operator" if mine_side else "bubble_client")
        )
        painter.setBrush(fill)
        if comment:
            painter.setPen(t.color("comment_border"))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(bubble, 10, 10)

        painter.setFont(font)
        painter.setPen(t.color("text"))
        text_rect = QRectF(bubble.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD))
        painter.drawText(text_rect, row.text, self._option)

        painter.setFont(small)
        color = t.color("failed") if row.state == DeliveryState.FAILED else t.color("muted")
        painter.setPen(color)
        meta_rect = bubble.adjusted(self.PAD, 0, -self.PAD, -4)
        painter.drawText(
            meta_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, meta
        )

    def _meta_text(self, row: MessageRow) -> str:
        parts: list[str] = []
        if row.kind == MessageKind.COMMENT:
            parts.append("🔒 " + tr("Internal comment"))
        if row.author == Author.OPERATOR and row.author_name:
            parts.append(row.author_name)
        parts.append(f"{row.created_at.astimezone():%H:%M}")
        if row.author == Author.OPERATOR:
            parts.append(_state_mark(row))
        return " · ".join(parts)

    def editorEvent(
        self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: AnyIndex
    ) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease:
            row: MessageRow | None = index.data(MessageRowRole)
            if row is not None and row.state == DeliveryState.FAILED:
                self.retry_requested.emit(row.key)
                return True
        return super().editorEvent(event, model, option, index)

    def forget(self) -> None:
        self._heights.clear()


def _state_mark(row: MessageRow) -> str:
    if row.state == DeliveryState.PENDING:
        return "🕓 " + tr("sending")
    if row.state == DeliveryState.FAILED:
        reason = f": {row.error}" if row.error else ""
        return "⚠ " + tr("not sent") + reason + " — " + tr("click to retry")
    return "✓"
