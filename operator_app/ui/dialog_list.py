"""The dialog list: a model over the core's rows for one section, and its delegate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from operator_app.core.service import DeskService, DialogFilter, DialogRow, Section
from operator_app.protocol.enums import Author, DialogState, MessageKind

from . import theme
from .formatting import elapsed_short, one_line, short_time
from .i18n import tr
from .resources import channel_icon

DialogRowRole = Qt.ItemDataRole.UserRole + 1
DialogIdRole = Qt.ItemDataRole.UserRole + 2
DraftRole = Qt.ItemDataRole.UserRole + 3

AnyIndex = QModelIndex | QPersistentModelIndex


class DialogListModel(QAbstractListModel):
    """Rows of one section, refreshed in place: changed rows emit dataChanged, order via layout."""

    def __init__(self, service: DeskService, section: Section, *, first: int | None = None) -> None:
        """``first``: read only that many rows now (the first screenful, before the window's
        first paint); the rest are counted at once and read by ``read_rest()``, or as soon
        as anything asks for one of them."""
        super().__init__()
        self.service = service
        self.section = section
        self.narrowed = DialogFilter()
        self._rows: list[DialogRow] = []
        self._unread_ids: list[int] = []  # the section's next rows, in order, not read yet
        if first is None:
            self.refresh()
        else:
            self._read_first(first)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows) + len(self._unread_ids)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if index.row() >= len(self._rows):
            self.read_rest()
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.dialog.contact_name
        if role == Qt.ItemDataRole.ToolTipRole:
            return _preview_text(row)
        if role == DialogRowRole:
            return row
        if role == DialogIdRole:
            return row.dialog.id
        if role == DraftRole:
            return self.service.draft(row.dialog.id) if row.has_draft else ""
        return None

    def dialog_id_at(self, row: int) -> int:
        self.read_rest()
        return self._rows[row].dialog.id

    def row_of(self, dialog_id: int) -> int:
        self.read_rest()
        for number, row in enumerate(self._rows):
            if row.dialog.id == dialog_id:
                return number
        return -1

    def set_filter(self, narrowed: DialogFilter) -> None:
        self.narrowed = narrowed
        self.refresh()

    def rows_read(self) -> int:
        """How many of the rows are read (the others wait for ``read_rest``)."""
        return len(self._rows)

    def read_rest(self) -> None:
        """Read the rows that ``first`` left for later; their count is already shown."""
        if not self._unread_ids:
            return
        ids, self._unread_ids = self._unread_ids, []  # nothing is left to read from here on
        found = self.service.dialog_rows(ids)
        rest = [found[dialog_id] for dialog_id in ids if dialog_id in found]
        if len(rest) == len(ids):
            self._rows.extend(rest)  # the rows the view counted, now read: nothing to announce
            return
        # Some left the cache before they were read (pruned): the count shown was too high.
        self.beginResetModel()
        self._rows.extend(rest)
        self.endResetModel()

    def _read_first(self, count: int) -> None:
        """The first ``count`` rows of the section; the other ids are kept to read later.
        Parsing a row's JSON is most of a list read (~30 µs a row): the first paint needs a
        screenful, not the whole page of 500."""
        ids = self.service.dialog_ids(self.section, self.narrowed)
        found = self.service.dialog_rows(ids[:count])
        rows = [found[dialog_id] for dialog_id in ids[:count] if dialog_id in found]
        self._rows, self._unread_ids = rows, ids[count:]

    def refresh(self, changed: frozenset[int] | None = None) -> None:
        """Re-read the section; with ``changed``, only those rows and new ones are read (the
        order comes from an index), the others are kept as they are."""
        self.read_rest()
        if changed is None:
            new_rows = self.service.dialogs(self.section, self.narrowed)
        else:
            new_rows = self._read_changed(changed)
        self._apply(new_rows, changed)

    def _read_changed(self, changed: frozenset[int]) -> list[DialogRow]:
        ids = self.service.dialog_ids(self.section, self.narrowed)
        held = {row.dialog.id: row for row in self._rows}
        fresh = self.service.dialog_rows([i for i in ids if i in changed or i not in held])
        rows = (fresh.get(dialog_id) or held.get(dialog_id) for dialog_id in ids)
        return [row for row in rows if row is not None]

    def _apply(self, new_rows: list[DialogRow], changed: frozenset[int] | None) -> None:
        old_ids = [r.dialog.id for r in self._rows]
        new_ids = [r.dialog.id for r in new_rows]
        if old_ids == new_ids:
            for number, (old, new) in enumerate(zip(self._rows, new_rows, strict=True)):
                if old != new or (changed is not None and new.dialog.id in changed):
                    self._rows[number] = new
                    index = self.index(number)
                    self.dataChanged.emit(index, index)
            return
        self._remove_missing(set(new_ids))
        present = {r.dialog.id for r in self._rows}
        added = [r for r in new_rows if r.dialog.id not in present]
        if added:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
        self._reorder(new_rows)

    def _remove_missing(self, keep: set[int]) -> None:
        for number in range(len(self._rows) - 1, -1, -1):
            if self._rows[number].dialog.id not in keep:
                self.beginRemoveRows(QModelIndex(), number, number)
                del self._rows[number]
                self.endRemoveRows()

    def _reorder(self, new_rows: list[DialogRow]) -> None:
        if [r.dialog.id for r in self._rows] == [r.dialog.id for r in new_rows]:
            self._rows = list(new_rows)
            if self._rows:
                self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))
            return
        self.layoutAboutToBeChanged.emit()
        old_position = {r.dialog.id: n for n, r in enumerate(self._rows)}
        new_position = {r.dialog.id: n for n, r in enumerate(new_rows)}
        for persistent in self.persistentIndexList():
            dialog_id = self._rows[persistent.row()].dialog.id
            self.changePersistentIndex(persistent, self.index(new_position[dialog_id]))
        del old_position
        self._rows = list(new_rows)
        self.layoutChanged.emit()


class FilterEdit(QLineEdit):
    """The list's filter, worked from the keyboard: Down goes into the list, Enter opens the
    list's current (else first) dialog, Escape clears the words, then gives the focus back."""

    into_list = Signal()
    open_current = Signal()
    leave = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Down:
            self.into_list.emit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_current.emit()
        elif key == Qt.Key.Key_Escape and self.text():
            self.clear()
        elif key == Qt.Key.Key_Escape:
            self.leave.emit()
        else:
            super().keyPressEvent(event)


