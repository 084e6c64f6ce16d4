"""The same storage behaviour on SQLite and on a real PostgreSQL server.

PostgreSQL runs where ``OPERATOR_TEST_PG_URL`` points (``.ci/postgres.sh`` starts one); each
test gets its own fresh database there.
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    Table,
    insert,
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


def test_the_audience_of_a_database_from_before_is_keyed_by_cursor_at_start(
    database_url: str,
) -> None:
    """Audience rows keyed by operator first (before figure 7's fifth round) move to the
    layout keyed by cursor, every row kept; a second start finds nothing to move."""
    engine = db.create(database_url)
    try:
        db.init_schema(engine)
        before = MetaData()
        old = Table(
            "event_audience",
            before,
            Column("operator_id", Integer, primary_key=True),
            Column("cursor", BigInteger, primary_key=True, autoincrement=False),
            Index("ix_event_audience_cursor", "cursor"),
        )
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE event_audience"))
        before.create_all(engine)
        rows = [{"operator_id": op, "cursor": c} for c in (7, 8, 9) for op in (1, 2)]
        with engine.begin() as conn:
            conn.execute(insert(old), rows)
        db.init_schema(engine)
        db.init_schema(engine)
        found = inspect(engine)
        key = found.get_pk_constraint("event_audience")["constrained_columns"]
        assert key == ["cursor", "operator_id"]
        assert "event_audience_by_operator" not in found.get_table_names()
        with engine.connect() as conn:
            kept = conn.execute(select(s.event_audience.c.operator_id, s.event_audience.c.cursor))
            assert sorted(tuple(r) for r in kept) == sorted(
                (r["operator_id"], r["cursor"]) for r in rows
            )
    finally:
        engine.dispose()
