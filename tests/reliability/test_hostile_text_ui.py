"""Hostile customer text through the real server into a real chat tab: HTML and script stay
literal text, right-to-left and zero-width marks, very long words and huge emoji runs wrap
inside the bubble, nothing widens the timeline. A screenshot is taken and checked. And a
customer's name as long as a channel may send it never widens the window.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from operator_app.core.service import Section
from operator_app.protocol.models import Channel, InboundMessage, without_nul
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import i18n
from operator_app.ui.timeline import DayHeaderRole
from tests.helpers.qt_async import wait_until
from tests.helpers.reliability_world import FIGURES, ROOT
from tests.ui.chat_harness import desk, run_with_server
from tests.ui.shell_helpers import customer_writes, signed_in_window

MARKUP = '<b>bold</b><script>alert("x")</script><img src=x onerror=alert(1)>&amp;'
HOSTILE = [
    MARKUP,
    "\u202eевиж ecnetnes desrever\u202c and \u200f\u05e9\u05dc\u05d5\u05dd\u200e mixed",
    "zero\u200bwidth\u200d\u2060joiners\ufeffand\u00adsoft hyphens",
    "Слово" * 800,  # one 4000-character word
    "\U0001f600\U0001f44d\U0001f3fd\U0001f468\u200d\U0001f469\u200d\U0001f467" * 600,
    "line\n" * 60,
    "\u0000\u0007control\u001b[31mchars",
]
SHOWN = [without_nul(text) for text in HOSTILE]  # the protocol stores no NUL (StoredText)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    gc.collect()
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)


def test_hostile_customer_text_is_plain_and_keeps_the_layout(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            channel, address = await session.address_of(dialog_id)
            for n, text in enumerate(HOSTILE):
                await session.customer_says(channel, address, text, f"hostile-{n}")
            tab = await session.open_tab(dialog_id)
            model = tab.model
            await wait_until(
                lambda: (
                    [model.message_at(r).text for r in range(model.rowCount())][-len(HOSTILE) :]
                    == SHOWN
                ),
                what="every hostile message, verbatim but for its NULs",
            )
            tab.timeline.scrollToBottom()
            await asyncio.sleep(0.1)
            view = tab.timeline
            width = view.viewport().width()
            font = view.font()
            assert view.horizontalScrollBar().maximum() == 0, "something widened the timeline"
            for row in range(model.rowCount() - len(HOSTILE), model.rowCount()):
                index = model.index(row)
                message = model.message_at(row)
                header = bool(index.data(DayHeaderRole))
                rect = view.visualRect(index)
                shape = tab.delegate.geometry(rect, message, font, header)
                assert shape.bubble.left() >= 0 and shape.bubble.right() <= width, message.text[:40]
                assert shape.text.width() <= shape.wrap + 1, f"text overflows: {message.text[:40]}"
                assert 0 < shape.bubble.height() < 60_000
                painted = tab.delegate._layout(message.text, font, shape.wrap)
                lines = [painted.lineAt(i) for i in range(painted.lineCount())]
                widest = max(line.naturalTextWidth() for line in lines)
                assert widest <= shape.text.width() + 2, (
                    f"painted past the bubble: {message.text[:40]!r}"
                )
                assert painted.boundingRect().height() <= shape.text.height() + 2
                if message.text == MARKUP:  # rich text would show only "bold" and no tags
                    literal = QFontMetrics(font).horizontalAdvance(MARKUP)
                    rows = max(1, shape.text.height() // QFontMetrics(font).lineSpacing())
                    assert shape.text.width() * rows >= 0.8 * literal
            shot = tab.grab()
            assert not shot.isNull() and shot.width() == tab.width()
            path = tmp_path / "hostile-text.png"
            if os.environ.get("RELIABILITY_SCALE") == "full":
                path = ROOT / "docs" / "reliability-hostile-text.png"
            assert shot.save(str(path)), f"could not save {path}"
            image = shot.toImage()
            background = image.pixelColor(image.width() - 3, image.height() // 2)
            assert background.alpha() == 255
            FIGURES.add("hostile text in the UI", bad_inputs_tried=len(HOSTILE))

    run_with_server(qloop, scenario)


LONGEST_NAME = "<b>" + "Ы" * 113 + "</b>"  # one word, as long as a name may be (120)


def test_a_customers_longest_name_never_widens_the_window(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    """A name is the customer's to choose: one unbreakable word of the longest a channel may
    send, in a window the size of a small laptop's screen. The window keeps its width (before,
    the tab's header asked for the whole name: 2,720 pixels), the name is cut with its whole
    text in the tooltip, the dialog's buttons stay in the tab, and, with the side panels as
    narrow as the operator can drag them, the list and the template buttons keep their words."""

    with pytest.raises(ValidationError):  # the longest: one character more is refused
        InboundMessage(address="a", text="t", external_id="e", name=LONGEST_NAME + "Ы")

    async def scenario(server: EmbeddedServer) -> None:
        async with signed_in_window(server, qtbot) as (service, window):
            window.resize(1024, 640)
            window.finish_start()
            accepted = await customer_writes(
                server, Channel.VIBER, "viber-longest-name", "Здравствуйте", name=LONGEST_NAME
            )
            await wait_until(
                lambda: service.dialog(accepted.dialog_id) is not None, what="the dialog listed"
            )
            splitter = window.splitter
            ends = (splitter.widget(0), splitter.widget(splitter.count() - 1))
            sides = [side for side in ends if side is not None]
            for row in service.dialogs(Section.MINE):
                window.open_dialog(row.dialog.id)
            tab = window.open_dialog(accepted.dialog_id)
            # as a splitter sees it: a minimum set on the panel overrides its layout's
            narrowest = [w.minimumWidth() or w.minimumSizeHint().width() for w in sides]
            splitter.setSizes([narrowest[0], 10_000, narrowest[1]])
            await asyncio.sleep(0.2)
            assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
            title = tab.title_label
            assert title.full_text() == LONGEST_NAME and title.toolTip() == LONGEST_NAME
            assert title.textFormat() == Qt.TextFormat.PlainText
            assert title.text().startswith("<b>ЫЫ") and title.text().endswith("…")
            assert title.fontMetrics().horizontalAdvance(title.text()) <= title.width()
            assert tab.take_button.isVisible()
            assert tab.close_button.geometry().right() <= tab.width()
            view = window.dialog_view
            assert view.horizontalScrollBar().maximum() == 0, "the list scrolls sideways"
            model = view.model()
            for row_number in range(model.rowCount()):
                assert view.visualRect(model.index(row_number, 0)).right() < view.viewport().width()
            panel = window.templates_panel
            for button in (panel.new_button, panel.edit_button, panel.delete_button):
                assert button.width() >= button.sizeHint().width(), button.text()

    assert i18n.install_language("ru")  # the longer words: "Изменить" for "Edit"
    try:
        run_with_server(qloop, scenario)
    finally:
        i18n.install_language("en")
