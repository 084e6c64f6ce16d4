"""Global search and the Ctrl+K quick switcher.

One popup, keyboard only: open tabs and cached dialogs matching by client name or dialog number
come first, then full-text hits over the cached messages (the core's FTS5 search, so it works
offline), grouped by dialog. Snippets mark hits with \\x02 … \\x03; the delegate draws them as
plain-text runs, the marked ones bold, and never as HTML.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeyEvent, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.service import DeskService, DialogFilter, DialogRow, SearchHit, Section
from operator_app.protocol.enums import Channel

from . import theme
from .formatting import one_line
from .i18n import N_, tr
from .resources import channel_icon, icon

if TYPE_CHECKING:
    from .main_window import MainWindow

logger = logging.getLogger(__name__)

HIT_START = "\x02"
_WHITESPACE = re.compile(r"\s+")
HIT_END = "\x03"
MAX_DIALOGS = 20
MAX_HITS = 60
SEARCH_DELAY_MS = 120  # let a fast typist finish the word before the FTS query runs

EntryRole = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex


class EntryKind(Enum):
    HEADER = "header"
    TAB = "tab"
    DIALOG = "dialog"
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class SwitcherEntry:
    kind: EntryKind
    title: str
    detail: str = ""
    dialog_id: int | None = None
    channel: Channel | None = None
    message_key: str = ""

    @property
    def selectable(self) -> bool:
        return self.kind is not EntryKind.HEADER


def snippet_runs(snippet: str) -> list[tuple[str, bool]]:
    """Split a marked snippet into (text, is_hit) runs; stray markers never leak into the text."""
    runs: list[tuple[str, bool]] = []
    bold = False
    current = ""
    for char in snippet:
        if char in (HIT_START, HIT_END):
            if current:
                runs.append((current, bold))
            current = ""
            bold = char == HIT_START
            continue
        current += char
    if current:
        runs.append((current, bold))
    return runs


def dialog_number(query: str) -> int | None:
    """'123' or '#123' asks for dialog 123."""
    text = query.strip().removeprefix("#")
    return int(text) if text.isdigit() and len(text) < 12 else None


HEADER_TABS = N_("Open tabs")
HEADER_DIALOGS = N_("Dialogs")
HEADER_MESSAGES = N_("Messages")


def build_entries(
    service: DeskService, query: str, open_tabs: Sequence[int]
) -> list[SwitcherEntry]:
    """Everything the switcher lists for ``query``: tabs, dialogs, then message hits by dialog."""
    needle = query.strip().casefold()
    number = dialog_number(query)
    found = _cached_dialogs(service, query, number)
    found_ids = {row.dialog.id for row in found}
    tabs = [
        row
        for row in _rows(service, open_tabs)
        if _matches(row, needle, number) or row.dialog.id in found_ids
    ]
    shown = {row.dialog.id for row in tabs}
    dialogs = [row for row in found if row.dialog.id not in shown]
    entries: list[SwitcherEntry] = []
    _add_group(entries, tr(HEADER_TABS), [_dialog_entry(row, EntryKind.TAB) for row in tabs])
    _add_group(entries, tr(HEADER_DIALOGS), [_dialog_entry(r, EntryKind.DIALOG) for r in dialogs])
    if needle:
        entries.extend(_message_entries(service, query))
    return entries


def _add_group(entries: list[SwitcherEntry], header: str, items: list[SwitcherEntry]) -> None:
    if items:
        entries.append(SwitcherEntry(EntryKind.HEADER, header))
        entries.extend(items)


def _rows(service: DeskService, ids: Sequence[int]) -> list[DialogRow]:
    return [row for row in (service.dialog(i) for i in ids) if row is not None]


def _matches(row: DialogRow, needle: str, number: int | None) -> bool:
    if not needle:
        return True
    return row.dialog.id == number or needle in row.dialog.contact_name.casefold()


def _cached_dialogs(service: DeskService, query: str, number: int | None) -> list[DialogRow]:
    found: dict[int, DialogRow] = {}
    if number is not None and (exact := service.dialog(number)) is not None:
        found[number] = exact
    if number is None:
        by_text = DialogFilter(text=query)
        for section in Section:
            for row in service.dialogs(section, by_text, limit=MAX_DIALOGS):
                found.setdefault(row.dialog.id, row)
    rows = sorted(found.values(), key=lambda r: r.dialog.updated_at, reverse=True)
    return rows[:MAX_DIALOGS]


def _dialog_entry(row: DialogRow, kind: EntryKind) -> SwitcherEntry:
    dialog = row.dialog
    preview = one_line(dialog.last_message.text, 80) if dialog.last_message else ""
    return SwitcherEntry(
        kind,
        one_line(dialog.contact_name, 80),
        f"#{dialog.id} · {preview}" if preview else f"#{dialog.id}",
        dialog.id,
        dialog.channel,
    )


def _message_entries(service: DeskService, query: str) -> list[SwitcherEntry]:
    try:
        hits = service.search(query, limit=MAX_HITS)
    except sqlite3.Error as exc:  # the query is sanitised; a broken index must not crash
        logger.info("search %r failed: %s", query, exc)
        return []
    groups: dict[int, list[SearchHit]] = {}
    for hit in hits:
        groups.setdefault(hit.dialog_id, []).append(hit)
    if not groups:
        return []
    entries = [SwitcherEntry(EntryKind.HEADER, tr(HEADER_MESSAGES))]
    for dialog_id, group in groups.items():
        row = service.dialog(dialog_id)
        name = one_line(group[0].contact_name or f"#{dialog_id}", 80)
        entries.append(
            SwitcherEntry(
                EntryKind.HEADER,
                f"{name} · #{dialog_id}",
                channel=row.dialog.channel if row else None,
            )
        )
        for hit in group:
            stamp = hit.created_at.astimezone().strftime("%d.%m %H:%M")
            entries.append(
                SwitcherEntry(
                    EntryKind.MESSAGE, hit.snippet, stamp, dialog_id, message_key=hit.message_key
                )
            )
    return entries


class SwitcherModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[SwitcherEntry] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return "".join(text for text, _ in snippet_runs(entry.title))
        if role == EntryRole:
            return entry
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return Qt.ItemFlag.NoItemFlags
        if self.entries[index.row()].selectable:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled

    def set_entries(self, entries: list[SwitcherEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def next_selectable(self, start: int, step: int) -> int:
        """The nearest selectable row from ``start`` in direction ``step``; -1 if none."""
        row = start
        while 0 <= row < len(self.entries):
            if self.entries[row].selectable:
                return row
            row += step
        return -1


class SwitcherDelegate(QStyledItemDelegate):
    """Headers small and muted; dialogs with channel icon; message hits as bold-marked runs."""

    ROW = 44
    HEADER = 26

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        entry: SwitcherEntry | None = index.data(EntryRole)
        header = entry is not None and entry.kind is EntryKind.HEADER
        return QSize(400, self.HEADER if header else self.ROW)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        entry: SwitcherEntry | None = index.data(EntryRole)
        if entry is None:
            return
        t = theme.current()
        rect = QRect(option.rect)
        font = QFont(option.font)
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, t.color("selection"))
        if entry.kind is EntryKind.HEADER:
            self._paint_header(painter, rect, entry, font)
        else:
            self._paint_item(painter, rect, entry, font)
        painter.restore()

    def _paint_header(
        self, painter: QPainter, rect: QRect, entry: SwitcherEntry, font: QFont
    ) -> None:
        small = QFont(font)
        small.setBold(True)
        small.setPointSizeF(max(font.pointSizeF() - 1, 7))
        left = rect.left() + 10
        if entry.channel is not None:
            channel_icon(entry.channel).paint(painter, QRect(left, rect.top() + 5, 16, 16))
            left += 22
        painter.setFont(small)
        painter.setPen(theme.current().color("muted"))
        text_rect = QRect(left, rect.top(), rect.right() - left - 10, rect.height())
        text = QFontMetrics(small).elidedText(
            entry.title, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_item(
        self, painter: QPainter, rect: QRect, entry: SwitcherEntry, font: QFont
    ) -> None:
        t = theme.current()
        left = rect.left() + 12
        if entry.channel is not None:
            channel_icon(entry.channel).paint(painter, QRect(left, rect.top() + 8, 28, 28))
            left += 38
        elif entry.kind is EntryKind.MESSAGE:
            left += 12
        small = QFont(font)
        small.setPointSizeF(max(font.pointSizeF() - 1, 7))
        detail_width = QFontMetrics(small).horizontalAdvance(entry.detail) + 8
        right = rect.right() - 12
        if entry.kind is EntryKind.MESSAGE:
            line = QRect(left, rect.top(), right - left - detail_width, rect.height())
            draw_runs(painter, line, snippet_runs(entry.title), font, t.color("text"))
            painter.setFont(small)
            painter.setPen(t.color("muted"))
            painter.drawText(
                QRect(right - detail_width, rect.top(), detail_width, rect.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                entry.detail,
            )
            return
        bold = QFont(font)
        bold.setBold(True)
        width = right - left
        painter.setFont(bold)
        painter.setPen(t.color("text"))
        top = QRect(left, rect.top() + 4, width, rect.height() // 2 - 2)
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
            QFontMetrics(bold).elidedText(entry.title, Qt.TextElideMode.ElideRight, width),
        )
        painter.setFont(small)
        painter.setPen(t.color("muted"))
        bottom = QRect(left, rect.top() + rect.height() // 2 + 1, width, rect.height() // 2 - 4)
        painter.drawText(
            bottom,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            QFontMetrics(small).elidedText(entry.detail, Qt.TextElideMode.ElideRight, width),
        )


def draw_runs(
    painter: QPainter, rect: QRect, runs: list[tuple[str, bool]], font: QFont, color: Any
) -> None:
    """Draw plain-text runs left to right on one line, bold where marked, eliding at the end."""
    bold = QFont(font)
    bold.setBold(True)
    painter.setPen(color)
    x = rect.left()
    for text, strong in runs:
        run_font = bold if strong else font
        metrics = QFontMetrics(run_font)
        flat = _WHITESPACE.sub(" ", text)  # keeps the spaces around a bold run
        space = rect.right() - x
        if space <= metrics.horizontalAdvance("…"):
            break
        shown = metrics.elidedText(flat, Qt.TextElideMode.ElideRight, space)
        painter.setFont(run_font)
        painter.drawText(
            QRect(x, rect.top(), space, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            shown,
        )
        x += metrics.horizontalAdvance(shown)
        if shown != flat:
            break


class QuickSwitcher(QDialog):
    """The Ctrl+K popup. Emits ``chosen(dialog_id, message_key)``; the key is '' for a dialog."""

    chosen = Signal(int, str)

    def __init__(
        self, service: DeskService, open_tabs: Callable[[], list[int]], parent: QWidget
    ) -> None:
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("quickSwitcher")
        self.service = service
        self.open_tabs = open_tabs
        self.model = SwitcherModel(self)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        self.query_edit = QLineEdit(self)
        self.query_edit.setPlaceholderText(tr("Client name, dialog number or words from messages"))
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.textChanged.connect(lambda _text: self._timer.start())
        self.query_edit.installEventFilter(self)
        column.addWidget(self.query_edit)
        self.results = QListView(self)
        self.results.setObjectName("switcherResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(SwitcherDelegate(self.results))
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.activated.connect(self._activate_index)
        self.results.clicked.connect(self._activate_index)
        column.addWidget(self.results, 1)
        self.empty_label = QLabel(tr("Nothing found"), self)
        self.empty_label.setObjectName("muted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.empty_label)
        self.hint_label = QLabel(tr("↑↓ choose · Enter open · Esc close"), self)
        self.hint_label.setObjectName("muted")
        column.addWidget(self.hint_label)

    def popup(self) -> None:
        """Show centred near the top of the parent window, with the query selected."""
        parent = self.parentWidget() or self
        width = min(640, max(420, parent.width() - 80))
        height = min(520, max(300, parent.height() - 120))
        self.resize(width, height)
        t = theme.current()  # a frameless window: draw its edge ourselves
        self.setStyleSheet(
            f"QDialog#quickSwitcher {{ background: {t.window}; border: 1px solid {t.border}; }}"
        )
        top_left = parent.mapToGlobal(QPoint((parent.width() - width) // 2, 60))
        self.move(top_left)
        self.refresh()
        self.show()
        self.query_edit.setFocus()
        self.query_edit.selectAll()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowDeactivate:
            self.hide()  # behaves like a popup: clicking elsewhere dismisses it
        return super().event(event)

    def refresh(self) -> None:
        self._timer.stop()
        query = self.query_edit.text()
        self.model.set_entries(build_entries(self.service, query, self.open_tabs()))
        self.empty_label.setVisible(self.model.rowCount() == 0 and bool(query.strip()))
        self._select(self.model.next_selectable(0, 1))

    def current_entry(self) -> SwitcherEntry | None:
        index = self.results.currentIndex()
        entry = index.data(EntryRole) if index.isValid() else None
        return entry if isinstance(entry, SwitcherEntry) and entry.selectable else None

    def _select(self, row: int) -> None:
        if row < 0:
            self.results.clearSelection()
            self.results.setCurrentIndex(QModelIndex())
            return
        index = self.model.index(row)
        self.results.setCurrentIndex(index)
        self.results.scrollTo(index)

    def _move(self, step: int) -> None:
        current = self.results.currentIndex().row()
        start = current + step if current >= 0 else 0
        row = self.model.next_selectable(start, step)
        if row >= 0:
            self._select(row)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.query_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            return self._navigate(event)
        return super().eventFilter(watched, event)

    def _navigate(self, event: QKeyEvent) -> bool:
        key = event.key()
        steps = {
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_PageDown: 8,
            Qt.Key.Key_PageUp: -8,
        }
        if key in steps:
            step = steps[Qt.Key(key)]
            for _ in range(abs(step)):
                self._move(1 if step > 0 else -1)
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._timer.isActive():
                self.refresh()  # Enter right after typing: act on what was typed
            self.activate_current()
            return True
        return False

    def activate_current(self) -> None:
        entry = self.current_entry()
        if entry is None or entry.dialog_id is None:
            return
        self.hide()
        self.chosen.emit(entry.dialog_id, entry.message_key)

    def _activate_index(self, index: QModelIndex) -> None:
        self._select(index.row())
        self.activate_current()


def reveal_message(timeline: QListView, model: Any, message_key: str, max_pages: int = 50) -> bool:
    """Scroll ``timeline`` to the message and select it, paging older cached rows in first.

    ``model`` is the tab's TimelineModel (row_of_key, canFetchMore, fetchMore). Returns False
    when the message is not reachable from the cache (the timeline then stays where it is).
    """
    for _ in range(max_pages):
        row = model.row_of_key(message_key)
        if row >= 0:
            index = model.index(row, 0)
            timeline.setCurrentIndex(index)
            timeline.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
            return True
        if not model.canFetchMore(QModelIndex()):
            return False
        before = model.rowCount()
        model.fetchMore(QModelIndex())
        if model.rowCount() == before:
            return False  # the rest comes from the network; the hit is not cached there
    return False


def open_tab_ids(window: MainWindow) -> list[int]:
    from .chat_tab import ChatTab  # loaded when a tab opens or the switcher lists tabs

    tabs = window.chat_tabs
    widgets = (tabs.widget(number) for number in range(tabs.count()))
    return [tab.dialog_id for tab in widgets if isinstance(tab, ChatTab)]


def open_hit(window: MainWindow, dialog_id: int, message_key: str) -> None:
    """Open the dialog's tab; for a message hit select it once the new tab has laid out."""
    tab = window.open_dialog(dialog_id)
    if message_key:
        # after the tab's own scroll-to-bottom, which is queued the same way
        QTimer.singleShot(0, lambda: reveal_message(tab.timeline, tab.model, message_key))


def install_quick_switcher(window: MainWindow) -> QuickSwitcher:
    """Ctrl+K and a search button in the top bar open the switcher over ``window``."""
    switcher = QuickSwitcher(window.service, lambda: open_tab_ids(window), window)
    switcher.chosen.connect(lambda dialog_id, key: open_hit(window, dialog_id, key))
    action = QAction(icon("search"), tr("Search and switch (Ctrl+K)"), window)
    action.setShortcut(QKeySequence("Ctrl+K"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(switcher.popup)
    window.addAction(action)
    button = QToolButton(window)
    button.setDefaultAction(action)
    button.setObjectName("searchButton")
    top_bar = window.status_combo.parentWidget()
    bar = top_bar.layout() if top_bar is not None else None
    if isinstance(bar, QHBoxLayout):
        bar.insertWidget(1, button)
    return switcher
