"""FTS5 search over the cache: Russian and English case folding, prefixes, marks, order."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_app.core.cache import Cache, fts_query
from operator_app.protocol.models import MessageKind
from tests.unit.core.core_factories import T0, dialog, message


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    opened = Cache.open(tmp_path / "c.sqlite3")
    opened.upsert_dialog(dialog(1, contact_name="Мария"))
    opened.upsert_dialog(dialog(2, contact_name="Peter"))
    texts = {
        1: (1, "Здравствуйте, у меня ПРОБЛЕМА с заказом"),
        2: (2, "Where is my Order? Tracking number missing"),
        3: (1, "Ёлка доставлена, спасибо"),
        4: (2, "order again please"),
        5: (1, "проблемы с оплатой"),
    }
    for msg_id, (dialog_id, text) in texts.items():
        opened.apply_server_message(message(msg_id, dialog_id, text))
    return opened


def keys(cache: Cache, query: str) -> list[str]:
    return [hit.message_key for hit in cache.search(query)]


def test_case_folding_russian_and_english(cache: Cache) -> None:
    assert keys(cache, "проблема") == ["s1"]
    assert keys(cache, "ЗАКАЗОМ") == ["s1"]
    assert keys(cache, "ORDER") == ["s4", "s2"]


def test_prefix_queries_newest_first(cache: Cache) -> None:
    assert keys(cache, "пробл") == ["s5", "s1"]
    assert keys(cache, "ord") == ["s4", "s2"]


def test_yo_matches_ye(cache: Cache) -> None:
    assert keys(cache, "елка") == ["s3"]
    assert keys(cache, "ёлка") == ["s3"]


def test_all_words_must_match(cache: Cache) -> None:
    assert keys(cache, "order tracking") == ["s2"]
    assert keys(cache, "order nothing") == []


def test_snippet_marks_the_hit_and_hit_fields(cache: Cache) -> None:
    hit = cache.search("трекинг tracking")
    assert hit == []
    [hit1] = cache.search("tracking")
    assert "\x02Tracking\x03" in hit1.snippet
    assert hit1.dialog_id == 2 and hit1.contact_name == "Peter"
    assert hit1.created_at.tzinfo is not None


def test_hostile_input_is_text_not_syntax(cache: Cache) -> None:
    for query in ['"', "order OR", "NEAR(", "*", "a:b", "-", "(())", "'; DROP TABLE messages"]:
        cache.search(query)  # never raises
    assert fts_query('"') == ""
    assert cache.search("   ") == []


def test_control_marks_in_customer_text_cannot_fake_highlights(cache: Cache) -> None:
    cache.apply_server_message(message(9, 1, "evil \x02fake\x03 marks"))
    [hit] = cache.search("evil")
    assert hit.snippet.count("\x02") == 1 and "\x02evil\x03" in hit.snippet
    assert cache.messages(1)[-1].text == "evil \x02fake\x03 marks"  # stored as received


def test_pending_messages_are_searchable_and_keep_working_after_ack(cache: Cache) -> None:
    cache.add_pending(
        client_msg_id="cmid-search",
        dialog_id=1,
        kind=MessageKind.COMMENT,
        text="внутренний комментарий",
        attachment_paths=[],
        author_id=1,
        author_name="Anna",
        created_at=T0,
    )
    assert keys(cache, "коммент") == ["cmid-search"]
    acked = message(20, 1, "внутренний комментарий", client_msg_id="cmid-search")
    cache.apply_server_message(acked)
    assert keys(cache, "коммент") == ["cmid-search"]
    assert keys(cache, "внутр комм") == ["cmid-search"]


def test_limit(cache: Cache) -> None:
    assert len(cache.search("о", limit=1)) <= 1
    assert len(cache.search("order", limit=1)) == 1
