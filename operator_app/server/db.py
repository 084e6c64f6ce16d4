"""Engine creation: SQLite in WAL mode by default, PostgreSQL through a database URL."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    column,
    create_engine,
    event,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine.url import make_url

from . import schema
from .hotsql import dbapi_connection

log = logging.getLogger(__name__)


COMMIT_CHECKPOINT_PAGES = 50_000  # a commit checkpoints only if the background one fell behind
# Four passes a second: each copies and syncs a quarter as much, and the writer's disk waits
# under a pass shrink with it (figure 7, six alternated pairs: p99 9.5 -> 7.7 ms median).
CHECKPOINT_SECONDS = 0.25
CHECKPOINT_ROUNDS = 4  # background rounds per pass at most
# The last copy holds the write lock (the loop's writes wait: ~1 ms): once a second.
# Figure 7, three alternated pairs: 2.38/2.25/2.23x with each pass, 2.00/1.80/2.27x like this.
FINISH_EVERY_PASSES = 4
LEFT_UNDER_LOCK_PAGES = 64  # ...until the last round saw the log grow by at most this much
# Below the event loop's thread: a pass's copying took the loop's core in the middle of its
# sends (half the slowest 3 % of figure 7's deliveries came at one phase of the passes).
CHECKPOINT_NICENESS = 10


class Checkpointer:
    """PASSIVE WAL checkpoints four times a second on a connection of its own (SQLite only).

    Under steady writes a passive checkpoint never catches up with the log (commits land
    while it copies), so SQLite never starts the log over: it grew until a commit passed
    COMMIT_CHECKPOINT_PAGES and checkpointed inside the writer's step (25-60 ms, once every
    few seconds at 500 messages/s). So every FINISH_EVERY_PASSES-th pass ends with a last copy
    under the write lock, of the few pages written meanwhile: the log is then fully copied,
    and the next transaction writes it from the start again.

    The commits write the log without syncing it (``synchronous=NORMAL``): a checkpoint's
    sync then writes out what was committed since the last one, 5-10 ms on the machine we
    measure, and when that fell on the last copy the writes waited as long. So the files are
    synced just before the lock is taken (``_flush``): the copy under it syncs only the last
    milliseconds' pages (docs/performance.md, fifteenth round)."""

    def __init__(self, engine: Engine, write_lock: AbstractContextManager[object]) -> None:
        self.engine = engine
        self._write_lock = write_lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def run_pass(self, finish: bool = True) -> None:
        """One pass (the thread's, every CHECKPOINT_SECONDS): copy while writes go on, then
        (``finish``) copy the rest with writes held."""
        with self.engine.connect() as conn:
            self._copy_while_writing(conn)
            if finish:
                self._flush()
                with self._write_lock:
                    checkpoint(conn)

    def _flush(self) -> None:
        """Sync the database and its log while writes go on (what is written meanwhile is
        the last copy's to sync). A file this cannot sync (Windows syncs only a file opened
        for writing) is left to the copy, as before."""
        database = self.engine.url.database or ""
        for path in (database, database + "-wal"):
            with contextlib.suppress(OSError):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def _run(self) -> None:
        lower_thread_priority(CHECKPOINT_NICENESS)
        passes = 0
        while not self._stop.wait(CHECKPOINT_SECONDS):
            passes += 1
            try:
                self.run_pass(finish=passes % FINISH_EVERY_PASSES == 0)
            except Exception:  # the next pass tries again; a broken disk shows in the writes
                log.warning("WAL checkpoint failed", exc_info=True)

    @staticmethod
    def _copy_while_writing(conn: Connection) -> None:
        """Checkpoint again while the log grew much during the last round: what is left for
        the copy under the lock (two syncs and the pages written meanwhile) stays small."""
        logged_before = -1
        for _ in range(CHECKPOINT_ROUNDS):
            _busy, logged, _copied = checkpoint(conn)
            if 0 <= logged - logged_before <= LEFT_UNDER_LOCK_PAGES:
                return
            logged_before = logged


