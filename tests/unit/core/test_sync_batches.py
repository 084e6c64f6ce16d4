"""A replay applied in batches: the same cache as one event at a time, crash-safe, one change
set per batch."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from operator_app.core.cache import Cache
from operator_app.core.changes import Assigned, Change, DialogsChanged, MessagesChanged
from operator_app.core.rows import DeliveryState
from operator_app.core.sync import SyncEngine, merge_changes
from operator_app.protocol.events import (
    DialogUpdated,
    EventFrame,
    MessageCreated,
    OperatorUpdated,
    ReplayDoneFrame,
    ServerFrame,
)
from operator_app.protocol.models import Author, DialogState, MessageKind
from tests.unit.core.core_factories import dialog, message, operator
from tests.unit.core.core_fakes import FakeApi

PENDING_KEY = "c-pending-1"


class Side:
    """One cache and engine; ``batches`` holds each change set the engine emitted."""

    def __init__(self, path: Path) -> None:
        self.cache = Cache.open(path)
        self.cache.set_me(operator(1))
        self.cache.set_cursor(100)
        self.batches: list[list[Change]] = []
        self.engine = SyncEngine(self.cache, FakeApi().as_client(), self._emit)
        # a message typed before the reconnect, acknowledged by an event of the replay
        self.cache.add_pending(
            client_msg_id=PENDING_KEY,
            dialog_id=2,
            kind=MessageKind.MESSAGE,
            text="my answer",
            attachment_paths=[],
            author_id=1,
            author_name="Anna",
            created_at=message(1).created_at,
        )

    def _emit(self, changes: Sequence[Change]) -> None:
        self.batches.append(list(changes))

    def state(self) -> dict[str, Any]:
        """Everything the cache holds that events touch."""
        conn = self.cache.conn
        return {
            "cursor": self.cache.cursor,
            "me": self.cache.get_meta("me"),
            "dialogs": conn.execute(
                "SELECT id, data, unread, counted_upto, hist_from, hist_complete FROM dialogs "
                "ORDER BY id"
            ).fetchall(),
            "messages": conn.execute(
                "SELECT id, key, server_id, client_msg_id, dialog_id, text, state FROM messages "
                "ORDER BY id"
            ).fetchall(),
            "outbox": conn.execute("SELECT client_msg_id FROM outbox").fetchall(),
            "operators": conn.execute("SELECT id, data FROM operators").fetchall(),
            "search": conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'replay' ORDER BY rowid"
            ).fetchall(),
        }


def replay() -> list[EventFrame]:
    """A reconnect replay: new messages over three dialogs, an assignment to me, the ack of my
    pending message, a directory change, and two events already applied (cursor <= 100)."""
    frames: list[EventFrame] = []
    cursor = 98
    for n in range(1, 61):
        dialog_id = n % 3 + 1
        if n == 20:
            sent = message(
                1000 + n,
                2,
                "my answer",
                author=Author.OPERATOR,
                client_msg_id=PENDING_KEY,
                minutes=n,
            )
            event: Any = MessageCreated(message=sent, dialog=dialog(2, last=sent, minutes=n))
        elif n == 30:
            mine = dialog(3, assignee_id=1, state=DialogState.ACTIVE, minutes=n)
            event = DialogUpdated(dialog=mine)
        elif n == 40:
            event = OperatorUpdated(operator=operator(1, name="Анна"))
        else:
            msg = message(1000 + n, dialog_id, f"replay {n}", minutes=n)
            event = MessageCreated(message=msg, dialog=dialog(dialog_id, last=msg, minutes=n))
        frames.append(EventFrame(cursor=cursor, event=event))
        cursor += 1
    return frames


@pytest.fixture
def one_by_one(tmp_path: Path) -> Side:
    side = Side(tmp_path / "single.sqlite3")
    for frame in replay():
        side.engine.apply_event(frame.cursor, frame.event)
    return side


@pytest.mark.asyncio
@pytest.mark.parametrize("budget", [0.0, 10.0])  # a batch per event / one batch for all
async def test_batches_leave_the_same_cache_as_one_event_at_a_time(
    tmp_path: Path, one_by_one: Side, budget: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("operator_app.core.sync.BATCH_SECONDS", budget)
    side = Side(tmp_path / "batched.sqlite3")
    await side.engine.on_frames(replay())
    assert side.state() == one_by_one.state()
    assert side.cache.cursor == 157
    row = side.cache.message(PENDING_KEY)
    assert row is not None and row.state is DeliveryState.SENT and row.server_id == 1020


@pytest.mark.asyncio
async def test_one_change_set_per_batch(tmp_path: Path) -> None:
    side = Side(tmp_path / "c.sqlite3")
    frames = replay()
    consumed = side.engine.apply_events(frames, budget=10.0)
    assert consumed == len(frames)
    [changes] = side.batches
    assert [type(c) for c in changes].count(DialogsChanged) == 1
    dialogs_changed = next(c for c in changes if isinstance(c, DialogsChanged))
    assert dialogs_changed.ids == {1, 2, 3}
    per_dialog = [c for c in changes if isinstance(c, MessagesChanged)]
    assert sorted(c.dialog_id for c in per_dialog) == [1, 2, 3]
    inserted = [row.key for c in per_dialog for row in c.inserted]
    assert (
        len(inserted) == len(set(inserted)) == 54
    )  # 60 - 3 applied before - ack, assignment, operator
    assert changes.count(Assigned(3)) == 1


@pytest.mark.asyncio
async def test_a_failure_mid_batch_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, one_by_one: Side, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = Side(tmp_path / "c.sqlite3")
    real = side.cache.apply_server_message
    failing = {1035}

    def flaky(msg: Any) -> Any:
        if msg.id in failing:
            raise sqlite3.OperationalError("disk I/O error")
        return real(msg)

    monkeypatch.setattr(side.cache, "apply_server_message", flaky)
    with pytest.raises(sqlite3.OperationalError):
        await side.engine.on_frames(replay())
    # the events before the failing one landed, with their cursor; nothing after it
    assert side.cache.cursor == 131
    assert side.cache.messages_with_server_ids([1034, 1035]) != []
    assert [r.server_id for r in side.cache.messages_with_server_ids([1034, 1035])] == [1034]
    failing.clear()
    await side.engine.on_frames(replay())  # the server replays from the stored cursor (or all)
    assert side.state() == one_by_one.state()


@pytest.mark.asyncio
async def test_a_crash_inside_a_batch_leaves_the_cache_before_it(
    tmp_path: Path, one_by_one: Side, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed mid batch: the transaction never commits (here: an exception that is
    not an Exception, like the interpreter going down), and the replay restores everything."""
    side = Side(tmp_path / "c.sqlite3")
    before = side.state()
    real = side.cache.apply_server_message

    def dying(msg: Any) -> Any:
        if msg.id == 1035:
            raise SystemExit("killed")
        return real(msg)

    monkeypatch.setattr(side.cache, "apply_server_message", dying)
    with pytest.raises(SystemExit):
        side.engine.apply_events(replay(), budget=10.0)
    assert side.state() == before  # nothing of the batch, not even its cursor
    assert side.batches == []  # and nothing announced
    monkeypatch.undo()
    frames: list[ServerFrame] = [*replay(), ReplayDoneFrame(cursor=157)]
    await side.engine.on_frames(frames)
    assert side.state() == one_by_one.state()


