"""The sync engine: applies websocket frames and REST answers to the cache, idempotently.

Cursor rules. The stored cursor is the last event applied, written in the same transaction as
the event. A first start (no cursor) and ``resync_required`` both take the server's head cursor
at once and owe a *snapshot* (a paged REST walk of every visible dialog plus the directory);
that debt is stored too (meta ``snapshot_owed``), so a snapshot cut short by the network is
retried at the next hello instead of forgotten. Events keep being applied meanwhile: dialog
rows only move forward in ``updated_at``, messages are keyed by id, and a directory row an
event rewrote keeps the event's version over a list read before it (``DirectoryStamps``), so
the order in which a snapshot and live events land does not matter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from operator_app.net.errors import ApiError, NetError
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.events import (
    ContactUpdated,
    DialogUpdated,
    EphemeralFrame,
    ErrorFrame,
    Event,
    EventFrame,
    HelloFrame,
    MessageCreated,
    MessageUpdated,
    OperatorUpdated,
    QueueUpdated,
    ReplayDoneFrame,
    ResyncRequiredFrame,
    ServerFrame,
    TemplateChanged,
    TemplateDeleted,
)
from operator_app.protocol.models import Dialog, DialogScope, DialogState, Message, Operator

from .cache import Cache
from .changes import (
    SERVER_RESET,
    Assigned,
    Change,
    DialogsChanged,
    DirectoryChanged,
    HistoryReset,
    MessagesChanged,
    Notice,
    TypingChanged,
)
from .clock import local_midnight, utcnow
from .rows import MessageRow
from .tasks import TaskSet

if TYPE_CHECKING:  # annotations only: httpx loads after the window's first paint
    from operator_app.net.api import ApiClient

log = logging.getLogger(__name__)

DIALOG_PAGE = 200
HISTORY_PAGE = 50
# Open dialogs the snapshot no longer lists are fetched one by one, at most this many.
MAX_STALE_REFETCH = 200
SNAPSHOT_TASK = "sync-snapshot"
# A replay is applied in batches: one transaction and one change set each, holding the loop
# (and so the GUI thread) for at most about this long before the next batch.
BATCH_SECONDS = 0.010
# Runs of at most this many event frames are live events read together, longer ones a replay
# (the realtime connection hands over what is buffered: ~1-2 frames at 200 events/s, hundreds
# in a replay).
LIVE_RUN_FRAMES = 16
CHECKPOINT_TASK = "sync-checkpoint"
CHECKPOINT_EVERY_SECONDS = 1.0


DIRECTORY_TABLES = ("operators", "queues", "templates")


class DirectoryStamps:
    """Which directory rows (operators, queues, templates) events rewrote, in order. A REST
    answer read before such an event must not overwrite it: the event is at least as new, and
    a change after it brings its own event. Dialogs need none of this (``updated_at``)."""

    def __init__(self) -> None:
        self.clock = 0  # a mark: the stamps so far
        self._stamps: dict[tuple[str, int], int] = {}

    def stamp(self, table: str, row_id: int) -> None:
        self.clock += 1
        self._stamps[(table, row_id)] = self.clock

    def since(self, mark: int, table: str) -> set[int]:
        """The rows of ``table`` events rewrote after ``mark``."""
        return {row for (t, row), at in self._stamps.items() if t == table and at > mark}

    def current(self, mark: int, table: str, row_id: int) -> bool:
        """Whether an answer about the row, asked at ``mark``, may be stored: no event
        rewrote the row since."""
        return self._stamps.get((table, row_id), 0) <= mark


class SyncEngine:
    def __init__(
        self,
        cache: Cache,
        api: ApiClient,
        emit: Callable[[Sequence[Change]], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cache = cache
        self.api = api
        self._emit = emit
        self._clock = clock
        self._tasks = TaskSet()
        self._history_locks: dict[int, asyncio.Lock] = {}
        self._directory_fresh = False  # refreshed once per session, then kept by events
        self.stamps = DirectoryStamps()
        self._acting_on: set[int] = set()  # dialogs with an action of mine in flight
        self._snapshot_again = False
        self._checkpointed = 0.0  # time.monotonic() of the last background checkpoint
        self.snapshots_done = 0

    @property
    def my_id(self) -> int | None:
        me = self.cache.me_info()
        return None if me is None else me.id

    async def close(self) -> None:
        await self._tasks.cancel_all()

    # ---- frames ---------------------------------------------------------------------------

    async def on_frame(self, frame: ServerFrame) -> None:
        """Called by the realtime connection for each frame, in order."""
        if isinstance(frame, EventFrame):
            self.apply_event(frame.cursor, frame.event)
        elif isinstance(frame, EphemeralFrame):
            typing = frame.event
            self._emit([TypingChanged(typing.dialog_id, typing.who, typing.operator_id, typing.on)])
        elif isinstance(frame, HelloFrame):
            self._on_hello(frame)
        elif isinstance(frame, ReplayDoneFrame):
            self.cache.advance_cursor(frame.cursor)
        elif isinstance(frame, ResyncRequiredFrame):
            log.info("sync: resync required (%s)", frame.reason)
            self._owe_snapshot(frame.head_cursor)
            self._start_snapshot(again=True)
        elif isinstance(frame, ErrorFrame):
            # On a live session the server refuses only typing (ephemeral: dropped silently, as
            # over REST) or a frame of ours it cannot read (a bug): nothing the operator can act on.
            log.info("sync: the server reported %s: %s", frame.code, frame.message)

    async def on_frames(self, frames: Sequence[ServerFrame]) -> None:
        """Frames read back to back (a replay), in order. Runs of events are applied in
        batches (``apply_events``), yielding to the loop between batches; other frames one by
        one, in their place."""
        run: list[EventFrame] = []
        for frame in frames:
            if isinstance(frame, EventFrame):
                run.append(frame)
                continue
            await self._apply_run(run)
            run = []
            await self.on_frame(frame)
        await self._apply_run(run)

    async def _apply_run(self, frames: Sequence[EventFrame]) -> None:
        """In a replay each batch, and the handling of its change set, is a step of its own on
        the loop: reading the run off the socket, applying a batch and the UI's work on its
        changes each take up to ~10 ms, and the GUI paints between them instead of after all
        three. A short run (live events) is applied and announced in one step: a loop turn in
        between would let a paint in first and show its rows a frame later."""
        replay = len(frames) > LIVE_RUN_FRAMES
        done = 0
        while done < len(frames):
            if done or replay:
                await asyncio.sleep(0)
            taken, changes = self._apply_batch(frames[done:], BATCH_SECONDS)
            done += taken
            if replay and changes:
                await self._emit_next(changes)
            else:
                self._emit(changes)
        if frames:
            self._checkpoint_in_background()

    async def _emit_next(self, changes: Sequence[Change]) -> None:
        """Emit a committed batch's changes at the loop's next turn, and never lose them: if
        the task is cancelled meanwhile (closing), they are emitted at once."""
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            self._emit(changes)
            raise
        self._emit(changes)

    def _checkpoint_in_background(self) -> None:
        """Move the WAL into the file off the loop thread (see cache.AUTO_CHECKPOINT_PAGES)."""
        now = time.monotonic()
        if now - self._checkpointed < CHECKPOINT_EVERY_SECONDS:
            return
        if not self._tasks.running(CHECKPOINT_TASK):
            self._checkpointed = now
            self._tasks.spawn(asyncio.to_thread(self.cache.checkpoint), CHECKPOINT_TASK)

    def _on_hello(self, hello: HelloFrame) -> None:
        cursor, me = self.cache.cursor, self.cache.me_info()
        rewound = cursor is not None and cursor > hello.head_cursor
        if rewound or (me is not None and me.id != hello.operator_id):
            # Another server behind the same address, or its database was reset: what we
            # hold no longer matches its ids and cursors.
            log.warning("sync: the server's history does not match the cache; rebuilding it")
            self.cache.clear_synced()
            self._emit([Notice("warning", SERVER_RESET)])
            cursor = None
        if cursor is None:
            self._owe_snapshot(hello.head_cursor)
        if self.cache.get_meta("snapshot_owed"):
            self._start_snapshot()
        elif not self._directory_fresh:
            self._tasks.spawn(self._refresh_directory_quietly(), "sync-directory")

    def _owe_snapshot(self, head_cursor: int) -> None:
        with self.cache.transaction():
            self.cache.set_cursor(head_cursor)
            self.cache.set_meta("snapshot_owed", "1")

    def _start_snapshot(self, *, again: bool = False) -> None:
        """Start the snapshot; ``again``: one that is running started too early, repeat it."""
        if self._tasks.running(SNAPSHOT_TASK):
            self._snapshot_again = self._snapshot_again or again
        else:
            self._tasks.spawn(self._snapshot_quietly(), SNAPSHOT_TASK)

    # ---- events ---------------------------------------------------------------------------

    def apply_event(self, cursor: int, event: Event) -> None:
        """Apply one durable event and store its cursor in the same transaction."""
        stored = self.cache.cursor
        if stored is not None and cursor <= stored:
            return  # already applied: a replay after a reconnect
        with self.cache.transaction():
            changes = self._apply(event)
            self.cache.set_cursor(cursor)
        self._emit(changes)

    def apply_events(self, frames: Sequence[EventFrame], *, budget: float | None = None) -> int:
        """Apply events in order in one transaction until ``budget`` seconds are spent; returns
        how many frames it consumed (at least one).

        The cursor of the last event applied is stored in the same transaction, so a crash
        loses the whole batch or nothing, and the replay after it duplicates nothing. One
        merged change set is emitted after the commit. If an event fails, the batch is rolled
        back and applied again one event at a time: the events before the failing one land,
        and the failure propagates (the connection drops and the server replays from there).
        """
        taken, changes = self._apply_batch(frames, BATCH_SECONDS if budget is None else budget)
        self._emit(changes)
        return taken

    def _apply_batch(self, frames: Sequence[EventFrame], budget: float) -> tuple[int, list[Change]]:
        """``apply_events`` without the emit: (frames consumed, the merged change set)."""
        deadline = time.perf_counter() + budget
        taken = 0
        changes: list[Change] = []
        try:
            with self.cache.transaction():
                stored = last = self.cache.cursor
                for frame in frames:
                    taken += 1
                    if stored is not None and frame.cursor <= stored:
                        continue  # already applied: a replay after a reconnect
                    changes += self._apply(frame.event)
                    stored = last = frame.cursor
                    if time.perf_counter() >= deadline:
                        break
                if last is not None and last != self.cache.cursor:
                    self.cache.set_cursor(last)
        except Exception:
            log.info("sync: a batch of %d events failed; applying them one by one", taken)
            for frame in frames[:taken]:
                self.apply_event(frame.cursor, frame.event)
            return taken, []
        return taken, merge_changes(changes)

    def _apply(self, event: Event) -> list[Change]:
        if isinstance(event, MessageCreated):
            return self._apply_message(event.message) + self._apply_dialog(event.dialog)
        if isinstance(event, MessageUpdated):
            return self._apply_edit(event.message) + self._apply_dialog(event.dialog)
        if isinstance(event, DialogUpdated):
            return self._apply_dialog(event.dialog)
        if isinstance(event, OperatorUpdated):
            self.stamps.stamp("operators", event.operator.id)
            return self._store_operator(event.operator)
        if isinstance(event, QueueUpdated):
            self.stamps.stamp("queues", event.queue.id)
            return [DirectoryChanged("queues")] if self.cache.upsert_queue(event.queue) else []
        if isinstance(event, TemplateChanged):
            self.stamps.stamp("templates", event.template.id)
            changed = self.cache.upsert_template(event.template)
            return [DirectoryChanged("templates")] if changed else []
        if isinstance(event, TemplateDeleted):
            self.stamps.stamp("templates", event.template_id)
            changed = self.cache.delete_template(event.template_id)
            return [DirectoryChanged("templates")] if changed else []
        if isinstance(event, ContactUpdated):
            self.cache.update_contact(event.contact)
            return []
        return []  # an event kind this client does not know: nothing to do

    def _apply_message(self, message: Message) -> list[Change]:
        change = self.cache.apply_server_message(message)
        if change.row is None:
            return []
        if change.inserted:
            return [MessagesChanged(message.dialog_id, (change.row,), ())]
        return [MessagesChanged(message.dialog_id, (), (change.row,))]

    def _apply_edit(self, message: Message) -> list[Change]:
        change = self.cache.update_server_message(message)
        if change.row is None:
            return []
        if change.inserted:
            return [MessagesChanged(message.dialog_id, (change.row,), ())]
        return [MessagesChanged(message.dialog_id, (), (change.row,))]

    def _apply_dialog(
        self, dialog: Dialog, *, by_me: bool = False, snapshot: bool = False
    ) -> list[Change]:
        change = self.cache.upsert_dialog(dialog)
        if snapshot and change.previous is not None:
            self.cache.count_missed(dialog)  # messages the lost events would have counted
        if not change.changed:
            return []
        changes: list[Change] = [DialogsChanged(frozenset({dialog.id}))]
        me = self.my_id
        was_mine = change.previous is not None and change.previous.assignee_id == me
        # A snapshot announces only changes of dialogs we knew: a first start is no news.
        unknown_before = snapshot and change.previous is None
        if (
            not by_me
            and dialog.id not in self._acting_on
            and not unknown_before
            and me is not None
            and dialog.assignee_id == me
            and not was_mine
            and dialog.state != DialogState.CLOSED
        ):
            changes.append(Assigned(dialog.id))
        return changes

    # ---- answers of actions ---------------------------------------------------------------

    @contextmanager
    def acting_on(self, dialog_id: int) -> Iterator[None]:
        """While my action runs, its websocket echo (which may beat the answer) is no news."""
        self._acting_on.add(dialog_id)
        try:
            yield
        finally:
            self._acting_on.discard(dialog_id)

    def apply_dialog(self, dialog: Dialog, *, by_me: bool = True) -> None:
        """Apply a dialog from a REST answer at once; the websocket echo then changes nothing."""
        with self.cache.transaction():
            changes = self._apply_dialog(dialog, by_me=by_me)
        self._emit(changes)

    def apply_message(self, message: Message) -> None:
        with self.cache.transaction():
            changes = self._apply_message(message)
        self._emit(changes)

    # ---- snapshot: the REST walk after a first start or a resync --------------------------

    async def _snapshot_quietly(self) -> None:
        while True:
            self._snapshot_again = False
            try:
                await self.snapshot()
            except NetError as exc:
                log.info("sync: snapshot interrupted (%s); retrying at the next connection", exc)
                return
            if not self._snapshot_again:
                return

    async def _refresh_directory_quietly(self) -> None:
        try:
            await self.refresh_directory()
        except NetError as exc:
            log.info("sync: directory refresh interrupted: %s", exc)

    async def refresh_directory(self) -> None:
        """The directory from REST, except the rows events rewrote while it was read."""
        mark = self.stamps.clock
        me = await self.api.me()
        operators = await self.api.operators()
        queues = await self.api.queues()
        templates = await self.api.templates()
        newer = {table: self.stamps.since(mark, table) for table in DIRECTORY_TABLES}
        changes: list[Change] = []
        if me.id not in newer["operators"] and self.cache.set_me(me):
            changes.append(DirectoryChanged("me"))
        if self.cache.replace_operators(operators, keep=newer["operators"]):
            changes.append(DirectoryChanged("operators"))
        if self.cache.replace_queues(queues, keep=newer["queues"]):
            changes.append(DirectoryChanged("queues"))
        if self.cache.replace_templates(templates, keep=newer["templates"]):
            changes.append(DirectoryChanged("templates"))
        self._directory_fresh = True
        self._emit(changes)

    def apply_operator(self, operator: Operator, mark: int) -> None:
        """A REST answer about an operator, asked at ``mark`` (``stamps.clock``)."""
        if self.stamps.current(mark, "operators", operator.id):
            self._emit(self._store_operator(operator))

    def _store_operator(self, operator: Operator) -> list[Change]:
        changes: list[Change] = []
        if operator.id == self.my_id and self.cache.set_me(operator):
            changes.append(DirectoryChanged("me"))
        if self.cache.upsert_operator(operator):
            changes.append(DirectoryChanged("operators"))
        return changes

    async def snapshot(self) -> None:
        """Re-fetch the directory and every visible dialog; reset histories that fell behind."""
        windows_before = self._cached_windows()
        await self.refresh_directory()
        seen: set[int] = set()
        cursor: str | None = None
        while True:
            page = await self.api.dialogs(
                DialogScope.ALL_VISIBLE,
                cursor=cursor,
                limit=DIALOG_PAGE,
                day_start=local_midnight(self._clock()),  # closed today, by the operator's day
            )
            self._apply_dialogs(page.items)
            seen.update(d.id for d in page.items)
            cursor = page.next_cursor
            if cursor is None or not page.items:
                break
        await self._refetch_stale(set(self.cache.open_dialog_ids()) - seen)
        if not self._snapshot_again:  # a resync arrived meanwhile: the debt stands
            self.cache.set_meta("snapshot_owed", None)
        self.snapshots_done += 1
        reset = [i for i in windows_before if self.cache.history_window(i) == (None, False)]
        self._emit([HistoryReset(dialog_id) for dialog_id in reset])

    def _cached_windows(self) -> list[int]:
        rows = self.cache.conn.execute(
            "SELECT id FROM dialogs WHERE hist_from IS NOT NULL OR hist_complete = 1"
        )
        return [dialog_id for (dialog_id,) in rows]

    def _apply_dialogs(self, dialogs: Iterable[Dialog]) -> None:
        changes: list[Change] = []
        with self.cache.transaction():
            for dialog in dialogs:
                changes += self._apply_dialog(dialog, snapshot=True)
        self._emit(_merge_dialog_changes(changes))
        self._checkpoint_in_background()

    async def _refetch_stale(self, dialog_ids: set[int]) -> None:
        """Open dialogs we no longer see in any list: learn their fate one by one."""
        for dialog_id in sorted(dialog_ids)[:MAX_STALE_REFETCH]:
            try:
                dialog = await self.api.dialog(dialog_id)
            except ApiError as exc:
                if exc.code in (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND):
                    self.cache.forget_dialog(dialog_id)
                    self._emit([DialogsChanged(frozenset({dialog_id}))])
                    continue
                raise
            self._apply_dialogs([dialog])

    # ---- history --------------------------------------------------------------------------

    def has_older(self, dialog_id: int) -> bool:
        _, complete = self.cache.history_window(dialog_id)
        return not complete

    async def ensure_newest_page(self, dialog_id: int) -> int:
        async with self._history_lock(dialog_id):
            low, complete = self.cache.history_window(dialog_id)
            if low is not None or complete:
                return 0
            page = await self.api.messages(dialog_id, limit=HISTORY_PAGE)
            return self._store_history(dialog_id, page.items, page.next_cursor is None)

    async def load_older(self, dialog_id: int) -> int:
        low, complete = self.cache.history_window(dialog_id)
        if complete:
            return 0
        if low is None:
            return await self.ensure_newest_page(dialog_id)
        async with self._history_lock(dialog_id):
            low, complete = self.cache.history_window(dialog_id)
            if complete or low is None:
                return 0
            page = await self.api.messages(dialog_id, before_id=low, limit=HISTORY_PAGE)
            return self._store_history(dialog_id, page.items, page.next_cursor is None)

    def _store_history(self, dialog_id: int, items: list[Message], complete: bool) -> int:
        before_low, _ = self.cache.history_window(dialog_id)
        ids = [m.id for m in items if m.dialog_id == dialog_id]
        with self.cache.transaction():
            added = self.cache.apply_history_page(dialog_id, items)
            lows = [v for v in (before_low, min(ids) if ids else None) if v is not None]
            self.cache.set_history_window(dialog_id, min(lows) if lows else 0, complete)
        if added:
            rows = tuple(self.cache.messages_with_server_ids(ids))
            self._emit([MessagesChanged(dialog_id, rows, ())])
        return added

    def _history_lock(self, dialog_id: int) -> asyncio.Lock:
        return self._history_locks.setdefault(dialog_id, asyncio.Lock())


def merge_changes(changes: Sequence[Change]) -> list[Change]:
    """One change set for a batch: a MessagesChanged per dialog, then one DialogsChanged, then
    the other changes once each, in order. A row inserted and then updated within the batch
    is announced once, as inserted, in its last state."""
    inserted: dict[int, dict[str, MessageRow]] = {}
    updated: dict[int, dict[str, MessageRow]] = {}
    dialog_ids: set[int] = set()
    rest: list[Change] = []
    for change in changes:
        if isinstance(change, MessagesChanged):
            new = inserted.setdefault(change.dialog_id, {})
            old = updated.setdefault(change.dialog_id, {})
            for row in change.updated:
                (new if row.key in new else old)[row.key] = row
            for row in change.inserted:
                new[row.key] = row
        elif isinstance(change, DialogsChanged):
            dialog_ids |= change.ids
        elif change not in rest:
            rest.append(change)
    merged: list[Change] = [
        MessagesChanged(dialog_id, tuple(rows.values()), tuple(updated[dialog_id].values()))
        for dialog_id, rows in inserted.items()
        if rows or updated[dialog_id]
    ]
    if dialog_ids:
        merged.append(DialogsChanged(frozenset(dialog_ids)))
    return merged + rest


def _merge_dialog_changes(changes: list[Change]) -> list[Change]:
    """One DialogsChanged for a whole page, other changes kept as they are."""
    ids = frozenset().union(*(c.ids for c in changes if isinstance(c, DialogsChanged)))
    rest = [c for c in changes if not isinstance(c, DialogsChanged)]
    return ([DialogsChanged(ids)] if ids else []) + rest
