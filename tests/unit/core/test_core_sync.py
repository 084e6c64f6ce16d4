"""The sync engine against a fake server: idempotent events, snapshots, resync, history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from operator_app.core.cache import Cache
from operator_app.core.changes import (
    Assigned,
    Change,
    DialogsChanged,
    DirectoryChanged,
    HistoryReset,
    MessagesChanged,
    Notice,
    TypingChanged,
)
from operator_app.core.sync import SyncEngine
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.events import (
    DialogUpdated,
    EphemeralFrame,
    ErrorFrame,
    EventFrame,
    HelloFrame,
    MessageCreated,
    OperatorUpdated,
    ReplayDoneFrame,
    ResyncRequiredFrame,
    TemplateDeleted,
    Typing,
)
from operator_app.protocol.models import (
    Author,
    Dialog,
    DialogState,
    OperatorStatus,
    Page,
    Queue,
    Template,
    TemplateScope,
)
from tests.unit.core.core_factories import dialog, message, operator
from tests.unit.core.core_fakes import FakeApi


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.cache = Cache.open(tmp_path / "c.sqlite3")
        self.api = FakeApi()
        self.changes: list[Change] = []
        self.engine = SyncEngine(self.cache, self.api.as_client(), self.changes.extend)

    async def hello(self, head: int) -> None:
        await self.engine.on_frame(
            HelloFrame(protocol_version=1, server_version="t", operator_id=1, head_cursor=head)
        )
        await self.settle()

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


@pytest.mark.asyncio
async def test_first_hello_takes_head_cursor_and_snapshots(harness: Harness) -> None:
    harness.api.dialog_list = [dialog(i, assignee_id=1) for i in range(1, 451)]
    await harness.hello(head=77)
    assert harness.cache.cursor == 77
    assert harness.cache.get_meta("snapshot_owed") is None
    assert harness.api.calls.count("dialogs") == 3  # pages of 200
    me = harness.cache.me()
    assert me is not None and me.id == 1
    assert len(harness.cache.open_dialog_ids()) == 450
    dialog_ids = frozenset().union(
        *(c.ids for c in harness.changes if isinstance(c, DialogsChanged))
    )
    assert len(dialog_ids) == 450
    assert not any(isinstance(c, Assigned) for c in harness.changes)  # a snapshot is no news


@pytest.fixture
def moscow_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "MSK-3")  # POSIX: UTC+3, no tz database needed
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.asyncio
@pytest.mark.usefixtures("moscow_time")
async def test_a_snapshot_asks_for_closed_today_from_the_operators_local_midnight(
    tmp_path: Path,
) -> None:
    # 02:30 in Moscow is 23:30 UTC the day before: the server's own "today" (UTC midnight)
    # would leave out what the operator closed since their midnight
    late_night = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    api = FakeApi()
    api.dialog_list = [dialog(i, assignee_id=1) for i in range(1, 251)]
    engine = SyncEngine(
        Cache.open(tmp_path / "c.sqlite3"),
        api.as_client(),
        lambda _c: None,
        clock=lambda: late_night,
    )
    await engine.snapshot()
    moscow_midnight = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert api.day_starts == [moscow_midnight] * 2  # one per page of 200
    assert all(start.utcoffset() == timedelta(hours=3) for start in api.day_starts)


@pytest.mark.asyncio
async def test_interrupted_snapshot_is_owed_until_the_next_hello(harness: Harness) -> None:
    harness.api.down = True
    await harness.hello(head=5)
    assert harness.cache.get_meta("snapshot_owed") == "1"
    harness.api.down = False
    harness.api.dialog_list = [dialog(1)]
    await harness.hello(head=9)
    assert harness.cache.get_meta("snapshot_owed") is None
    assert harness.cache.cursor == 5  # events since 5 are replayed by the server
    assert harness.cache.get_dialog(1) is not None


@pytest.mark.asyncio
async def test_events_are_idempotent_and_stored_with_their_cursor(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    harness.cache.set_cursor(10)
    msg = message(5, 1, "привет")
    frame = EventFrame(
        cursor=11, event=MessageCreated(message=msg, dialog=dialog(1, last=msg, minutes=1))
    )
    await harness.engine.on_frame(frame)
    assert harness.cache.cursor == 11
    first = list(harness.changes)
    assert any(isinstance(c, MessagesChanged) and c.inserted for c in first)
    await harness.engine.on_frame(frame)  # replayed
    renumbered = EventFrame(cursor=12, event=frame.event)  # same event, new cursor
    await harness.engine.on_frame(renumbered)
    assert harness.changes == first
    assert harness.cache.cursor == 12
    assert len(harness.cache.messages(1)) == 1
    row = harness.cache.dialog_row(1)
    assert row is not None and row.unread == 1
    await harness.engine.on_frame(ReplayDoneFrame(cursor=11))
    assert harness.cache.cursor == 12  # never backwards


@pytest.mark.asyncio
async def test_assigned_only_when_someone_else_gives_it_to_me(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    harness.cache.set_cursor(0)
    await harness.engine.on_frame(EventFrame(cursor=1, event=DialogUpdated(dialog=dialog(1))))
    moved = dialog(1, assignee_id=1, state=DialogState.ACTIVE, minutes=1)
    await harness.engine.on_frame(EventFrame(cursor=2, event=DialogUpdated(dialog=moved)))
    assert Assigned(1) in harness.changes
    harness.changes.clear()
    harness.engine.apply_dialog(dialog(2, assignee_id=1, state=DialogState.ACTIVE), by_me=True)
    assert not any(isinstance(c, Assigned) for c in harness.changes)


@pytest.mark.asyncio
async def test_directory_events(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    harness.cache.set_cursor(0)
    renamed = operator(1, name="Анна")
    await harness.engine.on_frame(EventFrame(cursor=1, event=OperatorUpdated(operator=renamed)))
    me = harness.cache.me()
    assert me is not None and me.name == "Анна"
    assert DirectoryChanged("me") in harness.changes
    await harness.engine.on_frame(EventFrame(cursor=2, event=TemplateDeleted(template_id=99)))
    assert DirectoryChanged("templates") not in harness.changes  # nothing to delete


@pytest.mark.asyncio
async def test_a_directory_read_before_an_event_does_not_undo_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lists are read over several requests; an event applied meanwhile is newer than
    what they say about its row (the chaos rounds once kept a colleague's load at 4 this way)."""
    harness.cache.set_me(operator(1))
    harness.cache.set_cursor(0)
    shared = Template(id=7, scope=TemplateScope.SHARED, shortcut="hi", title="Hi", body="Hello")
    harness.api.operator_list = [operator(1), operator(2, load=4), operator(3, load=1)]
    harness.api.template_list = [shared]
    gate = asyncio.Event()
    original = harness.api.queues

    async def slow_queues() -> list[Queue]:
        await gate.wait()
        return await original()

    monkeypatch.setattr(harness.api, "queues", slow_queues)
    refresh = asyncio.create_task(harness.engine.refresh_directory())
    await harness.settle()  # the operators are read: colleague 2 at load 4
    await harness.engine.on_frame(
        EventFrame(cursor=1, event=OperatorUpdated(operator=operator(2, load=5)))
    )
    await harness.engine.on_frame(EventFrame(cursor=2, event=TemplateDeleted(template_id=7)))
    gate.set()
    await refresh
    loads = {o.id: o.load for o in harness.cache.operators()}
    assert loads == {1: 0, 2: 5, 3: 1}  # the event's 5 stays; 3, untouched, is the list's
    assert harness.cache.templates() == []  # deleted by the event, though the list had it


