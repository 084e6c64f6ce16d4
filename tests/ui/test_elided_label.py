"""The one-line label of the headers: cut to its width, whole again when there is room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from pytestqt.qtbot import QtBot

from operator_app.ui.fitting_labels import ElidedLabel

NAME = "Александра-Виктория Константинопольская-Преображенская"


def test_the_text_is_cut_to_the_width_and_whole_when_it_fits(qtbot: QtBot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setText(NAME)
    label.show()
    assert label.sizeHint().width() >= label.fontMetrics().horizontalAdvance(NAME)
    assert label.minimumSizeHint().width() < label.sizeHint().width() / 3

    label.resize(120, label.height())
    assert label.text().endswith("…") and len(label.text()) < len(NAME)
    assert label.toolTip() == NAME and label.accessibleName() == NAME
    assert label.full_text() == NAME

    label.resize(label.sizeHint().width(), label.height())
    assert label.text() == NAME and label.toolTip() == ""

    bigger = QFont(label.font())
    bigger.setPointSizeF(bigger.pointSizeF() * 2)
    label.setFont(bigger)  # the same width no longer holds it
    assert label.text().endswith("…") and label.toolTip() == NAME


def test_markup_stays_text(qtbot: QtBot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setText("<b>bold</b>")
    label.resize(400, 30)
    assert label.text() == "<b>bold</b>" and label.textFormat() == Qt.TextFormat.PlainText
