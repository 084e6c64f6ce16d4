"""SQLite's write-ahead log under steady writes: the background checkpoint hands over to the
group writer, which finishes it between two batches, so the log starts over instead of
growing until a commit checkpoints inside the writer's step (db.Checkpointer).

Real SQLite files; the frame counts come from SQLite itself (``PRAGMA wal_checkpoint``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from operator_app.server import db, hotsql
from operator_app.server.service import Backend
from operator_app.server.txn import Tx

WRITES = 40
LANDED = 10  # commits while (or after) the background pass copied; one frame or more each


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    engine = db.create(db.sqlite_url(str(tmp_path / "wal.db")))
    db.init_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT)")
    backend = Backend(engine)  # its checkpoint thread runs once a second: these tests
    backend.checkpointer.stop()  # run the passes themselves, in a known order
    yield backend
    backend.shutdown()
    engine.dispose()


def note(tx: Tx) -> None:
    tx.conn.exec_driver_sql("INSERT INTO probe (note) VALUES ('a customer wrote')")


def frames_in_log(backend: Backend) -> int:
    """The log's length in frames (a checkpoint reports it; it copies what it can, too)."""
    with backend.engine.connect() as conn:
        return db.checkpoint(conn)[1]


def commits_elsewhere(backend: Backend, count: int) -> None:
    """Writes that land while the background pass copies: not on the writer's connection."""
    for _ in range(count):
        with backend.write() as tx:
            note(tx)


def test_writer_finishes_the_background_pass_and_the_log_starts_over(backend: Backend) -> None:
    for _ in range(WRITES):
        backend.writer.run(note)
    backend.checkpointer.run_pass()
    commits_elsewhere(backend, LANDED)  # the log is not fully copied any more
    for _ in range(5):  # the first batch's writer catches up; the next write starts over
        backend.writer.run(note)
    assert frames_in_log(backend) < LANDED  # only the last four commits: it started over


def test_without_a_background_pass_the_writer_leaves_the_log_alone(backend: Backend) -> None:
    for _ in range(WRITES):
        backend.writer.run(note)
    with backend.engine.connect() as conn:  # a pass that did not come from the checkpointer
        db.checkpoint(conn)
    commits_elsewhere(backend, LANDED)
    for _ in range(5):
        backend.writer.run(note)
    assert frames_in_log(backend) >= LANDED + 5  # the writer did not copy them: no restart


def test_the_catch_up_is_once_per_pass(backend: Backend) -> None:
    backend.checkpointer.run_pass()
    with backend.engine.connect() as conn:
        backend.checkpointer.catch_up(conn)
    commits_elsewhere(backend, LANDED)
    with backend.engine.connect() as conn:
        backend.checkpointer.catch_up(conn)  # the hand-over was used: copies nothing
    commits_elsewhere(backend, 1)  # had it copied, this commit would start the log over
    assert frames_in_log(backend) > LANDED


def test_every_hot_statement_is_compiled_when_the_backend_starts(backend: Backend) -> None:
    dialect = backend.engine.dialect
    key = f"{dialect.name}+{dialect.driver}"
    assert hotsql._DEFINED  # the write path's statements are registered at import
    assert all(key in hot._by_dialect for hot in hotsql._DEFINED)
