"""Live monitor: read-only timelines of several dialogs in a grid.

Each pane reuses the chat tab's ``TimelineModel`` and ``MessageDelegate`` over the same cache,
so messages appear as the sync engine applies them. There is no composer: the supervisor acts
through the pane's buttons (whisper, take over), never by typing to the customer by accident.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.service import DeskService, MessagesChanged, TypingChanged

from ..fitting_labels import ElidedLabel
from ..formatting import one_line
from ..i18n import tr
from ..tasks import TaskRunner
from ..timeline import MessageDelegate, TimelineModel

MAX_PANES = 6
COLUMNS = 2
TYPING_CLEAR_MS = 8000


class MonitorPane(QFrame):
    whisper_requested = Signal(int)
    take_over_requested = Signal(int)
    close_requested = Signal(int)

    def __init__(self, service: DeskService, dialog_id: int, runner: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("monitorPane")
        self.service = service
        self.dialog_id = dialog_id
        self.model = TimelineModel(service, dialog_id, runner)
        self.model.setParent(self)  # dies with the pane, on the GUI thread
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(self._header())
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(MessageDelegate(self.view))
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.view.setWordWrap(True)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        layout.addWidget(self.view, 1)
        self.typing_label = QLabel("", self)
        self.typing_label.setObjectName("muted")
        self.typing_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.typing_label)
        self._typing_timer = QTimer(self, singleShot=True, interval=TYPING_CLEAR_MS)
        self._typing_timer.timeout.connect(lambda: self.typing_label.setText(""))
        self.model.rowsInserted.connect(lambda *_: QTimer.singleShot(0, self.view.scrollToBottom))
        self.refresh_header()
        QTimer.singleShot(0, self.view.scrollToBottom)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title = ElidedLabel(self)  # the customer's name: as long as they like
        self.title.setObjectName("title")
        self.subtitle = ElidedLabel(self)
        self.subtitle.setObjectName("muted")
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.subtitle)
        row.addLayout(names, 1)
        for text, signal in (
            (tr("Whisper"), self.whisper_requested),
            (tr("Take over"), self.take_over_requested),
        ):
            button = QPushButton(text, self)
            button.clicked.connect(lambda _=False, s=signal: s.emit(self.dialog_id))
            row.addWidget(button)
        close = QPushButton("✕", self)
        close.setToolTip(tr("Stop monitoring"))
        close.setFixedWidth(32)
        close.clicked.connect(lambda: self.close_requested.emit(self.dialog_id))
        row.addWidget(close)
        return row

    def refresh_header(self) -> None:
        row = self.service.dialog(self.dialog_id)
        if row is None:
            self.title.setText(f"#{self.dialog_id}")
            return
        names = {o.id: o.name for o in self.service.operators()}
        queues = {q.id: q.name for q in self.service.queues()}
        d = row.dialog
        self.title.setText(one_line(d.contact_name))
        assignee = names.get(d.assignee_id, "—") if d.assignee_id else tr("nobody")
        self.subtitle.setText(
            tr("{queue} · operator: {operator}").format(
                queue=queues.get(d.queue_id, f"#{d.queue_id}"), operator=assignee
            )
        )

    def on_messages_changed(self, change: MessagesChanged) -> None:
        self.model.apply(change)
        if any(r.author.value == "client" for r in change.inserted):
            self.typing_label.setText("")

    def on_typing(self, change: TypingChanged, operator_name: Callable[[int], str]) -> None:
        if not change.on:
            self.typing_label.setText("")
            return
        if change.who == "client":
            self.typing_label.setText(tr("The client is typing…"))
        else:
            name = operator_name(change.operator_id) if change.operator_id else ""
            self.typing_label.setText(tr("{name} is typing…").format(name=name or tr("Operator")))
        self._typing_timer.start()


class MonitorGrid(QWidget):
    """Up to ``MAX_PANES`` dialogs at once; opening one more drops the oldest pane."""

    whisper_requested = Signal(int)
    take_over_requested = Signal(int)

    def __init__(self, service: DeskService, runner: TaskRunner) -> None:
        super().__init__()
        self.service = service
        self.runner = runner
        self.panes: dict[int, MonitorPane] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel(
            tr("Double-click a dialog on the live board, or choose Monitor in its menu."), self
        )
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        outer.addWidget(self.hint, 1)  # with no pane the hint fills the tab, in its middle
        self._area = area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        self._holder = QWidget(area)
        self._grid = QGridLayout(self._holder)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setSpacing(6)
        area.setWidget(self._holder)
        outer.addWidget(area, 1)
        area.hide()

    def open(self, dialog_id: int) -> MonitorPane:
        if dialog_id in self.panes:
            return self.panes[dialog_id]
        if len(self.panes) >= MAX_PANES:
            self.close_pane(next(iter(self.panes)))
        pane = MonitorPane(self.service, dialog_id, self.runner)
        pane.setMinimumHeight(260)
        pane.whisper_requested.connect(self.whisper_requested)
        pane.take_over_requested.connect(self.take_over_requested)
        pane.close_requested.connect(self.close_pane)
        self.panes[dialog_id] = pane
        self._relayout()
        self.runner.start(self.service.open_dialog(dialog_id), key=f"monitor:{dialog_id}")
        return pane

    def close_pane(self, dialog_id: int) -> None:
        pane = self.panes.pop(dialog_id, None)
        if pane is not None:
            self._grid.removeWidget(pane)
            pane.deleteLater()
            self._relayout()

    def _relayout(self) -> None:
        for pane in self.panes.values():
            self._grid.removeWidget(pane)
        for number, pane in enumerate(self.panes.values()):
            self._grid.addWidget(pane, number // COLUMNS, number % COLUMNS)
        self.hint.setVisible(not self.panes)
        self._area.setVisible(bool(self.panes))

    def on_messages_changed(self, change: MessagesChanged) -> None:
        pane = self.panes.get(change.dialog_id)
        if pane is not None:
            pane.on_messages_changed(change)

    def on_typing(self, change: TypingChanged) -> None:
        pane = self.panes.get(change.dialog_id)
        if pane is not None:
            names = {o.id: o.name for o in self.service.operators()}
            pane.on_typing(change, lambda operator_id: names.get(operator_id, ""))

    def on_dialogs_changed(self, ids: frozenset[int]) -> None:
        for dialog_id in ids & self.panes.keys():
            self.panes[dialog_id].refresh_header()

    def on_history_reset(self, dialog_id: int) -> None:
        pane = self.panes.get(dialog_id)
        if pane is not None:
            pane.model.reload()
