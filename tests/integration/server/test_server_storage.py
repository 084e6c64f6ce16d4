"""The same storage behaviour on SQLite and on a real PostgreSQL server.

PostgreSQL runs where ``OPERATOR_TEST_PG_URL`` points (``.ci/postgres.sh`` starts one); each
test gets its own fresh database there.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    inspect,
    select,
    text,
)

from operator_app.protocol import routes
from operator_app.server import db
from operator_app.server import schema as s
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.server_helpers import Api, Ws, customer_says


def test_demo_world_round_trip(database_url: str) -> None:
    with EmbeddedServer(database_url=database_url, reply_to_operators=False) as srv:
        anna = Api(srv.url).login("anna")
        mine = anna.dialogs("mine")
        assert len(mine) == 4
        dialog_id = mine[0]["id"]
        body = {"client_msg_id": str(uuid.uuid4()), "text": "Проверяю"}
        first = anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)
        assert anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body) == first
        page = anna.ok("GET", routes.MESSAGES.format(dialog_id=dialog_id), params={"limit": 2})
        assert page["items"][-1]["id"] == first["message"]["id"]
        assert page["items"][-1]["created_at"].endswith("Z")
        accepted = customer_says(srv.url, "telegram", "@storage", "Привет", external_id="s-1")
        assert customer_says(srv.url, "telegram", "@storage", "Привет", external_id="s-1")[
            "duplicate"
        ]
        olga = Api(srv.url).login("olga")
        assert olga.dialog(accepted["dialog_id"])["contact_name"] == "@storage"
        ws = Ws(srv.url, anna.token, since=0)
        _hello, replayed, done = ws.handshake()
        assert first["cursor"] in [f["cursor"] for f in replayed]
        assert done["type"] == "replay_done"
        ws.close()
        anna.close()
        olga.close()


def test_a_nul_in_stored_text_is_dropped_on_either_database(database_url: str) -> None:
    """PostgreSQL refuses a NUL in text (a customer's message would be lost to a 500);
    SQLite cuts previews at one. The wire models drop it before anything is stored."""
    with EmbeddedServer(database_url=database_url, reply_to_operators=False) as srv:
        accepted = customer_says(srv.url, "telegram", "@nul\x00", "Заказ\x00 42", external_id="n-1")
        anna = Api(srv.url).login("anna")
        dialog_id = anna.dialogs("mine")[0]["id"]
        body = {"client_msg_id": str(uuid.uuid4()), "text": "При\x00вет"}
        sent = anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)
        assert sent["message"]["text"] == "Привет"
        olga = Api(srv.url).login("olga")
        written = olga.dialog(accepted["dialog_id"])
        assert written["contact_name"] == "@nul"
        assert written["last_message"]["text"] == "Заказ 42"
        anna.close()
        olga.close()


def test_retention_prunes_and_routing_assigns(database_url: str) -> None:
    with EmbeddedServer(
        database_url=database_url, event_retention=3, reply_to_operators=False
    ) as srv:
        anna = Api(srv.url).login("anna")
        dialog_id = anna.dialogs("mine")[0]["id"]
        for i in range(8):
            anna.send(dialog_id, f"текст {i}")
        ws = Ws(srv.url, anna.token, since=1)
        _hello, _replayed, frame = ws.handshake()
        assert frame["type"] == "resync_required"
        ws.close()
        # routing: anna (online, 4/5) gets the oldest waiting dialog of her queues, FIFO,
        # and the new one waits behind it
        waiting = sorted(anna.dialogs("waiting"), key=lambda d: d["waiting_since"])
        accepted = customer_says(srv.url, "webchat", "web-storage", "Здравствуйте")
        assert anna.dialog(waiting[0]["id"])["assignee_id"] == anna.id
        assert anna.ok("GET", routes.ME)["load"] == 5
        assert anna.dialog(accepted["dialog_id"])["state"] == "waiting"
        anna.close()


def test_an_index_added_to_the_schema_reaches_an_existing_database(database_url: str) -> None:
    """``create_all`` adds no index to a table that exists; ``init_schema`` does, on every
    start (the admins' lookup of each event's audience uses one added after release)."""
    engine = db.create(database_url)
    try:
        db.init_schema(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_operators_role"))  # a database from before it
        assert "ix_operators_role" not in indexes_of(engine, "operators")
        db.init_schema(engine)
        assert "ix_operators_role" in indexes_of(engine, "operators")
    finally:
        engine.dispose()


def indexes_of(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def older_layouts() -> list[Table]:
    """The moved tables as releases before figure 7's fifth and sixth rounds made them."""
    before = MetaData()
    return [
        Table(
            "event_audience",
            before,
            Column("operator_id", Integer, primary_key=True),
            Column("cursor", BigInteger, primary_key=True, autoincrement=False),
            Index("ix_event_audience_cursor", "cursor"),
        ),
        Table(
            "events",
            before,
            Column("cursor", BigInteger, primary_key=True, autoincrement=False),
            *(plain(c) for c in list(s.events.c)[1:]),
        ),
        Table(
            "inbound_seen",
            before,
            *(plain(c) for c in s.inbound_seen.c),
        ),
        Table(
            "messages",
            before,
            *(plain(c) for c in s.messages.c),
            Index("ix_messages_dialog_id_id", "dialog_id", "id"),
            UniqueConstraint("author_id", "client_msg_id", name="uq_messages_client_msg"),
        ),
    ]


def plain(current: Column[Any]) -> Column[Any]:
    """A column as the current schema has it, without its foreign keys."""
    return Column(
        current.name, current.type, primary_key=current.primary_key, nullable=current.nullable
    )


def rows_of(engine: Engine, names: list[str]) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted(tuple(r) for r in conn.execute(select(s.metadata.tables[name])))
            for name in names
        }