@pytest.mark.asyncio
async def test_an_answer_about_an_operator_yields_to_a_newer_event(harness: Harness) -> None:
    harness.cache.set_me(operator(1, status=OperatorStatus.AWAY))
    harness.cache.set_cursor(0)
    mark = harness.engine.stamps.clock  # the request leaves...
    newer = operator(1, status=OperatorStatus.ONLINE, load=3)
    await harness.engine.on_frame(EventFrame(cursor=1, event=OperatorUpdated(operator=newer)))
    harness.engine.apply_operator(operator(1, status=OperatorStatus.ONLINE, load=2), mark)
    me = harness.cache.me()
    assert me is not None and me.load == 3
    harness.engine.apply_operator(
        operator(1, status=OperatorStatus.OFFLINE), harness.engine.stamps.clock
    )
    me = harness.cache.me()
    assert me is not None and me.status is OperatorStatus.OFFLINE  # nothing newer: it lands


@pytest.mark.asyncio
async def test_typing_is_passed_on_without_touching_the_cursor(harness: Harness) -> None:
    harness.cache.set_cursor(3)
    await harness.engine.on_frame(EphemeralFrame(event=Typing(dialog_id=4, who="client")))
    assert harness.changes == [TypingChanged(4, "client", None, True)]
    assert harness.cache.cursor == 3


@pytest.mark.asyncio
async def test_history_is_fetched_lazily_and_never_twice(harness: Harness) -> None:
    history = [message(i, 1) for i in range(1, 121)]
    harness.api.history[1] = history
    harness.cache.upsert_dialog(dialog(1, last=history[-1]))
    assert harness.engine.has_older(1)
    assert await harness.engine.ensure_newest_page(1) == 50
    assert await harness.engine.ensure_newest_page(1) == 0
    assert [r.server_id for r in harness.cache.messages(1, limit=1)] == [120]
    assert await harness.engine.load_older(1) == 50
    assert await harness.engine.load_older(1) == 20
    assert not harness.engine.has_older(1)
    assert await harness.engine.load_older(1) == 0
    fetches = [c for c in harness.api.calls if c.startswith("messages:")]
    assert fetches == ["messages:1:None", "messages:1:71", "messages:1:21"]
    assert len(harness.cache.messages(1, limit=500)) == 120


