"""SQLite's write-ahead log under steady writes: each background checkpoint pass ends with a
last copy under the write lock, so the log starts over instead of growing until a commit
checkpoints inside a writer's step (db.Checkpointer).

Real SQLite files; the frame counts come from SQLite itself (``PRAGMA wal_checkpoint``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

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
    backend = Backend(engine)  # its checkpoint thread runs four times a second: these tests
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


def test_a_pass_finishes_with_writes_held_and_the_log_starts_over(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(WRITES):
        backend.writer.run(note)
    copy = db.Checkpointer._copy_while_writing

    def commits_land_meanwhile(conn: Connection) -> None:
        copy(conn)
        commits_elsewhere(backend, LANDED)  # the copying rounds never see these

    monkeypatch.setattr(
        db.Checkpointer, "_copy_while_writing", staticmethod(commits_land_meanwhile)
    )
    backend.checkpointer.run_pass()
    for _ in range(5):  # the first write starts the log over
        backend.writer.run(note)
    assert frames_in_log(backend) < LANDED  # only the last commits: it started over


def test_the_last_copy_waits_for_the_write_lock(backend: Backend) -> None:
    passing = threading.Thread(target=backend.checkpointer.run_pass)
    with backend._write_lock:
        passing.start()
        passing.join(0.3)
        assert passing.is_alive()  # copied what it could, waits to finish
    passing.join(10)
    assert not passing.is_alive()


def test_the_files_are_synced_before_the_last_copy_takes_the_write_lock(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commits leave the log unsynced: a checkpoint's sync writes out everything since
    the last one (5-10 ms at 500 messages/s), which under the lock held every write."""
    for _ in range(WRITES):
        backend.writer.run(note)
    lock = backend._write_lock._lock
    opened: dict[int, str] = {}
    happened: list[tuple[str, bool]] = []
    real_open, real_fsync, real_checkpoint = os.open, os.fsync, db.checkpoint

    def open_(path: str, flags: int) -> int:
        fd = real_open(path, flags)
        opened[fd] = Path(path).name
        return fd

    def fsync(fd: int) -> None:
        happened.append((f"sync {opened[fd]}", lock.locked()))
        real_fsync(fd)

    def checkpoint(conn: Connection) -> tuple[int, int, int]:
        happened.append(("checkpoint", lock.locked()))
        return real_checkpoint(conn)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(db, "checkpoint", checkpoint)
    backend.checkpointer.run_pass()
    assert happened[-3:] == [
        ("sync wal.db", False),
        ("sync wal.db-wal", False),
        ("checkpoint", True),  # the last copy, under the lock
    ]


def test_the_passes_between_two_finishes_do_not_touch_the_write_lock(backend: Backend) -> None:
    for _ in range(WRITES):
        backend.writer.run(note)
    passing = threading.Thread(target=backend.checkpointer.run_pass, kwargs={"finish": False})
    with backend._write_lock:
        passing.start()
        passing.join(10)
        assert not passing.is_alive()  # copied while writes were held elsewhere


def test_every_hot_statement_is_compiled_when_the_backend_starts(backend: Backend) -> None:
    assert hotsql.defined_count() > 10  # the write path's statements register at import
    assert hotsql.not_compiled(backend.engine.dialect) == []


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's"
)
def test_the_checkpoint_thread_runs_below_the_servers_other_threads(tmp_path: Path) -> None:
    engine = db.create(db.sqlite_url(str(tmp_path / "nice.db")))
    db.init_schema(engine)
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    backend = Backend(engine)  # starts the checkpoint thread
    try:
        thread = backend.checkpointer._thread.native_id
        assert thread is not None
        lowered = min(19, ours + db.CHECKPOINT_NICENESS)
        deadline = time.monotonic() + 5
        while os.getpriority(os.PRIO_PROCESS, thread) != lowered and time.monotonic() < deadline:
            time.sleep(0.01)  # it lowers itself first thing
        assert os.getpriority(os.PRIO_PROCESS, thread) == lowered
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == ours
    finally:
        backend.shutdown()
        engine.dispose()
