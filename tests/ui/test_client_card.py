"""The client card in the right panel, against the real embedded backend."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from operator_app.core.service import Section
from operator_app.core.shell_reads import cached_contact_card
from operator_app.protocol.models import Channel
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.client_card import ClientCard, DialogIdItemRole
from tests.helpers.qt_async import wait_until
from tests.ui.shell_helpers import (
    collect_garbage_here,
    current_tab,
    customer_writes,
    signed_in_window,
)

IVAN = "Иван Петров"  # demo contact with WhatsApp and Telegram, and an old closed dialog


def _addresses(card: ClientCard) -> list[str]:
    grid = card.identities_grid
    items = [grid.itemAt(n) for n in range(grid.count())]
    labels = [item.widget() for item in items if item is not None]
    return [w.text() for w in labels if isinstance(w, QLabel) and w.text()]


def _history(card: ClientCard) -> dict[int, bool]:
    """dialog id -> can be opened"""
    items = [card.history_list.item(n) for n in range(card.history_list.count())]
    return {
        int(i.data(DialogIdItemRole)): bool(i.flags() & Qt.ItemFlag.ItemIsEnabled) for i in items
    }


__all__ = ["collect_garbage_here"]  # an autouse fixture


def test_card_shows_channels_and_history_and_opens_a_previous_dialog(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_card(server, qtbot))


async def _card(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        card: ClientCard = window.client_card
        vip = next(
            r.dialog.id for r in service.dialogs(Section.MINE) if r.dialog.contact_name == IVAN
        )
        window.open_dialog(vip)
        await wait_until(lambda: card.card is not None, what="the card from the server")
        assert card.name_label.text() == IVAN
        assert card.name_label.textFormat() == Qt.TextFormat.PlainText
        assert _addresses(card) == ["+79161234501", "@ivan_petrov"]
        old = _history(card)
        assert old and vip not in old  # the current dialog is not "previous"
        assert not any(old.values())  # 9 days old and closed: not cached, so not clickable

        again = await customer_writes(server, Channel.WHATSAPP, "+79161234501", "Снова я")
        await wait_until(lambda: service.dialog(again.dialog_id), what="the new dialog cached")
        card.refresh()
        await wait_until(lambda: _history(card).get(again.dialog_id), what="it in the history")
        row = list(_history(card)).index(again.dialog_id)
        rect = card.history_list.visualItemRect(card.history_list.item(row))
        QTest.mouseClick(card.history_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert current_tab(window).dialog_id == again.dialog_id
        assert card.dialog_id == again.dialog_id
        await wait_until(lambda: _history(card).get(vip), what="the VIP dialog listed as previous")

        # offline: the fetched card stays; a never-fetched client falls back to the dialog row
        server.stop()
        other = next(
            r
            for section in (Section.MINE, Section.WAITING)
            for r in service.dialogs(section)
            if cached_contact_card(service, r.dialog.contact_id) is None
        )
        window.open_dialog(vip)  # the card follows the current tab
        assert _addresses(card) == ["+79161234501", "@ivan_petrov"]
        window.open_dialog(other.dialog.id)
        assert card.name_label.text() == other.dialog.contact_name
        await wait_until(lambda: "Offline" in card.status_label.text(), what="the offline note")


def test_hostile_client_name_stays_plain_text(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(_hostile(server, qtbot))


async def _hostile(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        name = '<img src="x" onerror=alert(1)><b>Злой</b>'
        accepted = await customer_writes(
            server, Channel.WEBCHAT, "web-evil", "<a href=x>hi</a>", name
        )
        await wait_until(lambda: service.dialog(accepted.dialog_id), what="the dialog cached")
        card: ClientCard = window.client_card
        card.show_dialog(accepted.dialog_id)
        await wait_until(lambda: card.card is not None, what="the card")
        assert card.name_label.text() == name
        assert card.name_label.textFormat() == Qt.TextFormat.PlainText
        assert _addresses(card) == ["web-evil"]
