"""How the main window opens the console: its own top-level window, one at a time."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from operator_app.core.service import DeskService
from operator_app.core.supervision import SupervisorService, may_supervise

from ..resources import icon
from ..tasks import TaskRunner
from .console import SupervisorConsole

HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})


def open_console(
    window: QMainWindow,
    service: DeskService,
    runner: TaskRunner,
    supervision: SupervisorService | None = None,
) -> SupervisorConsole | None:
    """Show (or raise) the console for supervisors and admins; None for anyone else."""
    if not may_supervise(service.me):
        return None
    existing = window.findChild(SupervisorConsole)
    if isinstance(existing, SupervisorConsole) and existing.isVisible():
        if QGuiApplication.platformName() not in HEADLESS_PLATFORMS:  # no stacking there
            existing.raise_()
            existing.activateWindow()
        return existing
    console = SupervisorConsole(
        service, supervision or SupervisorService(service), runner, parent=window
    )
    console.setWindowFlag(Qt.WindowType.Window)
    console.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    console.setWindowIcon(icon("supervisor"))
    console.resize(1300, 820)
    if hasattr(window, "closed"):
        window.closed.connect(console.close)
    console.show()
    return console
