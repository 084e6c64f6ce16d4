"""One dialog's timeline: a windowed model over the cache, and the delegate that paints bubbles.

The model holds a window of rows (the newest page, growing upwards with fetchMore) keyed by
``MessageRow.key``, so a local echo that becomes *sent* is updated in place (Quaternion's way).
The delegate paints plain text only (customer text is never HTML) and caches each row's height
by (key, width), so a new message lays out one row, not all of them. The view adds message
selection with Ctrl+C, a context menu, clickable links and attachments, and (F2 or a
double-click) a read-only plain-text reader over a bubble to select part of its text.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextLayout,
    QTextLine,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QMenu,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from operator_app.core.service import DeliveryState, DeskService, MessageRow, MessagesChanged
from operator_app.protocol.models import Attachment, Author, MessageKind

from . import theme
from .formatting import day_label, one_line
from .i18n import tr
from .links import find_links, link_at
from .problems import reason_text
from .resources import icon
from .tasks import TaskRunner
from .thumbnails import THUMB_SIZE, ThumbnailStore, is_image

_WRAP = Qt.TextFlag.TextWordWrap
MessageRowRole = Qt.ItemDataRole.UserRole + 1
DayHeaderRole = Qt.ItemDataRole.UserRole + 2
UnreadMarkRole = Qt.ItemDataRole.UserRole + 3  # True on the first unread row ("New messages")
PAGE = 100
# Live rows grow the window at the bottom; while the operator follows the bottom, rows beyond
# this many are dropped from the top (fetchMore brings them back): QListView lays out every row
# at each insert, so the window's size is the price of every live message in an open tab.
MAX_WINDOW = 2 * PAGE
LAYOUT_CACHE = 256  # laid-out texts kept per timeline: a few screens of bubbles
OLDER_THRESHOLD_PX = 40  # this close to the top, the previous page is loaded

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
        # Older history is wanted only when the operator scrolls to the top: Qt's own
        # fetch-on-layout looks at the *last* row, which in a chat is always in view.
        self._older_wanted = False
        self._detached = False
        self._headers: dict[tuple[datetime, datetime | None, int], str] = {}
        self.unread_key: str | None = None  # the row "New messages" stands above

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
            return self.day_header(index.row())
        if role == UnreadMarkRole:
            return row.key == self.unread_key
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """A message with text is "editable": its editor is the read-only text reader."""
        flags = super().flags(index)
        if index.isValid() and 0 <= index.row() < len(self._rows):
            row = self._rows[index.row()]
            if row.text and row.author != Author.SYSTEM:
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self._fetching or not self._older_wanted or self._detached:
            return False
        return self.has_older()

    def detach(self) -> None:
        """The tab is closing: never touch the cache again (it may close before we go)."""
        self._detached = True

    def has_older(self) -> bool:
        return self._has_cached_older() or self.service.has_older(self.dialog_id)

    def want_older(self) -> bool:
        """The view reached the top: load the previous page (cache first, then the server)."""
        self._older_wanted = True
        if not self.canFetchMore():
            return False
        self.fetchMore()
        return True

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._fetching:
            return
        self._older_wanted = False
        if self._prepend_cached():
            return
        self._fetching = True
        self.older_loading.emit(True)
        self.runner.start(self._load_older(), key=f"older:{self.dialog_id}")

    # ---- updates from the core -------------------------------------------------------------

    def apply(self, change: MessagesChanged) -> None:
        """One change set (a batch of events): rows that go after the last one are appended
        with one insert, the rest are placed one by one."""
        for row in change.updated:
            self._update(row)
        tail: list[MessageRow] = []
        older = False
        for row in change.inserted:
            if self._position(row.key) >= 0:
                self._update(row)
            elif not self._rows or sort_key(row) >= sort_key(self._rows[-1]):
                if tail and sort_key(row) < sort_key(tail[-1]):
                    self._insert(row)  # out of order within the batch itself
                else:
                    tail.append(row)
            elif sort_key(row) >= sort_key(self._rows[0]):
                self._insert(row)
            else:  # older than our window: fetchMore brings it when scrolled to...
                older = True
        self._append(tail)
        if older and len(self._rows) < PAGE:
            # ...but a short window may not scroll at all: the history that came after a live
            # message (a dialog opened for the first time) is its start, so it goes in now
            self._prepend_cached()

    def trim_older(self, keep: int = MAX_WINDOW) -> int:
        """Drop the oldest rows beyond ``keep`` (the view follows the bottom); returns how many.
        Trims only once the window is half a page over, so it does not churn at every row."""
        excess = len(self._rows) - keep
        if excess < PAGE // 2:
            return 0
        self.beginRemoveRows(QModelIndex(), 0, excess - 1)
        del self._rows[:excess]
        self.endRemoveRows()
        if self._rows:  # the new first row gets its day header
            first = self.index(0)
            self.dataChanged.emit(first, first)
        return excess

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self.service.messages(self.dialog_id, limit=PAGE)
        self.endResetModel()

    def row_of_key(self, key: str) -> int:
        return self._position(key)

    def message_at(self, row: int) -> MessageRow:
        return self._rows[row]

    def day_header(self, row: int) -> str:
        """The label above this row: its day where a day begins, "New messages" where the
        unread begin, both, or ""."""
        day = self._day_header(row)
        if self._rows[row].key != self.unread_key:
            return day
        news = tr("New messages")
        return f"{day} · {news}" if day else news

    def mark_unread(self, count: int) -> QModelIndex:
        """Put "New messages" above the last ``count`` customer messages (the unread count
        counts theirs only); 0 takes it away. When the window holds fewer, where they begin
        is not in it: no mark (a mark on its first row would say wrong). Returns the marked
        row's index (invalid when none)."""
        before, self.unread_key = self.unread_key, None
        clients = [row for row in self._rows if row.author == Author.CLIENT]
        if 0 < count <= len(clients):
            self.unread_key = clients[-count].key
        for key in {before, self.unread_key} - {None}:
            index = self.index(self.row_of_key(key or ""))  # a row gone: an invalid index
            if index.isValid():
                self.dataChanged.emit(index, index)
        return self.index(self.row_of_key(self.unread_key or ""))

    def attachment_ready(self, attachment_id: int) -> None:
        """A thumbnail arrived: repaint the rows that show it."""
        for number, row in enumerate(self._rows):
            if any(a.id == attachment_id for a in row.attachments):
                index = self.index(number)
                self.dataChanged.emit(index, index, [MessageRowRole])

    # ---- internals -------------------------------------------------------------------------

    def _position(self, key: str) -> int:
        for number in range(len(self._rows) - 1, -1, -1):
            if self._rows[number].key == key:
                return number
        return -1

    def _append(self, rows: list[MessageRow]) -> None:
        if not rows:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

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
        """QListView asks for every row's size at each insert: the answer is memoised by the
        row's and its predecessor's times and the minute (local conversions are slow)."""
        row = self._rows[number]
        previous = self._rows[number - 1].created_at if number else None
        # the minute stands in for today's date (date.today() costs as much as the lookup)
        key = (row.created_at, previous, int(time.time() // 60))
        header = self._headers.get(key)
        if header is None:
            header = self._compute_day_header(row.created_at, previous)
            if len(self._headers) > 4 * MAX_WINDOW:
                self._headers.clear()
            self._headers[key] = header
        return header

    @staticmethod
    def _compute_day_header(created_at: datetime, previous: datetime | None) -> str:
        now = datetime.now(UTC)
        if previous is None or previous.astimezone().date() != created_at.astimezone().date():
            return day_label(created_at, now)
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


@dataclass(frozen=True)
class BubbleGeometry:
    bubble: QRect
    text: QRect  # empty height when the message has no text
    images: list[tuple[QRect, Attachment]]
    files: list[tuple[QRect, Attachment]]
    meta: QRect
    wrap: int  # the width the text was laid out at
    meta_text: str = ""

    def moved(self, dx: int, dy: int) -> BubbleGeometry:
        return BubbleGeometry(
            self.bubble.translated(dx, dy),
            self.text.translated(dx, dy),
            [(rect.translated(dx, dy), a) for rect, a in self.images],
            [(rect.translated(dx, dy), a) for rect, a in self.files],
            self.meta.translated(dx, dy),
            self.wrap,
            self.meta_text,
        )


@dataclass(frozen=True)
class Hit:
    """What is under the mouse inside a message."""

    link: str = ""
    attachment: Attachment | None = None
    retry: bool = False
    text_position: int = -1  # the character under the mouse, when it is over the text


class MessageDelegate(QStyledItemDelegate):
    """Bubbles: client left, operator right, comments amber with a lock, system lines centred.

    Customer text is laid out with QTextLayout as plain text; detected links only get a
    character format (colour, underline), so nothing in the text is ever interpreted.
    """

    MARGIN = 12
    PAD = 9
    GAP = 6
    MAX_BUBBLE = 560
    DAY = 30
    FILE_LINE = 24
    ICON = 20  # the paper clip before a file name
    SECTION = 6

    def __init__(
        self, parent: QWidget | None = None, thumbnails: ThumbnailStore | None = None
    ) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self._heights: dict[tuple[str, int, int], int] = {}
        # QListView asks every row's size at each insert into the view (a live message): the
        # answer for a row object after the same previous row (day header) at the same width
        # is returned without computing anything. Rows are immutable: a changed one is a new
        # object. key -> (row, previous row, width, size, "New messages" above it)
        self._sizes: dict[str, tuple[MessageRow, MessageRow | None, int, QSize, bool]] = {}
        # (key, width, day header, font) -> (row, its bubble's shape in an item rect at 0, 0)
        self._shapes: dict[tuple[str, int, bool, str], tuple[MessageRow, BubbleGeometry]] = {}
        # A paint lays each visible text out three times (height, geometry, drawing), and
        # every insert repaints the viewport: keep the recent layouts.
        self._layouts: OrderedDict[tuple[str, int, str, int], QTextLayout] = OrderedDict()
        self._option = QTextOption()
        self._option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)

    # ---- geometry --------------------------------------------------------------------------

    def _bubble_width(self, total: int) -> int:
        return max(120, min(self.MAX_BUBBLE, int(total * 0.72)))

    def _layout(self, text: str, font: QFont, width: int) -> QTextLayout:
        """The text laid out at ``width``, links formatted; positions relative to (0, 0)."""
        key = (text, width, font.key(), theme.current().color("accent").rgba())
        layout = self._layouts.get(key)
        if layout is not None:
            self._layouts.move_to_end(key)
            return layout
        layout = self._new_layout(text, font, width)
        self._layouts[key] = layout
        if len(self._layouts) > LAYOUT_CACHE:
            self._layouts.popitem(last=False)
        return layout

    def _new_layout(self, text: str, font: QFont, width: int) -> QTextLayout:
        # QTextLayout breaks lines only at U+2028, not at "\n" (same length: link spans hold)
        layout = QTextLayout(text.replace("\n", "\u2028"), font)
        layout.setTextOption(self._option)
        formats = []
        for link in find_links(text):
            fmt = QTextLayout.FormatRange()
            fmt.start, fmt.length = link.start, link.end - link.start
            fmt.format.setForeground(theme.current().color("accent"))
            fmt.format.setFontUnderline(True)
            formats.append(fmt)
        layout.setFormats(formats)
        layout.beginLayout()
        height = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, height))
            height += line.height()
        layout.endLayout()
        return layout

    def _text_height(self, text: str, font: QFont, width: int) -> int:
        if not text:
            return 0
        return int(self._layout(text, font, width).boundingRect().height()) + 1

    def _text_width(self, text: str, font: QFont, width: int) -> int:
        metrics = QFontMetrics(font)
        natural = max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)
        return min(natural + 2, width)

    def _attachments_height(self, row: MessageRow, width: int) -> int:
        height = 0
        for attachment in row.attachments:
            height += self._image_slot(width).height() + 4 if is_image(attachment) else 0
            height += 0 if is_image(attachment) else self.FILE_LINE
        return height

    def _image_slot(self, width: int) -> QSize:
        return QSize(min(THUMB_SIZE.width(), width), THUMB_SIZE.height())

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        width = option.rect.width() or 600
        model = index.model()
        number = index.row()
        previous: MessageRow | None = None
        if isinstance(model, TimelineModel) and 0 <= number < model.rowCount():
            # asked for every row at each insert: straight to the model, not through data()
            current = model.message_at(number)
            previous = model.message_at(number - 1) if number else None
            known = self._sizes.get(current.key)
            marked = current.key == model.unread_key
            if (
                known
                and known[0] is current
                and known[1] is previous
                and known[2] == width
                and known[4] == marked
            ):
                return known[3]
            row: MessageRow | None = current
            header = model.day_header(number)
        else:
            row, header = index.data(MessageRowRole), index.data(DayHeaderRole) or ""
        if row is None:
            return QSize(width, 0)
        shape = hash((row.text, row.state, row.error, header, len(row.attachments), row.deleted))
        key = (row.key, width, shape)
        cached = self._heights.get(key)
        if cached is None:
            cached = self._measure(row, option.font, width, bool(header))
            self._heights[key] = cached
        size = QSize(width, cached)
        if isinstance(model, TimelineModel):
            if len(self._sizes) > 4 * MAX_WINDOW:
                self._sizes.clear()
            self._sizes[row.key] = (row, previous, width, size, row.key == model.unread_key)
        return size

    def _measure(self, row: MessageRow, font: QFont, width: int, header: bool) -> int:
        extra = self.DAY if header else 0
        if row.author == Author.SYSTEM:
            return extra + QFontMetrics(font).height() + 12
        inner = self._bubble_width(width) - 2 * self.PAD
        meta_text = self._meta_text(row)
        return extra + self._inner_height(row, meta_text, font, inner) + 2 * self.PAD + self.GAP + 4

    def _inner_height(self, row: MessageRow, meta_text: str, font: QFont, inner: int) -> int:
        text = self._text_height(row.text, font, inner)
        files = self._attachments_height(row, inner)
        meta = self._meta_height(meta_text, font, inner)
        gaps = self.SECTION * (bool(text) + bool(files))
        return text + files + meta + gaps

    def _meta_height(self, meta_text: str, font: QFont, inner: int) -> int:
        """One line; wrapped when it is longer than the widest bubble (a failed message's
        reason must be read whole, not elided in its middle)."""
        metrics = QFontMetrics(self._small(font))
        if metrics.horizontalAdvance(meta_text) + 4 <= inner:
            return metrics.height()
        wrapped = metrics.boundingRect(QRect(0, 0, inner, 10_000), _WRAP, meta_text)
        return wrapped.height()

    def geometry(self, rect: QRect, row: MessageRow, font: QFont, header: bool) -> BubbleGeometry:
        """Where the bubble and its parts go inside the item rect ``rect``.

        Every insert into an open tab repaints the visible rows (they all move up): a row's
        shape is computed once per width and moved to where the row is painted."""
        key = (row.key, rect.width(), header, font.key())
        known = self._shapes.get(key)
        if known is None or known[0] is not row:
            if len(self._shapes) > LAYOUT_CACHE:
                self._shapes.clear()
            known = self._shapes[key] = (row, self._geometry(rect.width(), row, font, header))
        return known[1].moved(rect.left(), rect.top())

    def _geometry(self, width: int, row: MessageRow, font: QFont, header: bool) -> BubbleGeometry:
        """``geometry`` for an item rect at (0, 0)."""
        rect = QRect(0, 0, width, 0)
        top = rect.top() + (self.DAY if header else 0)
        max_width = self._bubble_width(rect.width())
        inner_max = max_width - 2 * self.PAD
        small = self._small(font)
        widths = [
            self._text_width(row.text, font, inner_max) if row.text else 0,
            QFontMetrics(small).horizontalAdvance(meta_text := self._meta_text(row)) + 4,
        ]
        metrics = QFontMetrics(font)
        for attachment in row.attachments:
            if is_image(attachment):
                widths.append(self._image_slot(inner_max).width())
            else:
                widths.append(
                    min(
                        metrics.horizontalAdvance(_file_label(attachment)) + self.ICON + 4,
                        inner_max,
                    )
                )
        width = min(max(widths) + 2 * self.PAD, max_width)
        inner = width - 2 * self.PAD
        height = self._inner_height(row, meta_text, font, inner_max) + 2 * self.PAD
        mine_side = row.author == Author.OPERATOR
        left = rect.right() - self.MARGIN - width if mine_side else rect.left() + self.MARGIN
        bubble = QRect(left, top + 3, width, height)
        y = bubble.top() + self.PAD
        text_height = self._text_height(row.text, font, inner_max)
        text = QRect(bubble.left() + self.PAD, y, inner, text_height)
        y += text_height + (self.SECTION if text_height else 0)
        images: list[tuple[QRect, Attachment]] = []
        files: list[tuple[QRect, Attachment]] = []
        for attachment in row.attachments:
            if is_image(attachment):
                slot = self._image_slot(inner_max)
                images.append(
                    (QRect(bubble.left() + self.PAD, y, slot.width(), slot.height()), attachment)
                )
                y += slot.height() + 4
            else:
                files.append(
                    (QRect(bubble.left() + self.PAD, y, inner, self.FILE_LINE), attachment)
                )
                y += self.FILE_LINE
        meta_height = self._meta_height(meta_text, font, inner_max)
        meta = QRect(
            bubble.left() + self.PAD,
            bubble.bottom() - self.PAD - meta_height + 1,
            inner,
            meta_height + 4,
        )
        return BubbleGeometry(bubble, text, images, files, meta, inner_max, meta_text)

    def hit_test(self, option: QStyleOptionViewItem, index: AnyIndex, pos: QPoint) -> Hit:
        row: MessageRow | None = index.data(MessageRowRole)
        if row is None or row.author == Author.SYSTEM:
            return Hit()
        font = QFont(option.font)
        shape = self.geometry(option.rect, row, font, bool(index.data(DayHeaderRole)))
        for rect, attachment in shape.images + shape.files:
            if rect.contains(pos):
                return Hit(attachment=attachment)
        if row.state == DeliveryState.FAILED and shape.meta.contains(pos):
            return Hit(retry=True)
        if row.text and shape.text.contains(pos):
            layout = self._layout(row.text, font, shape.wrap)
            local = pos - shape.text.topLeft()
            for number in range(layout.lineCount()):
                line = layout.lineAt(number)
                if line.y() <= local.y() < line.y() + line.height():
                    if local.x() > line.naturalTextWidth():
                        break
                    position = line.xToCursor(local.x(), QTextLine.CursorPosition.CursorOnCharacter)
                    link = link_at(row.text, position)
                    return Hit(link=link.url if link else "", text_position=position)
        return Hit()

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
        rect = QRect(option.rect)
        font = QFont(option.font)
        if option.state & QStyle.StateFlag.State_Selected:
            selection = theme.current().color("selection")
            painter.fillRect(rect, selection)
        header = index.data(DayHeaderRole) or ""
        if header:
            band = QRect(rect.left(), rect.top(), rect.width(), self.DAY)
            self._paint_day(painter, band, header, font, unread=bool(index.data(UnreadMarkRole)))
        if row.author == Author.SYSTEM:
            rect.setTop(rect.top() + (self.DAY if header else 0))
            self._paint_system(painter, rect, row, font)
        else:
            self._paint_bubble(painter, self.geometry(rect, row, font, bool(header)), row, font)
        painter.restore()

    def _paint_day(
        self, painter: QPainter, rect: QRect, label: str, font: QFont, *, unread: bool = False
    ) -> None:
        """A day's pill; where the unread begin, a line across with the pill in the accent."""
        t = theme.current()
        small = self._small(font)
        small.setBold(True)
        painter.setFont(small)
        width = QFontMetrics(small).horizontalAdvance(label) + 24
        pill = QRect(rect.center().x() - width // 2, rect.top() + 5, width, rect.height() - 10)
        if unread:
            painter.setPen(t.color("accent"))
            middle = pill.center().y()
            painter.drawLine(rect.left() + 12, middle, rect.right() - 12, middle)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.color("accent" if unread else "alt_base"))
        painter.drawRoundedRect(pill, 9, 9)
        painter.setPen(t.color("accent_text" if unread else "muted"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_system(self, painter: QPainter, rect: QRect, row: MessageRow, font: QFont) -> None:
        t = theme.current()
        small = self._small(font)
        small.setItalic(True)
        painter.setFont(small)
        painter.setPen(t.color("system_text"))
        text = f"{one_line(row.text, 300)}  ·  {row.created_at.astimezone():%H:%M}"
        elided = QFontMetrics(small).elidedText(
            text, Qt.TextElideMode.ElideMiddle, rect.width() - 40
        )
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, elided)

    def _paint_bubble(
        self, painter: QPainter, shape: BubbleGeometry, row: MessageRow, font: QFont
    ) -> None:
        t = theme.current()
        comment = row.kind == MessageKind.COMMENT
        mine_side = row.author == Author.OPERATOR
        fill = t.color(
            "bubble_comment" if comment else ("bubble_operator" if mine_side else "bubble_client")
        )
        painter.setBrush(fill)
        if comment:
            painter.setPen(t.color("comment_border"))
        elif row.state == DeliveryState.FAILED:
            painter.setPen(t.color("failed"))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(shape.bubble, 10, 10)

        if row.text:
            painter.setPen(t.color("text"))
            layout = self._layout(row.text, font, shape.wrap)
            layout.draw(painter, QPointF(shape.text.topLeft()))
        for rect, attachment in shape.images:
            self._paint_image(painter, rect, attachment, font)
        painter.setFont(font)
        for rect, attachment in shape.files:
            painter.setPen(t.color("accent"))
            clip = QRect(rect.left(), rect.center().y() - 8, 16, 16)
            icon("attach").paint(painter, clip)
            text_rect = rect.adjusted(self.ICON, 0, 0, 0)
            label = QFontMetrics(font).elidedText(
                _file_label(attachment), Qt.TextElideMode.ElideMiddle, text_rect.width()
            )
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
            )

        small = self._small(font)
        painter.setFont(small)
        color = t.color("failed") if row.state == DeliveryState.FAILED else t.color("muted")
        painter.setPen(color)
        align = Qt.AlignmentFlag.AlignRight if mine_side else Qt.AlignmentFlag.AlignLeft
        painter.drawText(shape.meta, align | Qt.AlignmentFlag.AlignTop | _WRAP, shape.meta_text)

    def _paint_image(
        self, painter: QPainter, rect: QRect, attachment: Attachment, font: QFont
    ) -> None:
        t = theme.current()
        pixmap = None if self.thumbnails is None else self.thumbnails.pixmap(attachment)
        if pixmap is not None and not pixmap.isNull():
            target = QRect(
                rect.topLeft(),
                pixmap.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio),
            )
            painter.drawPixmap(target, pixmap)
            return
        painter.setPen(t.color("border"))
        painter.setBrush(t.color("alt_base"))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(t.color("muted"))
        painter.setFont(self._small(font))
        if self.thumbnails is not None and self.thumbnails.unavailable(attachment):
            label = tr("Image unavailable")
        else:
            label = tr("Loading image…")
            if self.thumbnails is not None:
                self.thumbnails.request(attachment)
        name = QFontMetrics(painter.font()).elidedText(
            one_line(attachment.name, 120), Qt.TextElideMode.ElideMiddle, rect.width() - 12
        )
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{label}\n{name}")

    def _meta_text(self, row: MessageRow) -> str:
        parts: list[str] = []
        if row.deleted:  # deleted in the backend after it was sent: text and files are gone
            parts.append("🗑 " + tr("Message deleted"))
        if row.kind == MessageKind.COMMENT:
            parts.append(tr("Internal comment"))
        if row.author == Author.OPERATOR and row.author_name:
            parts.append(one_line(row.author_name, 60))
        parts.append(f"{row.created_at.astimezone():%H:%M}")
        if row.author == Author.OPERATOR:
            parts.append(_state_mark(row))
        return " · ".join(parts)

    # ---- the text reader (the item's "editor") ----------------------------------------------

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: AnyIndex
    ) -> QWidget:
        row: MessageRow | None = index.data(MessageRowRole)  # one with text: the model's flags
        return MessageTextReader(row.text if row else "", QFont(option.font), parent)

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:
        """Called again when the row changes (sent, edited): keep the selection unless the
        text itself changed."""
        row: MessageRow | None = index.data(MessageRowRole)
        if isinstance(editor, MessageTextReader) and row is not None:
            editor.show_text(row.text)

    def setModelData(self, editor: QWidget, model: Any, index: AnyIndex) -> None:
        pass  # read-only: nothing goes back into the timeline

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: AnyIndex
    ) -> None:
        """Over the painted text, as wide as it was laid out (so it wraps the same)."""
        row: MessageRow | None = index.data(MessageRowRole)
        if row is None:
            return
        shape = self.geometry(option.rect, row, QFont(option.font), bool(index.data(DayHeaderRole)))
        height = max(shape.text.height(), shape.meta.top() - shape.text.top())
        editor.setGeometry(QRect(shape.text.left(), shape.text.top(), shape.wrap + 2, height))

    def forget(self) -> None:
        """Measure everything again (the font or the language changed)."""
        self._heights.clear()
        self._sizes.clear()
        self._shapes.clear()
        self._layouts.clear()


