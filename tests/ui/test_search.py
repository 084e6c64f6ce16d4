"""The Ctrl+K quick switcher and global search, against the real embedded backend."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from operator_app.core.service import Section
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.search import (
    EntryKind,
    QuickSwitcher,
    SwitcherEntry,
    build_entries,
    dialog_number,
    snippet_runs,
)
from tests.helpers.desk_rows import dialog_of
from tests.helpers.qt_async import type_text, wait_until
from tests.ui.shell_helpers import (
    address_of,
    collect_garbage_here,
    current_tab,
    customer_writes,
    signed_in_window,
)

__all__ = ["collect_garbage_here"]  # an autouse fixture


def test_snippet_runs_mark_hits_and_drop_stray_markers() -> None:
    assert snippet_runs("…где мой \x02заказ\x03 номер…") == [
        ("…где мой ", False),
        ("заказ", True),
        (" номер…", False),
    ]
    assert snippet_runs("\x03a\x02b") == [("a", False), ("b", True)]
    assert snippet_runs("<b>x</b>") == [("<b>x</b>", False)]  # text stays text, never markup
    assert dialog_number("#42") == 42 and dialog_number(" 7 ") == 7
    assert dialog_number("42a") is None and dialog_number("") is None


def test_switcher_opens_a_dialog_by_name_with_the_keyboard(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        qloop.run_until_complete(_open_by_name(server, qtbot))


async def _open_by_name(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        target = window.models[Section.WAITING].dialog_id_at(0)
        name = dialog_of(service, target).contact_name
        window.activateWindow()
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        switcher = window.quick_switcher
        await wait_until(switcher.isVisible, what="the switcher popup")
        type_text(switcher.query_edit, name.split()[0])
        await wait_until(lambda: _first_dialog(switcher) == target, what="the dialog listed")
        QTest.keyClick(switcher.query_edit, Qt.Key.Key_Return)
        assert not switcher.isVisible()
        assert window.current_tab() is not None
        assert current_tab(window).dialog_id == target

        # the open tab now comes first under "Open tabs", and "#id" finds it too
        switcher.popup()
        type_text(switcher.query_edit, f"#{target}")
        switcher.refresh()
        kinds = [e.kind for e in switcher.model.entries]
        assert kinds[:2] == [EntryKind.HEADER, EntryKind.TAB]
        assert (entry := switcher.current_entry()) is not None and entry.dialog_id == target
        QTest.keyClick(switcher.query_edit, Qt.Key.Key_Escape)
        assert not switcher.isVisible()


def _first_dialog(switcher: QuickSwitcher) -> int | None:
    entry = switcher.current_entry()
    return entry.dialog_id if isinstance(entry, SwitcherEntry) else None


def test_full_text_hit_opens_the_dialog_and_selects_the_message(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_message_hit(server, qtbot))


async def _message_hit(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        mine = window.models[Section.MINE]
        dialog_id = mine.dialog_id_at(mine.rowCount() - 1)
        channel, address = await address_of(service, dialog_id)
        await customer_writes(server, channel, address, "Посылка с кенгуру <b>не</b> пришла")
        await wait_until(lambda: service.search("кенгуру"), what="the message cached and indexed")
        for _ in range(3):  # later messages: the hit is not the last row, where a tab opens
            await customer_writes(server, channel, address, "ещё одно сообщение")
        await service.open_dialog(dialog_id)  # caches the newest page, without a tab
        assert dialog_id not in window.tabs_by_dialog

        switcher = window.quick_switcher
        switcher.popup()
        type_text(switcher.query_edit, "кенгу")
        QTest.keyClick(switcher.query_edit, Qt.Key.Key_Return)  # Enter right after typing
        tab = window.tabs_by_dialog[dialog_id]
        assert window.current_tab() is tab

        def selected_text() -> str:
            index = tab.timeline.currentIndex()
            return tab.model.message_at(index.row()).text if index.isValid() else ""

        await wait_until(lambda: "кенгуру" in selected_text(), what="the hit selected")
        switcher.popup()  # the same query again, to look at the list
        switcher.refresh()
        assert not switcher.grab().isNull()  # the delegate paints headers, dialogs and hits
        hits = [e for e in switcher.model.entries if e.kind is EntryKind.MESSAGE]
        assert hits and hits[0].dialog_id == dialog_id
        assert ("кенгуру", True) in snippet_runs(hits[0].title)
        headers = [e.title for e in switcher.model.entries if e.kind is EntryKind.HEADER]
        assert any(f"#{dialog_id}" in title for title in headers)  # grouped by dialog


def test_search_is_offline_and_survives_hostile_queries(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        qloop.run_until_complete(_offline(server, qtbot))


async def _offline(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        dialog_id = window.models[Section.MINE].dialog_id_at(0)
        window.open_dialog(dialog_id)
        await wait_until(lambda: current_tab(window).model.rowCount() > 0, what="history")
        text = current_tab(window).model.message_at(0).text
        word = max(text.split(), key=len).strip(".,!?")
        server.stop()
        for query in ['"', "NEAR(", "*", "a OR", "\x02\x03", "'; DROP TABLE x; --"]:
            build_entries(service, query, [dialog_id])  # never raises
        entries = build_entries(service, word, [])
        assert any(e.kind is EntryKind.MESSAGE and e.dialog_id == dialog_id for e in entries)
