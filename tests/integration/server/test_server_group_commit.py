"""The group-commit write path on the real server: many concurrent customer messages and
operator sends, batched into shared transactions, on SQLite and on PostgreSQL.

The tests hold the backend's write lock while requests arrive, so the writer is forced to
collect them into one batch, then check what a client and the database see.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, create_engine, func, insert, make_url, select, text

from operator_app.protocol import models as m
from operator_app.protocol import routes
from operator_app.server import inbound
from operator_app.server import schema as s
from operator_app.server.embedded import EmbeddedServer
from operator_app.server.service import Backend
from operator_app.server.txn import Tx
from tests.integration.server.server_helpers import Api, Json, Ws

CHANNELS = ("telegram", "whatsapp", "viber", "webchat")


@pytest.fixture
def srv(database_url: str) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(database_url=database_url, reply_to_operators=False) as server:
        yield server


@pytest.fixture
def staff(srv: EmbeddedServer) -> Iterator[Callable[..., Api]]:
    clients: list[Api] = []

    def make(name: str, password: str = "demo") -> Api:
        clients.append(Api(srv.url).login(name, password))
        return clients[-1]

    yield make
    for api in clients:
        api.close()


def backend_of(server: EmbeddedServer) -> Backend:
    assert server.backend is not None
    return server.backend


@contextmanager
def writes_held(server: EmbeddedServer, settle: float = 0.5) -> Iterator[None]:
    """Requests started inside queue up behind the write lock; they are written on exit."""
    lock = backend_of(server)._write_lock
    lock.acquire()
    try:
        yield
        time.sleep(settle)  # let every request reach the writer's queue
    finally:
        lock.release()


def post_inbound(url: str, channel: str, address: str, ext: str) -> Json:
    response = httpx.post(
        url + routes.INBOUND.format(channel=channel),
        json={"address": address, "name": "", "text": f"hi {ext}", "external_id": ext},
        headers={"X-Channel-Secret": f"demo-{channel}-secret"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def post_send(api: Api, dialog_id: int, client_msg_id: str) -> httpx.Response:
    body = {"client_msg_id": client_msg_id, "text": f"reply {client_msg_id[:8]}"}
    return api.request("POST", routes.MESSAGES.format(dialog_id=dialog_id), json=body)


def run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result(timeout=60) for f in futures]


def database_facts(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return _facts(conn)
    finally:
        engine.dispose()


def _facts(conn: Connection) -> dict[str, Any]:
    seq = conn.execute(select(s.event_sequence)).one()
    cursors = list(conn.execute(select(s.events.c.cursor).order_by(s.events.c.cursor)).scalars())
    return {
        "head": seq.head,
        "pruned": seq.pruned_through,
        "cursors": cursors,
        "messages": conn.execute(select(func.count()).select_from(s.messages)).scalar_one(),
        "no_cursor": conn.execute(
            select(func.count()).select_from(s.messages).where(s.messages.c.event_cursor.is_(None))
        ).scalar_one(),
        "message_cursors": list(
            conn.execute(select(s.messages.c.event_cursor).order_by(s.messages.c.id)).scalars()
        ),
    }


def live_events(ws: Ws, want: Callable[[list[Json]], bool], timeout: float = 20) -> list[Json]:
    frames: list[Json] = []
    deadline = time.monotonic() + timeout
    while not want(frames):
        assert time.monotonic() < deadline, f"only {len(frames)} frames arrived"
        frame = ws.recv(timeout=deadline - time.monotonic())
        if frame["type"] == "event":
            frames.append(frame)
    return frames


def test_concurrent_posts_commit_once_in_few_batches_gap_free(
    srv: EmbeddedServer, database_url: str, staff: Callable[..., Api]
) -> None:
    admin = staff("admin", "admin")  # in every audience: sees every event
    anna = staff("anna")
    ws = Ws(srv.url, admin.token)
    _hello, _replayed, done = ws.handshake()
    start = done["cursor"]
    before = database_facts(database_url)
    mine = [d["id"] for d in anna.dialogs("mine")]
    inbound = [(CHANNELS[n % 4], f"@batch-{n % 7}", f"ext-{n}") for n in range(40)]
    sends = [(mine[n % len(mine)], str(uuid.uuid4())) for n in range(20)]
    calls: list[Callable[[], Any]] = []
    for channel, address, external_id in inbound:  # each posted twice: a retry in the batch
        calls += [partial(post_inbound, srv.url, channel, address, external_id)] * 2
    for dialog_id, client_msg_id in sends:
        calls += [partial(post_send, anna, dialog_id, client_msg_id)] * 2
    batches_before = backend_of(srv).writer.batches
    with writes_held(srv):
        pending = threading.Thread(target=lambda: results.extend(run_all(calls)))
        results: list[Any] = []
        pending.start()
    pending.join(60)
    assert len(results) == len(calls)

    accepted = results[: 2 * len(inbound)]
    for first, retry in zip(accepted[::2], accepted[1::2], strict=True):
        assert first["message_id"] == retry["message_id"]
        assert sorted([first["duplicate"], retry["duplicate"]]) == [False, True]
    sent = [r.json() for r in results[2 * len(inbound) :]]
    assert all(r.status_code == 200 for r in results[2 * len(inbound) :])
    for first, retry in zip(sent[::2], sent[1::2], strict=True):
        assert first == retry  # same message, same cursor, whichever ran first
    new_ids = {a["message_id"] for a in accepted} | {r["message"]["id"] for r in sent}
    assert len(new_ids) == len(inbound) + len(sends)

    batches = backend_of(srv).writer.batches - batches_before
    assert batches <= len(calls) // 4, f"{batches} batches for {len(calls)} requests"

    after = database_facts(database_url)
    assert after["messages"] - before["messages"] == len(inbound) + len(sends)
    assert after["no_cursor"] == before["no_cursor"]
    assert after["cursors"] == list(range(after["pruned"] + 1, after["head"] + 1))
    cursors_of_new = after["message_cursors"][before["messages"] :]
    assert len(set(cursors_of_new)) == len(cursors_of_new)

    frames = live_events(ws, lambda got: bool(got) and got[-1]["cursor"] >= after["head"])
    assert [f["cursor"] for f in frames] == list(range(start + 1, after["head"] + 1))
    created = [
        f["event"]["message"]["id"] for f in frames if f["event"]["kind"] == "message.created"
    ]
    assert sorted(created) == sorted(new_ids)
    for answer in sent:  # the cursor a sender got is the one its event carries
        frame = frames[answer["cursor"] - start - 1]
        assert frame["event"]["message"]["id"] == answer["message"]["id"]
    ws.close()


def test_a_refused_send_in_a_batch_fails_alone(
    srv: EmbeddedServer, database_url: str, staff: Callable[..., Api]
) -> None:
    anna = staff("anna")
    mine = [d["id"] for d in anna.dialogs("mine")]
    closed = mine[-1]
    anna.ok("POST", routes.CLOSE.format(dialog_id=closed), json={"resolution": "done"})
    open_dialogs = mine[:-1]
    before = database_facts(database_url)
    calls: list[Callable[[], Any]] = []
    for n in range(12):
        dialog_id = closed if n in (3, 8) else open_dialogs[n % len(open_dialogs)]

        def send_new(d: int = dialog_id) -> httpx.Response:
            return post_send(anna, d, str(uuid.uuid4()))

        calls.append(send_new)
    with writes_held(srv):
        results: list[Any] = []
        pending = threading.Thread(target=lambda: results.extend(run_all(calls)))
        pending.start()
    pending.join(60)
    codes = [r.status_code for r in results]
    assert codes.count(200) == 10
    refused = [r.json() for r in results if r.status_code != 200]
    assert [r["code"] for r in refused] == ["dialog_closed", "dialog_closed"]
    after = database_facts(database_url)
    assert after["messages"] - before["messages"] == 10
    assert after["cursors"] == list(range(after["pruned"] + 1, after["head"] + 1))


def test_a_job_that_breaks_midway_loses_nothing_of_the_others(
    srv: EmbeddedServer, database_url: str
) -> None:
    """A bug after a job already wrote: its batch is rolled back and written again without
    it; its own writes are gone, its error reaches only its caller."""
    backend = backend_of(srv)

    def broken(tx: Tx) -> None:
        tx.audit(None, "half-done", "test", None)
        tx.conn.execute(
            insert(s.audit_log).values(
                operator_id=None,
                action="never-committed",
                object_type="test",
                object_id=None,
                details={},
                created_at=tx.now,
            )
        )
        raise RuntimeError("boom")

    before = database_facts(database_url)
    with writes_held(srv, settle=0.0):
        firsts = [backend.writer.submit(partial(_customer, backend, n=n)) for n in range(5)]
        culprit = backend.writer.submit(broken)
        lasts = [backend.writer.submit(partial(_customer, backend, n=n)) for n in range(5, 9)]
    answers = [f.result(timeout=30) for f in firsts + lasts]
    with pytest.raises(RuntimeError, match="boom"):
        culprit.result(timeout=30)
    assert len({a.message_id for a in answers}) == 9
    after = database_facts(database_url)
    assert after["messages"] - before["messages"] == 9
    assert after["cursors"] == list(range(after["pruned"] + 1, after["head"] + 1))
    engine = create_engine(database_url)
    with engine.connect() as conn:
        leftovers = conn.execute(
            select(func.count())
            .select_from(s.audit_log)
            .where(s.audit_log.c.action.in_(["half-done", "never-committed"]))
        ).scalar_one()
    engine.dispose()
    assert leftovers == 0


def _customer(backend: Backend, tx: Tx, n: int) -> Any:
    message = m.InboundMessage(
        address=f"@direct-{n}", name="", text=f"direct {n}", external_id=f"d-{n}"
    )
    return inbound._accept(tx, m.Channel.TELEGRAM, message)


def test_a_stuck_connector_holds_only_its_own_send(
    srv: EmbeddedServer, staff: Callable[..., Api]
) -> None:
    """The operator's message waits until the channel took it; customers keep being written."""
    anna = staff("anna")
    dialog_id = anna.dialogs("mine")[0]["id"]
    entered, release = threading.Event(), threading.Event()

    def stuck(_item: object) -> None:
        entered.set()
        release.wait(30)

    srv.connector.listeners.append(stuck)
    results: list[httpx.Response] = []
    sending = threading.Thread(
        target=lambda: results.append(post_send(anna, dialog_id, str(uuid.uuid4())))
    )
    sending.start()
    try:
        assert entered.wait(30), "the send never reached the connector"
        accepted = post_inbound(srv.url, "telegram", "@while-stuck", "stuck-1")
        assert accepted["message_id"] > 0
        assert not results, "the send was answered before its connector took it"
    finally:
        release.set()
    sending.join(30)
    assert results[0].status_code == 200
    assert [i.dialog_id for i in srv.connector.sent()][-1] == dialog_id


