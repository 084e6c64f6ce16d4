"""Group commit: the hot writes (customer messages, operator sends) share one transaction.

Callers hand a job (a function of the transaction) to one writer thread. The writer takes
everything pending, runs the jobs one after another in ONE transaction under the backend's
write lock, commits once, publishes the events of the whole batch in cursor order, and only
then answers each caller: nothing is acknowledged before it is durable.

Jobs run in order on the same connection, so a job sees what the jobs before it wrote:
two posts with the same idempotency key in one batch get the same answer. If any job raises,
the whole batch is rolled back (its cursors with it, so the sequence stays gap-free); the jobs
before it are written again, the failing one gets its own error, the ones after it go on in the
next transaction: the others commit as if nothing happened.

On SQLite, a batch of coroutines' jobs (the customers' messages) is written on the server's
event loop itself: its statements are calls into a local library, and the thread's hand-offs
cost more than they do. Sharing one GIL with the loop, the thread waited for it after every
statement while the loop sent frames (figure 7 of docs/performance.md). The loop never blocks
on the write lock: when a thread holds it (another write, the checkpoint's last copy), the
lock calls the loop back when it is released, and the loop serves its connections meanwhile.
PostgreSQL's statements wait for the network: there the thread writes every batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

from . import hub, routing
from .errors import ApiError
from .schema import utcnow
from .txn import Outbound, Tx

if TYPE_CHECKING:
    from .service import Backend

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BATCH = 256  # bounds how long one transaction holds the write lock
LOOP_BATCH = 32  # bounds a batch written on the loop (~0.4 ms a message): I/O goes between


@dataclass
class Job:
    """One write. Its caller waits on ``future`` (a thread) or awaits ``waiter`` (a coroutine
    on an event loop): the writer answers a batch's coroutines with one hand-off to the loop
    instead of one wake-up each."""

    run: Callable[[Tx], Any]
    accepted_at: datetime  # the job's tx.now: its created_at includes the wait for the writer
    future: Future[Any] | None = None  # exactly one of future and waiter
    waiter: asyncio.Future[Any] | None = None
    answered: bool = False

    def succeed(self, result: Any) -> None:
        self.answered = True
        if self.future is not None:
            self.future.set_result(result)
        elif self.waiter is not None:
            _call_on(self.waiter.get_loop(), settle_waiter, self.waiter, result, None)

    def fail(self, exc: BaseException) -> None:
        self.answered = True
        if self.future is not None:
            self.future.set_exception(exc)
        elif self.waiter is not None:
            _call_on(self.waiter.get_loop(), settle_waiter, self.waiter, None, exc)


def _call_on(loop: asyncio.AbstractEventLoop, func: Callable[..., None], *args: Any) -> None:
    if not loop.is_closed():  # else its coroutines are gone: nobody to answer
        loop.call_soon_threadsafe(func, *args)


class WriteLock:
    """The backend's one write lock. The event loop does not block on it: it asks to be
    called back when the lock is released (``take_or_call_back``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guard = threading.Lock()  # a release cannot slip between a try and its request
        self._on_release: list[Callable[[], None]] = []

    def acquire(self) -> None:
        self._lock.acquire()

    def release(self) -> None:
        with self._guard:
            self._lock.release()
            waiting, self._on_release = self._on_release, []
        for callback in waiting:
            callback()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def take_or_call_back(self, on_release: Callable[[], None]) -> bool:
        """Take the lock if it is free; else ``on_release`` runs (in the releasing thread)
        once it is released, and the caller tries again then."""
        with self._guard:
            if self._lock.acquire(blocking=False):
                return True
            self._on_release.append(on_release)
            return False


class Lane:
    """The connection one writer (the thread, or the loop) keeps from batch to batch while
    jobs keep coming: the pool's checkout, reset and check-in cost ~5% of the server at
    500 messages/s.

    ``waits=False`` (the loop's lane): SQLite does not wait for another process's write lock
    (an admin command writing the file) but refuses at once; the batch then goes to the
    thread, which waits, and the loop goes on serving. Such a connection is closed, not
    pooled, when the lane lets it go: nobody else gets its busy timeout."""

    def __init__(self, backend: Backend, *, waits: bool = True) -> None:
        self.backend = backend
        self._waits = waits or backend.engine.dialect.name != "sqlite"
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self.backend.engine.connect()
            if not self._waits:
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                conn.commit()  # the pragma's autobegun transaction, empty
        return conn

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if not self._waits:
                    conn.invalidate()  # its DB-API connection is closed, not pooled
                conn.close()
            except Exception:  # a broken connection: the pool replaces it
                log.warning("closing a writer's connection failed", exc_info=True)


@dataclass
class Written:
    """What a batch's transaction gave: each job's result and what it hands to the
    connector, up to the job that failed (then ``failure`` says why and nothing committed)."""

    results: list[Any]
    outbound: list[list[Outbound]]
    failure: Exception | None = None


def settle_waiter(waiter: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    """On the waiter's loop: its coroutine may have been cancelled (the client went away)."""
    if waiter.done():
        return
    if exc is None:
        waiter.set_result(result)
    else:
        waiter.set_exception(exc)


class GroupWriter:
    def __init__(self, backend: Backend, max_batch: int = MAX_BATCH) -> None:
        self.backend = backend
        self.max_batch = max_batch
        self.batches = 0  # committed batches, for tests and diagnostics
        self.batches_on_loop = 0  # ...of them written on the event loop
        self.writes_on_loop = backend.engine.dialect.name == "sqlite"
        self._pending: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._thread_lane = Lane(backend)
        self._loop_lane = Lane(backend, waits=False)
        self._on_loop: list[Job] = []  # coroutines' jobs waiting for the loop's next drain
        self._drain_due = False  # a drain is queued on the loop, or the lock's release calls it
        # a connector may be slow (a real channel's API): never on the writer's thread
        self._connector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connector")

    def submit(self, run: Callable[[Tx], T], accepted_at: datetime | None = None) -> Future[T]:
        """Queue a job; its future resolves after its batch committed (or with its error)."""
        future: Future[T] = Future()
        self._to_thread(Job(run, accepted_at or utcnow(), future=future))
        return future

    def submit_async(
        self, run: Callable[[Tx], T], accepted_at: datetime | None = None
    ) -> asyncio.Future[T]:
        """Queue a job from a coroutine; await the result on the running loop."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        job = Job(run, accepted_at or utcnow(), waiter=waiter)
        if self.writes_on_loop and loop is self.backend.loop:
            self._on_loop.append(job)
            self._schedule_drain(loop)
        else:
            self._to_thread(job)
        return waiter

    def run(self, run: Callable[[Tx], T], accepted_at: datetime | None = None) -> T:
        """Submit and wait: for the thread-pool routes."""
        result: T = self.submit(run, accepted_at).result()
        return result

    def stop(self) -> None:
        """Writes what was handed over (the loop's leftovers too: their loop has ended),
        then lets the connections go."""
        leftovers, self._on_loop = self._on_loop, []
        for job in leftovers:
            self._to_thread(job)
        thread = self._thread
        if thread is not None:
            self._pending.put(None)
            thread.join(timeout=10)
            self._thread = None
        self._loop_lane.release()
        self._connector.shutdown(wait=True)

    def _to_thread(self, job: Job) -> None:
        self._ensure_started()
        self._pending.put(job)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="operator-server-writer", daemon=True
                )
                self._thread.start()

    # ---- on the event loop ---------------------------------------------------------------

    def _drain_on_loop(self) -> None:
        self._drain_due = False
        jobs = self._on_loop[:LOOP_BATCH]
        lock = self.backend._write_lock
        if not jobs:
            return
        if not lock.take_or_call_back(self._drain_when_released):
            self._drain_due = True  # the release calls the drain again; the jobs wait here
            return
        del self._on_loop[: len(jobs)]
        try:
            written = self._commit(jobs, self._loop_lane)
        finally:
            lock.release()
        if self._on_loop:  # the rest after the loop's I/O
            self._schedule_drain(asyncio.get_running_loop())
        if written.failure is not None:  # rolled back: the thread finds the culprit
            for job in jobs:
                self._to_thread(job)
            return
        self._answer(jobs, written)

    def _schedule_drain(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._drain_due:  # the jobs queued meanwhile share the drain's batch
            self._drain_due = True
            loop.call_soon(self._drain_on_loop)

    def _drain_when_released(self) -> None:
        """In the thread that released the write lock: the loop's jobs waited for it."""
        loop = self.backend.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drain_on_loop)

    # ---- on the writer's thread ----------------------------------------------------------

    def _loop(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                self._thread_lane.release()
                return
            jobs = [first]
            stop = False
            while len(jobs) < self.max_batch:
                try:
                    job = self._pending.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            try:
                self._write(jobs)
            except BaseException as exc:  # never leave a caller waiting forever
                log.exception("the group writer failed")
                self._thread_lane.release()
                for job in jobs:
                    if not job.answered:
                        job.fail(exc)
            if stop:
                self._thread_lane.release()
                return
            if self._pending.empty():  # idle: back to the pool (which checks it when taken)
                self._thread_lane.release()

    def _write(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        with self.backend._write_lock:
            written = self._commit(jobs, self._thread_lane)
        if written.failure is not None:
            self._recover(jobs, len(written.results), written.failure)
            return
        self._answer(jobs, written)

    # ---- either ----------------------------------------------------------------------------

    def _commit(self, jobs: list[Job], lane: Lane) -> Written:
        """Under the write lock: run the jobs in one transaction, commit, publish."""
        backend = self.backend
        written = Written([], [])
        try:
            conn = lane.connection()
            with conn.begin():
                tx = Tx(conn, jobs[0].accepted_at, backend.retention, memo={})
                for job in jobs:
                    tx.now = job.accepted_at
                    handed = len(tx.outbound)
                    written.results.append(job.run(tx))
                    written.outbound.append(tx.outbound[handed:])
                routing.settle(tx)
                tx.finish()
        except Exception as exc:
            lane.release()  # whatever state it is in, the next batch starts afresh
            written.failure = exc
            return written
        self.batches += 1
        if lane is self._loop_lane:
            self.batches_on_loop += 1
        if hub.HOP_TRACE is not None:
            hub.HOP_TRACE.committed(event.cursor for event in tx.published)
        # under the lock, so frames leave in cursor order; the coroutines waiting on the loop
        # are answered in the same hand-off, right after the publication
        with_events = [
            (job, result)
            for job, result, items in zip(jobs, written.results, written.outbound, strict=True)
            if job.waiter is not None and not items and backend.owns(job.waiter)
        ]
        backend._publish(tx.published, [(j.waiter, r) for j, r in with_events if j.waiter])
        for job, _result in with_events:
            job.answered = True
        return written

    def _answer(self, jobs: list[Job], written: Written) -> None:
        for job, result, items in zip(jobs, written.results, written.outbound, strict=True):
            if items:  # answered once the connector has it, as before group commit
                self._connector.submit(self._deliver_then_answer, job, result, items)
            elif not job.answered:
                job.succeed(result)

    def _deliver_then_answer(self, job: Job, result: Any, items: list[Outbound]) -> None:
        try:
            self.backend._deliver(items)  # logs a connector's failure; the message is stored
        finally:
            job.succeed(result)

    def _recover(self, jobs: list[Job], failed_at: int, exc: Exception) -> None:
        """The batch was rolled back. Jobs are deterministic on the database state, so the
        ones before the culprit are written again as a batch, the culprit answers alone,
        and the rest go on as a new batch: a refused request costs two extra transactions,
        not one per job of its batch."""
        if len(jobs) == 1:
            jobs[0].fail(exc)
            return
        if failed_at >= len(jobs):  # finish() or the commit failed: nobody to blame, go alone
            for job in jobs:
                self._write([job])
            return
        self._write(jobs[:failed_at])
        culprit = jobs[failed_at]
        if isinstance(exc, ApiError):  # a refusal: the same state gives the same answer
            culprit.fail(exc)
        else:  # maybe transient (a concurrent process): its own transaction decides
            self._write([culprit])
        self._write(jobs[failed_at + 1 :])
