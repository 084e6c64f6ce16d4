"""The theme's palette: what is disabled looks it, in both looks."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from operator_app.ui import theme


def painted(widget: QWidget) -> QImage:
    return widget.grab().toImage()


@pytest.mark.parametrize("look", ["light", "dark"])
def test_disabled_controls_look_disabled(qapp: QApplication, qtbot: QtBot, look: str) -> None:
    """The palette gave disabled text the enabled colour: the templates' Edit and Delete
    with nothing chosen, or "Remember me" without a keyring, looked available."""
    theme.apply(qapp, look)
    try:
        button = QToolButton()
        button.setText("Изменить")
        send = QPushButton("Отправить")  # a closed dialog's: it looked ready to send
        send.setObjectName("primary")
        for widget in (QCheckBox("Запомнить меня"), button, send):
            qtbot.addWidget(widget)
            widget.resize(widget.sizeHint())
            widget.show()
            enabled = painted(widget)
            widget.setEnabled(False)
            assert painted(widget) != enabled, type(widget).__name__
    finally:
        theme.apply(qapp, "light")
