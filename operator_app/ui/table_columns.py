"""A table column that takes the room the others leave, and never less than its contents.

Qt's Stretch mode gives a column whatever is left, down to a few pixels: on a laptop-sized
supervisor console the operators' names came out as "Ан…" beside roomy figures. Short of
room, the table scrolls sideways instead; a name longer than most is cut at that length.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QHeaderView, QTableView

NAME_CHARS = 24  # a first and a last name, as most are


class FillColumn(QObject):
    """Sizes ``column`` of ``view``: the others fit their contents, it takes the rest, and
    at least its contents up to ``chars`` characters (a longer name is cut, not the table)."""

    def __init__(self, view: QTableView, column: int, chars: int = NAME_CHARS) -> None:
        super().__init__(view)
        self.view = view
        self.column = column
        self.chars = chars
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)  # sized by fit()
        header.setStretchLastSection(False)
        # one line a row: a name squeezed into two lines made rows of uneven height
        view.setWordWrap(False)
        self._timer = QTimer(self, singleShot=True, interval=0)  # one fit per burst of changes
        self._timer.timeout.connect(self.fit)
        header.sectionResized.connect(self._section_resized)
        view.viewport().installEventFilter(self)
        model = view.model()
        for changed in (
            model.modelReset,
            model.layoutChanged,
            model.rowsInserted,
            model.rowsRemoved,
            model.dataChanged,
        ):
            changed.connect(self._timer.start)
        self._timer.start()

    def fit(self) -> None:
        header = self.view.horizontalHeader()
        others = sum(
            header.sectionSize(c)
            for c in range(header.count())
            if c != self.column and not header.isSectionHidden(c)
        )
        column = self.column
        contents = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
        enough = min(contents, self.view.fontMetrics().averageCharWidth() * self.chars)
        header.resizeSection(column, max(enough, self.view.viewport().width() - others))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._timer.start()
        return False

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != self.column:
            self._timer.start()
