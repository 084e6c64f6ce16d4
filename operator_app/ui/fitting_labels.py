"""Labels whose text never sets the window's width.

A plain QLabel asks for its whole text as its minimum width (a wrapping one, for its longest
word), so a customer's 120-character name in a header, or a long file name in the composer,
widened the window past the screen and pushed the dialog's buttons off it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 8  # the narrowest it gets: a few letters and the ellipsis


class ElidedLabel(QLabel):
    """Plain text on one line, cut with "…" where it does not fit; the whole text in its
    tooltip and accessible name. Asks for the whole text's width, takes what it gets."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""

    def full_text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        self._full = text
        self.setAccessibleName(text)
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        # rounded up: a text 194.2 pixels wide is cut at 194
        text_width = math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self._full))
        width = text_width + margins.left() + margins.right()
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:
        narrow = self.fontMetrics().averageCharWidth() * MIN_CHARS
        return QSize(min(narrow, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


class WrappedLabel(QLabel):
    """Plain text wrapped at the width the layout gives, whatever its longest word: a word
    wider than that is clipped, and the whole text is in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.setSizePolicy(policy)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
