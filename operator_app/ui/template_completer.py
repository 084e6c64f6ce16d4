"""The composer's template completer: '/' at the start of a word (or Ctrl+Space) opens it.

Ranking is a fuzzy subsequence match over the shortcut and the title, best first. The popup is
a floating child of the chat tab rather than a separate popup window: the composer keeps the
keyboard focus, and Up/Down/Enter/Tab/Esc are routed to the popup while it shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QListView,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from .formatting import one_line
from .i18n import tr

if TYPE_CHECKING:
    from operator_app.protocol.models import Template

TemplateRole = Qt.ItemDataRole.UserRole + 1
MAX_SHOWN = 30
AnyIndex = QModelIndex | QPersistentModelIndex

# "/word" right before the cursor, at the start of the text or after whitespace
_TRIGGER = re.compile(r"(?:^|(?<=\s))/([\w\-]*)$")


def subsequence_score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` as a subsequence; None when it does not.

    Higher is better: a prefix beats a word start, which beats a match inside a word;
    consecutive letters earn a bonus, and every skipped letter costs a little.
    """
    query, text = query.casefold(), text.casefold()
    if not query:
        return 0.0
    score = 0.0
    position = 0
    previous = -2
    for char in query:
        found = text.find(char, position)
        if found < 0:
            return None
        if found == 0:
            score += 3.0
        elif not text[found - 1].isalnum():
            score += 2.0
        if found == previous + 1:
            score += 1.5
        score -= 0.05 * (found - position)
        previous = found
        position = found + 1
    return score - 0.01 * len(text)


def rank_templates(templates: Sequence[Template], query: str) -> list[Template]:
    """Templates matching ``query`` by shortcut or title, best first (stable for ties)."""
    scored: list[tuple[float, int, Template]] = []
    for order, template in enumerate(templates):
        by_shortcut = subsequence_score(query, template.shortcut)
        by_title = subsequence_score(query, template.title)
        candidates = [s + 1.0 for s in (by_shortcut,) if s is not None]  # shortcuts are typed
        candidates += [s for s in (by_title,) if s is not None]
        if candidates:
            scored.append((max(candidates), order, template))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [template for _score, _order, template in scored]


def trigger_at_cursor(editor: QPlainTextEdit) -> tuple[int, str] | None:
    """(position of the '/', the query after it) when the cursor ends a '/word'."""
    cursor = editor.textCursor()
    if cursor.hasSelection():
        return None
    block_start = cursor.block().position()
    before = cursor.block().text()[: cursor.position() - block_start]
    match = _TRIGGER.search(before)
    if match is None:
        return None
    return block_start + match.start(), match.group(1)


class TemplateListModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[Template] = []

    def set_items(self, items: Sequence[Template]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        template = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"/{template.shortcut}   {one_line(template.title, 60)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return template.body
        if role == TemplateRole:
            return template
        return None

    def template_at(self, row: int) -> Template:
        return self._items[row]


class TemplatePopup(QFrame):
    """The list of matching templates with a preview of the highlighted one."""

    chosen = Signal(object)  # Template

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("templatePopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = TemplateListModel(self)
        self.view = QListView(self)
        self.view.setObjectName("templatePopupList")
        self.view.setModel(self.model)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformItemSizes(True)
        self.view.clicked.connect(lambda index: self.chosen.emit(index.data(TemplateRole)))
        self.preview = QLabel(self)
        self.preview.setObjectName("muted")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setWordWrap(True)
        self.empty = QLabel(tr("No templates match"), self)
        self.empty.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.preview)
        self.view.selectionModel().currentChanged.connect(self._show_preview)
        self.hide()

    def set_templates(self, templates: Sequence[Template]) -> None:
        self.model.set_items(templates[:MAX_SHOWN])
        has_any = self.model.rowCount() > 0
        self.empty.setVisible(not has_any)
        self.view.setVisible(has_any)
        if has_any:
            self.view.setCurrentIndex(self.model.index(0))
        else:
            self.preview.setText("")

    def move_selection(self, step: int) -> None:
        count = self.model.rowCount()
        if count:
            row = (self.view.currentIndex().row() + step) % count
            self.view.setCurrentIndex(self.model.index(row))

    def current(self) -> Template | None:
        index = self.view.currentIndex()
        return index.data(TemplateRole) if index.isValid() else None

    def place(self, bottom_left: QPoint, width: int) -> None:
        rows = max(1, min(self.model.rowCount(), 7))
        height = rows * (self.view.sizeHintForRow(0) if self.model.rowCount() else 24)
        height += 70
        self.setGeometry(bottom_left.x(), max(0, bottom_left.y() - height), width, height)
        self.raise_()

    def _show_preview(self, current: QModelIndex, _previous: QModelIndex) -> None:
        template: Template | None = current.data(TemplateRole) if current.isValid() else None
        self.preview.setText(one_line(template.body, 240) if template else "")


class TemplateCompleter(QObject):
    """Watches a composer: opens the popup on '/word' or Ctrl+Space, routes keys while open.

    ``chosen`` fires with the template once the trigger text is removed from the composer;
    the owner renders it and inserts the result at the cursor.
    """

    chosen = Signal(object)  # Template

    def __init__(
        self,
        editor: QPlainTextEdit,
        templates: Callable[[], Sequence[Template]],
        popup_parent: QWidget,
    ) -> None:
        super().__init__(editor)
        self.editor = editor
        self._templates = templates
        self.popup = TemplatePopup(popup_parent)
        self.popup.chosen.connect(self._choose)
        self._start: int | None = None  # position of the '/', None when opened by Ctrl+Space
        self._anchor = 0  # where the query typed after Ctrl+Space begins
        editor.installEventFilter(self)
        editor.textChanged.connect(self._on_text_changed)
        editor.cursorPositionChanged.connect(self._on_cursor_moved)

    @property
    def active(self) -> bool:
        return self.popup.isVisible()

    def open(self) -> None:
        """Ctrl+Space: list every template, filter by what is typed next."""
        trigger = trigger_at_cursor(self.editor)
        if trigger is not None:
            self._start = trigger[0]
            self._show(trigger[1])
            return
        self._start = None
        self._anchor = self.editor.textCursor().position()
        self._show("")

    def close(self) -> None:
        self.popup.hide()
        self._start = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            return self._key(event)
        if watched is self.editor and event.type() == QEvent.Type.FocusOut:
            self.close()
        return False

    def _key(self, event: QKeyEvent) -> bool:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_Space and ctrl:
            self.open()
            return True
        if not self.active:
            return False
        if key == Qt.Key.Key_Up:
            self.popup.move_selection(-1)
        elif key == Qt.Key.Key_Down:
            self.popup.move_selection(1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
            current = self.popup.current()
            if current is None:
                self.close()
            else:
                self._choose(current)
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            return False
        return True

    def _on_text_changed(self) -> None:
        if self._start is None and self.active:
            cursor = self.editor.textCursor().position()
            if cursor < self._anchor:
                self.close()
                return
            typed = self.editor.toPlainText()[self._anchor : cursor]
            if any(char.isspace() for char in typed):
                self.close()
            else:
                self._show(typed)
            return
        trigger = trigger_at_cursor(self.editor)
        if trigger is None:
            self.close()
            return
        self._start = trigger[0]
        self._show(trigger[1])

    def _on_cursor_moved(self) -> None:
        if self.active and self._start is not None and trigger_at_cursor(self.editor) is None:
            self.close()

    def _show(self, query: str) -> None:
        self.popup.set_templates(rank_templates(self._templates(), query))
        parent = self.popup.parentWidget()
        assert parent is not None
        top_left = self.editor.mapTo(parent, QPoint(0, 0))
        self.popup.place(top_left - QPoint(0, 2), min(self.editor.width(), 520))
        self.popup.show()

    def _choose(self, template: Template) -> None:
        cursor = self.editor.textCursor()
        start = self._start if self._start is not None else self._anchor
        cursor.setPosition(min(start, cursor.position()))
        cursor.setPosition(self.editor.textCursor().position(), QTextCursor.MoveMode.KeepAnchor)
        self.close()
        cursor.removeSelectedText()
        self.editor.setTextCursor(cursor)
        self.chosen.emit(template)