def test_a_row_inserted_then_updated_in_a_batch_is_announced_once_as_inserted() -> None:
    first = message(7, 1, "hello")
    side_rows = {
        "v1": _row(first, DeliveryState.PENDING),
        "v2": _row(first, DeliveryState.SENT),
    }
    merged = merge_changes(
        [
            MessagesChanged(1, (side_rows["v1"],), ()),
            DialogsChanged(frozenset({1})),
            MessagesChanged(1, (), (side_rows["v2"],)),
            DialogsChanged(frozenset({2})),
        ]
    )
    assert merged == [
        MessagesChanged(1, (side_rows["v2"],), ()),
        DialogsChanged(frozenset({1, 2})),
    ]


def _row(msg: Any, state: DeliveryState) -> Any:
    from operator_app.core.rows import MessageRow

    return MessageRow(
        key=f"s{msg.id}",
        server_id=msg.id,
        dialog_id=msg.dialog_id,
        author=msg.author,
        author_id=msg.author_id,
        author_name=msg.author_name,
        kind=msg.kind,
        text=msg.text,
        attachments=(),
        created_at=msg.created_at,
        state=state,
    )


@pytest.mark.asyncio
async def test_the_wal_is_checkpointed_off_the_loop_thread_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = Side(tmp_path / "c.sqlite3")
    threads: list[int] = []
    real = side.cache.checkpoint

    def checkpoint() -> None:
        threads.append(threading.get_ident())
        real()

    monkeypatch.setattr(side.cache, "checkpoint", checkpoint)
    assert side.cache.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 25_000
    frames = replay()
    await side.engine.on_frames(frames[:30])
    await side.engine.on_frames(frames[30:])  # within the same second: no second checkpoint
    for _ in range(100):
        if threads:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    await side.engine.close()


class LoopTurns:
    """Counts turns of the event loop while it runs (a task that only yields)."""

    def __init__(self) -> None:
        self.count = 0
        self.task = asyncio.create_task(self._spin())

    async def _spin(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.mark.asyncio
async def test_a_replay_lets_the_loop_turn_between_a_batch_and_the_handling_of_its_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("operator_app.core.sync.BATCH_SECONDS", 0.0)  # one event a batch
    side = Side(tmp_path / "c.sqlite3")
    turns = LoopTurns()
    seen: list[tuple[int, int | None]] = []  # (loop turns, stored cursor) at each emit
    side.engine._emit = lambda changes: seen.append((turns.count, side.cache.cursor))
    await side.engine.on_frames(replay()[3:23])  # a replay of twenty: a batch per event
    await turns.stop()
    assert [cursor for _, cursor in seen] == list(range(101, 121))  # in order, after commits
    # the GUI's loop ran between each commit and its emit, and between the emit and the
    # next batch: at least two turns between consecutive change sets
    assert all(later - earlier >= 2 for (earlier, _), (later, _) in itertools.pairwise(seen))


@pytest.mark.asyncio
async def test_a_committed_batch_is_announced_even_when_the_replay_is_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("operator_app.core.sync.BATCH_SECONDS", 0.0)
    side = Side(tmp_path / "c.sqlite3")
    replaying = asyncio.create_task(side.engine.on_frames(replay()[3:23]))
    while side.cache.cursor == 100:  # until the first batch has committed
        await asyncio.sleep(0)
    assert side.batches == []  # committed, not announced yet: its emit waits for a loop turn
    replaying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await replaying
    assert side.cache.cursor == 101
    [changes] = side.batches  # announced all the same, and nothing after it
    assert any(isinstance(c, MessagesChanged) for c in changes)


@pytest.mark.asyncio
async def test_live_events_read_together_are_applied_and_announced_in_one_step(
    tmp_path: Path,
) -> None:
    side = Side(tmp_path / "c.sqlite3")
    turns = LoopTurns()
    await asyncio.sleep(0)
    before = turns.count
    seen: list[int] = []
    side.engine._emit = lambda changes: seen.append(turns.count)
    await side.engine.on_frames(replay()[3:5])  # two live events that arrived together
    await turns.stop()
    assert seen == [before] and side.cache.cursor == 102  # no loop turn before the emit
