"""Labels whose text never sets the window's width: cut to one line, or wrapped."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from operator_app.ui.fitting_labels import ElidedLabel, WrappedLabel

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


def test_a_wrapped_label_asks_no_width_for_its_longest_word(qtbot: QtBot) -> None:
    label = WrappedLabel()
    qtbot.addWidget(label)
    word = "Договор_поставки_" + "x" * 180 + ".pdf"
    label.setText(f"{word} (8 B), счёт.pdf (2 KB)")
    layout_owner = QWidget()
    qtbot.addWidget(layout_owner)
    row = QHBoxLayout(layout_owner)
    row.addWidget(label)
    assert row.minimumSize().width() < 100  # a plain wrapping label: the word's whole width
    layout_owner.resize(300, 200)
    layout_owner.show()
    assert label.width() <= 300 and label.toolTip() == label.text()
    assert label.textFormat() == Qt.TextFormat.PlainText


def test_a_label_with_room_for_its_text_shows_it_whole(qtbot: QtBot) -> None:
    """The top bar's name came out as "Анна Смирно…" with room to spare: the label asked for
    the text's width rounded (194 of 194.2 pixels), and Qt cut it at 194."""
    bar = QWidget()
    qtbot.addWidget(bar)
    row = QHBoxLayout(bar)
    label = ElidedLabel(bar)
    label.setObjectName("title")
    label.setText("Анна Смирнова")
    row.addWidget(label)
    row.addStretch(1)
    bar.setStyleSheet("QLabel#title { font-weight: 600; font-size: 22px; }")
    bar.resize(600, 40)
    bar.show()
    qtbot.waitUntil(lambda: label.width() > 0)
    QApplication.processEvents()
    assert label.text() == "Анна Смирнова"
