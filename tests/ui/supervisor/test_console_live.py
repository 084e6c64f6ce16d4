"""The supervisor console's live views and actions, against the real embedded backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QInputDialog
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from operator_app.core.errors import ActionError
from operator_app.core.service import Section
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import DialogState, MessageKind, OperatorStatus
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.main_window import MainWindow
from operator_app.ui.supervisor import SupervisorConsole
from operator_app.ui.supervisor.alerts import AlertSettings
from operator_app.ui.supervisor.boards import DIALOG_MIME, encode_id
from operator_app.ui.supervisor.console import WhisperDialog
from tests.helpers.model_tester import check_model
from tests.helpers.qt_async import type_text, wait_until
from tests.ui.shell_helpers import signed_in_window

from .console_harness import Desk, customer_types, customer_writes, supervisor_desk


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as srv:
        yield srv


def drop_on_operator(desk: Desk, mime: QMimeData, operator_id: int) -> None:
    """A real drop event on the operator board's row, as a mouse drag would end."""
    view = desk.console.operator_view
    row = desk.console.operator_model.row_of(operator_id)
    point = view.visualRect(desk.console.operator_model.index(row, 1)).center()
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, actions, mime, buttons, keys)  # QPoint: PySide6 6.11 and 6.12
    QApplication.sendEvent(view.viewport(), enter)
    drop = QDropEvent(point.toPointF(), actions, mime, buttons, keys)
    QApplication.sendEvent(view.viewport(), drop)


def board_dialogs(desk: Desk) -> int:
    """Waiting and active dialogs over the queues of the board the console shows."""
    board = desk.console.board
    assert board is not None
    return sum(q.waiting + q.active for q in board.queues)


def assignee(desk: Desk, dialog_id: int) -> int | None:
    row = desk.service.dialog(dialog_id)
    assert row is not None
    return row.dialog.assignee_id


def waiting_ids(desk: Desk) -> list[int]:
    return [
        r.dialog.id
        for r in desk.console.dialogs_model.rows()
        if r.dialog.state == DialogState.WAITING
    ]


