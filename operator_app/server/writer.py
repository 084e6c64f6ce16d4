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
            self.waiter.get_loop().call_soon_threadsafe(settle_waiter, self.waiter, result, None)

    def fail(self, exc: BaseException) -> None:
        self.answered = True
        if self.future is not None:
            self.future.set_exception(exc)
        elif self.waiter is not None:
            self.waiter.get_loop().call_soon_threadsafe(settle_waiter, self.waiter, None, exc)


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
        self._pending: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn: Connection | None = None  # kept from batch to batch while jobs keep coming
        # a connector may be slow (a real channel's API): never on the writer's thread
        self._connector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connector")

    def submit(self, run: Callable[[Tx], T], accepted_at: datetime | None = None) -> Future[T]:
        """Queue a job; its future resolves after its batch committed (or with its error)."""
        future: Future[T] = Future()
        self._ensure_started()
        self._pending.put(Job(run, accepted_at or utcnow(), future=future))
        return future

    def submit_async(
        self, run: Callable[[Tx], T], accepted_at: datetime | None = None
    ) -> asyncio.Future[T]:
        """Queue a job from a coroutine; await the result on the running loop."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        job = Job(run, accepted_at or utcnow(), waiter=waiter)
        self._ensure_started()
        self._pending.put(job)
        return waiter

    def run(self, run: Callable[[Tx], T], accepted_at: datetime | None = None) -> T:
        """Submit and wait: for the thread-pool routes."""
        result: T = self.submit(run, accepted_at).result()
        return result

    def stop(self) -> None:
        thread = self._thread
        if thread is not None:
            self._pending.put(None)
            thread.join(timeout=10)
            self._thread = None
        self._connector.shutdown(wait=True)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="operator-server-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                self._release()
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
                self._release()
                for job in jobs:
                    if not job.answered:
                        job.fail(exc)
            if stop:
                self._release()
                return
            self._catch_up_checkpoint()
            if self._pending.empty():  # idle: back to the pool (which checks it when taken)
                self._release()

    def _connection(self) -> Connection:
        """The writer's connection: one pool checkout per busy spell, not one per batch (the
        checkout, reset and check-in cost ~5% of the server at 500 messages/s)."""
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self.backend.engine.connect()
        return conn

    def _catch_up_checkpoint(self) -> None:
        """Between two batches, under the write lock: no commit can land in the meantime.
        The lock is taken only when a background pass has ended (a few times a second)."""
        conn = self._conn
        checkpointer = self.backend.checkpointer
        if checkpointer.due and conn is not None and not conn.closed and not conn.invalidated:
            with self.backend._write_lock:
                checkpointer.catch_up(conn)

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a broken connection: the pool replaces it
                log.warning("closing the writer's connection failed", exc_info=True)

    def _write(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        backend = self.backend
        results: list[Any] = []
        outbound: list[list[Outbound]] = []  # what each job hands to the connector
        with backend._write_lock:
            try:
                conn = self._connection()
                with conn.begin():
                    tx = Tx(conn, jobs[0].accepted_at, backend.retention, memo={})
                    for job in jobs:
                        tx.now = job.accepted_at
                        handed = len(tx.outbound)
                        results.append(job.run(tx))
                        outbound.append(tx.outbound[handed:])
                    routing.settle(tx)
                    tx.finish()
            except Exception as exc:
                self._release()  # whatever state it is in, the next batch starts afresh
                failure: Exception | None = exc
            else:
                failure = None
                if hub.HOP_TRACE is not None:
                    hub.HOP_TRACE.committed(event.cursor for event in tx.published)
                # under the lock, so frames leave in cursor order; the coroutines waiting on
                # the loop are answered in the same hand-off, right after the publication
                with_events = [
                    (job, result)
                    for job, result, items in zip(jobs, results, outbound, strict=True)
                    if job.waiter is not None and not items and backend.owns(job.waiter)
                ]
                backend._publish(tx.published, [(j.waiter, r) for j, r in with_events if j.waiter])
                for job, _result in with_events:
                    job.answered = True
        if failure is not None:
            self._recover(jobs, len(results), failure)
            return
        self.batches += 1
        for job, result, items in zip(jobs, results, outbound, strict=True):
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
