"""The timeline: links, copy, context menu, typing, paging, days, system lines, failures,
image thumbnails and files. Against the real embedded backend unless a test says otherwise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from operator_app.core.attachments import AttachmentFiles
from operator_app.core.service import DeliveryState, MessageRow, Section
from operator_app.protocol.models import Attachment, Author, Channel, Message
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.chat_tab import ChatTab
from operator_app.ui.links import find_links
from operator_app.ui.timeline import (
    MAX_WINDOW,
    PAGE,
    DayHeaderRole,
    Hit,
    MessageTextReader,
    TimelineView,
)
from tests.helpers.qt_async import wait_until
from tests.ui.chat_harness import Desk, desk, replayed_messages, run_with_server

# ---- link detection (pure) ------------------------------------------------------------------


def test_links_are_found_in_plain_text_without_trailing_punctuation() -> None:
    text = "См. https://shop.ru/a?b=1, (http://x.org/wiki/A_(b)) и https://ya.ru."
    assert [link.url for link in find_links(text)] == [
        "https://shop.ru/a?b=1",
        "http://x.org/wiki/A_(b)",
        "https://ya.ru",
    ]
    first = find_links(text)[0]
    assert text[first.start : first.end] == first.url


def test_only_http_links_count_and_markup_stays_text() -> None:
    assert find_links("javascript:alert(1) ftp://x.org file:///etc/passwd") == []
    assert find_links("<a href='https://evil.example'>click</a>")[0].url == "https://evil.example"
    assert find_links("https://") == []
    assert find_links("https://" + "a" * 3000 + ".ru") == []  # absurdly long: not a link


# ---- helpers --------------------------------------------------------------------------------


def save_png(image: QImage, path: Path) -> bool:
    """``image.save(path, "PNG")``: PySide6's stub types the format as bytes, it takes str."""
    saved: bool = image.save(str(path), "PNG")  # type: ignore[call-overload]
    return saved


def _point_on_link(view: TimelineView, row: int) -> QPoint:
    rect = view.visualRect(view.model().index(row, 0))
    for y in range(rect.top(), rect.bottom(), 3):
        for x in range(rect.left(), rect.right(), 4):
            if view.hit_at(QPoint(x, y))[1].link:
                return QPoint(x, y)
    raise AssertionError("no link painted in that row")


def _point_on_attachment(view: TimelineView, row: int) -> QPoint:
    rect = view.visualRect(view.model().index(row, 0))
    for y in range(rect.top(), rect.bottom(), 3):
        for x in range(rect.left(), rect.right(), 6):
            if view.hit_at(QPoint(x, y))[1].attachment is not None:
                return QPoint(x, y)
    raise AssertionError("no attachment painted in that row")


def _last(tab: ChatTab) -> MessageRow:
    return tab.model.message_at(tab.model.rowCount() - 1)


async def _customer_writes_in_view(session: Desk, text: str, key: str) -> tuple[ChatTab, int]:
    """The customer of my first dialog writes ``text``: its open tab, scrolled to the row."""
    dialog_id = session.mine()[0]
    channel, address = await session.address_of(dialog_id)
    tab = await session.open_tab(dialog_id)
    await session.customer_says(channel, address, text, key)
    await wait_until(lambda: _last(tab).text == text, what="the customer's message")
    tab.timeline.scrollToBottom()
    await asyncio.sleep(0.05)
    return tab, tab.model.rowCount() - 1


def _state(tab: ChatTab, key: str) -> DeliveryState | None:
    row = tab.model.row_of_key(key)
    return None if row < 0 else tab.model.message_at(row).state


# ---- links, copy, context menu --------------------------------------------------------------


