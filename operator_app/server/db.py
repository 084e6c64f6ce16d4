"""Engine creation: SQLite in WAL mode by default, PostgreSQL through a database URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine.url import make_url

from . import schema


def sqlite_url(path: str) -> str:
    return f"sqlite:///{path}"


def create(database_url: str) -> Engine:
    """An engine for the URL; SQLite connections get WAL, NORMAL sync, foreign keys, a busy wait."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if url.database in (None, "", ":memory:"):
        raise ValueError("use a SQLite file, not an in-memory database: threads share it")
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_schema(engine: Engine) -> None:
    """Create missing tables and the event sequence row; safe to run again."""
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(select(schema.event_sequence.c.id)).first() is None:
            conn.execute(insert(schema.event_sequence).values(id=1, head=0, pruned_through=0))


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(schema.operators.c.id).limit(1)).first() is None
