"""The dialog list after changes: order from the index, only changed or new rows read again;
rows painted again only when they look different."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import QListView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from operator_app.core.rows import DialogFilter, DialogRow, Section
from operator_app.core.service import DeskService
from operator_app.core.trusted import dialog_info
from operator_app.protocol.models import Channel, Dialog, DialogState
from operator_app.ui.dialog_list import (
    DialogDelegate,
    DialogIdRole,
    DialogListModel,
    DialogRowRole,
    RowLook,
)
from tests.helpers.model_tester import check_model

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _row(dialog_id: int, unread: int = 0) -> DialogRow:
    dialog = Dialog(
        id=dialog_id,
        channel=Channel.TELEGRAM,
        contact_id=100 + dialog_id,
        contact_name=f"Client {dialog_id}",
        queue_id=10,
        assignee_id=1,
        state=DialogState.ACTIVE,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=dialog_id),
    )
    return DialogRow(dialog_info(dialog), unread, False, 60)


class FakeService:
    """The section in the cache: ``order`` (by the index) and ``rows``; counts what is read."""

    def __init__(self) -> None:
        self.order = [1, 2, 3, 4]
        self.rows = {i: _row(i) for i in self.order}
        self.read: list[int] = []

    def dialogs(self, section: Section, _narrowed: DialogFilter) -> list[DialogRow]:
        self.read += self.order
        return [self.rows[i] for i in self.order]

    def dialog_ids(self, section: Section, _narrowed: DialogFilter) -> list[int]:
        return list(self.order)

    def dialog_rows(self, ids: Sequence[int]) -> dict[int, DialogRow]:
        self.read += ids
        return {i: self.rows[i] for i in ids if i in self.rows}

    def draft(self, dialog_id: int) -> str:
        return ""

    def as_service(self) -> DeskService:
        return cast(DeskService, self)


def _shown(model: DialogListModel) -> list[tuple[int, int]]:
    rows = [model.index(n).data(DialogRowRole) for n in range(model.rowCount())]
    return [(row.dialog.id, row.unread) for row in rows]


def test_a_refresh_reads_only_changed_and_new_rows(qtmodeltester: ModelTester) -> None:
    service = FakeService()
    model = DialogListModel(service.as_service(), Section.MINE)
    check_model(qtmodeltester, model)
    assert service.read == [1, 2, 3, 4]  # the first read takes everything
    service.read.clear()

    service.rows[3] = replace(service.rows[3], unread=2)  # a message in dialog 3
    service.rows[5] = _row(5)  # and a new dialog, on top
    service.order = [3, 5, 1, 2, 4]
    model.refresh(frozenset({3, 5}))
    assert sorted(service.read) == [3, 5]
    assert _shown(model) == [(3, 2), (5, 0), (1, 0), (2, 0), (4, 0)]
    assert model.index(0).data(DialogIdRole) == 3

    service.read.clear()
    service.order = [3, 5, 1, 4]  # dialog 2 left the section (closed, transferred)
    del service.rows[2]
    model.refresh(frozenset({2}))
    assert service.read == []  # nothing left to read: the ids say it all
    assert _shown(model) == [(3, 2), (5, 0), (1, 0), (4, 0)]
    check_model(qtmodeltester, model)


def test_a_refresh_without_changes_named_reads_everything() -> None:
    service = FakeService()
    model = DialogListModel(service.as_service(), Section.MINE)
    service.read.clear()
    service.rows[4] = replace(service.rows[4], queue_sla_seconds=30)  # a queue's SLA changed
    model.refresh()
    assert service.read == [1, 2, 3, 4]
    assert model.index(3).data(DialogRowRole).queue_sla_seconds == 30


def test_rows_repaint_from_their_pixmap_until_they_look_different(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list repaints every second (waiting timers) and, under load, every 100 ms: a row
    painted twice in the same look is kept as a pixmap and copied while it looks the same,
    with the pixels of a paint in place; a row whose look keeps changing (a new row object,
    a ticking timer, the selection) is painted in place each time."""
    service = FakeService()
    service.rows[2] = replace(
        service.rows[2], dialog=replace(service.rows[2].dialog, waiting_since=T0)
    )
    model = DialogListModel(service.as_service(), Section.MINE)
    view = QListView()
    qtbot.addWidget(view)
    delegate = DialogDelegate(view)
    now = [T0 + timedelta(minutes=5)]
    delegate.now = lambda: now[0]
    view.setItemDelegate(delegate)
    view.setModel(model)
    view.resize(330, 400)
    view.show()
    kept: list[int] = []
    render = DialogDelegate._render

    def spy(self: DialogDelegate, row: DialogRow, look: RowLook, font: QFont) -> QPixmap:
        kept.append(row.dialog.id)
        return render(self, row, look, font)

    monkeypatch.setattr(DialogDelegate, "_render", spy)

    def paint() -> QImage:
        kept.clear()
        return view.viewport().grab().toImage()

    in_place = paint()
    assert kept == []  # first seen: painted in place
    assert paint() == in_place and sorted(kept) == [1, 2, 3, 4]  # the same look: kept
    assert paint() == in_place and kept == []  # and copied

    for _ in range(3):  # only the waiting timer ticks, at every paint
        now[0] += timedelta(seconds=1)
        paint()
        assert kept == []
    paint()
    assert kept == [2]  # it stopped ticking (here): kept again

    service.rows[3] = replace(service.rows[3], unread=4)
    model.refresh(frozenset({3}))
    view.setCurrentIndex(model.index(0))
    changed = paint()
    assert kept == []
    assert paint() == changed and sorted(kept) == [1, 3]


def test_a_first_screenful_is_read_at_once_and_the_rest_when_asked(
    qtmodeltester: ModelTester,
) -> None:
    service = FakeService()
    service.order = list(range(1, 101))
    service.rows = {i: _row(i) for i in service.order}
    model = DialogListModel(service.as_service(), Section.MINE, first=40)
    assert service.read == list(range(1, 41))  # only the first screenful is parsed
    assert model.rowCount() == 100  # but the whole section is counted (title, scroll bar)
    assert model.rows_read() == 40
    assert model.index(39).data(DialogIdRole) == 40  # a row of the screenful: no read
    assert service.read == list(range(1, 41))

    assert model.index(70).data(DialogIdRole) == 71  # a row below it reads the rest
    assert service.read == list(range(1, 101))
    assert model.rows_read() == 100 and model.rowCount() == 100
    check_model(qtmodeltester, model)


def test_rows_gone_before_the_rest_is_read_leave_the_list(qtmodeltester: ModelTester) -> None:
    service = FakeService()
    service.order = list(range(1, 11))
    service.rows = {i: _row(i) for i in service.order}
    model = DialogListModel(service.as_service(), Section.MINE, first=3)
    check_model(qtmodeltester, model)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))
    del service.rows[5], service.rows[9]  # pruned from the cache before the rest was read
    model.read_rest()
    assert resets == [8]  # the views learn the smaller count
    assert [model.dialog_id_at(n) for n in range(model.rowCount())] == [1, 2, 3, 4, 6, 7, 8, 10]
    check_model(qtmodeltester, model)


def test_a_refresh_before_the_rest_is_read_sees_every_row() -> None:
    service = FakeService()
    model = DialogListModel(service.as_service(), Section.MINE, first=2)
    service.rows[4] = replace(service.rows[4], unread=3)
    service.order = [4, 1, 2, 3]
    model.refresh(frozenset({4}))
    assert _shown(model) == [(4, 3), (1, 0), (2, 0), (3, 0)]
