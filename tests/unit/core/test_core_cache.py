"""The cache on real SQLite files: schema, migrations, corruption, dialogs, messages, outbox."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from operator_app.core import cache as cache_module
from operator_app.core.cache import Cache, CacheError, cache_path_for
from operator_app.core.rows import DeliveryState, DialogFilter, Section
from operator_app.core.schema import PENDING_BASE, SCHEMA_VERSION
from operator_app.core.trusted import operator_info
from operator_app.protocol.models import Author, Channel, DialogState, MessageKind
from tests.unit.core.core_factories import T0, dialog, fill_cache_file, message, operator, queue


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    opened = Cache.open(tmp_path / "c.sqlite3")
    opened.set_me(operator(1))
    opened.replace_queues([queue(10)])
    return opened


def pending(cache: Cache, dialog_id: int = 1, text: str = "reply", cmid: str = "cmid-0001") -> str:
    row = cache.add_pending(
        client_msg_id=cmid,
        dialog_id=dialog_id,
        kind=MessageKind.MESSAGE,
        text=text,
        attachment_paths=[],
        author_id=1,
        author_name="Anna",
        created_at=T0,
    )
    return row.key


def test_new_file_has_schema_wal_and_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.sqlite3"
    cache = Cache.open(path)
    assert cache.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cache.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert path.stat().st_mode & 0o777 == 0o600
    tables = set(cache.db.table_names())
    assert {"dialogs", "messages", "outbox", "drafts", "meta", "templates"} <= tables


def test_reopen_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    first = Cache.open(path)
    first.set_cursor(42)
    first.close()
    again = Cache.open(path)
    assert again.cursor == 42
    assert again.notices == []


@pytest.mark.allow_warnings
def test_garbage_file_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    cache = Cache.open(path)
    assert cache.cursor is None
    assert len(cache.notices) == 1 and "rebuilt" in cache.notices[0]
    aside = list(tmp_path.glob("c.sqlite3.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes().startswith(b"this is not")


@pytest.mark.allow_warnings
def test_truncated_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    fill_cache_file(path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    rebuilt = Cache.open(path)
    assert rebuilt.notices
    assert rebuilt.messages(1) == []


def test_a_file_short_of_its_header_during_a_checkpoint_is_not_damage(tmp_path: Path) -> None:
    # A checkpoint copies page 1 before the file grows: while the WAL holds frames, a file
    # shorter than its header says is a checkpoint half way, not a truncated cache.
    path = tmp_path / "c.sqlite3"
    cache = Cache.open(path)
    cache.apply_server_message(message(1, text="kept"))
    with path.open("r+b") as handle:
        header = bytearray(handle.read(100))
        header[28:32] = (10_000).to_bytes(4, "big")
        header[92:96] = header[24:28]
        handle.seek(0)
        handle.write(header)
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    assert cache._lock is not None
    cache._lock.release()  # the first app died mid-checkpoint: the OS drops its lock
    again = Cache.open(path)
    assert again.notices == []
    assert [m.text for m in again.messages(1)] == ["kept"]
    again.close()
    cache.close()


@pytest.mark.allow_warnings
def test_file_from_a_newer_app_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    cache = Cache.open(path)
    assert cache.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert cache.notices


def test_unopenable_location_is_an_error_not_a_rebuild(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((CacheError, OSError)):
        Cache.open(blocker / "c.sqlite3")
    assert blocker.read_text() == "x"


def test_path_per_server_and_login(tmp_path: Path) -> None:
    a = cache_path_for("https://a.example", "anna", tmp_path)
    b = cache_path_for("https://a.example", "olga", tmp_path)
    c = cache_path_for("https://b.example", "anna", tmp_path)
    assert len({a, b, c}) == 3
    assert a.parent == tmp_path and "anna" in a.name


def test_dialog_updates_only_move_forward(cache: Cache) -> None:
    assert cache.upsert_dialog(dialog(1, minutes=5, subject="new")).changed
    assert not cache.upsert_dialog(dialog(1, minutes=1, subject="old")).changed
    assert not cache.upsert_dialog(dialog(1, minutes=5, subject="new")).changed
    stored = cache.get_dialog(1)
    assert stored is not None and stored.subject == "new"


def test_sections(cache: Cache) -> None:
    midnight = T0.replace(hour=0)
    cache.upsert_dialog(dialog(1, assignee_id=1, state=DialogState.ACTIVE))
    cache.upsert_dialog(dialog(2, state=DialogState.WAITING))
    cache.upsert_dialog(dialog(3, state=DialogState.WAITING, queue_id=99))
    cache.upsert_dialog(dialog(4, assignee_id=1, state=DialogState.CLOSED, minutes=3))
    cache.upsert_dialog(dialog(5, assignee_id=2, state=DialogState.ACTIVE, queue_id=77))
    me = operator_info(operator(1, supervised_queue_ids=[77]))

    def ids(section: Section) -> list[int]:
        rows = cache.list_dialogs(section, me, midnight=midnight)
        return [row.dialog.id for row in rows]

    assert ids(Section.MINE) == [1]
    assert ids(Section.WAITING) == [2]
    assert ids(Section.CLOSED_TODAY) == [4]
    assert ids(Section.SUPERVISED) == [5]
    tomorrow = midnight + timedelta(days=1)
    assert cache.list_dialogs(Section.CLOSED_TODAY, me, midnight=tomorrow) == []


def test_my_clients_awaiting_an_answer_longest_waiting_first(cache: Cache) -> None:
    def waiting(
        dialog_id: int,
        minutes: int | None,
        assignee_id: int = 1,
        state: DialogState = DialogState.ACTIVE,
    ) -> None:
        since = None if minutes is None else T0 + timedelta(minutes=minutes)
        found = dialog(dialog_id, assignee_id=assignee_id, state=state, waiting_since=since)
        cache.upsert_dialog(found)

    waiting(1, 5)
    waiting(2, 1)
    waiting(3, None)  # answered
    waiting(4, 3, assignee_id=2)  # a colleague's
    waiting(5, 0, state=DialogState.CLOSED)
    waiting(6, 3, state=DialogState.WAITING)  # routed to me, not answered yet
    waiting(7, 3)
    me = operator_info(operator(1))
    assert cache.awaiting_reply_ids(me) == [2, 6, 7, 1]
    assert cache.awaiting_reply_ids(None) == []


def test_filters_and_row_fields(cache: Cache) -> None:
    midnight = T0.replace(hour=0)
    me = operator_info(operator(1))
    cache.upsert_dialog(dialog(1, assignee_id=1, tags=["vip"], contact_name="Иван Петров"))
    cache.upsert_dialog(dialog(2, assignee_id=1, contact_name="John"))
    cache.upsert_dialog(dialog(3, assignee_id=1, channel=Channel.EMAIL, tags=["vip"]))
    cache.save_draft(2, "half typed", T0)

    def mine(narrowed: DialogFilter) -> list[int]:
        rows = cache.list_dialogs(Section.MINE, me, midnight=midnight, narrowed=narrowed)
        assert [r.dialog.id for r in rows] == cache.list_dialog_ids(
            Section.MINE, me, midnight=midnight, narrowed=narrowed
        )
        return sorted(r.dialog.id for r in rows)

    assert mine(DialogFilter()) == [1, 2, 3]
    assert mine(DialogFilter(tag="vip")) == [1, 3]
    assert mine(DialogFilter(text="ИВАН")) == mine(DialogFilter(text="  иван ")) == [1]
    assert mine(DialogFilter(channel=Channel.EMAIL)) == [3]
    assert mine(DialogFilter(channel=Channel.EMAIL, tag="vip", text="client")) == [3]
    assert mine(DialogFilter(channel=Channel.VK)) == []
    rows = {r.dialog.id: r for r in cache.list_dialogs(Section.MINE, me, midnight=midnight)}
    assert rows[2].has_draft and not rows[1].has_draft
    assert rows[1].queue_sla_seconds == 90
    assert cache.list_dialogs(Section.MINE, None, midnight=midnight) == []


def test_unread_counts_client_messages_once_and_resets(cache: Cache) -> None:
    cache.upsert_dialog(dialog(1, assignee_id=1))
    for _ in range(2):  # the same events twice
        cache.apply_server_message(message(11))
        cache.apply_server_message(message(12))
        cache.apply_server_message(message(13, author=Author.OPERATOR))
    row = cache.dialog_row(1)
    assert row is not None and row.unread == 2
    assert cache.mark_read(1)
    row = cache.dialog_row(1)
    assert row is not None and row.unread == 0
    cache.apply_server_message(message(14))
    row = cache.dialog_row(1)
    assert row is not None and row.unread == 1


def test_pending_then_ack_keeps_key_and_moves_to_server_order(cache: Cache) -> None:
    cache.apply_server_message(message(5))
    key = pending(cache, cmid="cmid-aaaa")
    cache.apply_server_message(message(6))  # a client message arrives before the ack
    rows = cache.messages(1)
    assert [r.key for r in rows] == ["s5", "s6", key]
    assert rows[-1].state == DeliveryState.PENDING and rows[-1].server_id is None
    assert cache.outbox_size() == 1
    change = cache.apply_server_message(
        message(7, text="reply", author=Author.OPERATOR, client_msg_id="cmid-aaaa")
    )
    assert change.row is not None and not change.inserted
    assert change.row.key == key and change.row.server_id == 7
    assert change.row.state == DeliveryState.SENT
    assert cache.outbox_size() == 0
    again = cache.apply_server_message(
        message(7, text="reply", author=Author.OPERATOR, client_msg_id="cmid-aaaa")
    )
    assert again.row is None
    assert [r.key for r in cache.messages(1)] == ["s5", "s6", key]


def test_paging_before_key(cache: Cache) -> None:
    for i in range(1, 11):
        cache.apply_server_message(message(i))
    newest = cache.messages(1, limit=4)
    assert [r.server_id for r in newest] == [7, 8, 9, 10]
    older = cache.messages(1, before_key=newest[0].key, limit=4)
    assert [r.server_id for r in older] == [3, 4, 5, 6]
    assert cache.messages(1, before_key="nope") == []


def test_outbox_heads_keep_order_per_dialog(cache: Cache) -> None:
    pending(cache, 1, "a1", "cmid-a1xx")
    pending(cache, 2, "b1", "cmid-b1xx")
    pending(cache, 1, "a2", "cmid-a2xx")
    heads = cache.outbox_heads()
    assert [h.text for h in heads] == ["a1", "b1"]
    cache.mark_failed("cmid-a1xx", "dialog closed")
    assert [h.text for h in cache.outbox_heads()] == ["b1", "a2"]
    failed = cache.message("cmid-a1xx")
    assert failed is not None and failed.state == DeliveryState.FAILED
    assert failed.error == "dialog closed"
    requeued = cache.requeue("cmid-a1xx")
    assert requeued is not None and requeued.state == DeliveryState.PENDING
    assert [h.text for h in cache.outbox_heads()] == ["a1", "b1"]
    assert cache.requeue("cmid-a1xx") is None  # not failed any more


def test_pending_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = Cache.open(path)
    pending(cache, 3, "typed offline", "cmid-keep")
    cache.close()
    again = Cache.open(path)
    assert [h.client_msg_id for h in again.outbox_heads()] == ["cmid-keep"]
    row = again.messages(3)[0]
    assert row.text == "typed offline" and row.state == DeliveryState.PENDING


def test_history_window_resets_when_newest_message_is_missing(cache: Cache) -> None:
    cache.upsert_dialog(dialog(1, minutes=1, last=message(3)))
    cache.apply_history_page(1, [message(2), message(3)])
    cache.set_history_window(1, 2, False)
    cache.apply_server_message(message(4))
    cache.upsert_dialog(dialog(1, minutes=2, last=message(4)))
    assert cache.history_window(1) == (2, False)
    cache.upsert_dialog(dialog(1, minutes=3, last=message(9)))  # 5..9 never seen
    assert cache.history_window(1) == (None, False)


def test_drafts(cache: Cache) -> None:
    assert cache.draft(1) == ""
    assert cache.save_draft(1, "Здравствуйте", T0)
    assert not cache.save_draft(1, "Здравствуйте!", T0)
    assert cache.draft(1) == "Здравствуйте!"
    assert cache.save_draft(1, "", T0)
    assert cache.draft(1) == ""


def test_retention_prunes_oldest_closed_dialogs_only(cache: Cache) -> None:
    for dialog_id in range(1, 6):
        state = DialogState.CLOSED if dialog_id <= 3 else DialogState.ACTIVE
        cache.upsert_dialog(dialog(dialog_id, state=state, minutes=dialog_id, assignee_id=1))
        for n in range(3):
            cache.apply_server_message(message(dialog_id * 10 + n, dialog_id))
    pending(cache, 1, "still unsent", "cmid-prune")
    limit = T0 + timedelta(minutes=10)
    assert cache.prune(older_than=limit, max_messages=None, batch=1) == 1
    assert cache.prune(older_than=limit, max_messages=None) == 1
    assert cache.prune(older_than=limit, max_messages=None) == 0  # 1 keeps its unsent message
    assert cache.get_dialog(1) is not None and cache.get_dialog(2) is None
    assert cache.get_dialog(4) is not None
    assert cache.search("hello", limit=100)  # FTS stayed consistent
    count = cache.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert count == 3 + 1 + 6


def test_retention_by_size(cache: Cache) -> None:
    for dialog_id in range(1, 4):
        cache.upsert_dialog(dialog(dialog_id, state=DialogState.CLOSED, minutes=dialog_id))
        for n in range(5):
            cache.apply_server_message(message(dialog_id * 10 + n, dialog_id))
    while cache.prune(older_than=None, max_messages=10, batch=1):
        pass
    remaining = [d for d in (1, 2, 3) if cache.get_dialog(d) is not None]
    assert remaining == [2, 3]


def test_pending_ids_sort_after_server_ids() -> None:
    assert PENDING_BASE > 2**40


@pytest.mark.allow_warnings
def test_large_file_truncation_is_caught_by_the_cheap_header_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)  # every file counts as large
    path = tmp_path / "c.sqlite3"
    fill_cache_file(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size - 4096)
    rebuilt = Cache.open(path)
    assert rebuilt.notices and not rebuilt.deep_check_due


@pytest.mark.allow_warnings
def test_deep_check_marks_a_damaged_large_file_for_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)
    path = tmp_path / "c.sqlite3"
    fill_cache_file(path)
    with path.open("r+b") as handle:  # scribble over a page in the middle
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 4096)
    cache = Cache.open(path)
    assert cache.deep_check_due and not cache.notices
    assert cache.deep_check() is not None
    cache.close()
    rebuilt = Cache.open(path)
    assert rebuilt.notices
    assert not (tmp_path / "c.sqlite3.damaged").exists()


def test_deep_check_passes_a_sound_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    fill_cache_file(path, 20)
    cache = Cache.open(path)
    assert cache.deep_check() is None