@pytest.mark.asyncio
async def test_resync_resets_histories_that_fell_behind(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    old = [message(i, 1) for i in range(1, 4)]
    harness.api.history[1] = list(old)
    harness.cache.upsert_dialog(dialog(1, assignee_id=1, last=old[-1]))
    await harness.engine.ensure_newest_page(1)
    assert harness.cache.history_window(1) == (1, True)
    missed = message(9, 1, "while away")
    harness.api.dialog_list = [dialog(1, assignee_id=1, last=missed, minutes=5)]
    harness.cache.set_cursor(50)
    await harness.engine.on_frame(ResyncRequiredFrame(head_cursor=80))
    await harness.settle()
    assert harness.cache.cursor == 80
    assert HistoryReset(1) in harness.changes
    assert harness.cache.history_window(1) == (None, False)
    harness.api.history[1] = [*old, missed]
    await harness.engine.ensure_newest_page(1)
    assert [r.text for r in harness.cache.messages(1)][-1] == "while away"


@pytest.mark.asyncio
async def test_snapshot_learns_the_fate_of_dialogs_no_longer_listed(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    harness.cache.upsert_dialog(dialog(1, assignee_id=1))
    harness.cache.upsert_dialog(dialog(2, assignee_id=1))
    transferred = dialog(2, assignee_id=7, state=DialogState.ACTIVE, minutes=3)
    harness.api.dialog_list = [transferred]  # 1 is gone entirely; 2 no longer listed...
    await harness.engine.snapshot()
    assert harness.cache.get_dialog(1) is None
    stored = harness.cache.get_dialog(2)
    assert stored is not None and stored.assignee_id == 7


@pytest.mark.asyncio
async def test_a_resync_during_a_snapshot_repeats_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    original = harness.api.dialogs
    calls = 0

    async def slow_dialogs(*args: Any, **kwargs: Any) -> Page[Dialog]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(harness.api, "dialogs", slow_dialogs)
    harness.api.dialog_list = [dialog(1)]
    await harness.hello(head=5)  # the snapshot waits on the gate
    harness.api.dialog_list = [dialog(1), dialog(2)]  # changed after the first page was read...
    await harness.engine.on_frame(ResyncRequiredFrame(head_cursor=9))
    gate.set()
    for _ in range(20):
        await harness.settle()
    assert harness.engine.snapshots_done == 2
    assert harness.cache.get_dialog(2) is not None
    assert harness.cache.get_meta("snapshot_owed") is None
    assert harness.cache.cursor == 9


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_server_that_went_back_in_time_rebuilds_the_cache(harness: Harness) -> None:
    harness.cache.set_me(operator(1))
    harness.cache.set_cursor(5000)
    harness.cache.upsert_dialog(dialog(1, minutes=500, subject="from the old server"))
    harness.cache.apply_server_message(message(77, 1))
    harness.cache.save_draft(1, "keep me", dialog(1).created_at)
    harness.api.dialog_list = [dialog(1, minutes=1, subject="fresh")]
    await harness.hello(head=12)
    stored = harness.cache.get_dialog(1)
    assert stored is not None and stored.subject == "fresh"  # not blocked by the old updated_at
    assert harness.cache.messages(1) == []
    assert harness.cache.cursor == 12
    assert harness.cache.draft(1) == "keep me"
    assert any(isinstance(c, Notice) for c in harness.changes)


@pytest.mark.asyncio
async def test_a_resync_counts_what_the_customer_wrote_meanwhile_as_unread(
    harness: Harness,
) -> None:
    harness.cache.set_me(operator(1))
    seen = message(3, 1, "counted live")
    harness.cache.upsert_dialog(dialog(1, assignee_id=1, last=seen))
    harness.cache.upsert_dialog(dialog(2, assignee_id=1, last=message(4, 2)))
    assert harness.cache.mark_read(1) and harness.cache.mark_read(2)
    missed = message(9, 1, "while the events were lost", minutes=9)
    mine = message(10, 2, "my answer", author=Author.OPERATOR, minutes=10)
    harness.api.dialog_list = [
        dialog(1, assignee_id=1, last=missed, minutes=9),
        dialog(2, assignee_id=1, last=mine, minutes=10),
    ]
    harness.cache.set_cursor(50)
    await harness.engine.on_frame(ResyncRequiredFrame(head_cursor=80))
    await harness.settle()
    unread = {i: row.unread for i in (1, 2) if (row := harness.cache.dialog_row(i)) is not None}
    assert unread == {1: 1, 2: 0}  # the customer wrote in 1; in 2 the operator did, last
    assert any(isinstance(c, DialogsChanged) and 1 in c.ids for c in harness.changes)
    await harness.engine.snapshot()  # the same state again is not counted twice
    row = harness.cache.dialog_row(1)
    assert row is not None and row.unread == 1


@pytest.mark.asyncio
async def test_an_error_frame_is_logged_not_shown(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused typing flag (the dialog was closed meanwhile) is no news for the operator:
    typing is best effort, and the status bar kept the server's English sentence for good."""
    caplog.set_level("INFO", logger="operator_app.core.sync")
    await harness.engine.on_frame(
        ErrorFrame(code=ErrorCode.DIALOG_CLOSED, message="the dialog is closed")
    )
    assert harness.changes == []
    assert "the dialog is closed" in caplog.text
