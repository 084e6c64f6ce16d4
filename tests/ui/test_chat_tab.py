"""The composer: comment mode, drafts across tabs, attachments, limits; and a screenshot check."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from operator_app.core.service import DeliveryState, Section
from operator_app.protocol.limits import MAX_UPLOAD_BYTES
from operator_app.protocol.models import MessageKind
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import i18n, theme
from operator_app.ui.main_window import MainWindow
from tests.helpers.qt_async import type_text, wait_until
from tests.ui.chat_harness import desk, run_with_server
from tests.ui.shell_helpers import signed_in_window


def test_comment_mode_is_impossible_to_miss_and_sends_a_comment(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            tab = await session.open_tab(session.mine()[0])
            assert tab.send_button.text() == "Send" and not tab.comment_hint.isVisible()
            plain = tab.composer_frame.grab().toImage().pixelColor(3, 3)
            QTest.mouseClick(tab.comment_toggle, Qt.MouseButton.LeftButton)
            assert tab.comment_mode and tab.comment_hint.isVisible()
            assert tab.send_button.text() == "Add comment"
            amber = tab.composer_frame.grab().toImage().pixelColor(3, 8)
            assert amber != plain
            assert amber.name().lower() == theme.current().bubble_comment.lower()
            type_text(tab.composer, "Клиент постоянный, дать скидку")
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            last = tab.model.message_at(tab.model.rowCount() - 1)
            assert last.kind == MessageKind.COMMENT and last.text.startswith("Клиент")
            assert not tab.comment_mode and tab.send_button.text() == "Send"  # back to replies
            await wait_until(
                lambda: (
                    tab.model.message_at(tab.model.row_of_key(last.key)).state == DeliveryState.SENT
                ),
                what="the comment stored",
            )

    run_with_server(qloop, scenario)


def test_draft_survives_closing_and_reopening_the_tab(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            window = MainWindow(session.service)
            qtbot.addWidget(window)
            window.show()
            try:
                dialog_id = session.mine()[0]
                tab = window.open_dialog(dialog_id)
                type_text(tab.composer, "Черновик: уточнить адрес")
                window.close_tab(window.chat_tabs.indexOf(tab))  # closing saves at once
                assert dialog_id not in window.tabs_by_dialog
                row = session.service.dialog(dialog_id)
                assert row is not None and row.has_draft
                window.reopen_closed_tab()
                reopened = window.tabs_by_dialog[dialog_id]
                assert reopened is not tab
                assert reopened.composer.toPlainText() == "Черновик: уточнить адрес"
                other = window.open_dialog(session.mine()[1])
                assert other.composer.toPlainText() == ""  # drafts are per dialog
            finally:
                window.close()
                await window.runner.cancel_all()

    run_with_server(qloop, scenario)


def test_attached_files_go_to_the_outbox_and_bad_ones_are_refused(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            receipt = tmp_path / "чек.pdf"
            receipt.write_bytes(b"%PDF-1.4")
            huge = tmp_path / "huge.bin"
            with huge.open("wb") as sparse:
                sparse.truncate(MAX_UPLOAD_BYTES + 1)
            dialog = tab.choose_attachments()
            assert dialog.isVisible()
            dialog.filesSelected.emit([str(receipt), str(huge), str(tmp_path / "gone.txt")])
            dialog.close()
            assert tab.attachments == [receipt]
            assert tab.attachment_bar.isVisible() and "чек.pdf" in tab.attachment_label.text()
            problem = tab.typing_label.text()
            assert "huge.bin" in problem and "gone.txt" in problem

            # a file alone (no text) is a message; the core gets the path to upload
            tab.send_button.click()
            heads = session.service.cache.outbox_heads()
            assert [Path(p) for h in heads for p in h.attachment_paths] == [receipt.resolve()]
            assert tab.attachments == [] and not tab.attachment_bar.isVisible()

            QTest.mouseClick(tab.send_button, Qt.MouseButton.LeftButton)  # empty: nothing
            assert len(session.service.cache.outbox_heads()) <= 1

    run_with_server(qloop, scenario)


def test_too_long_text_is_refused_with_a_reason_and_kept(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            tab = await session.open_tab(session.mine()[0])
            count = tab.model.rowCount()
            tab.composer.setPlainText("я" * 9000)
            tab.submit()
            assert tab.model.rowCount() == count
            assert "9000" in tab.typing_label.text()
            assert len(tab.composer.toPlainText()) == 9000  # nothing typed is lost

    run_with_server(qloop, scenario)


def test_screenshots_in_russian_light_and_dark(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)

    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            for name in ("light", "dark"):
                theme.apply(app, name)
                tab = await session.open_tab(dialog_id)
                tab.service.send(dialog_id, "Ссылка на заказ: https://shop.example/42")
                type_text(tab.composer, "/прив")
                await wait_until(tab.completer.popup.isVisible, what="the completer")
                await asyncio.sleep(0.1)
                shot = tab.grab()
                path = tmp_path / f"chat-tab-{name}.png"
                assert shot.save(str(path)) and path.stat().st_size > 10_000
                assert tab.send_button.text() == "Отправить"
                window_colour = shot.toImage().pixelColor(5, shot.height() // 2)
                is_dark = window_colour.lightness() < 128
                assert is_dark == (name == "dark")
                session.close_tab(tab)

    assert i18n.install_language("ru")
    try:
        run_with_server(qloop, scenario)
    finally:
        i18n.install_language("en")
        theme.apply(app, "light")


def test_a_long_file_name_never_widens_the_window(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """The attached files' names and the problem line wrapped only at spaces: one file
    name of 200 characters made the window 2,128 pixels wide. They wrap within the tab now,
    a longer word clipped, the whole text in the tooltip."""

    async def scenario(server: EmbeddedServer) -> None:
        async with signed_in_window(server, qtbot) as (service, window):
            window.resize(1024, 640)
            tab = window.open_dialog(service.dialogs(Section.MINE)[0].dialog.id)
            contract = tmp_path / ("Договор_поставки_" + "x" * 180 + ".pdf")
            contract.write_bytes(b"%PDF-1.4")
            missing = tmp_path / ("y" * 200 + ".txt")
            tab.set_attachments([contract, missing])
            await asyncio.sleep(0.2)
            assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
            assert tab.attachment_label.isVisible()
            assert contract.name in tab.attachment_label.toolTip()
            assert missing.name in tab.typing_label.toolTip()
            assert tab.send_button.geometry().right() <= tab.width()

    run_with_server(qloop, scenario)


def test_a_clients_message_ends_their_typing_but_not_a_problem_shown(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """The status line is shared: a client's message cleared it whatever it said, so a
    refused file's reason vanished as soon as the client wrote."""

    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            await wait_until(lambda: tab.model.rowCount() > 0, what="history")
            channel, address = await session.address_of(dialog_id)
            tab.set_attachments([tmp_path / "gone.txt"])
            problem = tab.typing_label.text()
            assert "gone.txt" in problem
            rows = tab.model.rowCount()
            await session.customer_says(channel, address, "Ещё вопрос", "after-problem")
            await wait_until(lambda: tab.model.rowCount() > rows, what="the client's message")
            assert tab.typing_label.text() == problem

    run_with_server(qloop, scenario)