class MessageTextReader(QPlainTextEdit):
    """A message's text over its bubble, read-only, to select part of it (an order number, an
    address) where the timeline selects whole messages. Plain text: nothing in it is
    interpreted. Escape, or the focus leaving it, closes it."""

    def __init__(self, text: str, font: QFont, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("messageText")
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFont(font)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportMargins(0, 0, 0, 0)
        self.viewport().setAutoFillBackground(False)
        self.document().setDocumentMargin(0)
        self.setPlainText(text)

    def show_text(self, text: str) -> None:
        if text != self.toPlainText():
            self.setPlainText(text)

    def select_word_at(self, position: int) -> None:
        """What a double-click on the bubble's text does in any text field."""
        cursor = self.textCursor()
        cursor.setPosition(max(0, min(position, len(self.toPlainText()))))
        cursor.select(QTextCursor.SelectionType.WordUnderCursor)
        self.setTextCursor(cursor)

    def selected_text(self) -> str:
        """The selection as the clipboard gets it (Qt marks paragraphs with U+2029)."""
        return self.textCursor().selectedText().replace("\u2029", "\n")


def _file_label(attachment: Attachment) -> str:
    return f"{one_line(attachment.name, 120)} · {human_size(attachment.size)}"


def human_size(size: int) -> str:
    if size < 1024:
        return tr("{n} B").format(n=size)
    if size < 1024 * 1024:
        return tr("{n} KB").format(n=f"{size / 1024:.0f}")
    return tr("{n} MB").format(n=f"{size / 1024 / 1024:.1f}")


def _state_mark(row: MessageRow) -> str:
    if row.state == DeliveryState.PENDING:
        return "◷ " + tr("sending")
    if row.state == DeliveryState.FAILED:
        reason = f": {one_line(reason_text(row.error), 120)}" if row.error else ""
        return "⚠ " + tr("not sent") + reason + " — " + tr("click to retry")
    return "✓"


class TimelineView(QListView):
    """The list of bubbles: selection, Ctrl+C, a context menu, clickable links and files."""

    retry_requested = Signal(str)  # message key
    link_activated = Signal(str)  # an http(s) URL from a message
    open_requested = Signal(object)  # Attachment
    save_requested = Signal(object)  # Attachment
    resized = Signal()  # for what floats over it: one signal, not the parent filtering every
    # event of the view (an event filter is also called while its owner is being destroyed)

    def __init__(
        self,
        model: TimelineModel,
        thumbnails: ThumbnailStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.delegate = MessageDelegate(self, thumbnails)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # F2 opens a message's text to select part of it (so does a double-click on the text)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSpacing(0)
        self.setMouseTracking(True)
        # The model last: setting the scroll mode with rows present lays every row out at the
        # view's provisional 100 px width (a text layout each, wasted).
        self.setModel(model)
        # A full page is taller than any screen, so it will need the scroll bar: with the bar
        # there from the start the rows are laid out once, not once without it and again at
        # the narrower width. Back to "as needed" after the first paint (nothing moves then).
        self._bar_settled = model.rowCount() < PAGE
        if not self._bar_settled:
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.menu: QMenu | None = None
        self._anchor = QPersistentModelIndex()
        self._anchor_timer = QTimer(self, singleShot=True, interval=0)
        self._anchor_timer.timeout.connect(self._scroll_to_anchor)
        self.verticalScrollBar().valueChanged.connect(self._maybe_load_older)
        self.verticalScrollBar().rangeChanged.connect(self._fill_when_short)
        model.rowsInserted.connect(self._keep_anchor)

    def changeEvent(self, event: QEvent) -> None:
        # the cached heights are in the old font, the shapes' texts in the old language
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.LanguageChange):
            self.delegate.forget()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._bar_settled:
            self._bar_settled = True
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    # ---- older history ---------------------------------------------------------------------

    def _maybe_load_older(self, value: int) -> None:
        if value <= OLDER_THRESHOLD_PX:
            self.timeline_model().want_older()

    def _fill_when_short(self, _minimum: int, maximum: int) -> None:
        if maximum == 0:  # everything fits: show more history if there is any
            self.timeline_model().want_older()

    def _keep_anchor(self, _parent: QModelIndex, first: int, last: int) -> None:
        """Rows prepended above: keep the message that was at the top where it was."""
        model = self.timeline_model()
        if first != 0 or last + 1 >= model.rowCount():
            return
        self._anchor = QPersistentModelIndex(model.index(last + 1))
        self._anchor_timer.start()  # after the new rows are laid out

    def _scroll_to_anchor(self) -> None:
        if self._anchor.isValid():
            anchor = self.model().index(self._anchor.row(), 0)
            self.scrollTo(anchor, QAbstractItemView.ScrollHint.PositionAtTop)

    def timeline_model(self) -> TimelineModel:
        model = self.model()
        assert isinstance(model, TimelineModel)
        return model

    # ---- selection and copy ----------------------------------------------------------------

    def selected_messages(self) -> list[MessageRow]:
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        model = self.timeline_model()
        return [model.message_at(number) for number in rows]

    def copy_selection(self) -> str:
        """Put the selected messages' text on the clipboard (oldest first)."""
        parts = [_copy_text(row) for row in self.selected_messages()]
        text = "\n\n".join(part for part in parts if part)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- mouse -----------------------------------------------------------------------------

    def hit_at(self, pos: QPoint) -> tuple[QModelIndex, Hit]:
        index = self.indexAt(pos)
        if not index.isValid():
            return index, Hit()
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return index, self.delegate.hit_test(option, index, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        _index, hit = self.hit_at(event.position().toPoint())
        active = bool(hit.link or hit.attachment or hit.retry)
        shape = Qt.CursorShape.PointingHandCursor if active else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(shape)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.modifiers() & (
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
        ):
            return  # extending the selection
        index, hit = self.hit_at(event.position().toPoint())
        if hit.link:
            self.link_activated.emit(hit.link)
        elif hit.attachment is not None:
            wanted = self.open_requested if is_image(hit.attachment) else self.save_requested
            wanted.emit(hit.attachment)
        elif hit.retry:
            self.retry_requested.emit(self.timeline_model().message_at(index.row()).key)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index, hit = self.hit_at(event.position().toPoint())
        if hit.text_position < 0 or hit.link:
            super().mouseDoubleClickEvent(event)
            return
        reader = self.read_text(index)
        if reader is not None:
            reader.select_word_at(hit.text_position)
        event.accept()

    def read_text(self, at: AnyIndex) -> MessageTextReader | None:
        """Open the message's text reader (F2 does the same for the current message)."""
        if not at.isValid():
            return None
        index = self.model().index(at.row(), 0)
        self.setCurrentIndex(index)
        self.edit(index)
        reader = self.indexWidget(index)
        if not isinstance(reader, MessageTextReader):
            return None
        reader.setFocus(Qt.FocusReason.MouseFocusReason)
        return reader

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu(event.pos())
        if menu is not None:
            menu.popup(event.globalPos())

    def context_menu(self, pos: QPoint) -> QMenu | None:
        """The menu for the message at ``pos`` (kept in ``self.menu`` for tests)."""
        index, hit = self.hit_at(pos)
        if not index.isValid():
            return None
        if not self.selectionModel().isSelected(index):
            self.setCurrentIndex(index)
        row = self.timeline_model().message_at(index.row())
        menu = QMenu(self)
        copy = menu.addAction(tr("Copy text"))
        copy.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        copy.triggered.connect(self.copy_selection)
        copy.setEnabled(any(r.text for r in self.selected_messages()))
        select = menu.addAction(tr("Select part of the text"))
        select.setShortcut(QKeySequence(Qt.Key.Key_F2))
        clicked = QPersistentModelIndex(index)  # rows may come and go while the menu is open
        select.triggered.connect(lambda: self.read_text(clicked))
        select.setEnabled(bool(row.text) and row.author != Author.SYSTEM)
        links = find_links(row.text)
        if links:
            url = hit.link or links[0].url
            copy_link = menu.addAction(tr("Copy link"))
            copy_link.setToolTip(url)
            copy_link.triggered.connect(lambda: QGuiApplication.clipboard().setText(url))
            menu.addAction(tr("Open link"), lambda: self.link_activated.emit(url))
        for attachment in row.attachments:
            name = one_line(attachment.name, 40)
            menu.addAction(
                tr("Open “{name}”").format(name=name),
                partial(self.open_requested.emit, attachment),
            )
            menu.addAction(
                tr("Save “{name}” as…").format(name=name),
                partial(self.save_requested.emit, attachment),
            )
        if row.state == DeliveryState.FAILED:
            menu.addSeparator()
            retry = menu.addAction(icon("retry"), tr("Retry"))
            retry.triggered.connect(lambda: self.retry_requested.emit(row.key))
        self.menu = menu
        return menu


def _copy_text(row: MessageRow) -> str:
    names = ", ".join(a.name for a in row.attachments)
    if row.text and names:
        return f"{row.text}\n[{names}]"
    return row.text or (f"[{names}]" if names else "")