def _preview_text(row: DialogRow) -> str:
    preview = row.dialog.last_message
    if preview is None:
        return ""
    prefix = ""
    if preview.kind == MessageKind.COMMENT:
        prefix = "🔒 "
    elif preview.author == Author.OPERATOR:
        prefix = tr("You: ")
    return prefix + one_line(preview.text)


def sla_color(row: DialogRow, now: datetime) -> QColor | None:
    """Colour of the waiting timer against the queue's SLA, None when nobody is waiting."""
    since = row.dialog.waiting_since
    if since is None or row.dialog.state == DialogState.CLOSED:
        return None
    waited = (now - since).total_seconds()
    sla = max(row.queue_sla_seconds, 1)
    t = theme.current()
    if waited >= sla:
        return t.color("sla_breach")
    if waited >= sla / 2:
        return t.color("sla_warn")
    return t.color("sla_ok")


@dataclass(frozen=True)
class RowLook:
    """What a row shows besides its DialogRow: the parts that change with time, the draft,
    the selection and the place it is painted in. Equal looks of the same row paint the
    same pixels."""

    time_text: str
    waited: str  # "" when nobody is waiting
    sla: str  # the waiting timer's colour name
    draft: str
    selected: bool
    hovered: bool
    width: int
    height: int
    font: str
    theme: str
    pixel_ratio: float