def test_coroutines_are_answered_after_their_batch_is_published_and_a_cancelled_one_is_skipped(
    srv: EmbeddedServer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lean inbound route awaits the writer on the server's loop: its batch's events go to
    the hub first, then every waiting coroutine is answered in the same hand-off."""
    backend = backend_of(srv)
    assert backend.loop is not None
    happened: list[str] = []
    publish = backend.hub.publish

    def recording_publish(events: Any) -> None:
        happened.append("published")
        publish(events)

    monkeypatch.setattr(backend.hub, "publish", recording_publish)

    async def customer(n: int) -> Any:
        answer = await backend.writer.submit_async(lambda tx: _customer(backend, tx, n))
        happened.append(f"answered {n}")
        return answer

    before = database_facts(database_url)
    with writes_held(srv, settle=0.0):
        calls = [asyncio.run_coroutine_threadsafe(customer(n), backend.loop) for n in range(4)]
        time.sleep(0.3)  # every job is queued behind the lock
        calls[1].cancel()  # its client went away: the message is still written, once
    answers = [calls[n].result(timeout=30) for n in (0, 2, 3)]
    assert len({a.message_id for a in answers}) == 3
    assert happened == ["published", "answered 0", "answered 2", "answered 3"]
    after = database_facts(database_url)
    assert after["messages"] - before["messages"] == 4
    assert after["cursors"] == list(range(after["pruned"] + 1, after["head"] + 1))


def test_database_connections_dropped_between_writes_cost_no_message(
    srv: EmbeddedServer, database_url: str
) -> None:
    """The writer keeps its connection only while jobs keep coming; an idle one goes back to
    the pool, which checks it before reuse (a database restart, an idle timeout)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL can end a connection from the server side")
    assert post_inbound(srv.url, "telegram", "@dropped", "dropped-1")["duplicate"] is False
    time.sleep(0.2)  # the writer is idle again
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    assert ended >= 1
    assert post_inbound(srv.url, "telegram", "@dropped", "dropped-2")["duplicate"] is False
    assert post_inbound(srv.url, "telegram", "@dropped", "dropped-1")["duplicate"] is True


def test_customer_messages_are_written_on_the_loop_on_sqlite_only(
    srv: EmbeddedServer, database_url: str
) -> None:
    """SQLite: the lean inbound route's batches are written on the server's event loop.
    PostgreSQL's statements wait for the network: its batches stay on the writer's thread."""
    writer = backend_of(srv).writer
    before = writer.batches_on_loop
    for n in range(5):
        assert post_inbound(srv.url, "telegram", f"@loop-{n}", f"loop-{n}")["duplicate"] is False
    written_on_loop = writer.batches_on_loop - before
    if database_url.startswith("sqlite"):
        assert written_on_loop >= 3  # (a checkpoint's last copy may send one to the thread)
    else:
        assert written_on_loop == 0


def test_the_loop_serves_on_while_writes_are_held_and_writes_when_they_end(
    srv: EmbeddedServer, database_url: str
) -> None:
    """The loop never blocks on the write lock (a thread's write, the checkpoint's last copy):
    it goes on serving, and the lock's release calls it back to write its customers' jobs."""
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite writes on the loop")
    writer = backend_of(srv).writer
    on_loop, batches = writer.batches_on_loop, writer.batches
    calls: list[Callable[[], Any]] = [
        partial(post_inbound, srv.url, "viber", f"@held-{n}", f"held-{n}") for n in range(6)
    ]
    results: list[Any] = []
    with writes_held(srv):
        pending = threading.Thread(target=lambda: results.extend(run_all(calls)))
        pending.start()
        time.sleep(0.3)
        info = httpx.get(srv.url + routes.INFO, timeout=5)  # the loop is free
        assert info.status_code == 200
        assert results == []  # nothing answered before its commit
    pending.join(30)
    assert len({r["message_id"] for r in results}) == len(calls)
    assert writer.batches - batches == writer.batches_on_loop - on_loop  # none on the thread
    assert 1 <= writer.batches - batches <= 3


def test_a_job_that_breaks_on_the_loop_loses_nothing_of_the_others(
    srv: EmbeddedServer, database_url: str
) -> None:
    """A batch written on the loop that fails is rolled back and goes to the writer's thread,
    which writes the others and answers the culprit alone."""
    backend = backend_of(srv)
    assert backend.loop is not None

    def broken(tx: Tx) -> None:
        tx.audit(None, "half-done", "test", None)
        raise RuntimeError("boom")

    async def batch() -> list[Any]:  # one loop step: one batch
        jobs = [backend.writer.submit_async(partial(_customer, backend, n=n)) for n in (20, 21)]
        jobs.append(backend.writer.submit_async(broken))
        jobs.append(backend.writer.submit_async(partial(_customer, backend, n=22)))
        return await asyncio.gather(*jobs, return_exceptions=True)

    before = database_facts(database_url)
    answers = asyncio.run_coroutine_threadsafe(batch(), backend.loop).result(timeout=30)
    assert isinstance(answers[2], RuntimeError)
    assert len({a.message_id for a in answers[:2] + answers[3:]}) == 3
    after = database_facts(database_url)
    assert after["messages"] - before["messages"] == 3
    assert after["cursors"] == list(range(after["pruned"] + 1, after["head"] + 1))


def test_frames_leave_in_cursor_order_when_the_loop_and_the_thread_both_write(
    srv: EmbeddedServer, database_url: str, staff: Callable[..., Api]
) -> None:
    """Customers' batches on the loop, operators' sends on the thread: one sequence, and
    the hub gets the publications in the order the write lock gave their cursors."""
    admin = staff("admin", "admin")
    anna = staff("anna")
    ws = Ws(srv.url, admin.token)
    _hello, _replayed, done = ws.handshake()
    start = done["cursor"]
    mine = [d["id"] for d in anna.dialogs("mine")]
    calls: list[Callable[[], Any]] = []
    for n in range(60):
        if n % 3:
            calls.append(partial(post_inbound, srv.url, CHANNELS[n % 4], f"@mix-{n % 5}", f"m{n}"))
        else:
            calls.append(partial(post_send, anna, mine[n % len(mine)], str(uuid.uuid4())))
    run_all(calls)
    after = database_facts(database_url)
    frames = live_events(ws, lambda got: bool(got) and got[-1]["cursor"] >= after["head"])
    assert [f["cursor"] for f in frames] == list(range(start + 1, after["head"] + 1))
    ws.close()


def test_another_process_writing_the_sqlite_file_does_not_hold_the_loop(
    srv: EmbeddedServer, database_url: str
) -> None:
    """An admin command writing the same SQLite file holds its write lock for a moment. The
    loop does not wait in SQLite's busy handler for it: its batch is refused at once and the
    writer's thread writes it when the lock is free, while the loop goes on serving."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the loop writes only on SQLite")
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other process's write lock
    answers: list[Json] = []
    posting = threading.Thread(
        target=lambda: answers.append(post_inbound(srv.url, "telegram", "@other", "other-1"))
    )
    try:
        posting.start()
        time.sleep(0.5)  # the post reached the writer, which met the other lock
        started = time.monotonic()
        assert httpx.get(srv.url + routes.INFO, timeout=10).status_code == 200
        answered_in = time.monotonic() - started
        time.sleep(0.5)
        assert not answers, "written while another process held the lock"
    finally:
        other.execute("ROLLBACK")
        other.close()
    posting.join(30)
    assert answers and answers[0]["duplicate"] is False  # written once the lock was free
    assert answered_in < 0.5, f"the loop answered after {answered_in:.2f} s"
