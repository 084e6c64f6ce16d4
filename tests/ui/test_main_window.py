"""The main window's flows against the real backend: take, transfer, close, keyboard, offline."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialogButtonBox,
    QStyleOptionViewItem,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from operator_app.core.connection import Phase
from operator_app.core.service import DeliveryState, DeskService, Section
from operator_app.protocol import routes
from operator_app.protocol.models import DialogState, MessageKind, OperatorStatus
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import theme
from operator_app.ui.dialog_list import DraftRole
from operator_app.ui.main_window import MainWindow
from operator_app.ui.shortcuts_help import SHORTCUTS
from operator_app.ui.timeline import PAGE, MessageDelegate, MessageRowRole, UnreadMarkRole
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.model_tester import check_model
from tests.helpers.qt_async import type_text, wait_until
from tests.integration.server.server_helpers import Api
from tests.ui.chat_harness import replayed_messages
from tests.ui.shell_helpers import address_of, customer_writes, signed_in_window

Scenario = Callable[[MainWindow, DeskService], Awaitable[None]]


@asynccontextmanager
async def workspace(
    url: str, qtbot: QtBot, login: str = "anna", expect_mine: bool = True
) -> AsyncIterator[MainWindow]:
    """The shell harness's signed-in window, for scenarios that only need the window."""
    async with signed_in_window(url, qtbot, login, expect_mine=expect_mine) as (_service, window):
        yield window


def run_with_embedded(
    qloop: asyncio.AbstractEventLoop, scenario: Callable[[EmbeddedServer], Awaitable[None]]
) -> None:
    """The scenario against the demo server, which it may also drive (customers' messages)."""
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(scenario(server))


def run_with_server(
    qloop: asyncio.AbstractEventLoop, scenario: Callable[[str], Awaitable[None]]
) -> None:
    run_with_embedded(qloop, lambda server: scenario(server.url))