def test_boards_show_the_queues_operators_and_dialogs(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    server: EmbeddedServer,
    qtmodeltester: ModelTester,
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            console = desk.console
            queues = console.queue_model
            board = console.board
            assert board is not None
            assert queues.rowCount() == len(board.queues) >= 3
            names = [queues.index(n, 0).data() for n in range(queues.rowCount())]
            assert "Продажи" in names and "Поддержка" in names
            anna = console.operator_model.row_of(desk.operator_id("anna"))
            assert console.operator_model.index(anna, 2).data() == "4 / 5"
            await wait_until(lambda: waiting_ids(desk), what="waiting dialogs in the list")
            for model in (queues, console.operator_model, console.dialogs_model):
                check_model(qtmodeltester, model)

            # live: a new customer appears in the board without any click
            before = board_dialogs(desk)
            await customer_writes(server, "live-board-1", "Здравствуйте!", "lb-1")
            await wait_until(
                lambda: board_dialogs(desk) == before + 1,
                what="the board counting the new dialog",
            )

    qloop.run_until_complete(scenario())


def test_drag_a_queue_and_a_dialog_onto_an_operator_reassigns(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            console = desk.console
            await wait_until(lambda: len(waiting_ids(desk)) >= 2, what="waiting dialogs")
            anna, boris = desk.operator_id("anna"), desk.operator_id("boris")

            def assignee(number: int) -> int | None:
                row = desk.service.dialog(number)
                return row.dialog.assignee_id if row else None

            # a queue dropped on boris hands him that queue's longest-waiting dialog
            queue_id = desk.queue_id("Поддержка")
            in_queue = [
                r
                for r in console.dialogs_model.rows()
                if r.dialog.queue_id == queue_id and r.dialog.state == DialogState.WAITING
            ]
            oldest = min(in_queue, key=lambda r: r.dialog.waiting_since or r.dialog.updated_at)
            drag = console.queue_model.mimeData(
                [console.queue_model.index(console.queue_model.row_of(queue_id), 0)]
            )
            drop_on_operator(desk, drag, boris)
            await wait_until(lambda: assignee(oldest.dialog.id) == boris, what="oldest on boris")

            # room for more, then one of anna's active dialogs dragged onto boris
            console.set_capacity(boris, 12)
            row_of_boris = console.operator_model.row_of(boris)
            await wait_until(
                lambda: console.operator_model.row_at(row_of_boris).capacity == 12,
                what="boris' new capacity on the board",
            )
            annas = [
                r.dialog.id for r in console.dialogs_model.rows() if r.dialog.assignee_id == anna
            ]
            moved = annas[0]
            drag = console.dialogs_model.mimeData(
                [console.dialogs_model.index(console.dialogs_model.row_of(moved), 0)]
            )
            assert drag.hasFormat(DIALOG_MIME)
            drop_on_operator(desk, drag, boris)
            await wait_until(lambda: assignee(moved) == boris, what="anna's dialog on boris")
            await wait_until(
                lambda: moved in console.operator_model.row_at(row_of_boris).active_dialog_ids,
                what="boris' row listing it",
            )

            # refused by the server (dmitry is offline): said plainly, nothing changes
            drop_on_operator(desk, encode_id(DIALOG_MIME, moved), desk.operator_id("dmitry"))
            await wait_until(
                lambda: console.status_line.text().startswith("Not done"),
                what="the refusal shown",
            )
            assert assignee(moved) == boris

            # a foreign drop is ignored
            foreign = QMimeData()
            foreign.setText("123")
            drop_on_operator(desk, foreign, anna)

    qloop.run_until_complete(scenario())


def test_monitor_shows_messages_and_typing_live_then_whisper_and_take_over(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            mine = [r for r in desk.service.dialogs(Section.SUPERVISED) if r.dialog.assignee_id]
            watched = [r.dialog.id for r in mine[:3]]
            grid = desk.console.monitor
            desk.console.tabs.setCurrentWidget(grid)
            await asyncio.sleep(0.05)
            assert grid.hint.isVisible() and grid.hint.height() > grid.height() * 0.9  # fills it
            for dialog_id in watched:
                desk.console.open_monitor(dialog_id)
            assert list(grid.panes) == watched
            assert not grid.hint.isVisibleTo(grid)
            await wait_until(
                lambda: all(pane.isVisible() for pane in grid.panes.values()), what="panes shown"
            )
            assert desk.console.tabs.currentWidget() is grid
            for pane in grid.panes.values():
                await wait_until(pane.model.rowCount, what="history")  # until a row

            # a new customer message and typing appear live in the right pane
            dialog_id = await customer_writes(server, "monitor-1", "Первое сообщение", "m-1")
            pane = desk.console.monitor.open(dialog_id)
            await wait_until(lambda: pane.model.rowCount() == 1, what="the first message")
            await customer_types(server, "monitor-1")
            await wait_until(lambda: "typing" in pane.typing_label.text(), what="typing")
            await customer_writes(server, "monitor-1", "<b>не HTML</b>", "m-2")
            await wait_until(lambda: pane.model.rowCount() == 2, what="the second message")
            assert pane.model.message_at(1).text == "<b>не HTML</b>"
            assert pane.typing_label.text() == ""
            assert pane.title.textFormat() == Qt.TextFormat.PlainText

            # whisper to the assignee of an active dialog, through the dialog window
            target = watched[0]
            dialog = desk.console.ask_whisper(target)
            assert isinstance(dialog, WhisperDialog)
            assert not dialog.ok_button.isEnabled()
            type_text(dialog.editor, "Предложите скидку 10%")
            dialog.ok_button.click()
            watched_pane = grid.panes[target]

            def whispered() -> bool:
                rows = [
                    watched_pane.model.message_at(n) for n in range(watched_pane.model.rowCount())
                ]
                return any(
                    r.kind == MessageKind.COMMENT and r.text.endswith("Предложите скидку 10%")
                    for r in rows
                )

            await wait_until(whispered, what="the whisper in the monitored timeline")

            # take over: the supervisor becomes the assignee, the header follows
            olga = desk.operator_id("olga")
            watched_pane.take_over_requested.emit(target)
            await wait_until(
                lambda: assignee(desk, target) == olga,
                what="the dialog taken over",
            )
            await wait_until(lambda: "Ольга" in watched_pane.subtitle.text(), what="header")

            grid.close_pane(target)
            assert target not in grid.panes

    qloop.run_until_complete(scenario())


def test_a_monitored_customer_with_the_longest_name_keeps_the_console_on_screen(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    """The pane's header cuts the customer's name (before, 60 of its characters set the
    pane's minimum width, ~850 pixels) and gives the whole name in its tooltip."""
    name = "Ы" * 120  # one word, the longest name a channel may send

    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            dialog_id = await customer_writes(server, "monitor-long", "Привет", "l-1", name=name)
            await wait_until(lambda: desk.service.dialog(dialog_id) is not None, what="listed")
            pane = desk.console.monitor.open(dialog_id)
            assert pane.minimumSizeHint().width() < 500
            assert desk.console.minimumSizeHint().width() < 1024
            assert pane.title.full_text() == name and pane.title.toolTip() == name

    qloop.run_until_complete(scenario())


def test_names_stay_whole_on_a_laptop_and_take_the_room_on_a_wide_screen(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    """On 1,024 x 640 the boards' names were cut to a letter or two ("Ан…") beside roomy
    figures; now the name column keeps its names (the table scrolls sideways if it must).
    On a wide screen the name column still takes the room the figures leave."""

    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            views = [desk.console.dialogs_view, desk.console.operator_view]
            await wait_until(lambda: all(v.model().rowCount() for v in views), what="rows")
            desk.console.resize(1024, 640)
            await asyncio.sleep(0.2)
            for view in views:
                header = view.horizontalHeader()
                assert header.sectionSize(0) >= view.sizeHintForColumn(0), "a name is cut"

            desk.console.resize(1900, 900)
            await asyncio.sleep(0.2)
            for view in views:
                header = view.horizontalHeader()
                shown = sum(header.sectionSize(c) for c in range(header.count()))
                assert shown == view.viewport().width(), "the columns leave a gap"
                assert header.sectionSize(0) > view.sizeHintForColumn(0)  # names take the rest

    qloop.run_until_complete(scenario())


def test_force_status_and_capacity_from_the_operator_menu(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server) as desk:
            boris = desk.operator_id("boris")
            model = desk.console.operator_model
            menu = desk.console.operator_menu(boris)
            away = next(a for a in menu.actions() if a.text().endswith("Away"))
            away.trigger()
            await wait_until(
                lambda: model.row_at(model.row_of(boris)).status == OperatorStatus.AWAY,
                what="boris away on the board",
            )
            capacity = next(a for a in menu.actions() if a.text().startswith("Set capacity"))
            capacity.trigger()
            dialog = desk.console.findChild(QInputDialog)
            assert isinstance(dialog, QInputDialog)
            dialog.setIntValue(2)
            dialog.accept()
            await wait_until(
                lambda: model.row_at(model.row_of(boris)).capacity == 2,
                what="boris' capacity on the board",
            )
            assert model.index(model.row_of(boris), 2).data() == "3 / 2"

            # the dialog menu offers every operator and queue
            dialog_id = desk.console.dialogs_model.key(desk.console.dialogs_model.row_at(0))
            titles = [a.text() for a in desk.console.dialog_menu(dialog_id).actions()]
            assert titles[:2] == ["Monitor", "Take over"]

    qloop.run_until_complete(scenario())


def test_alerts_for_a_full_queue_and_sla_with_sound_configurable(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    settings = AlertSettings(queue_threshold=1, queue_alerts=True, sla_alerts=True, sound=True)

    async def scenario() -> None:
        async with supervisor_desk(server, settings=settings) as desk:
            console = desk.console
            kinds = {a.kind for a in console.alerts}
            assert kinds == {"queue", "sla"}  # the demo has full queues and late customers
            assert console.sound.requested == len(console.alerts)
            assert console.alert_bar.isVisible() and console.alert_list.count() == len(
                console.alerts
            )
            first = len(console.alerts)
            console.refresh_board()
            await asyncio.sleep(0.3)
            await wait_until(lambda: not desk.runner.pending, what="refresh done")
            assert len(console.alerts) == first  # nothing new: no repeat

            console.sound_box.setChecked(False)
            console.threshold_spin.setValue(0)  # the Billing queue (1 waiting) now counts
            assert AlertSettings.load().queue_threshold == 0
            assert AlertSettings.load().sound is False
            await customer_writes(server, "alert-1", "Срочно!", "al-1", desk.queue_id("Биллинг"))
            await wait_until(lambda: len(console.alerts) > first, what="a new queue alert")
            assert console.sound.requested == first  # sound off: silent

    qloop.run_until_complete(scenario())


def test_an_operator_never_gets_the_console(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    from operator_app.app import sign_in
    from operator_app.core.supervision import SupervisorService
    from operator_app.ui.main_window import MainWindow
    from operator_app.ui.supervisor import SupervisorConsole
    from operator_app.ui.tasks import TaskRunner

    async def scenario() -> None:
        service = await sign_in(server.url, "anna", "demo", demo=True)
        window = MainWindow(service)
        qtbot.addWidget(window)
        try:
            assert not window.supervisor_action.isVisible()
            assert window.open_supervisor_console() is None
            assert window.findChild(SupervisorConsole) is None
            with pytest.raises(PermissionError):
                SupervisorConsole(service, SupervisorService(service), TaskRunner())
            # and the server refuses her anyway
            with pytest.raises(ActionError) as refused:
                await SupervisorService(service).board()
            assert refused.value.code == ErrorCode.FORBIDDEN
        finally:
            window.close()
            await window.runner.cancel_all()
            await service.close()
            service.cache.close()

    qloop.run_until_complete(scenario())


@asynccontextmanager
async def olgas_window(server: EmbeddedServer, qtbot: QtBot) -> AsyncIterator[MainWindow]:
    """The supervisor's main window over a session of her own, closed (and saved) after."""
    async with signed_in_window(server, qtbot, "olga", expect_mine=False) as (_service, window):
        yield window


def test_a_supervisor_opens_the_console_from_the_main_window(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with olgas_window(server, qtbot) as window:
            assert window.supervisor_action.isVisible()
            assert window.supervisor_action.shortcut().toString() == "Ctrl+Shift+M"
            window.supervisor_action.trigger()
            console = window.findChild(SupervisorConsole)
            assert isinstance(console, SupervisorConsole) and console.isWindow()
            await wait_until(lambda: console.board is not None, what="the board")
            assert window.open_supervisor_console() is console  # one console, raised

    qloop.run_until_complete(scenario())


def test_the_console_open_at_the_end_of_a_session_opens_with_the_next(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, server: EmbeddedServer
) -> None:
    """As the tabs: a supervisor who left with the console open finds it open again (after
    the first paint), also when a new language builds the window again."""

    def console_of(window: MainWindow) -> SupervisorConsole | None:
        console = window.findChild(SupervisorConsole)
        return console if isinstance(console, SupervisorConsole) and console.isVisible() else None

    async def scenario() -> None:
        async with olgas_window(server, qtbot) as window:
            window.finish_start()
            assert console_of(window) is None  # never opened: nothing to restore
            window.open_supervisor_console()
        async with olgas_window(server, qtbot) as window:
            assert console_of(window) is None  # not before the first paint
            window.finish_start()
            console = console_of(window)
            assert console is not None
            console.close()
        async with olgas_window(server, qtbot) as window:
            window.finish_start()
            assert console_of(window) is None  # closed before the window: stays closed

    qloop.run_until_complete(scenario())
