"""The main window reads only the shown section's rows at start: the other sections' tab
titles count ids, their lists are read when first shown, and both agree with what an eager
build would show. The filter lists fill after the first paint (``finish_start``)."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from operator_app.core.service import Section
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.main_window import SECTIONS
from tests.helpers.qt_async import wait_until
from tests.ui.shell_helpers import signed_in_window


def test_hidden_sections_count_without_reading_rows_and_load_when_shown(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:

        async def scenario() -> None:
            async with signed_in_window(server, qtbot) as (service, window):
                waiting = SECTIONS.index(next(s for s in SECTIONS if s[0] == Section.WAITING))
                count = len(service.dialog_ids(Section.WAITING))
                assert count > 0  # the demo has waiting dialogs
                assert Section.WAITING not in window.models  # not read yet
                await wait_until(
                    lambda: window.section_bar.tabText(waiting).endswith(f" {count}"),
                    what="the waiting count in its tab title",
                )

                window.section_bar.setCurrentIndex(waiting)
                model = window.models[Section.WAITING]
                assert window.dialog_view.model() is model
                assert model.rowCount() == count  # the list agrees with the title
                assert [model.dialog_id_at(n) for n in range(count)] == service.dialog_ids(
                    Section.WAITING
                )

                # The filter lists: only "All" until finish_start (after the first paint).
                assert window.list_filters.tag_combo.count() == 1
                window.finish_start()
                tags = window.list_filters.tag_combo
                assert "VIP" in [tags.itemData(n) for n in range(tags.count())]

        qloop.run_until_complete(scenario())