class DialogDelegate(QStyledItemDelegate):
    """Channel icon, name, time; preview, waiting timer and unread badge. Plain text only.

    A row painted twice in the same look is kept as a pixmap and then copied while it looks
    the same: the list repaints every second (waiting timers) and, while events keep coming,
    every 100 ms, and a row's texts and shapes cost ~0.1-0.3 ms to draw each time. A row
    whose look keeps changing is painted in place (a pixmap costs as much again)."""

    ROW_HEIGHT = 64
    # The view stretches a row to its width: a hint wider than the narrowest list (the
    # panel's minimum) made it scroll sideways and cut the time and the waiting timer off.
    ROW_MIN_WIDTH = 200
    ICON = 32
    CACHED_ROWS = 64  # a few screens of rows: ~84 KB each at 330x64

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._pixmaps: dict[int, tuple[DialogRow, RowLook, QPixmap]] = {}  # by dialog id
        self._painted: dict[int, tuple[DialogRow, RowLook]] = {}  # painted in place, by id

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(self.ROW_MIN_WIDTH, self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        row: DialogRow | None = index.data(DialogRowRole)
        if row is None:
            return
        look = self._look(row, option, one_line(index.data(DraftRole) or ""), painter)
        dialog_id = row.dialog.id
        cached = self._pixmaps.get(dialog_id)
        if cached is not None and cached[0] is row and cached[1] == look:
            painter.drawPixmap(option.rect.topLeft(), cached[2])
            return
        last = self._painted.get(dialog_id)
        if last is None or last[0] is not row or last[1] != look:
            # A row seen for the first time in this look is painted in place: under a stream
            # of events the top rows change at every refresh, and a pixmap would only cost.
            if len(self._painted) >= self.CACHED_ROWS:
                self._painted.clear()
            self._painted[dialog_id] = (row, look)
            self._paint_row(painter, option.rect, row, look, option.font)
            return
        pixmap = self._render(row, look, option.font)  # the same look again: keep it
        if len(self._pixmaps) >= self.CACHED_ROWS:
            self._pixmaps.clear()
        self._pixmaps[dialog_id] = (row, look, pixmap)
        painter.drawPixmap(option.rect.topLeft(), pixmap)

    def _look(
        self, row: DialogRow, option: QStyleOptionViewItem, draft: str, painter: QPainter
    ) -> RowLook:
        now = self.now()
        color = sla_color(row, now)
        waiting = color is not None and row.dialog.waiting_since is not None
        since = row.dialog.waiting_since
        state = option.state
        return RowLook(
            time_text=short_time(row.dialog.updated_at, now),
            waited=elapsed_short(now - since) if waiting and since is not None else "",
            sla=color.name() if waiting and color is not None else "",
            draft=draft,
            selected=bool(state & QStyle.StateFlag.State_Selected),
            hovered=bool(state & QStyle.StateFlag.State_MouseOver),
            width=option.rect.width(),
            height=option.rect.height(),
            font=option.font.key(),
            theme=theme.current().name,
            pixel_ratio=painter.device().devicePixelRatioF(),
        )

    def _render(self, row: DialogRow, look: RowLook, font: QFont) -> QPixmap:
        """The row painted on the list's background, as it would be painted in place."""
        ratio = look.pixel_ratio
        pixmap = QPixmap(int(look.width * ratio), int(look.height * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(theme.current().color("base"))
        painter = QPainter(pixmap)
        try:
            self._paint_row(painter, QRect(0, 0, look.width, look.height), row, look, font)
        finally:
            painter.end()
        return pixmap

    def _paint_row(
        self, painter: QPainter, rect: QRect, row: DialogRow, look: RowLook, font: QFont
    ) -> None:
        t = theme.current()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if look.selected:
            painter.fillRect(rect, t.color("selection"))
        elif look.hovered:
            painter.fillRect(rect, t.color("alt_base"))
        pad = 10
        icon_rect = QRect(rect.left() + pad, rect.top() + 10, self.ICON, self.ICON)
        channel_icon(row.dialog.channel).paint(painter, icon_rect)

        base_font = QFont(font)
        bold = QFont(base_font)
        bold.setBold(row.unread > 0)
        small = QFont(base_font)
        small.setPointSizeF(max(base_font.pointSizeF() - 1, 7))
        left = icon_rect.right() + 10
        right = rect.right() - pad
        top_line = QRect(left, rect.top() + 9, right - left, 20)
        bottom_line = QRect(left, rect.top() + 33, right - left, 20)

        time_text = look.time_text
        painter.setFont(small)
        painter.setPen(t.color("muted"))
        time_width = QFontMetrics(small).horizontalAdvance(time_text) + 4
        painter.drawText(
            top_line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text
        )

        painter.setFont(bold)
        painter.setPen(t.color("text"))
        name_rect = top_line.adjusted(0, 0, -time_width - 6, 0)
        name = QFontMetrics(bold).elidedText(
            one_line(row.dialog.contact_name), Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
        )

        right_edge = bottom_line.right()
        if row.unread:
            right_edge = self._paint_badge(painter, bottom_line, str(min(row.unread, 99)), small)
        if look.waited:
            color = QColor(look.sla)
            waited = look.waited
            painter.setFont(small)
            width = QFontMetrics(small).horizontalAdvance(waited) + 14
            timer_rect = QRect(right_edge - width, bottom_line.top() + 1, width, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            fill = QColor(color)
            fill.setAlpha(40)
            painter.setBrush(fill)
            painter.drawRoundedRect(timer_rect, 9, 9)
            painter.setPen(color)
            painter.drawText(timer_rect, Qt.AlignmentFlag.AlignCenter, waited)
            right_edge = timer_rect.left() - 6

        preview_rect = QRect(left, bottom_line.top(), right_edge - left, bottom_line.height())
        painter.setFont(base_font)
        left_middle = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        draft = look.draft
        if draft:
            label = tr("Draft: ")
            painter.setPen(t.color("failed"))
            painter.drawText(preview_rect, left_middle, label)
            preview_rect.setLeft(
                preview_rect.left() + QFontMetrics(base_font).horizontalAdvance(label)
            )
        painter.setPen(t.color("muted"))
        preview = QFontMetrics(base_font).elidedText(
            draft or _preview_text(row), Qt.TextElideMode.ElideRight, preview_rect.width()
        )
        painter.drawText(preview_rect, left_middle, preview)
        painter.restore()

    def _paint_badge(self, painter: QPainter, line: QRect, text: str, font: QFont) -> int:
        t = theme.current()
        painter.setFont(font)
        width = max(20, QFontMetrics(font).horizontalAdvance(text) + 10)
        badge = QRect(line.right() - width, line.top() + 1, width, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.color("badge"))
        painter.drawRoundedRect(badge, 9, 9)
        painter.setPen(t.color("accent_text"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        return badge.left() - 6
