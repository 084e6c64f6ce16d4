"""Engine creation: SQLite in WAL mode by default, PostgreSQL through a database URL."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine.url import make_url

from . import schema

log = logging.getLogger(__name__)


COMMIT_CHECKPOINT_PAGES = 50_000  # a commit checkpoints only if the background one fell behind
CHECKPOINT_SECONDS = 1.0


class Checkpointer:
    """PASSIVE WAL checkpoints once a second on a connection of its own (SQLite only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # the next second tries again; a broken disk shows in the writes
                log.warning("WAL checkpoint failed", exc_info=True)


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
    # No checkpoint inside a commit (it copied WAL pages into a 650 MB file while the writer
    # held the lock: the tail of the latencies); Checkpointer does it beside the writer.
    cursor.execute(f"PRAGMA wal_autocheckpoint={COMMIT_CHECKPOINT_PAGES}")
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
