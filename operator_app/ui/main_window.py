"""The operator's main window: top bar, dialog list, chat tabs, client card.

Start path: only what the first paint shows is imported and built with the window. The chat
tab machinery (timeline, composer, completer), the transfer and close forms and the supervisor
facade load when first used, and the hidden sections' lists are read when first shown (their
tab titles count ids meanwhile). docs/performance.md has the figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.connection import ConnectionState, Phase
from operator_app.core.errors import translate
from operator_app.core.roles import may_supervise
from operator_app.core.service import (
    ActionError,
    DeskService,
    MessagesChanged,
    OfflineError,
    Section,
    TypingChanged,
)
from operator_app.protocol.enums import OperatorStatus

from . import theme
from .bridge import CoreBridge
from .capabilities import why_not
from .client_card import ClientCard
from .dialog_list import DialogDelegate, DialogIdRole, DialogListModel, FilterEdit
from .fitting_labels import ElidedLabel
from .i18n import N_, tr
from .labels import STATUS_LABELS
from .list_filters import ListFilters
from .notifications import install_notifications
from .problems import notice_text, problem_text
from .resources import icon
from .search import install_quick_switcher
from .session_state import restore_session, save_session
from .settings_dialog import install_settings
from .tasks import TaskRunner
from .templates_panel import TemplatesPanel

if TYPE_CHECKING:
    from operator_app.core.supervision import SupervisorService
    from operator_app.protocol.models import Template

    from .chat_tab import ChatTab
    from .close_dialog import CloseDialog
    from .passwords import PasswordDialog
    from .supervisor.console import SupervisorConsole
    from .transfer import TransferDialog, TransferTarget

logger = logging.getLogger(__name__)

SECTIONS: list[tuple[Section, str]] = [
    (Section.MINE, N_("Mine")),
    (Section.WAITING, N_("Waiting")),
    (Section.CLOSED_TODAY, N_("Closed today")),
]


DIALOG_REFRESH_MS = 16  # one frame
# While changes keep coming (a reconnect replay, heavy load) the lists refresh this often at
# most: each refresh re-reads and repaints them, and the eye does not follow faster anyway.
BUSY_REFRESH_MS = 100
# The rows of the shown section read before the first paint: more than a tall screen shows
# (64 px a row); the rest (up to a page of 500) are read right after it.
FIRST_SCREEN_ROWS = 40


def _load_chat_tab() -> None:
    from . import chat_tab  # noqa: F401  (imported for its side effect: loaded and cached)


class SectionModels(dict[Section, DialogListModel]):
    """The dialog list model of each section, built when first asked for: only the shown
    section's rows are read (and parsed) before the first paint."""

    def __init__(self, build: Callable[[Section], DialogListModel]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, section: Section) -> DialogListModel:
        model = self[section] = self._build(section)
        return model


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, service: DeskService) -> None:
        super().__init__()
        self.service = service
        self.runner = TaskRunner(on_error=self.show_error)
        self.supervision: SupervisorService | None = None  # built when the console first opens
        self.bridge = CoreBridge(service, self)
        self.models = SectionModels(self._section_model)
        self.tabs_by_dialog: dict[int, ChatTab] = {}
        self.recently_closed: list[int] = []
        # Dialog changes are applied at most once per frame: a burst of events would
        # otherwise re-query every section list once per event and freeze the window.
        self._changed_dialogs: set[int] = set()
        self._dialogs_busy = False  # the previous refresh had changes waiting right behind it
        self._dialogs_timer = QTimer(self, singleShot=True, interval=DIALOG_REFRESH_MS)
        self._dialogs_timer.timeout.connect(self._refresh_changed_dialogs)
        self.setWindowTitle(tr("Operator desk"))
        self.setWindowIcon(icon("app"))
        self.resize(1280, 800)
        # or "logout" / "wipe" / "language": what the app does after the window closes
        self.exit_reason = "quit"
        self._started = False  # finish_start() has run
        self._build()
        self._connect()
        self._install_shortcuts()
        self.quick_switcher = install_quick_switcher(self)
        self.notifier = install_notifications(self)
        self.settings_action = install_settings(self)
        self._build_menus()
        self.on_connection(service.connection)
        self.refresh_me()
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._every_second)
        self._tick.start()
        self.session_restorer = restore_session(self)  # the tabs reopen in finish_start

    # ---- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        # Each part is built in its final parent: moving a built widget tree into another
        # parent makes Qt resolve the style sheet, fonts and palettes of all of it again.
        column.addWidget(self._build_top_bar(central))
        column.addWidget(self._build_banner(central))
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.addWidget(self._build_list_panel(self.splitter))
        self.splitter.addWidget(self._build_center(self.splitter))
        self.splitter.addWidget(self._build_card_panel(self.splitter))
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([330, 680, 270])
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().setSizeGripEnabled(False)

    def _build_top_bar(self, parent: QWidget) -> QFrame:
        bar = QFrame(parent)
        bar.setObjectName("topBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(12, 6, 12, 6)
        self.me_label = ElidedLabel(bar)  # an account's name may be 120 characters long
        self.me_label.setObjectName("title")
        row.addWidget(self.me_label)
        row.addStretch(1)
        self.load_label = QLabel(bar)
        self.load_label.setToolTip(tr("Active dialogs / capacity"))
        row.addWidget(self.load_label)
        self.connection_label = QLabel(bar)
        self.connection_label.setObjectName("muted")
        row.addWidget(self.connection_label)
        self.status_combo = QComboBox(bar)
        for status, label in STATUS_LABELS.items():
            self.status_combo.addItem(icon(f"status-{status.value}"), tr(label), status)
        self.status_combo.setToolTip(tr("Your status (Ctrl+Shift+S cycles)"))
        self.status_combo.activated.connect(self._status_chosen)
        if (why := why_not(self.service, "set_own_status")) is not None:
            self.status_combo.setEnabled(False)
            self.status_combo.setToolTip(why)
        row.addWidget(self.status_combo)
        return bar

    def _build_banner(self, parent: QWidget) -> QFrame:
        self.banner = QFrame(parent)
        self.banner.setObjectName("offlineBanner")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(12, 6, 12, 6)
        self.banner_label = QLabel(self.banner)
        row.addWidget(self.banner_label, 1)
        self.retry_button = QPushButton(icon("retry"), tr("Retry now"), self.banner)
        self.retry_button.setToolTip(tr("Reconnect at once (F5)"))
        self.retry_button.clicked.connect(self.service.retry_connection_now)
        row.addWidget(self.retry_button)
        self.banner.hide()
        return self.banner

    def _build_list_panel(self, parent: QWidget) -> QWidget:
        panel = QWidget(parent)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.section_bar = QTabBar(panel)
        self.section_bar.setExpanding(True)
        for _section, label in SECTIONS:
            self.section_bar.addTab(tr(label))
        column.addWidget(self.section_bar)
        self.filter_edit = FilterEdit(panel)
        self.filter_edit.setPlaceholderText(tr("Filter by name or text (Ctrl+F)"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setContentsMargins(8, 6, 8, 6)
        column.addWidget(self.filter_edit)
        self.list_filters = ListFilters(self.service, panel, fill=False)  # see finish_start
        column.addWidget(self.list_filters)
        self.dialog_view = QListView(panel)
        self.dialog_view.setObjectName("dialogList")
        self.dialog_view.setItemDelegate(DialogDelegate(self.dialog_view))
        self.dialog_view.setMouseTracking(True)
        self.dialog_view.setUniformItemSizes(True)
        self.dialog_view.setModel(self.models[Section.MINE])
        column.addWidget(self.dialog_view, 1)
        panel.setMinimumWidth(260)
        return panel

    def _build_center(self, parent: QWidget) -> QWidget:
        self.center = QStackedWidget(parent)
        empty = QLabel(tr("Choose a dialog on the left, or press Ctrl+K"), self.center)
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setObjectName("muted")
        self.chat_tabs = QTabWidget(self.center)
        self.chat_tabs.setTabsClosable(True)
        self.chat_tabs.setMovable(True)
        self.chat_tabs.setDocumentMode(True)
        self.chat_tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.chat_tabs.tabBar().setDrawBase(False)  # Fusion's base line: white on the dark theme
        # where QTabWidget keeps its pages (tabs are built in it: see open_dialog)
        self._tab_pages = self.chat_tabs.findChild(
            QStackedWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        )
        self.center.addWidget(empty)
        self.center.addWidget(self.chat_tabs)
        return self.center

    def _build_card_panel(self, parent: QWidget) -> QFrame:
        """The client card above the templates panel, the split adjustable by the operator."""
        panel = QFrame(parent)
        panel.setObjectName("panel")
        column = QVBoxLayout(panel)
        column.setContentsMargins(12, 12, 12, 12)
        title = QLabel(tr("Client"), panel)
        title.setObjectName("title")
        column.addWidget(title)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical, panel)
        self.right_splitter.setChildrenCollapsible(False)
        self.client_card = ClientCard(
            self.service, self.runner, self.open_dialog, self.right_splitter
        )
        self.templates_panel = TemplatesPanel(
            self.service, self.runner, self.right_splitter, fill=False
        )  # see finish_start
        self.templates_panel.insert_requested.connect(self.insert_template)
        self.bridge.directory_changed.connect(self.templates_panel.on_directory_changed)
        self.right_splitter.addWidget(self.client_card)
        self.right_splitter.addWidget(self.templates_panel)
        self.right_splitter.setStretchFactor(0, 0)
        self.right_splitter.setStretchFactor(1, 1)
        self.right_splitter.setSizes([220, 480])
        column.addWidget(self.right_splitter, 1)
        # a minimum set here overrides the layout's: where the template buttons' words need
        # more (in Russian), the panel's edge cut "Новый" to "Н…й"
        panel.setMinimumWidth(max(220, column.minimumSize().width()))
        return panel

    # ---- wiring ----------------------------------------------------------------------------

    def _connect(self) -> None:
        self.section_bar.currentChanged.connect(self._section_chosen)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_edit.into_list.connect(self._into_list)
        self.filter_edit.open_current.connect(lambda: self._dialog_activated(self._list_current()))
        self.filter_edit.leave.connect(self._back_to_work)
        self.list_filters.changed.connect(lambda: self._filter_changed(self.filter_edit.text()))
        self.dialog_view.activated.connect(self._dialog_activated)
        self.dialog_view.clicked.connect(self._dialog_activated)
        self.chat_tabs.tabCloseRequested.connect(self.close_tab)
        self.chat_tabs.currentChanged.connect(self._tab_changed)
        self.bridge.dialogs_changed.connect(self.on_dialogs_changed)
        self.bridge.messages_changed.connect(self.on_messages_changed)
        self.bridge.history_reset.connect(self._history_reset)
        self.bridge.connection_changed.connect(self.on_connection)
        self.bridge.connection_changed.connect(self.client_card.on_connection)
        self.bridge.typing_changed.connect(self.on_typing)
        self.bridge.directory_changed.connect(self._directory_changed)
        self.bridge.notice.connect(self.on_notice)

    def _install_shortcuts(self) -> None:
        def add(keys: str, slot: object, tip: str = "") -> QAction:
            action = QAction(tip or keys, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        add("Ctrl+Tab", lambda: self._cycle_tab(1))
        add("Ctrl+Shift+Tab", lambda: self._cycle_tab(-1))
        add("Ctrl+W", lambda: self.close_tab(self.chat_tabs.currentIndex()))
        add("Ctrl+Shift+T", self.reopen_closed_tab)
        add("Ctrl+F", self.filter_edit.setFocus)
        add("F5", self.service.retry_connection_now)
        add("Ctrl+Shift+S", self.cycle_status)
        add("Ctrl+Shift+R", lambda: self._on_current_tab(self.transfer_dialog))
        add("Ctrl+Shift+E", lambda: self._on_current_tab(self.close_dialog))
        for number in range(1, 10):
            add(f"Alt+{number}", lambda _checked=False, n=number: self._jump_to_tab(n - 1))

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.account_menu = bar.addMenu(tr("&Account"))
        self.password_action = self.account_menu.addAction(
            tr("Change password…"), self.change_password
        )
        if (why := why_not(self.service, "change_password")) is not None:
            self.password_action.setEnabled(False)
            self.password_action.setToolTip(why)
            self.password_action.setStatusTip(why)
            self.account_menu.setToolTipsVisible(True)
        self.account_menu.addSeparator()
        self.account_menu.addAction(tr("Log out"), lambda: self._leave("logout"))
        self.account_menu.addAction(
            tr("Log out and wipe the local cache…"), lambda: self._leave("wipe")
        )
        self.account_menu.addSeparator()
        self.account_menu.addAction(self.settings_action)
        self.account_menu.addSeparator()
        quit_action = self.account_menu.addAction(tr("Quit"), self.close)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.view_menu = bar.addMenu(tr("&View"))
        self.next_waiting_action = self.view_menu.addAction(
            tr("Next client waiting for your answer"), self.open_next_awaiting_reply
        )
        self.next_waiting_action.setShortcut(QKeySequence("Ctrl+J"))
        help_menu = bar.addMenu(tr("&Help"))
        keys = help_menu.addAction(tr("Keyboard shortcuts"), self.show_shortcuts)
        keys.setShortcut(QKeySequence("F1"))
        self.view_menu.addSeparator()
        self.supervisor_action = self.view_menu.addAction(
            icon("supervisor"), tr("Supervisor console"), self.open_supervisor_console
        )
        self.supervisor_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.supervisor_action.setVisible(may_supervise(self.service.me))  # operators never
        if (why := why_not(self.service, "reports")) is not None:  # no board nor reports there
            self.supervisor_action.setEnabled(False)
            self.supervisor_action.setToolTip(why)
            self.supervisor_action.setStatusTip(why)
            self.view_menu.setToolTipsVisible(True)

    def _leave(self, reason: str) -> None:
        if reason == "wipe":
            from PySide6.QtWidgets import QMessageBox  # not on the start path: its 6 enums

            answer = QMessageBox.question(
                self,
                tr("Wipe the local cache"),
                tr(
                    "This logs you out and deletes the cached dialogs on this computer. "
                    "Unsent messages are lost. Continue?"
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.exit_reason = reason
        self.close()

    def rebuild_for_language(self) -> None:
        """Close, so that the app builds the window again over the same session in the
        language installed now (tabs and layout come back through the session restore)."""
        self._leave("language")

    def open_supervisor_console(self) -> SupervisorConsole | None:
        # Imported here: the console (charts, reports, staffing) is not on the start path.
        from .supervisor.window import open_console

        if not self.supervisor_action.isEnabled():
            return None  # the backend has no board nor reports (see the action's tooltip)
        if self.supervision is None:
            from operator_app.core.supervision import SupervisorService

            self.supervision = SupervisorService(self.service)
        return open_console(self, self.service, self.runner, self.supervision)

    def show_shortcuts(self) -> None:
        from .shortcuts_help import ShortcutsDialog

        ShortcutsDialog(self).exec()

    # ---- dialogs and tabs ------------------------------------------------------------------

    def current_section(self) -> Section:
        return SECTIONS[self.section_bar.currentIndex()][0]

    def _section_model(self, section: Section) -> DialogListModel:
        # Before the first paint only a screenful of rows is read; finish_start reads the rest.
        first = None if self._started else FIRST_SCREEN_ROWS
        return DialogListModel(self.service, section, first=first)

    def _section_chosen(self, index: int) -> None:
        model = self.models[SECTIONS[index][0]]
        model.set_filter(self.list_filters.narrowed(self.filter_edit.text()))
        self.dialog_view.setModel(model)

    def _filter_changed(self, text: str) -> None:
        self.models[self.current_section()].set_filter(self.list_filters.narrowed(text))

    def _list_current(self) -> QModelIndex:
        """The list's current row, else its first (invalid when the list is empty)."""
        view = self.dialog_view
        current = view.currentIndex()
        return current if current.isValid() else view.model().index(0, 0)

    def _into_list(self) -> None:
        index = self._list_current()
        if index.isValid():
            self.dialog_view.setCurrentIndex(index)
            self.dialog_view.setFocus()

    def _back_to_work(self) -> None:
        """Escape from an empty filter: back to the open dialog's composer."""
        tab = self.current_tab()
        (tab.composer if tab is not None else self.dialog_view).setFocus()

    def _dialog_activated(self, index: QModelIndex) -> None:
        dialog_id = index.data(DialogIdRole)
        if dialog_id is not None:
            self.open_dialog(int(dialog_id))

    def open_dialog(self, dialog_id: int) -> ChatTab:
        tab = self.tabs_by_dialog.get(dialog_id)
        if tab is None:
            from .chat_tab import ChatTab

            # The tab widget shown first and the tab built inside its page stack: Qt then lays
            # the timeline's rows out once, at their final width, instead of also at the
            # provisional widths of a parentless widget and of a tab widget never shown yet.
            self.center.setCurrentWidget(self.chat_tabs)
            tab = ChatTab(self.service, dialog_id, self.runner, parent=self._tab_pages)
            tab.transfer_requested.connect(self.transfer_dialog)
            tab.close_requested.connect(self.close_dialog)
            self.tabs_by_dialog[dialog_id] = tab
            row = self.service.dialog(dialog_id)
            title = row.dialog.contact_name if row else f"#{dialog_id}"
            self.chat_tabs.addTab(tab, title[:24])
            self.runner.start(self.service.open_dialog(dialog_id), key=f"open:{dialog_id}")
        self.center.setCurrentWidget(self.chat_tabs)
        self.chat_tabs.setCurrentWidget(tab)
        tab.composer.setFocus()
        self._update_card(dialog_id)
        return tab

    def open_next_awaiting_reply(self) -> None:
        """Ctrl+J: to the client who has waited longest for an answer, then the next."""
        current = self.current_tab()
        dialog_id = self.service.next_awaiting_reply(current.dialog_id if current else None)
        if dialog_id is None:
            self.statusBar().showMessage(tr("No client is waiting for your answer."), 5000)
            return
        self.open_dialog(dialog_id)

    def _tab_at(self, index: int) -> ChatTab | None:
        """The chat tab at ``index`` (looked up among ours: the chat tab module loads with
        the first tab, not at start)."""
        widget = self.chat_tabs.widget(index)
        return next((tab for tab in self.tabs_by_dialog.values() if tab is widget), None)

    def close_tab(self, index: int) -> None:
        tab = self._tab_at(index)
        if tab is None:
            return
        tab.shutdown()
        self.chat_tabs.removeTab(index)
        del self.tabs_by_dialog[tab.dialog_id]
        self.recently_closed.append(tab.dialog_id)
        tab.deleteLater()
        if self.chat_tabs.count() == 0:
            self.center.setCurrentIndex(0)

    def reopen_closed_tab(self) -> None:
        while self.recently_closed:
            dialog_id = self.recently_closed.pop()
            if self.service.dialog(dialog_id) is not None:
                self.open_dialog(dialog_id)
                return

    def _cycle_tab(self, step: int) -> None:
        count = self.chat_tabs.count()
        if count:
            self.chat_tabs.setCurrentIndex((self.chat_tabs.currentIndex() + step) % count)

    def _jump_to_tab(self, index: int) -> None:
        if index < self.chat_tabs.count():
            self.chat_tabs.setCurrentIndex(index)

    def _tab_changed(self, index: int) -> None:
        tab = self._tab_at(index)
        if tab is not None:
            self._catch_up(tab)
            self._update_card(tab.dialog_id)

    def _catch_up(self, tab: ChatTab) -> None:
        """The operator looks at ``tab`` now: what came meanwhile is marked, then read."""
        row = self.service.dialog(tab.dialog_id)
        if row is not None and row.unread:
            tab.show_unread(row.unread)
        self.service.mark_read(tab.dialog_id)
        self._update_tab_title(tab)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # messages to the tab in front while the window was behind another stayed unread
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            tab = self.current_tab()
            if tab is not None:
                self._catch_up(tab)

    def _on_current_tab(self, action: Callable[[int], object]) -> None:
        tab = self.current_tab()
        if tab is not None:
            action(tab.dialog_id)

    def current_tab(self) -> ChatTab | None:
        return self._tab_at(self.chat_tabs.currentIndex())

    def _update_tab_title(self, tab: ChatTab) -> None:
        row = self.service.dialog(tab.dialog_id)
        if row is None:
            return
        index = self.chat_tabs.indexOf(tab)
        name = row.dialog.contact_name[:24]
        unread = row.unread if tab is not self.current_tab() else 0
        self.chat_tabs.setTabText(index, f"{name} ({unread})" if unread else name)

    # ---- actions ---------------------------------------------------------------------------

    def transfer_dialog(self, dialog_id: int) -> TransferDialog:
        """Window-modal but not blocking: the loop (and live updates) keep running meanwhile."""
        from .transfer import TransferDialog

        chooser = TransferDialog(self.service, dialog_id, self)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chooser.accepted.connect(lambda: self._transfer_chosen(dialog_id, chooser.choice()))
        chooser.open()
        return chooser

    def _transfer_chosen(self, dialog_id: int, target: TransferTarget | None) -> None:
        if target is None:
            return
        self.runner.start(
            self.service.transfer(
                dialog_id,
                to_operator_id=target.operator_id,
                to_queue_id=target.queue_id,
                comment=target.comment,
            ),
            key=f"transfer:{dialog_id}",
        )

    def change_password(self) -> PasswordDialog:
        from .passwords import PasswordDialog

        form = PasswordDialog(
            lambda current, new: self.service.change_password(current, new),
            self.runner,
            title=tr("Change password"),
            intro=tr(
                "This computer stays signed in. Other computers where you are signed in "
                "will ask for the new password."
            ),
            ask_current=True,
            parent=self,
        )
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(
            lambda: self.statusBar().showMessage(tr("Your password has been changed."), 15000)
        )
        form.open()
        return form

    def close_dialog(self, dialog_id: int) -> CloseDialog:
        from operator_app.core.shell_reads import known_tags

        from .close_dialog import CloseDialog

        row = self.service.dialog(dialog_id)
        current = row.dialog.tags if row is not None else ()
        form = CloseDialog(self, known=known_tags(self.service), current=current)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(
            lambda: self.runner.start(
                self.service.close_dialog(
                    dialog_id, resolution=form.resolution(), tags=form.tags()
                ),
                key=f"close:{dialog_id}",
            )
        )
        form.open()
        return form

    def cycle_status(self) -> None:
        """Ctrl+Shift+S: the next status in the box's order, as if chosen there."""
        if not self.status_combo.isEnabled() or self.status_combo.count() == 0:
            return
        index = (self.status_combo.currentIndex() + 1) % self.status_combo.count()
        self.status_combo.setCurrentIndex(index)
        self._status_chosen(index)

    def _status_chosen(self, index: int) -> None:
        status = self.status_combo.itemData(index)
        self.runner.start(self.service.set_status(OperatorStatus(status)), key="status")

    # ---- updates from the core -------------------------------------------------------------

    def on_dialogs_changed(self, ids: frozenset[int]) -> None:
        self._changed_dialogs |= ids
        if not self._dialogs_timer.isActive():
            self._refresh_changed_dialogs()  # the first change of a quiet spell shows at once

    def _refresh_changed_dialogs(self) -> None:
        if not self._changed_dialogs:
            self._dialogs_quiet()
            return
        started = time.perf_counter()
        ids, self._changed_dialogs = frozenset(self._changed_dialogs), set()
        for model in self.models.values():
            model.refresh(ids)
        for dialog_id in ids & self.tabs_by_dialog.keys():
            tab = self.tabs_by_dialog[dialog_id]
            tab.refresh_header()
            self._update_tab_title(tab)
        self._update_section_counts()
        current = self.current_tab()
        if current is not None and current.dialog_id in ids:
            self._update_card(current.dialog_id)
        self.refresh_me()
        # What arrives meanwhile waits a frame, or 4x this refresh when that is longer (long
        # lists), or BUSY_REFRESH_MS when changes keep coming, so a burst leaves most of the
        # GUI thread to applying events and painting.
        spent_ms = (time.perf_counter() - started) * 1000
        pause = max(DIALOG_REFRESH_MS, int(4 * spent_ms))
        self._dialogs_timer.start(BUSY_REFRESH_MS if self._dialogs_busy else pause)
        self._dialogs_busy = True

    def _dialogs_quiet(self) -> None:
        """The timer ran out with nothing to refresh: the next change shows at once."""
        self._dialogs_busy = False

    def on_messages_changed(self, change: MessagesChanged) -> None:
        tab = self.tabs_by_dialog.get(change.dialog_id)
        if tab is None:
            return
        tab.on_messages_changed(change)
        if tab is self.current_tab() and self.isActiveWindow():
            self.service.mark_read(change.dialog_id)

    def on_typing(self, change: TypingChanged) -> None:
        tab = self.tabs_by_dialog.get(change.dialog_id)
        if tab is not None:
            tab.on_typing(change)

    def _history_reset(self, dialog_id: int) -> None:
        tab = self.tabs_by_dialog.get(dialog_id)
        if tab is not None:
            tab.model.reload()

    def insert_template(self, template: Template) -> None:
        """From the templates panel: into the current chat tab's composer."""
        tab = self.current_tab()
        if tab is not None:
            tab.insert_template(template)

    def _directory_changed(self, what: str) -> None:
        if what == "queues":  # SLAs colour every row: read them all again
            for model in self.models.values():
                model.refresh()
        if what == "me":
            self.refresh_me()
            self.supervisor_action.setVisible(may_supervise(self.service.me))

    def on_connection(self, state: ConnectionState) -> None:
        labels = {
            Phase.CONNECTING: tr("Connecting…"),
            Phase.ONLINE: tr("Online"),
            Phase.RECONNECTING: tr("Reconnecting"),
            Phase.OFFLINE: tr("Offline"),
        }
        self.connection_label.setText("● " + labels[state.phase])
        colors = {Phase.ONLINE: "sla_ok", Phase.OFFLINE: "sla_breach"}
        color = theme.current().color(colors.get(state.phase, "sla_warn")).name()
        self.connection_label.setStyleSheet(f"color: {color};")
        self.banner.setVisible(state.phase in (Phase.RECONNECTING, Phase.OFFLINE))
        self._update_banner()

    def _update_banner(self) -> None:
        state = self.service.connection
        if state.phase == Phase.ONLINE:
            return
        text = tr("No connection to the server. The cached dialogs stay available.")
        wait = state.retry_in(time.monotonic())
        if state.phase == Phase.RECONNECTING and wait is not None:
            text += " " + tr("Reconnecting in {n} s.").format(n=max(int(wait + 0.999), 0))
        elif state.phase == Phase.OFFLINE and state.error is not None:
            text += " " + problem_text(translate(state.error))
        # Any other reason is the connection's own word for the log ("stopped"), never shown.
        self.banner_label.setText(text)

    def on_notice(self, level: str, text: str) -> None:
        self.statusBar().showMessage(notice_text(text), 15000 if level != "error" else 0)

    def show_error(self, error: BaseException) -> None:
        if isinstance(error, ActionError | OfflineError):
            self.statusBar().showMessage(problem_text(error), 15000)
            return
        logger.error("action failed", exc_info=error)
        self.statusBar().showMessage(tr("Something went wrong: {e}").format(e=error), 15000)

    def refresh_me(self) -> None:
        me = self.service.me
        if me is None:
            return
        self.me_label.setText(me.name)
        self.load_label.setText(tr("Load {load}/{cap}").format(load=me.load, cap=me.capacity))
        index = self.status_combo.findData(me.status)
        if index >= 0 and index != self.status_combo.currentIndex():
            self.status_combo.setCurrentIndex(index)

    def _update_section_counts(self) -> None:
        for number, (section, label) in enumerate(SECTIONS):
            model = self.models.get(section)
            # A section never shown has no filter yet: count its ids without reading rows.
            count = len(self.service.dialog_ids(section)) if model is None else model.rowCount()
            self.section_bar.setTabText(number, f"{tr(label)} {count}" if count else tr(label))

    def _update_card(self, dialog_id: int) -> None:
        self.client_card.show_dialog(dialog_id)

    def _every_second(self) -> None:
        self.dialog_view.viewport().update()  # waiting timers
        if self.banner.isVisible():
            self._update_banner()

    # ---- lifecycle -------------------------------------------------------------------------

    def finish_start(self) -> None:
        """What the first paint does not show, done right after it (the app calls this):
        the shown section's rows below its first screenful, the channel and tag choices of
        the list filters (until then a popup fills them), the templates (reading them loads
        pydantic and the wire models, ~70 ms), the last session's tabs; then,
        when the loop is idle, the chat tab module loads so that the first tab the operator
        opens does not wait for it (~40 ms)."""
        if not self._started:
            self._started = True
            for model in self.models.values():
                model.read_rest()
            self.list_filters.refresh_choices()
            self.templates_panel.refresh()
            self.session_restorer.start()
            QTimer.singleShot(0, _load_chat_tab)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update_section_counts()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save drafts and let go of every model: the core closes right after this."""
        save_session(self)
        self.notifier.close()  # the next window (a new language, a log-out) brings its own icon
        for tab in self.tabs_by_dialog.values():
            tab.shutdown()
        self._tick.stop()
        self._dialogs_timer.stop()
        self.bridge.detach()
        while self.chat_tabs.count():
            widget = self.chat_tabs.widget(0)
            self.chat_tabs.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        self.tabs_by_dialog.clear()
        self.dialog_view.setModel(None)
        super().closeEvent(event)
        self.closed.emit()
