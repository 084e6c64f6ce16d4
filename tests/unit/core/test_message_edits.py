"""Edits and deletions of sent messages (``MessageUpdated``): the cache row, the FTS index, the
sync engine's changes, and a version-1 cache file migrated to hold the deleted flag."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from operator_app.core.cache import Cache
from operator_app.core.changes import Change, MessagesChanged
from operator_app.core.schema import MIGRATIONS, SCHEMA_VERSION
from operator_app.core.sync import SyncEngine
from operator_app.protocol.events import EventFrame, MessageCreated, MessageUpdated
from operator_app.protocol.models import Attachment
from tests.unit.core.core_factories import dialog, message, operator
from tests.unit.core.core_fakes import FakeApi


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    opened = Cache.open(tmp_path / "c.sqlite3")
    opened.set_me(operator(1))
    opened.upsert_dialog(dialog(1))
    return opened


def hits(cache: Cache, words: str) -> list[str]:
    return [hit.message_key for hit in cache.search(words)]


def test_an_edit_replaces_the_text_and_the_search_index(cache: Cache) -> None:
    cache.apply_server_message(message(5, 1, "адрес: Ленина 1"))
    change = cache.update_server_message(message(5, 1, "адрес: Тверская 7"))
    assert change.row is not None and not change.inserted
    assert change.row.text == "адрес: Тверская 7"
    assert [row.text for row in cache.messages(1)] == ["адрес: Тверская 7"]
    assert hits(cache, "Тверская") == ["s5"]
    assert hits(cache, "Ленина") == []


def test_a_deletion_leaves_a_placeholder_row_that_search_no_longer_finds(cache: Cache) -> None:
    shown = message(5, 1, "my card 4111 1111")
    shown.attachments.append(Attachment(id=1, name="a.png", mime="image/png", size=3, url="u"))
    cache.apply_server_message(shown)
    gone = message(5, 1, "").model_copy(update={"deleted": True})
    change = cache.update_server_message(gone)
    assert change.row is not None and change.row.deleted
    (row,) = cache.messages(1)
    assert row.deleted and row.text == "" and row.attachments == ()
    assert hits(cache, "4111") == []


def test_the_same_content_again_changes_nothing(cache: Cache) -> None:
    cache.apply_server_message(message(5, 1, "hello"))
    assert cache.update_server_message(message(5, 1, "hello")).row is None


def test_an_update_of_an_unknown_message_stores_it(cache: Cache) -> None:
    change = cache.update_server_message(message(6, 1, "edited before we saw it"))
    assert change.inserted and change.row is not None
    assert [row.text for row in cache.messages(1)] == ["edited before we saw it"]


def test_a_late_created_event_does_not_undo_an_edit(cache: Cache) -> None:
    cache.apply_server_message(message(5, 1, "first"))
    cache.update_server_message(message(5, 1, "second"))
    cache.apply_server_message(message(5, 1, "first"))
    assert [row.text for row in cache.messages(1)] == ["second"]


@pytest.mark.asyncio
async def test_the_sync_engine_applies_message_updated_as_a_changed_row(cache: Cache) -> None:
    changes: list[Change] = []
    engine = SyncEngine(cache, FakeApi().as_client(), changes.extend)
    cache.set_cursor(1)
    created = message(5, 1, "typo")
    await engine.on_frame(
        EventFrame(cursor=2, event=MessageCreated(message=created, dialog=dialog(1, last=created)))
    )
    fixed = message(5, 1, "fixed")
    changes.clear()
    update = MessageUpdated(message=fixed, dialog=dialog(1, last=fixed, minutes=1))
    await engine.on_frame(EventFrame(cursor=3, event=update))
    (changed,) = [c for c in changes if isinstance(c, MessagesChanged)]
    assert changed.inserted == () and [r.text for r in changed.updated] == ["fixed"]
    assert cache.cursor == 3
    assert [row.text for row in cache.messages(1)] == ["fixed"]
    await engine.close()


def test_a_version_1_file_is_migrated_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO messages(id, key, server_id, dialog_id, author, author_name, kind, text, "
        "attachments, created_at, state) VALUES (5, 's5', 5, 1, 'client', '', 'message', "
        "'old text', '[]', '2026-01-01T00:00:00+00:00', 'sent')"
    )
    conn.close()
    cache = Cache.open(path)
    assert cache.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    (row,) = cache.messages(1)
    assert row.text == "old text" and not row.deleted
    cache.update_server_message(message(5, 1, "").model_copy(update={"deleted": True}))
    assert cache.messages(1)[0].deleted