def test_tables_of_an_older_layout_move_to_the_current_one_at_start(database_url: str) -> None:
    """Audience keyed by operator first, a BIGINT event key (not SQLite's rowid), customer
    keys in a rowid table, a unique constraint over every message: each moves with every
    row, a second start finds nothing to move, and sends stay idempotent."""
    with EmbeddedServer(database_url=database_url, reply_to_operators=False) as srv:
        anna = Api(srv.url).login("anna")
        dialog_id = anna.dialogs("mine")[0]["id"]
        body = {"client_msg_id": str(uuid.uuid4()), "text": "до переезда"}
        sent = anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)
        customer_says(srv.url, "telegram", "@layout", "Привет", external_id="layout-1")
        anna.close()
    engine = db.create(database_url)
    try:
        old = older_layouts()
        names = [t.name for t in old]
        kept = rows_of(engine, names)
        assert all(kept[name] for name in names), "each table holds rows to move"
        for table in old:
            db.rebuild(engine, table)
        assert "uq_messages_client_msg" in {
            u["name"] for u in inspect(engine).get_unique_constraints("messages")
        }
        db.init_schema(engine)
        db.init_schema(engine)
        found = inspect(engine)
        assert found.get_pk_constraint("event_audience")["constrained_columns"] == [
            "cursor",
            "operator_id",
        ]
        assert not found.get_unique_constraints("messages")
        indexes = {i["name"]: i for i in found.get_indexes("messages")}
        assert indexes["uq_messages_client_msg"]["unique"]
        if engine.dialect.name == "sqlite":
            cursor = next(c for c in found.get_columns("events") if c["name"] == "cursor")
            assert str(cursor["type"]) == "INTEGER"
            assert found.get_table_options("inbound_seen") == {"sqlite_with_rowid": False}
        assert not {f"{name}_before_move" for name in names} & set(found.get_table_names())
        assert rows_of(engine, names) == kept
    finally:
        engine.dispose()
    with EmbeddedServer(database_url=database_url, reply_to_operators=False) as srv:
        anna = Api(srv.url).login("anna")
        again = anna.ok("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)
        assert again == sent
        assert customer_says(srv.url, "telegram", "@layout", "Привет", external_id="layout-1")[
            "duplicate"
        ]
        anna.close()