def lower_thread_priority(niceness: int) -> None:
    """The calling thread only, on Linux (where each thread has a nice value of its own);
    elsewhere, or where refused, it keeps the process's."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + niceness)


def checkpoint(conn: Connection) -> tuple[int, int, int]:
    """A PASSIVE checkpoint: (busy, frames in the log, frames copied into the database)."""
    cursor = dbapi_connection(conn).execute("PRAGMA wal_checkpoint(PASSIVE)")
    busy, logged, copied = cursor.fetchone()
    return int(busy), int(logged), int(copied)


def sqlite_url(path: str) -> str:
    return f"sqlite:///{path}"


BUSY_TIMEOUT_MS = 30_000  # how long a SQLite statement waits for another process's write lock


def create(database_url: str) -> Engine:
    """An engine for the URL; SQLite connections get WAL, NORMAL sync, foreign keys, a busy wait
    (``timeout``: sqlite3 sets the connection's busy timeout from it)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if url.database in (None, "", ":memory:"):
        raise ValueError("use a SQLite file, not an in-memory database: threads share it")
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")  # the busy timeout: the connect argument, above
    # No checkpoint inside a commit (it copied WAL pages into a 650 MB file while the writer
    # held the lock: the tail of the latencies); Checkpointer does it beside the writer.
    cursor.execute(f"PRAGMA wal_autocheckpoint={COMMIT_CHECKPOINT_PAGES}")
    cursor.close()


def init_schema(engine: Engine) -> None:
    """Create missing tables, missing indexes (``create_all`` adds none to a table that
    exists: an index added to the schema later reaches existing databases here) and the
    event sequence row, after moving tables of an older layout; safe to run again."""
    _move_old_layouts(engine)
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        for defined in schema.metadata.sorted_tables:
            for index in defined.indexes:
                index.create(conn, checkfirst=True)
        if conn.execute(select(schema.event_sequence.c.id)).first() is None:
            conn.execute(insert(schema.event_sequence).values(id=1, head=0, pruned_through=0))


def _move_old_layouts(engine: Engine) -> None:
    """Tables whose layout changed since an older release move to the current one with every
    row (``create_all`` leaves a table that exists as it is). Each change says how to spot
    the old layout; see docs/server.md, "Storage layout"."""
    found = inspect(engine)
    present = set(found.get_table_names())
    sqlite = engine.dialect.name == "sqlite"
    if "event_audience" in present:
        key = found.get_pk_constraint("event_audience")["constrained_columns"]
        if key == ["operator_id", "cursor"]:  # before: keyed by operator first
            rebuild(engine, schema.event_audience)
    if sqlite and "events" in present:
        cursor = next(c for c in found.get_columns("events") if c["name"] == "cursor")
        if isinstance(cursor["type"], BigInteger):  # before: not the rowid
            rebuild(engine, schema.events)
    if (
        sqlite
        and "inbound_seen" in present
        and found.get_table_options("inbound_seen").get("sqlite_with_rowid", True)
    ):  # before: a rowid table
        rebuild(engine, schema.inbound_seen)
    if "messages" in present:
        unique = {u["name"] for u in found.get_unique_constraints("messages")}
        if "uq_messages_client_msg" in unique:  # before: a constraint over every message
            if sqlite:  # SQLite drops no constraint
                rebuild(engine, schema.messages)
            else:  # its partial index follows in init_schema
                with engine.begin() as conn:
                    conn.execute(
                        text("ALTER TABLE messages DROP CONSTRAINT uq_messages_client_msg")
                    )


def rebuild(engine: Engine, defined: Table) -> None:
    """``defined`` anew in its current layout, with the old table's rows; one transaction."""
    name = defined.name
    before = f"{name}_before_move"
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {name} RENAME TO {before}"))
        for index in inspect(conn).get_indexes(before):  # renamed along, names still taken
            if not index.get("duplicates_constraint"):
                conn.execute(text(f"DROP INDEX {index['name']}"))
        defined.create(conn)
        names = [c.name for c in defined.columns]
        old = table(before, *(column(n) for n in names))
        conn.execute(insert(defined).from_select(names, select(*old.c)))
        conn.execute(text(f"DROP TABLE {before}"))
    log.info("table %s moved to its current layout in %.1f s", name, time.perf_counter() - started)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(schema.operators.c.id).limit(1)).first() is None
