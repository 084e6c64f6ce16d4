"""Property: replaying events (as after any reconnect) leaves the cache exactly as applying
them once, and so does applying the same events again under new cursors."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from operator_app.core.cache import Cache
from operator_app.core.sync import SyncEngine
from operator_app.protocol.events import DialogUpdated, Event, MessageCreated
from operator_app.protocol.models import Author, DialogState
from tests.unit.core.core_factories import dialog, message, operator
from tests.unit.core.core_fakes import FakeApi


@st.composite
def event_streams(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    next_id = 1
    for step in range(draw(st.integers(1, 25))):
        dialog_id = draw(st.integers(1, 3))
        if draw(st.booleans()):
            author = draw(st.sampled_from([Author.CLIENT, Author.OPERATOR]))
            msg = message(next_id, dialog_id, f"m{next_id}", author=author)
            next_id += 1
            events.append(
                MessageCreated(message=msg, dialog=dialog(dialog_id, minutes=step, last=msg))
            )
        else:
            state = draw(st.sampled_from(list(DialogState)))
            assignee = draw(st.sampled_from([None, 1, 2]))
            events.append(
                DialogUpdated(
                    dialog=dialog(dialog_id, minutes=step, state=state, assignee_id=assignee)
                )
            )
    return events


def snapshot(cache: Cache) -> tuple[Any, ...]:
    dialogs = cache.conn.execute("SELECT id, data, unread FROM dialogs ORDER BY id").fetchall()
    messages = cache.conn.execute(
        "SELECT id, key, text, state FROM messages ORDER BY id"
    ).fetchall()
    hits = [h.message_key for h in cache.search("m")]
    return dialogs, messages, hits


def engine() -> SyncEngine:
    cache = Cache.in_memory()
    cache.set_me(operator(1))
    cache.set_cursor(0)
    return SyncEngine(cache, FakeApi().as_client(), lambda changes: None)


@settings(max_examples=40, deadline=None)
@given(events=event_streams(), replay_from=st.integers(0, 25), reapply=st.booleans())
def test_replays_and_duplicates_change_nothing(
    events: list[Event], replay_from: int, reapply: bool
) -> None:
    once = engine()
    for cursor, event in enumerate(events, 1):
        once.apply_event(cursor, event)
    twice = engine()
    for cursor, event in enumerate(events, 1):
        twice.apply_event(cursor, event)
    start = min(replay_from, len(events))
    for cursor, event in enumerate(events[start:], start + 1):  # a replay after a reconnect
        twice.apply_event(cursor, event)
    if reapply:  # the same events again under fresh cursors (e.g. a snapshot overlap)
        for cursor, event in enumerate(events, len(events) + 1):
            twice.apply_event(cursor, event)
    assert snapshot(twice.cache) == snapshot(once.cache)
    once.cache.close()
    twice.cache.close()
