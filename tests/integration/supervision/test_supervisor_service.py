"""SupervisorService over the real ApiClient and cache, against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operator_app.app import sign_in
from operator_app.core.errors import ActionError
from operator_app.core.service import Section
from operator_app.core.supervision import ReportFilter, SupervisorService
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import MessageKind, OperatorStatus
from operator_app.protocol.reports import BucketSize
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.desk_rows import dialog_of, me_of


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as srv:
        yield srv


@pytest.mark.asyncio
async def test_supervisor_service_end_to_end(server: EmbeddedServer, tmp_path: Path) -> None:
    desk = await sign_in(server.url, "olga", "demo", demo=True, cache_dir=tmp_path)
    try:
        supervision = SupervisorService(desk)
        assert supervision.allowed
        board = await supervision.board()
        assert board.queues and board.operators
        assert board.day_start.utcoffset() is not None

        now = datetime.now(UTC)
        report = await supervision.report(
            ReportFilter(now - timedelta(days=7), now, BucketSize.DAY)
        )
        assert len(report.rows) == 7 and report.totals.dialogs > 0
        with pytest.raises(ActionError) as empty:
            await supervision.report(ReportFilter(now, now, BucketSize.DAY))
        assert empty.value.code == ErrorCode.VALIDATION_ERROR

        elena = next(o for o in board.operators if o.login == "elena")
        changed = await supervision.set_capacity(elena.operator_id, 4)
        assert changed.capacity == 4
        with pytest.raises(ActionError) as too_many:
            await supervision.set_capacity(elena.operator_id, 500)
        assert too_many.value.code == ErrorCode.VALIDATION_ERROR  # refused before sending
        away = await supervision.set_operator_status(elena.operator_id, OperatorStatus.OFFLINE)
        assert away.status == OperatorStatus.OFFLINE

        anna = next(o for o in board.operators if o.login == "anna")
        dialog_id = anna.active_dialog_ids[0]
        message = await supervision.whisper(dialog_id, "Проверьте адрес доставки")
        assert message.kind == MessageKind.COMMENT and message.dialog_id == dialog_id
        with pytest.raises(ActionError):
            await supervision.whisper(dialog_id, "")

        await supervision.take_over(dialog_id)
        row = desk.dialog(dialog_id)
        assert row is not None and row.dialog.assignee_id == me_of(desk).id
        await supervision.reassign(dialog_id, anna.operator_id, "Вернула вам")
        assert dialog_of(desk, dialog_id).assignee_id == anna.operator_id
        assert desk.dialogs(Section.SUPERVISED)
    finally:
        await desk.close()
        desk.cache.close()


@pytest.mark.asyncio
async def test_an_operator_is_refused_by_the_server(server: EmbeddedServer, tmp_path: Path) -> None:
    desk = await sign_in(server.url, "anna", "demo", demo=True, cache_dir=tmp_path)
    try:
        supervision = SupervisorService(desk)
        assert not supervision.allowed
        now = datetime.now(UTC)
        calls = [
            supervision.board(),
            supervision.report(ReportFilter(now - timedelta(days=1), now)),
            supervision.set_capacity(me_of(desk).id + 1, 3),
        ]
        for call in calls:
            with pytest.raises(ActionError) as refused:
                await call
            assert refused.value.code == ErrorCode.FORBIDDEN
    finally:
        await desk.close()
        desk.cache.close()