def test_taking_a_waiting_dialog_moves_it_to_mine(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            window.section_bar.setCurrentIndex(1)
            waiting = window.models[Section.WAITING]
            assert window.dialog_view.model() is waiting
            await wait_until(lambda: waiting.rowCount() > 0, what="waiting dialogs")
            dialog_id = waiting.dialog_id_at(0)
            tab = window.open_dialog(dialog_id)
            assert tab.take_button.isVisible()
            QTest.mouseClick(tab.take_button, Qt.MouseButton.LeftButton)
            await wait_until(
                lambda: window.models[Section.MINE].row_of(dialog_id) >= 0, what="taken into Mine"
            )
            assert waiting.row_of(dialog_id) < 0
            row = service.dialog(dialog_id)
            assert row is not None and row.dialog.state == DialogState.ACTIVE
            assert service.me is not None and row.dialog.assignee_id == service.me.id
            await wait_until(lambda: not tab.take_button.isVisible(), what="Take button hidden")

    run_with_server(qloop, scenario)


def test_a_colleague_taking_the_dialog_first_is_said_in_the_operators_language(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            window.section_bar.setCurrentIndex(1)
            waiting = window.models[Section.WAITING]
            await wait_until(lambda: waiting.rowCount() > 0, what="waiting dialogs")
            dialog_id = waiting.dialog_id_at(0)
            tab = window.open_dialog(dialog_id)
            supervisor = Api(url).login("olga")
            try:  # she takes it herself; the news has not reached this window yet
                supervisor.ok("POST", routes.TAKE.format(dialog_id=dialog_id))
            finally:
                supervisor.close()
            QTest.mouseClick(tab.take_button, Qt.MouseButton.LeftButton)
            status = window.statusBar()
            await wait_until(lambda: status.currentMessage() != "", what="the refusal shown")
            assert status.currentMessage() == "Коллега уже взял этот диалог."
            assert window.models[Section.MINE].row_of(dialog_id) < 0

    run_with_server(qloop, scenario)


def test_transfer_to_a_queue_with_a_comment_from_the_keyboard(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            dialog_id = window.models[Section.MINE].dialog_id_at(0)
            window.open_dialog(dialog_id)
            chooser = window.transfer_dialog(dialog_id)
            queue = next(q for q in service.queues() if q.name == "Биллинг")
            type_text(chooser.search, "Билл")
            assert chooser.targets.count() == 1
            chooser.comment.setPlainText("Клиент просит счёт, передаю в биллинг")
            QTest.keyClick(chooser.search, Qt.Key.Key_Return)
            await wait_until(
                lambda: window.models[Section.MINE].row_of(dialog_id) < 0, what="gone from Mine"
            )
            row = service.dialog(dialog_id)
            assert row is None or row.dialog.queue_id == queue.id

        async with workspace(url, qtbot, login="olga", expect_mine=False) as supervisor_window:
            supervisor = supervisor_window.service
            await supervisor.open_dialog(dialog_id)
            await wait_until(lambda: bool(supervisor.messages(dialog_id)), what="history")
            comments = [m for m in supervisor.messages(dialog_id) if m.kind == MessageKind.COMMENT]
            assert any("передаю в биллинг" in m.text for m in comments)

    run_with_server(qloop, scenario)


@pytest.mark.qt_log_ignore("does not support raise", "grabbing the keyboard")  # offscreen popups
def test_closing_a_dialog_records_resolution_and_tags(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            dialog_id = window.models[Section.MINE].dialog_id_at(0)
            window.open_dialog(dialog_id)
            form = window.close_dialog(dialog_id)
            type_text(form.resolution_edit, "Вопрос решён")
            form.tags_edit.setText("delivery, refund")
            # the tags in use are offered as one types, in any case and anywhere in the word
            type_text(form.tags_edit, ", ДОСТ")
            offered = form.tags_edit.suggestions
            popup = offered.popup()
            assert popup is not None
            await wait_until(popup.isVisible, what="tags offered")
            assert offered.currentCompletion() == "доставка"
            form.tags_edit.complete_with(offered.currentCompletion())
            assert form.tags_edit.text() == "delivery, refund, доставка, "
            assert form.tags() == ["delivery", "refund", "доставка"]
            buttons = form.findChild(QDialogButtonBox)
            assert buttons is not None
            ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
            QTest.mouseClick(ok, Qt.MouseButton.LeftButton)

            def closed() -> bool:
                row = service.dialog(dialog_id)
                return row is not None and row.dialog.state == DialogState.CLOSED

            await wait_until(closed, what="closed")
            row = service.dialog(dialog_id)
            assert row is not None
            assert row.dialog.resolution == "Вопрос решён"
            assert {"delivery", "refund", "доставка"} <= set(row.dialog.tags)
            await wait_until(
                lambda: window.models[Section.CLOSED_TODAY].row_of(dialog_id) >= 0,
                what="listed under Closed today",
            )

    run_with_server(qloop, scenario)


def test_tabs_by_keyboard(qloop: asyncio.AbstractEventLoop, qtbot: QtBot) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            model = window.models[Section.MINE]
            ids = [model.dialog_id_at(n) for n in range(min(3, model.rowCount()))]
            assert len(ids) == 3
            for dialog_id in ids:
                window.open_dialog(dialog_id)
            tabs = window.chat_tabs
            assert tabs.count() == 3 and tabs.currentIndex() == 2
            QTest.keyClick(window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
            assert tabs.currentIndex() == 0
            QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
            assert tabs.currentIndex() == 1
            QTest.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
            assert tabs.count() == 2 and ids[1] not in window.tabs_by_dialog
            QTest.keyClick(
                window,
                Qt.Key.Key_T,
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
            )
            assert tabs.count() == 3 and ids[1] in window.tabs_by_dialog
            assert window.current_tab() is window.tabs_by_dialog[ids[1]]

    run_with_server(qloop, scenario)


def test_the_close_form_shows_the_dialogs_tags_which_closing_keeps(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            tagged = next(
                row.dialog
                for row in service.dialogs(Section.MINE)
                if "VIP" in row.dialog.tags  # the demo's VIP client
            )
            form = window.close_dialog(tagged.id)
            assert form.current_label.isVisible()
            assert form.current_label.text().endswith("VIP")
            assert "VIP" not in form.tags_edit.known  # nothing to offer twice
            form.tags_edit.setText("  ,пароль,, пароль ,")  # loose typing
            assert form.tags() == ["пароль"]
            form.accept()

            def closed_with_both() -> bool:
                row = service.dialog(tagged.id)
                return row is not None and {"VIP", "пароль"} <= set(row.dialog.tags)

            await wait_until(closed_with_both, what="closed with the old tag and the new")
            untagged = window.close_dialog(window.models[Section.MINE].dialog_id_at(0))
            assert not untagged.current_label.isVisible()
            untagged.reject()

    run_with_server(qloop, scenario)


def test_ctrl_j_walks_the_clients_waiting_for_an_answer_longest_first(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            mine = window.models[Section.MINE]
            rows = service.dialog_rows([mine.dialog_id_at(n) for n in range(mine.rowCount())])
            held = sorted(
                (r.dialog.waiting_since, r.dialog.id)
                for r in rows.values()
                if r.dialog.waiting_since is not None
            )
            order = [dialog_id for _since, dialog_id in held]
            assert len(order) >= 3, "the demo's clients wait for anna"

            def ctrl_j() -> int | None:
                QTest.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
                tab = window.current_tab()
                return None if tab is None else tab.dialog_id

            assert ctrl_j() == order[0]
            assert ctrl_j() == order[1]

            async def answer(dialog_id: int) -> None:
                tab = window.open_dialog(dialog_id)
                type_text(tab.composer, "Здравствуйте! Уже смотрю.")
                QTest.keyClick(tab.composer, Qt.Key.Key_Return)

                def answered() -> bool:
                    row = service.dialog(dialog_id)
                    return row is not None and row.dialog.waiting_since is None

                await wait_until(answered, what="the answer recorded")

            for dialog_id in order[1:]:  # answered: off the walk
                await answer(dialog_id)
            assert ctrl_j() == order[0]
            assert ctrl_j() == order[0]  # the only one left: it stays
            await answer(order[0])
            assert service.next_awaiting_reply() is None
            assert ctrl_j() == order[0]  # nobody waits: the tab stays
            assert window.statusBar().currentMessage() == "Ответа сейчас никто не ждёт."

    run_with_server(qloop, scenario)


def test_the_dialog_filter_is_worked_from_the_keyboard(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            mine = window.models[Section.MINE]
            everyone = mine.rowCount()
            wanted = mine.dialog_id_at(everyone - 1)
            row = window.service.dialog(wanted)
            assert row is not None and everyone > 1
            QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
            await wait_until(window.filter_edit.hasFocus, what="focus in the filter")
            type_text(window.filter_edit, row.dialog.contact_name)
            await wait_until(lambda: mine.rowCount() == 1, what="one dialog left")
            QTest.keyClick(window.filter_edit, Qt.Key.Key_Return)
            tab = window.current_tab()
            assert tab is not None and tab.dialog_id == wanted
            await wait_until(tab.composer.hasFocus, what="focus in the composer")

            window.filter_edit.setFocus()
            QTest.keyClick(window.filter_edit, Qt.Key.Key_Escape)  # clears the words
            assert window.filter_edit.text() == "" and mine.rowCount() == everyone
            QTest.keyClick(window.filter_edit, Qt.Key.Key_Escape)  # back to work
            await wait_until(tab.composer.hasFocus, what="focus back in the composer")

            window.filter_edit.setFocus()
            QTest.keyClick(window.filter_edit, Qt.Key.Key_Down)
            await wait_until(window.dialog_view.hasFocus, what="focus in the list")
            assert window.dialog_view.currentIndex().row() == 0
            QTest.keyClick(window.dialog_view, Qt.Key.Key_Down)
            QTest.keyClick(window.dialog_view, Qt.Key.Key_Return)
            second = window.current_tab()
            assert second is not None and second.dialog_id == mine.dialog_id_at(1)

    run_with_server(qloop, scenario)


def test_new_messages_are_marked_where_they_begin_when_their_tab_comes_to_the_front(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with signed_in_window(server, qtbot) as (service, window):
            mine = window.models[Section.MINE]
            background, front = mine.dialog_id_at(0), mine.dialog_id_at(1)
            behind = window.open_dialog(background)
            await wait_until(lambda: behind.model.rowCount() > 0, what="its history")
            window.open_dialog(front)
            channel, address = await address_of(service, background)
            texts = [f"Сообщение {n}" for n in range(40)]
            for text in texts:
                await customer_writes(server, channel, address, text)
            await wait_until(lambda: behind.model.message_at(-1).text == texts[-1], what="all in")

            window.chat_tabs.setCurrentWidget(behind)  # back to the dialog: 40 unread
            model = behind.model
            first_new = model.row_of_key(model.unread_key or "")
            assert model.message_at(first_new).text == texts[0]
            assert model.day_header(first_new).endswith("Новые сообщения")
            assert (
                sum(model.data(model.index(n), UnreadMarkRole) for n in range(model.rowCount()))
                == 1
            )
            # the timeline starts where the new ones begin, not at the bottom
            index = model.index(first_new)
            await wait_until(lambda: behind.timeline.visualRect(index).top() >= 0, what="shown")
            bar = behind.timeline.verticalScrollBar()
            assert bar.value() < bar.maximum()

            window.chat_tabs.setCurrentIndex(window.chat_tabs.indexOf(window.tabs_by_dialog[front]))
            window.chat_tabs.setCurrentWidget(behind)  # nothing new meanwhile: the mark stays
            assert model.unread_key is not None
            type_text(behind.composer, "Прочитала, отвечаю")
            QTest.keyClick(behind.composer, Qt.Key.Key_Return)
            assert model.unread_key is None  # answered: nothing is new any more
            assert not model.day_header(first_new).endswith("Новые сообщения")

    run_with_embedded(qloop, scenario)


def test_messages_to_the_tab_in_front_while_the_window_was_behind_are_caught_up(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with signed_in_window(server, qtbot) as (service, window):
            dialog_id = window.models[Section.MINE].dialog_id_at(0)
            tab = window.open_dialog(dialog_id)
            await wait_until(window.isActiveWindow, what="the window in front")
            other = QWidget()
            qtbot.addWidget(other)
            other.show()
            other.activateWindow()
            await wait_until(lambda: not window.isActiveWindow(), what="another window in front")
            channel, address = await address_of(service, dialog_id)
            await customer_writes(server, channel, address, "Вы ещё здесь?")
            await customer_writes(server, channel, address, "Алло")

            def unread() -> int:
                row = service.dialog(dialog_id)
                return row.unread if row is not None else -1

            await wait_until(lambda: unread() == 2, what="two unread while behind")
            window.activateWindow()
            await wait_until(lambda: unread() == 0, what="read once in front again")
            first_new = tab.model.row_of_key(tab.model.unread_key or "")
            assert tab.model.message_at(first_new).text == "Вы ещё здесь?"

    run_with_embedded(qloop, scenario)


def test_every_shortcut_of_the_workspace_is_in_the_f1_table(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    listed = {
        part.replace("…9", "")
        for keys, _action in SHORTCUTS
        for part in re.split(r" / |\s{2,}", keys)
    }

    def bare(keys: str) -> str:  # Alt+7 is listed as Alt+1…9
        return re.sub(r"\+[2-9]$", "+1", keys)

    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            window.open_dialog(window.models[Section.MINE].dialog_id_at(0))
            sequences = [a.shortcut() for a in window.findChildren(QAction)]
            sequences += [s.key() for s in window.findChildren(QShortcut)]
            sequences += [b.shortcut() for b in window.findChildren(QAbstractButton)]
            answered = {
                bare(s.toString(QKeySequence.SequenceFormat.PortableText)) for s in sequences
            }
            answered.discard("")
            assert {"Ctrl+J", "Ctrl+Shift+U", "Alt+1"} <= answered  # the scan finds them
            assert answered - listed == set()

    run_with_server(qloop, scenario)


def test_offline_banner_counts_down_and_the_app_recovers(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        target = urlsplit(url)
        proxy = FaultProxy("127.0.0.1", target.port or 80)
        port = await proxy.start()
        try:
            async with workspace(f"http://127.0.0.1:{port}", qtbot) as window:
                service = window.service
                assert not window.banner.isVisible()
                dialog_id = window.models[Section.MINE].dialog_id_at(0)
                tab = window.open_dialog(dialog_id)
                await wait_until(lambda: tab.model.rowCount() > 0, what="history cached")
                window.close_tab(window.chat_tabs.indexOf(tab))

                await proxy.refuse(True)
                proxy.cut()
                await wait_until(lambda: window.banner.isVisible(), what="offline banner")
                await wait_until(
                    lambda: "Reconnecting in" in window.banner_label.text(), what="countdown"
                )
                # reading and composing work from the cache meanwhile
                tab = window.open_dialog(dialog_id)
                assert tab.model.rowCount() > 0
                type_text(tab.composer, "Отвечу, как только появится связь")
                QTest.keyClick(tab.composer, Qt.Key.Key_Return)
                pending = tab.model.message_at(tab.model.rowCount() - 1)
                assert pending.state == DeliveryState.PENDING

                await proxy.refuse(False)
                QTest.mouseClick(window.retry_button, Qt.MouseButton.LeftButton)
                await wait_until(
                    lambda: service.connection.phase == Phase.ONLINE, timeout=15, what="online"
                )
                assert not window.banner.isVisible()

                def delivered() -> bool:
                    row = tab.model.row_of_key(pending.key)
                    return tab.model.message_at(row).state == DeliveryState.SENT

                await wait_until(delivered, timeout=15, what="the offline message sent")
        finally:
            await proxy.stop()

    run_with_server(qloop, scenario)


def test_a_revoked_session_is_said_in_the_operators_language(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            elsewhere = Api(url)  # the same session ended from elsewhere (an admin, say)
            elsewhere.token = str(window.service.api.token)
            try:
                elsewhere.ok("POST", routes.LOGOUT)
            finally:
                elsewhere.close()
            await wait_until(
                lambda: window.service.connection.phase == Phase.OFFLINE, what="refused"
            )
            ended = "Сеанс завершён. Войдите снова."
            assert window.banner.isVisible() and window.banner_label.text().endswith(ended)
            assert window.statusBar().currentMessage() == ended  # the core's notice

    run_with_server(qloop, scenario)


def test_the_banner_says_offline_in_the_operators_language_only(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            await window.service.close()  # offline for the connection's own reason, "stopped"
            state = window.service.connection
            assert state.phase == Phase.OFFLINE and state.reason and state.error is None
            await wait_until(lambda: window.banner.isVisible(), what="offline banner")
            said = window.banner_label.text()
            assert said == "Нет связи с сервером. Сохранённые диалоги доступны."
            assert state.reason not in said

    run_with_server(qloop, scenario)


def test_models_pass_the_qt_model_tester(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, qtmodeltester: ModelTester
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            for model in window.models.values():
                check_model(qtmodeltester, model, force_py=True)
            dialog_id = window.models[Section.MINE].dialog_id_at(0)
            tab = window.open_dialog(dialog_id)
            await wait_until(lambda: tab.model.rowCount() > 0, what="history")
            check_model(qtmodeltester, tab.model, force_py=True)
            tab.composer.setPlainText("Проверка модели")
            tab.submit()
            await wait_until(
                lambda: tab.model.message_at(tab.model.rowCount() - 1).state == DeliveryState.SENT,
                what="sent",
            )
            check_model(qtmodeltester, tab.model, force_py=True)

    run_with_server(qloop, scenario)


def test_the_dialog_list_shows_the_draft_as_it_changes(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            model = window.models[Section.MINE]
            dialog_id = model.dialog_id_at(0)
            tab = window.open_dialog(dialog_id)

            def draft_shown() -> str:
                return str(model.index(model.row_of(dialog_id)).data(DraftRole) or "")

            type_text(tab.composer, "Уточняю")
            await wait_until(lambda: draft_shown() == "Уточняю", what="the draft in the list")
            type_text(tab.composer, " у склада")
            await wait_until(lambda: draft_shown() == "Уточняю у склада", what="the new text")
            tab.composer.clear()
            await wait_until(lambda: draft_shown() == "", what="the draft gone")

    run_with_server(qloop, scenario)


def test_a_long_dialog_opens_with_each_row_measured_at_one_width(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each layout of the timeline measures every row of the page (a text layout each): the
    first tab is laid out at its final width only, not also at provisional ones, and the scroll
    bar a full page needs is there from the start and "as needed" again once painted."""

    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            dialog_id = window.models[Section.MINE].dialog_id_at(0)
            frames = replayed_messages(window.service, dialog_id, count=PAGE + 20)
            await window.service.sync.on_frames(frames)
            widths: dict[str, list[int]] = {}
            size_hint = MessageDelegate.sizeHint

            def spy(
                delegate: MessageDelegate, option: QStyleOptionViewItem, index: QModelIndex
            ) -> QSize:
                width = option.rect.width()  # 0: Qt asks for a row's size without a layout
                row = index.data(MessageRowRole)
                seen = widths.setdefault(row.key, [])
                if width and width not in seen:
                    seen.append(width)
                return size_hint(delegate, option, index)

            monkeypatch.setattr(MessageDelegate, "sizeHint", spy)
            tab = window.open_dialog(dialog_id)
            assert tab.model.rowCount() == PAGE
            assert tab.timeline.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOn
            await wait_until(
                lambda: (
                    tab.timeline.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
                ),
                what="the first paint",
            )
            final = tab.timeline.viewport().width()
            assert len(widths) == PAGE
            assert all(seen == [final] for seen in widths.values()), widths
            assert tab.timeline.verticalScrollBar().isVisible()
            assert tab.model.message_at(PAGE - 1).text == f"replayed {PAGE + 19}"

    run_with_server(qloop, scenario)


def test_ctrl_shift_s_cycles_my_status_on_the_server(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            service = window.service
            me = service.me
            assert me is not None and me.status == OperatorStatus.ONLINE
            chord = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            QTest.keyClick(window, Qt.Key.Key_S, chord)
            assert window.status_combo.currentData() == OperatorStatus.AWAY
            await wait_until(
                lambda: (now := service.me) is not None and now.status == OperatorStatus.AWAY,
                what="away on the server",
            )
            QTest.keyClick(window, Qt.Key.Key_S, chord)
            QTest.keyClick(window, Qt.Key.Key_S, chord)  # offline, then round to online
            await wait_until(
                lambda: (now := service.me) is not None and now.status == OperatorStatus.ONLINE,
                what="online again",
            )
            assert window.status_combo.currentData() == OperatorStatus.ONLINE

    run_with_server(qloop, scenario)


def test_no_light_line_under_the_tabs_on_the_dark_theme(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, qapp: QApplication
) -> None:
    """Fusion drew the tab bar's base in its own light colour: a white line ran from the
    last tab to the client card on the dark theme."""
    theme.apply(qapp, "dark")

    async def scenario(url: str) -> None:
        async with workspace(url, qtbot) as window:
            window.resize(1360, 820)
            window.open_dialog(window.models[Section.MINE].dialog_id_at(0))
            await asyncio.sleep(0.2)
            bar = window.chat_tabs.tabBar()
            image = window.chat_tabs.grab().toImage()
            x = window.chat_tabs.width() - 20  # right of the only tab
            lightest = max(image.pixelColor(x, y).lightness() for y in range(bar.height() + 2))
            assert lightest < 100, f"a light line under the tabs ({lightest})"

    try:
        run_with_server(qloop, scenario)
    finally:
        theme.apply(qapp, "light")


def test_an_account_with_the_longest_name_keeps_the_window_on_a_laptop_screen(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    """The top bar's name asked for its whole width: an admin may give an account a name
    of 120 characters, and the window grew past the screen with it."""
    name = "Ж" * 120

    async def scenario(server: EmbeddedServer) -> None:
        admin = Api(server.url).login("admin", "admin")
        try:
            body = {"login": "longname", "name": name, "password": "long-name-1", "queue_ids": [1]}
            admin.ok("POST", routes.OPERATORS, json=body)
        finally:
            admin.close()
        async with signed_in_window(
            server, qtbot, "longname", "long-name-1", expect_mine=False
        ) as (_service, window):
            window.resize(1024, 640)
            await wait_until(lambda: window.me_label.full_text() == name, what="the name")
            await asyncio.sleep(0.1)
            assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
            assert window.me_label.toolTip() == name and window.me_label.text().endswith("…")

    run_with_embedded(qloop, scenario)
