"""The hot statements on the DB-API cursor (hotsql.py) store and read exactly what Core does,
on SQLite and on PostgreSQL: times, JSON, booleans, literals, RETURNING, executemany, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, bindparam, insert, make_url, select, update
from sqlalchemy.exc import IntegrityError, NoResultFound

from operator_app.server import db
from operator_app.server import schema as s
from operator_app.server.hotsql import Hot
from operator_app.server.txn import Tx

WHEN = datetime(2026, 11, 23, 12, 30, 15, 123456, tzinfo=UTC)
ON_THE_SECOND = datetime(2026, 11, 23, 12, 30, 16, tzinfo=UTC)  # no microseconds to write


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.create(database_url)
    db.init_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(s.contacts).values(id=1, name="Ира", tags=["vip"], note="", created_at=WHEN)
        )
        conn.execute(insert(s.queues).values(id=1, name="q", created_at=WHEN))
        for dialog_id in (1, 2):
            conn.execute(
                insert(s.dialogs).values(
                    id=dialog_id,
                    channel="telegram",
                    address="@ira",
                    contact_id=1,
                    queue_id=1,
                    state="waiting",
                    tags=["a", "б"],
                    created_at=WHEN,
                    updated_at=WHEN,
                    queued_at=WHEN,
                    resolution="",
                    message_count=0,
                )
            )
    yield engine
    engine.dispose()


_MESSAGE_COLUMNS = ["dialog_id", "author", "kind", "text", "attachment_ids", "created_at"]
_HOT_INSERT_MESSAGE = Hot(
    insert(s.messages).returning(s.messages.c.id), column_keys=_MESSAGE_COLUMNS
)
_MESSAGE = Hot(select(s.messages).where(s.messages.c.id == bindparam("id")))
_BUMP = Hot(
    update(s.dialogs)
    .where(s.dialogs.c.id == bindparam("dialog_id"))
    .values(message_count=s.dialogs.c.message_count + 1, updated_at=bindparam("now"))
)
_DIALOG = Hot(select(s.dialogs).where(s.dialogs.c.id == bindparam("id")))


def message_values(dialog_id: int, when: datetime) -> dict[str, object]:
    return {
        "dialog_id": dialog_id,
        "author": "client",
        "kind": "message",
        "text": "Привет, 'кавычки' и %s",
        "attachment_ids": [3, 4],
        "created_at": when,
    }


@pytest.mark.parametrize("when", [WHEN, ON_THE_SECOND])
def test_a_hot_insert_stores_the_row_core_stores(engine: Engine, when: datetime) -> None:
    with engine.begin() as conn:
        core_id = conn.execute(
            insert(s.messages).returning(s.messages.c.id), message_values(1, when)
        ).scalar_one()
        hot_id = _HOT_INSERT_MESSAGE.scalar(conn, message_values(1, when))
    assert hot_id == core_id + 1
    with engine.connect() as conn:
        rows = {
            r.id: r._asdict()
            for r in conn.execute(select(s.messages).where(s.messages.c.id.in_([core_id, hot_id])))
        }
        # as stored, without any type processing: the same text for the same time on SQLite
        raw = conn.exec_driver_sql(
            "SELECT created_at, attachment_ids FROM messages ORDER BY id"
        ).all()
    assert {k: v for k, v in rows[hot_id].items() if k != "id"} == {
        k: v for k, v in rows[core_id].items() if k != "id"
    }
    assert rows[hot_id]["created_at"] == when
    assert rows[hot_id]["attachment_ids"] == [3, 4]
    assert raw[0] == raw[1]


def test_hot_rows_read_back_processed_like_core(engine: Engine) -> None:
    with engine.begin() as conn:
        message_id = _HOT_INSERT_MESSAGE.scalar(conn, message_values(1, WHEN))
        hot = _MESSAGE.one(conn, {"id": message_id})
        core = conn.execute(select(s.messages).where(s.messages.c.id == message_id)).one()
        hot_dialog = _DIALOG.one(conn, {"id": 1})
        core_dialog = conn.execute(select(s.dialogs).where(s.dialogs.c.id == 1)).one()
    assert hot._asdict() == core._asdict()
    assert hot.created_at.tzinfo is not None
    assert hot_dialog._asdict() == core_dialog._asdict()
    assert hot_dialog.tags == ["a", "б"]


def test_literals_many_and_the_transaction_are_shared_with_core(engine: Engine) -> None:
    later = WHEN + timedelta(minutes=5)
    with engine.begin() as conn:
        _BUMP.run(conn, {"dialog_id": 1, "now": later})
        _BUMP.many(conn, [{"dialog_id": 1, "now": later}, {"dialog_id": 2, "now": later}])
        # Core on the same connection sees the uncommitted hot writes: one transaction
        assert conn.execute(
            select(s.dialogs.c.message_count).order_by(s.dialogs.c.id)
        ).scalars().all() == [2, 1]
    with engine.begin() as conn:
        _BUMP.run(conn, {"dialog_id": 1, "now": later})
        conn.rollback()
    with engine.connect() as conn:
        rows = conn.execute(select(s.dialogs).order_by(s.dialogs.c.id)).all()
    assert [r.message_count for r in rows] == [2, 1]
    assert [r.updated_at for r in rows] == [later, later]


def test_errors_are_core_exceptions_and_parameters_are_required(engine: Engine) -> None:
    seen = Hot(
        insert(s.inbound_seen), column_keys=["channel", "external_id", "dialog_id", "message_id"]
    )
    row = {"channel": "telegram", "external_id": "x-1", "dialog_id": 1, "message_id": 1}
    with engine.begin() as conn:
        seen.run(conn, row)
        with pytest.raises(IntegrityError):  # what service.send catches for a racing retry
            seen.run(conn, row)
    with engine.connect() as conn:
        with pytest.raises(KeyError):  # a forgotten parameter is not a silent NULL
            _BUMP.run(conn, {"dialog_id": 1})
        with pytest.raises(NoResultFound):
            _DIALOG.one(conn, {"id": 99})
        assert _DIALOG.first(conn, {"id": 99}) is None


def test_an_audit_row_keeps_its_details(engine: Engine) -> None:
    with engine.begin() as conn:
        Tx(conn, WHEN, retention=100).audit(7, "send_message", "dialog", 1, message_id=5, note="ё")
    with engine.connect() as conn:
        row = conn.execute(select(s.audit_log)).one()
    assert (row.operator_id, row.action, row.object_type, row.object_id) == (
        7,
        "send_message",
        "dialog",
        1,
    )
    assert row.details == {"message_id": 5, "note": "ё"}
    assert row.created_at == WHEN


LITE, PG = "sqlite://", "postgresql+psycopg://"


def test_a_statement_keeps_one_compiled_form_per_dialect_in_any_order() -> None:
    """The last dialect's form is kept at hand: another dialect in between gets its own."""
    statement = Hot(select(s.dialogs.c.id).where(s.dialogs.c.id == bindparam("id")))
    lite, pg, other_lite = (make_url(url).get_dialect()() for url in (LITE, PG, LITE))
    forms = [statement._compiled(d).sql for d in (lite, pg, lite, other_lite, pg)]
    assert [form.endswith("= ?") for form in forms] == [True, False, True, True, False]
    assert "= %(id)s" in forms[1] and forms[4] == forms[1]
