"""The supervisor console: live boards, monitor grid, actions, alerts, reports and staffing.

Shown only to supervisors and admins (the server refuses everyone else anyway). The boards
refresh every few seconds and soon after any change the core reports; every request runs as
a keyed task on the shared ``TaskRunner``, so the GUI thread never waits on the network.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.errors import ActionError, OfflineError
from operator_app.core.service import DeskService, MessagesChanged, TypingChanged
from operator_app.core.supervision import SupervisorService, may_supervise
from operator_app.protocol.enums import Role
from operator_app.protocol.limits import MAX_COMMENT_CHARS
from operator_app.protocol.models import OperatorStatus
from operator_app.protocol.reports import Board, BucketSize

from .. import theme
from ..bridge import CoreBridge
from ..capabilities import why_not
from ..formatting import one_line
from ..i18n import tr
from ..labels import STATUS_LABELS
from ..passwords import PasswordDialog
from ..problems import problem_text
from ..table_columns import FillColumn
from ..tasks import TaskRunner
from .accounts import AccountDialog, QueuesDialog
from .alerts import Alert, AlertSettings, AlertSound, AlertWatcher
from .boards import OperatorBoardModel, QueueBoardModel, SupervisedDialogsModel
from .monitor import MonitorGrid
from .reports_view import ReportsView
from .staff_view import StaffView
from .staffing_view import StaffingView

logger = logging.getLogger(__name__)

REFRESH_MS = 5000  # the boards' periodic refresh
CHANGE_DEBOUNCE_MS = 400  # a burst of changes refreshes the boards once
LIST_DEBOUNCE_MS = 100  # and the dialog list from the cache once
MAX_ALERTS_SHOWN = 50


class SupervisorConsole(QWidget):
    board_shown = Signal(object)  # Board
    alerted = Signal(object)  # Alert
    reports_shown = Signal()

    def __init__(
        self,
        service: DeskService,
        supervision: SupervisorService,
        runner: TaskRunner,
        *,
        alert_settings: AlertSettings | None = None,
        sound: AlertSound | None = None,
        parent: QWidget | None = None,
    ) -> None:
        if not may_supervise(service.me):
            raise PermissionError("the supervisor console is for supervisors and admins")
        super().__init__(parent)
        self.setObjectName("supervisorConsole")
        self.setWindowTitle(tr("Supervisor console"))
        self.service = service
        self.supervision = supervision
        self.runner = runner
        self.board: Board | None = None
        self.watcher = AlertWatcher(alert_settings or AlertSettings.load())
        self.sound = sound or AlertSound()
        self.alerts: list[Alert] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shut = False
        self.styled_for = ""  # the theme our own style sheet was built for
        self.bridge = CoreBridge(service, self)
        self._build()
        self._connect()
        self.refresh_board()

    # ---- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.alert_bar = QLabel("", self)
        self.alert_bar.setObjectName("alertBar")
        self.alert_bar.setTextFormat(Qt.TextFormat.PlainText)
        self.alert_bar.setWordWrap(True)
        self.alert_bar.hide()
        layout.addWidget(self.alert_bar)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_live(), tr("Live"))
        self.monitor = MonitorGrid(self.service, self.runner)
        self.tabs.addTab(self.monitor, tr("Monitor"))
        self.reports = ReportsView()
        self.tabs.addTab(self.reports, tr("Reports"))
        self.staffing = StaffingView()
        self.tabs.addTab(self.staffing, tr("Staffing"))
        self.staff: StaffView | None = None
        me = self.service.me
        manages = why_not(self.service, "manage_staff") is None
        if me is not None and me.role == Role.ADMIN and manages:
            self.staff = StaffView(me.id)
            self.tabs.addTab(self.staff, tr("Staff"))
        layout.addWidget(self.tabs, 1)
        self.status_line = QLabel("", self)
        self.status_line.setObjectName("muted")
        self.status_line.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status_line)
        self.reports.set_directory(self.service.queues(), self.service.operators())
        self._apply_style()

    def _build_live(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(self._alert_settings_row())
        self.queue_model = QueueBoardModel(self)
        self.queue_view = self._table(self.queue_model, drag=True)
        self.dialogs_model = SupervisedDialogsModel(self.service, parent=self)
        self.dialogs_view = self._table(self.dialogs_model, drag=True)
        self.dialogs_view.doubleClicked.connect(self._dialog_double_clicked)
        self.operator_model = OperatorBoardModel(self)
        self.operator_view = self._table(self.operator_model, drop=True)
        self.alert_list = QListWidget(page)
        self.alert_list.setObjectName("alertList")
        lower = QSplitter(Qt.Orientation.Horizontal, page)
        lower.addWidget(
            self._titled(tr("Dialogs (drag onto an operator to reassign)"), self.dialogs_view)
        )
        lower.addWidget(self._titled(tr("Operators"), self.operator_view))
        lower.setSizes([500, 600])
        upper = QSplitter(Qt.Orientation.Horizontal, page)
        upper.addWidget(self._titled(tr("Queues"), self.queue_view))
        upper.addWidget(self._titled(tr("Alerts"), self.alert_list))
        upper.setSizes([800, 300])
        split = QSplitter(Qt.Orientation.Vertical, page)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setSizes([220, 420])
        layout.addWidget(split, 1)
        return page

    def _alert_settings_row(self) -> QHBoxLayout:
        settings = self.watcher.settings
        row = QHBoxLayout()
        self.queue_alert_box = QCheckBox(tr("Alert when a queue has more waiting than"), self)
        self.queue_alert_box.setChecked(settings.queue_alerts)
        self.threshold_spin = QSpinBox(self)
        self.threshold_spin.setRange(0, 500)
        self.threshold_spin.setValue(settings.queue_threshold)
        self.sla_alert_box = QCheckBox(tr("Alert on dialogs past the SLA"), self)
        self.sla_alert_box.setChecked(settings.sla_alerts)
        self.sound_box = QCheckBox(tr("Sound"), self)
        self.sound_box.setChecked(settings.sound)
        for widget in (
            self.queue_alert_box,
            self.threshold_spin,
            self.sla_alert_box,
            self.sound_box,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        for box in (self.queue_alert_box, self.sla_alert_box, self.sound_box):
            box.toggled.connect(self._alert_settings_changed)
        self.threshold_spin.valueChanged.connect(self._alert_settings_changed)
        return row

    def _titled(self, title: str, widget: QWidget) -> QWidget:
        box = QFrame(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(title, box)
        label.setObjectName("title")
        label.setWordWrap(True)  # "Dialogs (drag onto an operator…)" ran into the next title
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    def _table(self, model: Any, *, drag: bool = False, drop: bool = False) -> QTableView:
        view = QTableView(self)
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.verticalHeader().hide()
        FillColumn(view, 0)  # names take the rest, never cut short
        view.setAlternatingRowColors(True)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos, v=view: self._context_menu(v, pos))
        if drag:
            view.setDragEnabled(True)
            view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        if drop:
            view.setAcceptDrops(True)
            view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
            view.setDropIndicatorShown(True)
            view.setDefaultDropAction(Qt.DropAction.MoveAction)
        return view

    def _connect(self) -> None:
        self.bridge.dialogs_changed.connect(self._on_dialogs_changed)
        self.bridge.directory_changed.connect(self._directory_changed)
        self.bridge.messages_changed.connect(self._on_messages_changed)
        self.bridge.typing_changed.connect(self._on_typing)
        self.bridge.history_reset.connect(self.monitor.on_history_reset)
        self.operator_model.dialog_dropped.connect(self.reassign)
        self.operator_model.queue_dropped.connect(self.assign_longest_waiting)
        self.monitor.whisper_requested.connect(self.ask_whisper)
        self.monitor.take_over_requested.connect(self.take_over)
        self.reports.refresh_requested.connect(self.load_reports)
        self.reports.problem.connect(self.show_problem)
        self._refresh_timer = QTimer(self, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_board)
        self._refresh_timer.start()
        self._change_timer = QTimer(self, singleShot=True, interval=CHANGE_DEBOUNCE_MS)
        self._change_timer.timeout.connect(self.refresh_board)
        self._list_timer = QTimer(self, singleShot=True, interval=LIST_DEBOUNCE_MS)
        self._list_timer.timeout.connect(self.dialogs_model.refresh)
        self._tick_timer = QTimer(self, interval=1000)
        self._tick_timer.timeout.connect(self.dialogs_model.tick)
        self._tick_timer.start()
        self.tabs.currentChanged.connect(self._tab_changed)
        if self.staff is not None:
            self.staff.refresh_asked.connect(self.load_staff)
            self.staff.password_asked.connect(self.ask_new_password)
            self.staff.account_asked.connect(self.ask_new_account)
            self.staff.queues_asked.connect(self.ask_queues)
            self.staff.sign_in_asked.connect(self.switch_sign_in)

    # ---- live data --------------------------------------------------------------------------

    def refresh_board(self) -> None:
        self._start(self._load_board(), "supervisor:board")

    async def _load_board(self) -> None:
        try:
            board = await self.supervision.board()
        except (ActionError, OfflineError) as error:
            self.status_line.setText(tr("The boards are not up to date: {why}").format(why=error))
            return
        self.show_board(board)

    def show_board(self, board: Board) -> None:
        self.board = board
        self.queue_model.set_rows(board.queues)
        self.operator_model.set_rows(board.operators)
        self.dialogs_model.refresh()
        for alert in self.watcher.check(board, self._client_name):
            self._raise_alert(alert)
        self.board_shown.emit(board)

    def _on_dialogs_changed(self, ids: frozenset[int]) -> None:
        self.monitor.on_dialogs_changed(ids)
        self._list_timer.start()  # a burst of changes re-reads the cache once
        self._change_timer.start()

    def _on_messages_changed(self, change: MessagesChanged) -> None:
        self.monitor.on_messages_changed(change)

    def _on_typing(self, change: TypingChanged) -> None:
        self.monitor.on_typing(change)

    def _directory_changed(self, what: str) -> None:
        if what in ("operators", "queues", "me"):
            self.reports.set_directory(self.service.queues(), self.service.operators())
            self._change_timer.start()

    def _apply_style(self) -> None:
        t = theme.current()
        self.styled_for = t.name
        self.setStyleSheet(
            f"QLabel#alertBar {{ background: {t.banner_offline}; color: {t.banner_text};"
            " padding: 6px 10px; border-radius: 6px; font-weight: 600; }"
            f"QFrame#monitorPane {{ background: {t.base}; border: 1px solid {t.border};"
            " border-radius: 6px; }"
        )

    def changeEvent(self, event: QEvent) -> None:
        """Follow a theme switched while the console is open (the settings apply it at once)."""
        super().changeEvent(event)
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in kinds and theme.current().name != self.styled_for:
            self._apply_style()
            self.queue_model.set_rows(self.queue_model.rows())  # colours come from the theme
            self.operator_model.set_rows(self.operator_model.rows())
            if self.reports.day_report is not None and self.reports.hour_report is not None:
                self.reports.show_reports(self.reports.day_report, self.reports.hour_report)
            self.staffing.recompute()

    def _tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page in (self.reports, self.staffing) and self.reports.day_report is None:
            self.load_reports()
        if page is self.staff and self.staff is not None and not self.staff.model.rowCount():
            self.load_staff()

    # ---- alerts -----------------------------------------------------------------------------

    def _alert_settings_changed(self) -> None:
        settings = AlertSettings(
            queue_threshold=self.threshold_spin.value(),
            queue_alerts=self.queue_alert_box.isChecked(),
            sla_alerts=self.sla_alert_box.isChecked(),
            sound=self.sound_box.isChecked(),
        )
        self.watcher.settings = settings
        settings.save()

    def _raise_alert(self, alert: Alert) -> None:
        self.alerts.append(alert)
        stamp = alert.at.astimezone().strftime("%H:%M:%S")
        self.alert_list.insertItem(0, f"{stamp}  {alert.text}")
        while self.alert_list.count() > MAX_ALERTS_SHOWN:
            self.alert_list.takeItem(self.alert_list.count() - 1)
        self.alert_bar.setText(alert.text)
        self.alert_bar.show()
        QApplication.alert(self.window())
        if self.watcher.settings.sound:
            self.sound.play()
        self.alerted.emit(alert)

    # ---- actions ----------------------------------------------------------------------------

    def _start(self, coro: Coroutine[Any, Any, Any], key: str) -> None:
        """On the shared runner, but cancelled when the console closes: no late repaints."""
        task = self.runner.start(coro, key=key)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _act(self, coro: Coroutine[Any, Any, Any], key: str, done: str) -> None:
        self._start(self._guarded(coro, done), key)

    async def _guarded(self, coro: Coroutine[Any, Any, Any], done: str) -> None:
        try:
            await coro
        except (ActionError, OfflineError) as error:
            self.show_problem(problem_text(error))
            return
        self.status_line.setText(done)
        self.refresh_board()

    def show_problem(self, text: str) -> None:
        self.status_line.setText(tr("Not done: {why}").format(why=text))

    def reassign(self, dialog_id: int, operator_id: int) -> None:
        name = self._operator_name(operator_id)
        self._act(
            self.supervision.reassign(dialog_id, operator_id),
            f"supervisor:move:{dialog_id}",
            tr("Dialog reassigned to {name}.").format(name=name),
        )

    def assign_longest_waiting(self, queue_id: int, operator_id: int) -> None:
        """A queue dropped on an operator: hand over its longest-waiting dialog."""
        waiting = [
            r
            for r in self.dialogs_model.rows()
            if r.dialog.queue_id == queue_id and r.dialog.state == "waiting"
        ]
        if not waiting:
            self.show_problem(tr("nobody is waiting in this queue"))
            return
        oldest = min(waiting, key=lambda r: r.dialog.waiting_since or r.dialog.updated_at)
        self.reassign(oldest.dialog.id, operator_id)

    def move_to_queue(self, dialog_id: int, queue_id: int) -> None:
        self._act(
            self.supervision.move_to_queue(dialog_id, queue_id),
            f"supervisor:move:{dialog_id}",
            tr("Dialog moved to another queue."),
        )

    def take_over(self, dialog_id: int) -> None:
        self._act(
            self.supervision.take_over(dialog_id),
            f"supervisor:take:{dialog_id}",
            tr("You took the dialog over."),
        )

    def whisper(self, dialog_id: int, text: str) -> None:
        self._act(
            self.supervision.whisper(dialog_id, text),
            f"supervisor:whisper:{dialog_id}",
            tr("Whisper sent."),
        )

    def force_status(self, operator_id: int, status: OperatorStatus) -> None:
        self._act(
            self.supervision.set_operator_status(operator_id, status),
            f"supervisor:status:{operator_id}",
            tr("Status changed."),
        )

    def set_capacity(self, operator_id: int, capacity: int) -> None:
        self._act(
            self.supervision.set_capacity(operator_id, capacity),
            f"supervisor:capacity:{operator_id}",
            tr("Capacity changed."),
        )

    # ---- staff accounts (admins) ------------------------------------------------------------

    def load_staff(self) -> None:
        self._start(self._load_staff(), "supervisor:staff")

    async def _load_staff(self) -> None:
        try:
            staff, queue_names = await self.supervision.staff()
        except (ActionError, OfflineError) as error:
            self.show_problem(problem_text(error))
            return
        if self.staff is not None:
            self.staff.show_staff(staff, queue_names)

    def switch_sign_in(self, operator_id: int, enabled: bool) -> QMessageBox | None:
        """Allowing runs at once; disabling asks first, as it signs a working operator out."""
        if enabled:
            self._act_on_staff(
                self.supervision.set_sign_in(operator_id, True),
                tr("{name} may sign in again.").format(name=self._staff_name(operator_id)),
            )
            return None
        name = self._staff_name(operator_id)
        question = QMessageBox(
            QMessageBox.Icon.Question,
            tr("Disable sign-in"),
            tr(
                "Disable {name}'s account? They are signed out at once, and their dialogs "
                "go back to their queues."
            ).format(name=name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        question.button(QMessageBox.StandardButton.Yes).setText(tr("Disable"))
        question.setDefaultButton(QMessageBox.StandardButton.Cancel)
        question.accepted.connect(
            lambda: self._act_on_staff(
                self.supervision.set_sign_in(operator_id, False),
                tr("{name} can no longer sign in.").format(name=name),
            )
        )
        question.open()
        return question

    def ask_new_password(self, operator_id: int) -> PasswordDialog:
        name = self._staff_name(operator_id)
        form = PasswordDialog(
            lambda _current, new: self.supervision.reset_password(operator_id, new),
            self.runner,
            title=tr("New password for {name}").format(name=name),
            intro=tr(
                "{name} is signed out everywhere and signs in with this password. "
                "Tell it to them in person or by phone, never in a chat."
            ).format(name=name),
            ask_current=False,
            parent=self,
        )
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(
            lambda: self.status_line.setText(tr("{name} has a new password.").format(name=name))
        )
        form.open()
        return form

    def ask_new_account(self) -> AccountDialog:
        form = AccountDialog(
            self.supervision.create_account, self.runner, self._queue_names(), parent=self
        )
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        login = form.login
        form.accepted.connect(
            lambda: self._staff_changed(tr("Account {login} created.").format(login=login.text()))
        )
        form.open()
        return form

    def ask_queues(self, operator_id: int) -> QueuesDialog | None:
        if self.staff is None or (row := self.staff.model.row_of(operator_id)) < 0:
            return None
        operator = self.staff.model.row_at(row)
        form = QueuesDialog(
            operator,
            partial(self.supervision.set_queues, operator_id),
            self.runner,
            self._queue_names(),
            parent=self,
        )
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(
            lambda: self._staff_changed(tr("Queues of {name} saved.").format(name=operator.name))
        )
        form.open()
        return form

    def _staff_changed(self, done: str) -> None:
        self.status_line.setText(done)
        self.load_staff()
        self.refresh_board()

    def _queue_names(self) -> dict[int, str]:
        return dict(self.staff.model.queue_names) if self.staff is not None else {}

    def _act_on_staff(self, coro: Coroutine[Any, Any, Any], done: str) -> None:
        self._start(self._then_reload_staff(coro, done), "supervisor:staff-action")

    async def _then_reload_staff(self, coro: Coroutine[Any, Any, Any], done: str) -> None:
        await self._guarded(coro, done)
        await self._load_staff()

    def _staff_name(self, operator_id: int) -> str:
        if self.staff is not None and (row := self.staff.model.row_of(operator_id)) >= 0:
            return self.staff.model.row_at(row).name
        return self._operator_name(operator_id)

    def open_monitor(self, dialog_id: int) -> None:
        self.monitor.open(dialog_id)
        self.tabs.setCurrentWidget(self.monitor)

    # ---- dialogs and menus ------------------------------------------------------------------

    def ask_whisper(self, dialog_id: int) -> QDialog:
        dialog = WhisperDialog(self)
        dialog.accepted.connect(lambda: self.whisper(dialog_id, dialog.text()))
        dialog.open()
        return dialog

    def ask_capacity(self, operator_id: int) -> QInputDialog:
        row = self.operator_model.row_at(self.operator_model.row_of(operator_id))
        dialog = QInputDialog(self)
        dialog.setWindowTitle(tr("Capacity"))
        dialog.setLabelText(tr("Chats {name} may hold at once:").format(name=row.name))
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(0, 50)
        dialog.setIntValue(row.capacity)
        dialog.intValueSelected.connect(lambda value: self.set_capacity(operator_id, value))
        dialog.open()
        return dialog

    def dialog_menu(self, dialog_id: int) -> QMenu:
        menu = QMenu(self)
        menu.addAction(tr("Monitor"), lambda: self.open_monitor(dialog_id))
        menu.addAction(tr("Take over"), lambda: self.take_over(dialog_id))
        row = self.service.dialog(dialog_id)
        whisper = menu.addAction(
            tr("Whisper to the operator…"), lambda: self.ask_whisper(dialog_id)
        )
        whisper.setEnabled(row is not None and row.dialog.assignee_id is not None)
        to_operator = menu.addMenu(tr("Reassign to"))
        for operator in self.operator_model.rows():
            label = f"{operator.name} ({operator.load}/{operator.capacity})"
            to_operator.addAction(label, partial(self.reassign, dialog_id, operator.operator_id))
        to_queue = menu.addMenu(tr("Move to queue"))
        for queue in self.queue_model.rows():
            to_queue.addAction(queue.name, partial(self.move_to_queue, dialog_id, queue.queue_id))
        return menu

    def operator_menu(self, operator_id: int) -> QMenu:
        menu = QMenu(self)
        for status in OperatorStatus:
            menu.addAction(
                tr("Set status: {status}").format(status=tr(STATUS_LABELS[status])),
                partial(self.force_status, operator_id, status),
            )
        menu.addAction(tr("Set capacity…"), lambda: self.ask_capacity(operator_id))
        return menu

    def _context_menu(self, view: QTableView, pos: QPoint) -> None:
        index = view.indexAt(pos)
        if not index.isValid():
            return
        key = index.model().index(index.row(), 0).data(Qt.ItemDataRole.UserRole + 1)
        if view is self.dialogs_view:
            menu = self.dialog_menu(int(key))
        elif view is self.operator_view:
            menu = self.operator_menu(int(key))
        else:
            return
        menu.popup(view.viewport().mapToGlobal(pos))

    def _dialog_double_clicked(self, index: QModelIndex) -> None:
        self.open_monitor(self.dialogs_model.key(self.dialogs_model.row_at(index.row())))

    def _client_name(self, dialog_id: int) -> str:
        row = self.service.dialog(dialog_id)
        return one_line(row.dialog.contact_name, 60) if row else f"#{dialog_id}"

    def _operator_name(self, operator_id: int) -> str:
        number = self.operator_model.row_of(operator_id)
        return self.operator_model.row_at(number).name if number >= 0 else f"#{operator_id}"

    # ---- reports ----------------------------------------------------------------------------

    def load_reports(self) -> None:
        try:
            by_day = self.reports.selection(BucketSize.DAY)
            by_hour = self.reports.selection(BucketSize.HOUR)
        except ValueError as problem:
            self.show_problem(str(problem))
            return
        self._start(self._load_reports(by_day, by_hour), "supervisor:reports")

    async def _load_reports(self, *selections: Any) -> None:
        try:
            day_report = await self.supervision.report(selections[0])
            hour_report = await self.supervision.report(selections[1])
        except (ActionError, OfflineError) as error:
            self.show_problem(problem_text(error))
            return
        self.reports.show_reports(day_report, hour_report)
        self.staffing.show_report(hour_report)
        self.reports_shown.emit()

    # ---- lifecycle --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the timers, our tasks and the core subscription (once; closing calls it)."""
        if self._shut:
            return
        self._shut = True
        for timer in (self._refresh_timer, self._change_timer, self._list_timer, self._tick_timer):
            timer.stop()
        for task in list(self._tasks):
            task.cancel()
        self.bridge.detach()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


class WhisperDialog(QDialog):
    """The whisper text: plain, up to the comment limit; empty text cannot be sent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Whisper to the operator"))
        layout = QVBoxLayout(self)
        hint = QLabel(tr("Only the operator sees this comment, never the client."), self)
        hint.setObjectName("muted")
        layout.addWidget(hint)
        self.editor = QPlainTextEdit(self)
        self.editor.setPlaceholderText(tr("A hint for the operator"))
        layout.addWidget(self.editor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(tr("Send"))
        self.ok_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.editor.textChanged.connect(self._check)
        self.resize(420, 200)

    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def _check(self) -> None:
        text = self.text()
        self.ok_button.setEnabled(0 < len(text) <= MAX_COMMENT_CHARS)