def test_links_open_on_click_and_text_copies(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            text = "Смотрите <b>тут</b>: https://shop.example/order/42?x=1 и ещё."
            tab, row = await _customer_writes_in_view(session, text, "link-1")
            point = _point_on_link(tab.timeline, row)
            QTest.mouseClick(tab.timeline.viewport(), Qt.MouseButton.LeftButton, pos=point)
            assert [url.toString() for url in session.opened] == [
                "https://shop.example/order/42?x=1"
            ]

            # Ctrl+C copies the selected messages' plain text, markup and all
            tab.timeline.setCurrentIndex(tab.model.index(row - 1))
            tab.timeline.selectionModel().select(
                tab.model.index(row), tab.timeline.selectionModel().SelectionFlag.Select
            )
            QTest.keyClick(tab.timeline, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
            copied = QGuiApplication.clipboard().text()
            assert copied == tab.model.message_at(row - 1).text + "\n\n" + text

            tab.timeline.clearSelection()
            menu = tab.timeline.context_menu(point)
            assert menu is not None
            actions = {a.text(): a for a in menu.actions() if a.text()}
            assert "Retry" not in actions  # only failed messages offer it
            actions["Copy link"].trigger()
            assert QGuiApplication.clipboard().text() == "https://shop.example/order/42?x=1"
            actions["Copy text"].trigger()  # the right-clicked message was selected
            assert QGuiApplication.clipboard().text() == text
            menu.close()

    run_with_server(qloop, scenario)


def _point_on_character(view: TimelineView, row: int, position: int) -> QPoint:
    rect = view.visualRect(view.model().index(row, 0))
    for y in range(rect.top(), rect.bottom(), 2):
        for x in range(rect.left(), rect.right(), 2):
            if view.hit_at(QPoint(x, y))[1].text_position == position:
                return QPoint(x, y)
    raise AssertionError(f"character {position} not painted in that row")


def _reader(view: TimelineView, row: int) -> MessageTextReader | None:
    widget = view.indexWidget(view.model().index(row, 0))
    return widget if isinstance(widget, MessageTextReader) else None


def test_part_of_a_message_is_selected_in_a_plain_text_reader(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            text = "Заказ 48213 не пришёл, <b>адрес</b>: Ленина 5\nкв. 12, домофон 12К"
            tab, row = await _customer_writes_in_view(session, text, "reader-1")
            view = tab.timeline

            # a double-click on the order number opens the reader with that word selected
            point = _point_on_character(view, row, text.index("48213") + 2)
            QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
            reader = _reader(view, row)
            assert reader is not None and reader.isReadOnly()
            assert reader.toPlainText() == text  # markup stays text
            assert reader.selected_text() == "48213"
            QTest.keyClick(reader, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
            assert QGuiApplication.clipboard().text() == "48213"
            # it lies over the painted text, which it wraps the same way
            index = view.model().index(row, 0)
            header = bool(index.data(DayHeaderRole))  # the first message after midnight has one
            shape = view.delegate.geometry(view.visualRect(index), _last(tab), view.font(), header)
            assert reader.geometry().topLeft() == shape.text.topLeft()
            assert reader.document().blockCount() == 2

            # the row changing under it (a new delivery state, an edit) keeps the selection
            tab.model.dataChanged.emit(tab.model.index(row), tab.model.index(row))
            await asyncio.sleep(0)
            assert reader.selected_text() == "48213"

            # keyboard: Ctrl+A takes the whole text, Escape closes it and gives the focus back
            QTest.keyClick(reader, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            assert reader.selected_text() == text
            QTest.keyClick(reader, Qt.Key.Key_Escape)
            await wait_until(lambda: _reader(view, row) is None, what="the reader closed")
            assert view.hasFocus() or not view.isActiveWindow()

            # F2 opens it for the current message, and so does the context menu
            view.setCurrentIndex(tab.model.index(row))
            view.setFocus()
            QTest.keyClick(view, Qt.Key.Key_F2)
            assert _reader(view, row) is not None
            view.closePersistentEditor(tab.model.index(row))
            view.setFocus()
            await wait_until(lambda: _reader(view, row) is None, what="the reader closed")
            menu = view.context_menu(point)
            assert menu is not None
            actions = {a.text(): a for a in menu.actions() if a.text()}
            actions["Select part of the text"].trigger()
            assert _reader(view, row) is not None
            menu.close()

    run_with_server(qloop, scenario)


# ---- typing ---------------------------------------------------------------------------------


def test_the_customers_typing_shows_and_clears(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            channel, address = await session.address_of(dialog_id)
            tab = await session.open_tab(dialog_id)
            other = await session.open_tab(session.mine()[1])
            await session.customer_types(channel, address, True)
            await wait_until(lambda: "typing" in tab.typing_label.text(), what="typing shown")
            assert other.typing_label.text() == ""  # only in that customer's tab
            await session.customer_types(channel, address, False)
            await wait_until(lambda: tab.typing_label.text() == "", what="typing cleared")
            await session.customer_types(channel, address, True)
            await wait_until(lambda: tab.typing_label.text() != "", what="typing again")
            await session.customer_says(channel, address, "Готово", "typing-1")
            await wait_until(lambda: tab.typing_label.text() == "", what="cleared by a message")

    run_with_server(qloop, scenario)


# ---- paging ---------------------------------------------------------------------------------


def test_older_history_loads_when_scrolled_to_the_top(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        # 150 messages before the operator signs in: only the newest page reaches the cache
        async with desk(server, "boris") as feeder:
            for number in range(150):
                await feeder.customer_says(
                    Channel.WEBCHAT, "web-history-150", f"Сообщение {number:03d}", f"h{number}"
                )
        async with desk(server) as session:
            await wait_until(
                lambda: any(
                    r.dialog.message_count >= 150 for r in session.service.dialogs(Section.WAITING)
                ),
                what="the long dialog in the waiting list",
            )
            dialog_id = next(
                r.dialog.id
                for r in session.service.dialogs(Section.WAITING)
                if r.dialog.message_count >= 150
            )
            tab = await session.open_tab(dialog_id)
            await wait_until(lambda: tab.model.rowCount() > 0, what="the newest page")
            first_count = tab.model.rowCount()
            assert first_count < 150
            assert _last(tab).text == "Сообщение 149"
            assert tab.model.has_older()
            tab.timeline.scrollToBottom()
            await asyncio.sleep(0.05)
            for _ in range(10):
                tab.timeline.verticalScrollBar().setValue(0)
                await wait_until(lambda: not tab.model._fetching, what="a page to arrive")
                await asyncio.sleep(0.05)
                if tab.model.message_at(0).text == "Сообщение 000":
                    break
            assert tab.model.message_at(0).text == "Сообщение 000"
            texts = [tab.model.message_at(n).text for n in range(tab.model.rowCount())]
            numbered = [t for t in texts if t.startswith("Сообщение ")]
            assert numbered == [f"Сообщение {n:03d}" for n in range(150)]  # in order, once each
            assert not tab.model.has_older()
            assert tab.timeline.verticalScrollBar().value() > 0  # the view kept its place

    run_with_server(qloop, scenario)


def test_messages_arriving_below_while_reading_above_are_counted_on_a_button(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            channel, address = await session.address_of(dialog_id)
            for number in range(30):
                await session.customer_says(channel, address, f"Строка {number}", f"up{number}")
            tab = await session.open_tab(dialog_id)
            await wait_until(lambda: _last(tab).text == "Строка 29", what="the history")
            bar = tab.timeline.verticalScrollBar()
            await wait_until(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
            assert not tab.jump_button.isVisible()

            bar.setValue(bar.maximum() // 3)  # reading further up
            await wait_until(tab.jump_button.isVisible, what="the way down offered")
            assert tab.jump_button.text() == "↓"
            place = bar.value()
            await session.customer_says(channel, address, "Вы тут?", "below-1")
            await session.customer_says(channel, address, "Ответьте, пожалуйста", "below-2")
            await wait_until(lambda: tab.jump_button.text() == "↓ 2", what="two new below")
            assert bar.value() == place  # the reader is not pulled away
            button = tab.jump_button.geometry()
            assert tab.timeline.viewport().geometry().contains(button)

            QTest.mouseClick(tab.jump_button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: bar.value() == bar.maximum(), what="down at the latest")
            await wait_until(lambda: not tab.jump_button.isVisible(), what="the button gone")

            bar.setValue(0)  # up again, then the operator answers: down to the answer
            await wait_until(tab.jump_button.isVisible, what="the way down offered again")
            tab.composer.setPlainText("Да, я здесь")
            tab.submit()
            await wait_until(lambda: _last(tab).text == "Да, я здесь", what="the echo")
            await wait_until(lambda: bar.value() == bar.maximum(), what="down at the answer")
            await wait_until(lambda: not tab.jump_button.isVisible(), what="nothing unseen")

    run_with_server(qloop, scenario)


def test_history_that_comes_after_a_live_message_shows_in_a_short_timeline(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]  # never opened: none of its messages is cached
            assert session.service.messages(dialog_id) == []
            channel, address = await session.address_of(dialog_id)
            # the tab first, as the main window builds it, then the history is fetched;
            # a customer's message comes in between
            tab = ChatTab(session.service, dialog_id, session.runner)
            session.adopt(tab)
            await session.customer_says(channel, address, "Я тут, жду", "before-history")
            await wait_until(lambda: tab.model.rowCount() == 1, what="the live message")
            await session.service.open_dialog(dialog_id)
            cached = [row.text for row in session.service.messages(dialog_id)]
            assert len(cached) > 1
            await wait_until(lambda: tab.model.rowCount() == len(cached), what="the history too")
            shown = [tab.model.message_at(n).text for n in range(tab.model.rowCount())]
            assert shown == cached and shown[-1] == "Я тут, жду"
            bar = tab.timeline.verticalScrollBar()
            await wait_until(lambda: bar.value() == bar.maximum(), what="still at the bottom")

    run_with_server(qloop, scenario)


# ---- days and system lines ------------------------------------------------------------------


def test_day_separators_and_system_lines(qloop: asyncio.AbstractEventLoop, qtbot: QtBot) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            now = datetime.now(UTC)
            first_id = 10_000_000
            for offset, (author, text, when) in enumerate(
                [
                    (Author.CLIENT, "Позавчера", now - timedelta(days=2)),
                    (Author.SYSTEM, "Диалог передан в очередь Поддержка", now - timedelta(days=1)),
                    (Author.CLIENT, "Вчера", now - timedelta(days=1, minutes=-1)),
                ]
            ):
                session.service.sync.apply_message(
                    Message(
                        id=first_id + offset,
                        dialog_id=dialog_id,
                        author=author,
                        text=text,
                        created_at=when,
                    )
                )
            tab.model.reload()
            rows = {tab.model.message_at(n).text: n for n in range(tab.model.rowCount())}
            index = tab.model.index
            two_days_ago = (now - timedelta(days=2)).astimezone().strftime("%d.%m.%Y")
            assert index(rows["Позавчера"]).data(DayHeaderRole) == two_days_ago
            assert (
                index(rows["Диалог передан в очередь Поддержка"]).data(DayHeaderRole) == "Yesterday"
            )
            assert index(rows["Вчера"]).data(DayHeaderRole) == ""  # same day as the line above
            system_row = rows["Диалог передан в очередь Поддержка"]
            system_height = tab.timeline.visualRect(index(system_row)).height()
            bubble_height = tab.timeline.visualRect(index(rows["Вчера"])).height()
            assert 0 < system_height - 30 < bubble_height  # a slim line under its day header
            system_center = tab.timeline.visualRect(index(system_row)).center()
            assert tab.timeline.hit_at(system_center)[1] == Hit()  # nothing to click there
            # ...nor text to select: F2 opens no reader on it, and does on a bubble
            editable = Qt.ItemFlag.ItemIsEditable
            assert not tab.model.flags(index(system_row)) & editable
            assert tab.model.flags(index(rows["Вчера"])) & editable
            tab.timeline.setCurrentIndex(index(system_row))
            QTest.keyClick(tab.timeline, Qt.Key.Key_F2)
            assert tab.timeline.indexWidget(index(system_row)) is None

    run_with_server(qloop, scenario)


def test_an_edit_shows_its_new_text_and_a_deletion_a_placeholder(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            now, cache = datetime.now(UTC), session.service.cache
            said = Message(
                id=20_000_000,
                dialog_id=dialog_id,
                author=Author.CLIENT,
                text="typo",
                created_at=now,
            )
            session.service.sync.apply_message(said)
            cache.update_server_message(said.model_copy(update={"text": "fixed"}))
            tab.model.reload()
            row = tab.model.row_of_key("s20000000")
            assert tab.model.message_at(row).text == "fixed"
            cache.update_server_message(said.model_copy(update={"text": "", "deleted": True}))
            tab.model.reload()
            row = tab.model.row_of_key("s20000000")
            gone = tab.model.message_at(row)
            assert gone.deleted and "Message deleted" in tab.delegate._meta_text(gone)
            assert tab.timeline.visualRect(tab.model.index(row)).height() > 0
            assert not tab.timeline.grab().isNull()  # paints with no text and no files

    run_with_server(qloop, scenario)


# ---- failures and retry ---------------------------------------------------------------------


def test_a_refused_message_shows_failed_and_retry_sends_it(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.waiting()[0]  # not mine yet: the server refuses a reply
            tab = await session.open_tab(dialog_id)
            row = session.service.send(dialog_id, "Ответ до того, как взяла диалог")
            await wait_until(
                lambda: _state(tab, row.key) == DeliveryState.FAILED, what="the refusal"
            )
            failed = tab.model.message_at(tab.model.row_of_key(row.key))
            assert failed.error
            position = tab.model.row_of_key(row.key)
            tab.timeline.scrollToBottom()
            await asyncio.sleep(0.05)
            center = tab.timeline.visualRect(tab.model.index(position)).center()
            menu = tab.timeline.context_menu(center)
            assert menu is not None
            retry = next(a for a in menu.actions() if a.text() == "Retry")

            await session.service.take(dialog_id)
            retry.trigger()
            await wait_until(
                lambda: _state(tab, row.key) == DeliveryState.SENT, what="sent after retry"
            )

    run_with_server(qloop, scenario)


def test_retrying_a_message_refused_again_stays_failed(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, russian: None
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            await session.service.close_dialog(dialog_id, resolution="готово")
            tab.refresh_header()  # the main window does this on DialogsChanged
            assert not tab.send_button.isEnabled() and tab.composer.isReadOnly()
            row = session.service.send(dialog_id, "После закрытия")
            await wait_until(lambda: _state(tab, row.key) == DeliveryState.FAILED, what="refused")
            tab.retry(row.key)
            assert _state(tab, row.key) == DeliveryState.PENDING
            await wait_until(lambda: _state(tab, row.key) == DeliveryState.FAILED, what="again")
            position = tab.model.row_of_key(row.key)
            failed = tab.model.message_at(position)
            why = tab.delegate._meta_text(failed)
            assert "не отправлено: Диалог закрыт." in why
            tab.timeline.resize(420, tab.timeline.height())  # narrower than the reason's line
            await asyncio.sleep(0.05)
            shape = tab.delegate.geometry(
                tab.timeline.visualRect(tab.model.index(position)),
                failed,
                tab.timeline.font(),
                bool(tab.model.index(position).data(DayHeaderRole)),
            )
            small = QFontMetrics(tab.delegate._small(tab.timeline.font()))
            assert small.horizontalAdvance(why) > shape.meta.width()  # so it must wrap...
            whole = small.boundingRect(shape.meta, Qt.TextFlag.TextWordWrap, why)
            assert whole.height() <= shape.meta.height()  # ...and is read whole, in the bubble
            assert shape.bubble.contains(shape.meta)
            tab.retry("no-such-key")  # nothing to retry: said in the status line, no crash
            assert tab.typing_label.text()

    run_with_server(qloop, scenario)


# ---- attachments ----------------------------------------------------------------------------


class PictureServer:
    """Stands in for the attachment download route, which the reference server lacks yet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[int] = []

    async def download(self, attachment: Attachment, dest: Path) -> Path:
        self.calls.append(attachment.id)
        await asyncio.sleep(0)
        if attachment.mime == "image/png":
            image = QImage(800, 400, QImage.Format.Format_RGB32)
            image.fill(QColor("#2e9d4f"))
            save_png(image, dest)
        elif attachment.name == "broken.png":
            dest.write_bytes(b"not a png")
        else:
            dest.write_bytes(b"%PDF-1.4 invoice")
        return dest


def test_images_preview_and_files_open_or_save(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            await session.service.open_dialog(dialog_id)
            pictures = PictureServer(tmp_path)
            files = AttachmentFiles(pictures, tmp_path / "files")
            tab = ChatTab(
                session.service,
                dialog_id,
                session.runner,
                files=files,
                open_url=session.opened.append,
            )
            session.adopt(tab)
            tab.resize(760, 700)
            photo = Attachment(id=1, name="photo.png", mime="image/png", size=4096, url="/a/1")
            invoice = Attachment(
                id=2, name="../счёт.pdf", mime="application/pdf", size=120_000, url="/a/2"
            )
            broken = Attachment(id=3, name="broken.png", mime="image/webp", size=9, url="/a/3")
            session.service.sync.apply_message(
                Message(
                    id=20_000_000,
                    dialog_id=dialog_id,
                    author=Author.CLIENT,
                    text="Фото и счёт",
                    attachments=[photo, invoice, broken],
                    created_at=datetime.now(UTC),
                )
            )
            await wait_until(lambda: _last(tab).text == "Фото и счёт", what="the message")
            tab.timeline.scrollToBottom()
            await wait_until(lambda: tab.thumbnails.pixmap(photo) is not None, what="the thumbnail")
            await wait_until(lambda: tab.thumbnails.unavailable(broken), what="broken image")
            pixmap = tab.thumbnails.pixmap(photo)
            assert pixmap is not None and pixmap.width() <= 240 and pixmap.height() <= 160
            await asyncio.sleep(0.05)
            row = tab.model.rowCount() - 1
            shot = tab.timeline.viewport().grab().toImage()
            shape = tab.delegate.geometry(
                tab.timeline.visualRect(tab.model.index(row)),
                _last(tab),
                tab.timeline.font(),
                bool(tab.model.index(row).data(DayHeaderRole)),
            )
            image_rect = shape.images[0][0]
            inside = shot.pixelColor(image_rect.left() + 20, image_rect.top() + 20)
            assert inside.name() == "#2e9d4f"  # the picture itself is painted in the bubble

            # a click on the image opens the downloaded file
            QTest.mouseClick(
                tab.timeline.viewport(),
                Qt.MouseButton.LeftButton,
                pos=image_rect.center(),
            )
            await wait_until(lambda: session.opened, what="the image opened")
            opened = Path(session.opened[0].toLocalFile())
            assert opened.parent == tmp_path / "files" and opened.is_file()

            # a click on the file offers a save dialog; the copy lands where chosen
            file_rect = shape.files[0][0]
            QTest.mouseClick(
                tab.timeline.viewport(), Qt.MouseButton.LeftButton, pos=file_rect.center()
            )
            dialog = tab.file_dialog
            assert isinstance(dialog, QFileDialog) and dialog.isVisible()
            target = tmp_path / "saved.pdf"
            dialog.fileSelected.emit(str(target))
            dialog.close()
            await wait_until(target.exists, what="the saved copy")
            assert target.read_bytes() == b"%PDF-1.4 invoice"
            assert pictures.calls.count(2) == 1  # downloaded once, copied from the cache
            assert not any(p.name.startswith("..") for p in (tmp_path / "files").iterdir())

    run_with_server(qloop, scenario)


def test_an_attached_picture_travels_through_the_real_server_and_previews(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """Composer -> outbox upload -> message with the attachment -> real download -> thumbnail."""

    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            picture = tmp_path / "фото.png"
            image = QImage(640, 480, QImage.Format.Format_RGB32)
            image.fill(QColor("#c0392b"))
            assert save_png(image, picture)
            leaflet = tmp_path / "буклет.pdf"
            leaflet.write_bytes(b"%PDF-1.4 leaflet")
            tab.set_attachments([picture, leaflet])
            tab.composer.setPlainText("Фото товара и буклет")
            tab.submit()
            sent = _last(tab)
            await wait_until(
                lambda: _state(tab, sent.key) == DeliveryState.SENT, timeout=15, what="uploaded"
            )
            row = tab.model.message_at(tab.model.row_of_key(sent.key))
            assert [a.name for a in row.attachments] == ["фото.png", "буклет.pdf"]
            photo, booklet = row.attachments
            assert photo.mime == "image/png"
            tab.timeline.scrollToBottom()
            await wait_until(
                lambda: tab.thumbnails.pixmap(photo) is not None,
                what="the thumbnail downloaded from the server",
            )
            saved = tmp_path / "copy.pdf"
            dialog = tab.save_attachment(booklet)
            dialog.fileSelected.emit(str(saved))
            dialog.close()
            await wait_until(saved.exists, what="the file saved")
            assert saved.read_bytes() == b"%PDF-1.4 leaflet"

    run_with_server(qloop, scenario)


# ---- attachment files and thumbnails (unit: a scripted downloader) ------------------------


class CountingDownloader:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.gate = asyncio.Event()

    async def download(self, attachment: Attachment, dest: Path) -> Path:
        self.calls += 1
        await self.gate.wait()
        if self.fail:
            from operator_app.core.errors import OfflineError

            raise OfflineError("the server cannot be reached")
        dest.write_bytes(b"data")
        return dest


def test_attachment_files_download_once_and_share_failures(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from operator_app.core.errors import OfflineError

    attachment = Attachment(id=7, name="../../etc/passwd", mime="text/plain", size=4, url="/a/7")

    async def scenario() -> None:
        ok = CountingDownloader()
        files = AttachmentFiles(ok, tmp_path / "ok")
        both = asyncio.gather(files.local_path(attachment), files.local_path(attachment))
        await asyncio.sleep(0)
        ok.gate.set()
        first, second = await both
        assert first == second and ok.calls == 1
        assert first.parent == tmp_path / "ok"  # the customer's name cannot climb out
        assert await files.local_path(attachment) == first and ok.calls == 1  # cached

        broken = CountingDownloader(fail=True)
        failing = AttachmentFiles(broken, tmp_path / "bad")
        pair = asyncio.gather(
            failing.local_path(attachment), failing.local_path(attachment), return_exceptions=True
        )
        await asyncio.sleep(0)
        broken.gate.set()
        results = await pair
        assert all(isinstance(r, OfflineError) for r in results) and broken.calls == 1
        assert failing.cached(attachment) is None  # a failure is not remembered as a file

    qloop.run_until_complete(scenario())


def test_thumbnails_are_bounded_and_garbage_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    from operator_app.ui.thumbnails import read_thumbnail

    big = tmp_path / "big.png"
    image = QImage(4000, 1000, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    assert save_png(image, big)
    thumb = read_thumbnail(big)
    assert thumb.width() == 240 and thumb.height() == 60  # aspect kept, inside the box
    garbage = tmp_path / "fake.png"
    garbage.write_bytes(b"\x89PNG not really")
    assert read_thumbnail(garbage).isNull()


# ---- a replay reaches the timeline in batches -----------------------------------------------


def test_a_replay_is_inserted_per_batch_and_the_window_stays_bounded(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            service = session.service
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            await wait_until(lambda: tab.model.rowCount() > 0, what="the newest page")
            inserts: list[int] = []
            tab.model.rowsInserted.connect(lambda _p, first, last: inserts.append(last - first))
            frames = replayed_messages(service, dialog_id, count=MAX_WINDOW + PAGE)
            await service.sync.on_frames(frames)
            await wait_until(
                lambda: _last(tab).text == f"replayed {MAX_WINDOW + PAGE - 1}",
                what="the last replayed row",
            )
            assert len(inserts) < len(frames) / 5  # whole batches, not a row at a time
            await wait_until(
                lambda: tab.model.rowCount() <= MAX_WINDOW + PAGE // 2, what="the window trimmed"
            )
            texts = [tab.model.message_at(n).text for n in range(tab.model.rowCount())]
            replayed = [t for t in texts if t.startswith("replayed ")]
            first = len(frames) - len(replayed)
            assert replayed == [f"replayed {n}" for n in range(first, len(frames))]
            assert tab.model.has_older()  # what was dropped comes back from the cache
            tab.timeline.verticalScrollBar().setValue(0)
            await wait_until(
                lambda: tab.model.message_at(0).text != texts[0], what="older rows again"
            )

    run_with_server(qloop, scenario)
