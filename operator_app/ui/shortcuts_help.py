"""F1: every keyboard shortcut of the workspace in one table."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .i18n import N_, tr

SHORTCUTS: list[tuple[str, str]] = [
    ("Enter", N_("Send the message")),
    ("Shift+Enter", N_("New line in the message")),
    ("Ctrl+Shift+C", N_("Internal comment mode on/off")),
    ("/  Ctrl+Space", N_("Insert a template")),
    ("Ctrl+1…9", N_("Insert a pinned template")),
    ("Ctrl+Shift+U", N_("Attach files")),
    ("Ctrl+Tab / Ctrl+Shift+Tab", N_("Next / previous tab")),
    ("Alt+1…9", N_("Go to tab 1…9")),
    ("Ctrl+J", N_("Next client waiting for your answer (the longest waiting first)")),
    ("Ctrl+W", N_("Close the tab")),
    ("Ctrl+Shift+T", N_("Reopen the last closed tab")),
    ("F2", N_("Select part of a message's text (or double-click it)")),
    ("Ctrl+C", N_("Copy the selected messages")),
    ("Ctrl+K", N_("Quick switcher and search")),
    ("Ctrl+F", N_("Filter the dialog list")),
    ("Ctrl+Shift+A", N_("Take the dialog")),
    ("Ctrl+Shift+R", N_("Transfer the dialog")),
    ("Ctrl+Shift+E", N_("Close the dialog")),
    ("Ctrl+Shift+S", N_("Next status: online, away, offline")),
    ("F5", N_("Reconnect now")),
    ("Ctrl+Shift+M", N_("Supervisor console (supervisors)")),
    ("Ctrl+,", N_("Settings")),
    ("Ctrl+Q", N_("Quit")),
    ("F1", N_("This list")),
]


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Keyboard shortcuts"))
        self.resize(480, 520)
        table = QTableWidget(len(SHORTCUTS), 2, self)
        table.setHorizontalHeaderLabels([tr("Keys"), tr("Action")])
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, (keys, action) in enumerate(SHORTCUTS):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(tr(action)))
        table.resizeColumnToContents(0)
        QVBoxLayout(self).addWidget(table)
