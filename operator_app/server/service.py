"""The backend's actions. Synchronous: FastAPI runs them in its thread pool.

Writes are serialised by one lock (one writer at a time, like SQLite wants); each runs in one
transaction, commits, then publishes its events to the hub on the loop and hands customer-bound
items to the connector.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    exists,
    false,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from operator_app import __version__
from operator_app.protocol import PROTOCOL_VERSION, compatible
from operator_app.protocol import events as ev
from operator_app.protocol import models as m
from operator_app.protocol.errors import WS_CLOSE_REVOKED, ErrorCode
from operator_app.protocol.limits import PAGE_LIMIT_MAX

from . import db, hotsql, routing, security, views
from . import schema as s
from .access import Caller, can_see, dialog_audience, load_caller, participants_of, visible_dialog
from .connectors import Connector, SimulatedConnector
from .errors import ApiError, aware, forbidden, invalid, not_found
from .hotsql import Hot
from .hub import Hub, Published
from .schema import new_id, utcnow
from .txn import Outbound, Tx
from .writer import GroupWriter, WriteLock, settle_waiter

log = logging.getLogger(__name__)

FOREIGN_LOOK_SECONDS = 2.0  # how often a quiet server looks for another process's events
QUEUES_CHANGED = "queues changed"  # the reason of the resync a queue change sends
MAX_QUEUE_ID = 2**63 - 1  # larger ids name no queue (and no database takes them)

REOPEN_WINDOW = timedelta(hours=24)  # a customer message later than this starts a new dialog
RATING_REQUEST = {
    "ru": "Спасибо за обращение! Оцените, пожалуйста, нашу помощь от 1 до 5.",
    "en": "Thank you for contacting us! Please rate our help from 1 to 5.",
}


# An operator's send (figure 8) and every authenticated request run these: on the DB-API
# cursor (hotsql.py)
_INSERT_MESSAGE = Hot(
    insert(s.messages).returning(s.messages.c.id),
    column_keys=[
        "dialog_id",
        "author",
        "author_id",
        "kind",
        "text",
        "attachment_ids",
        "client_msg_id",
        "created_at",
    ],
)
_SENT_BY_CLIENT_ID = Hot(
    select(s.messages).where(
        s.messages.c.author_id == bindparam("author_id"),
        s.messages.c.client_msg_id == bindparam("client_msg_id"),
    )
)
_TOKEN = Hot(select(s.tokens).where(s.tokens.c.token_hash == bindparam("token_hash")))


class Backend:
    def __init__(
        self,
        engine: Engine,
        *,
        event_retention: int = 100_000,
        token_ttl: timedelta = timedelta(hours=12),
        connector: Connector | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.engine = engine
        self.retention = event_retention
        self.token_ttl = token_ttl
        self.connector: Connector = connector or SimulatedConnector()
        self.hub = hub or Hub()
        self.rate_limiter = security.LoginRateLimiter()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.published_through = 0  # the last cursor handed to the hub (``attach``)
        self.foreign_look_seconds = FOREIGN_LOOK_SECONDS  # ``watch_foreign``
        self._write_lock = WriteLock()
        self.writer = GroupWriter(self)
        hotsql.compile_all(engine.dialect)
        self.checkpointer = db.Checkpointer(engine, self._write_lock)
        self.checkpointer.start()
        # channel -> (secret hash, when read, the secret that last matched): inbound.check_secret
        self.secret_hashes: dict[str, tuple[str | None, float, str | None]] = {}

    # ---- plumbing ------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._write_lock:
            with self.engine.begin() as conn:
                tx = Tx(conn, utcnow(), self.retention)
                yield tx
                tx.finish()
            self._publish(tx.published)
        self._deliver(tx.outbound)

    def shutdown(self) -> None:
        """Stops the group writer once the jobs already handed to it are written."""
        self.writer.stop()
        self.checkpointer.stop()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def _publish(
        self,
        published: list[Published],
        answers: list[tuple[asyncio.Future[Any], Any]] | None = None,
    ) -> None:
        """Hands committed events to the hub on the loop; ``answers`` (coroutines of this
        loop waiting for the write, see ``owns``) are settled right after, in the same call."""
        loop = self.loop
        if (published or answers) and loop is not None and not loop.is_closed():
            # a callback, also on the loop itself: after the publications already queued by
            # the thread (the write lock ordered their cursors before these)
            schedule = loop.call_soon if _running_loop() is loop else loop.call_soon_threadsafe
            schedule(self._publish_on_loop, published, answers or [])

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Publish on this loop from now on; events committed before are the replay's."""
        with self.read() as conn:
            self.published_through = event_sequence(conn)[0]
        self.loop = loop

    def _publish_on_loop(
        self, published: list[Published], answers: list[tuple[asyncio.Future[Any], Any]]
    ) -> None:
        try:
            if published:
                self.hub.publish(self._after_foreign(published))
        finally:
            for waiter, result in answers:
                settle_waiter(waiter, result, None)

    def _after_foreign(self, published: list[Published]) -> list[Published]:
        """Our events, after those another process (the server's CLI) committed since our
        last: a desk's cursor would pass them for good, so they go out late rather than
        never. Ours come in cursor order, so a gap is theirs; should ours ever come late,
        the gap's read has sent them already and they are not sent twice."""
        last = self.published_through
        if published[0].cursor <= last:
            published = [event for event in published if event.cursor > last]
            if not published:
                return []
        self.published_through = published[-1].cursor
        if published[0].cursor == last + 1:
            return published
        foreign = self.stored_events(last, published[0].cursor)
        self.hub.close_revoked(*self.sessions_left(foreign), WS_CLOSE_REVOKED)
        return foreign + published

    async def watch_foreign(self) -> None:
        """On the loop while serving: another process's events reach the desks on a quiet
        server too, at most two looks after they were committed (``publish_foreign``)."""
        seen = self.published_through
        while True:
            await asyncio.sleep(self.foreign_look_seconds)
            try:
                seen = await self.publish_foreign(seen)
            except Exception:  # a locked or broken database: the next look tries again
                log.warning("looking for another process's events failed", exc_info=True)

    async def publish_foreign(self, seen_head: int) -> int:
        """Publishes the events up to ``seen_head`` (the head at the last look) still
        unpublished: ours leave within a moment of their commit, so those are another
        process's. Returns the head now, for the next look."""
        if self.published_through < seen_head:
            events, sessions = await asyncio.to_thread(
                self._stored_with_sessions, self.published_through, seen_head + 1
            )
            last = self.published_through  # ours may have gone out meanwhile, the gap with them
            fresh = [event for event in events if event.cursor > last]
            self.published_through = max(last, seen_head)
            if fresh:
                self.hub.close_revoked(*sessions, WS_CLOSE_REVOKED)
                self.hub.publish(fresh)
        return await asyncio.to_thread(self.head)

    def _stored_with_sessions(
        self, after: int, before: int
    ) -> tuple[list[Published], tuple[set[int], set[str]]]:
        """``stored_events`` and their ``sessions_left``, read together in a worker thread."""
        events = self.stored_events(after, before)
        return events, self.sessions_left(events)

    def sessions_left(self, foreign: list[Published]) -> tuple[set[int], set[str]]:
        """The operators another process's events update, and the tokens they still have.
        That process (the console's disable-operator, set-password) may have deleted the
        others: their open websockets end when the events go out (``Hub.close_revoked``), as
        they do when an admin does it over REST, not at their token's expiry."""
        changed = operators_updated(foreign)
        if not changed:
            return changed, set()
        tokens = s.tokens.c
        with self.read() as conn:
            live = set(
                conn.execute(
                    select(tokens.token_hash).where(tokens.operator_id.in_(sorted(changed)))
                ).scalars()
            )
        return changed, live

    def head(self) -> int:
        with self.read() as conn:
            return event_sequence(conn)[0]

    def stored_events(self, after: int, before: int) -> list[Published]:
        """The events strictly between two cursors, as the hub publishes them."""
        from .txn import event_frame

        events, audience = s.events.c, s.event_audience.c
        with self.read() as conn:
            rows = conn.execute(
                select(events.cursor, events.payload, events.for_everyone)
                .where(events.cursor > after, events.cursor < before)
                .order_by(events.cursor)
            ).all()
            pairs = conn.execute(
                select(audience.cursor, audience.operator_id).where(
                    audience.cursor > after, audience.cursor < before
                )
            ).all()
        who: dict[int, set[int]] = {}
        for cursor, operator_id in pairs:
            who.setdefault(cursor, set()).add(operator_id)
        return [
            Published(
                cursor,
                event_frame(cursor, payload),
                None if everyone else frozenset(who.get(cursor, ())),
            )
            for cursor, payload, everyone in rows
        ]

    def owns(self, waiter: asyncio.Future[Any]) -> bool:
        """Whether a waiter lives on this backend's running loop (answered with the events)."""
        loop = self.loop
        return loop is not None and not loop.is_closed() and waiter.get_loop() is loop

    def _deliver(self, items: list[Outbound]) -> None:
        for item in items:
            try:
                self.connector.deliver(item)
            except Exception:  # one broken connector must not fail the operator's request
                log.exception(
                    "connector failed to deliver %s to dialog %s", item.kind, item.dialog_id
                )

    def call_on_loop(self, func: Any, *args: Any) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(func, *args)

    def replay_bounds(self, operator_id: int) -> tuple[int, int, int]:
        """The head, the prune mark and the cursor of the last change of the operator's
        queues (0: none), read together: where a desk's replay may start."""
        changed = select(s.queue_changes.c.cursor).where(
            s.queue_changes.c.operator_id == operator_id
        )
        with self.read() as conn:
            head, pruned = event_sequence(conn)
            return head, pruned, int(conn.execute(changed).scalar() or 0)

    # ---- auth ----------------------------------------------------------------------------

    def login(self, req: m.LoginRequest, address: str) -> m.LoginResponse:
        if not compatible(req.protocol_version):
            raise incompatible(req.protocol_version)
        self._check_rate(req.login, address)
        with self.read() as conn:
            row = conn.execute(select(s.operators).where(s.operators.c.login == req.login)).first()
        if not security.verify_password(row.password_hash if row else None, req.password):
            self.rate_limiter.failed(req.login, address)
            raise ApiError(ErrorCode.INVALID_CREDENTIALS, "wrong login or password")
        assert row is not None
        if not row.enabled:
            raise ApiError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
        self.rate_limiter.succeeded(req.login)
        token = security.new_token()
        with self.write() as tx:
            expires = tx.now + self.token_ttl
            tx.conn.execute(
                insert(s.tokens).values(
                    token_hash=security.digest(token),
                    operator_id=row.id,
                    created_at=tx.now,
                    expires_at=expires,
                )
            )
            tx.audit(row.id, "login", "operator", row.id, client=req.client_name)
            operator = views.operator(tx.conn, row.id)
        return m.LoginResponse(
            token=token,
            expires_at=expires,
            operator=operator,
            protocol_version=PROTOCOL_VERSION,
            server_version=__version__,
        )

    def _check_rate(self, login: str, address: str) -> None:
        wait = self.rate_limiter.retry_after(login, address)
        if wait > 0:
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                "too many failed logins, try again later",
                retry_after=round(wait, 1),
            )

    def authenticate(self, token: str) -> Caller:
        token_hash = security.digest(token)
        with self.read() as conn:
            row = _TOKEN.first(conn, {"token_hash": token_hash})
            if row is None or row.expires_at <= utcnow():
                raise ApiError(ErrorCode.UNAUTHORIZED, "missing, expired or revoked token")
            caller = load_caller(conn, row.operator_id, token_hash)
        if caller is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, "missing, expired or revoked token")
        return replace(caller, expires_at=row.expires_at)

    def logout(self, caller: Caller) -> None:
        with self.write() as tx:
            tx.conn.execute(delete(s.tokens).where(s.tokens.c.token_hash == caller.token_hash))
            tx.audit(caller.id, "logout", "operator", caller.id)
            others = tx.conn.execute(
                select(s.tokens.c.token_hash).where(s.tokens.c.operator_id == caller.id).limit(1)
            ).first()
            if others is None:  # nobody is at the desk any more: stop routing to them
                self._set_status(tx, caller.id, m.OperatorStatus.OFFLINE)
        self.call_on_loop(self.hub.close_token, caller.token_hash, WS_CLOSE_REVOKED)

    # ---- operators and queues ------------------------------------------------------------

    def me(self, caller: Caller) -> m.Operator:
        with self.read() as conn:
            return views.operator(conn, caller.id)

    def list_operators(self, caller: Caller) -> list[m.Operator]:
        with self.read() as conn:
            return views.operators(conn)

    def list_queues(self, caller: Caller) -> list[m.Queue]:
        with self.read() as conn:
            return views.queues(conn)

    def set_status(self, caller: Caller, operator_id: int, status: m.OperatorStatus) -> m.Operator:
        with self.write() as tx:
            if operator_id != caller.id:
                self._require_manager(tx.conn, caller, operator_id)
            self._set_status(tx, operator_id, status)
            tx.audit(caller.id, "set_status", "operator", operator_id, status=status)
            if status == m.OperatorStatus.ONLINE:
                routing.distribute(tx)
            return views.operator(tx.conn, operator_id)

    def _set_status(self, tx: Tx, operator_id: int, status: m.OperatorStatus) -> None:
        tx.conn.execute(
            update(s.operators).where(s.operators.c.id == operator_id).values(status=status)
        )
        tx.touched_operators.add(operator_id)

    def set_capacity(self, caller: Caller, operator_id: int, capacity: int) -> m.Operator:
        with self.write() as tx:
            self._require_manager(tx.conn, caller, operator_id)
            tx.conn.execute(
                update(s.operators).where(s.operators.c.id == operator_id).values(capacity=capacity)
            )
            tx.touched_operators.add(operator_id)
            tx.audit(caller.id, "set_capacity", "operator", operator_id, capacity=capacity)
            routing.distribute(tx)
            return views.operator(tx.conn, operator_id)

    def set_enabled(self, caller: Caller, operator_id: int, enabled: bool) -> m.Operator:
        """Admin only, and never off for themselves: that would lock them out mid-session."""
        caller.require_admin()
        if operator_id == caller.id and not enabled:
            raise ApiError(ErrorCode.CONFLICT, "an admin cannot disable themselves")
        return self.switch_sign_in(operator_id, enabled, actor_id=caller.id)

    def switch_sign_in(
        self, operator_id: int, enabled: bool, actor_id: int | None = None
    ) -> m.Operator:
        """Off revokes the tokens, closes the websockets and requeues the active dialogs.
        ``actor_id`` None: the server's console (``cli.py``), which has no caller."""
        with self.write() as tx:
            self._operator_row(tx.conn, operator_id)
            if not enabled:
                self._sign_out_everywhere(tx, operator_id)
                self._requeue_active(tx, operator_id)
            tx.conn.execute(
                update(s.operators).where(s.operators.c.id == operator_id).values(enabled=enabled)
            )
            tx.touched_operators.add(operator_id)
            tx.audit(actor_id, "set_enabled", "operator", operator_id, enabled=enabled)
            routing.distribute(tx)
            result = views.operator(tx.conn, operator_id)
        if not enabled:
            self.call_on_loop(self.hub.close_operator, operator_id, WS_CLOSE_REVOKED)
        return result

    def _sign_out_everywhere(self, tx: Tx, operator_id: int) -> None:
        """Every token gone: nobody is at their desk, so routing stops assigning to them."""
        tx.conn.execute(delete(s.tokens).where(s.tokens.c.operator_id == operator_id))
        self._set_status(tx, operator_id, m.OperatorStatus.OFFLINE)

    # ---- accounts and queue memberships (admin) ------------------------------------------

    def create_operator(self, caller: Caller, body: m.OperatorCreate) -> m.Operator:
        """A new account, offline and enabled, in its queues: every desk gets it as
        operator.updated (the directory), each of its queues as queue.updated."""
        caller.require_admin()
        password_hash = security.hash_password(body.password)  # argon2: not under the lock
        return self.add_operator(body, password_hash, actor_id=caller.id)

    def add_operator(
        self, body: m.OperatorCreate, password_hash: str, actor_id: int | None = None
    ) -> m.Operator:
        """The account with its queues, under the lock (``body.password`` is not read: the
        hash is made before). ``actor_id`` None: the server's console (``cli.py``)."""
        members, supervised = assignment(body, body.role)
        with self.write() as tx:
            check_queues(tx.conn, members, supervised)
            operator_id = self._insert_operator(tx, body, password_hash)
            tx.touched_queues.update(replace_memberships(tx, operator_id, members, supervised))
            tx.touched_operators.add(operator_id)
            tx.audit(
                actor_id,
                "create_operator",
                "operator",
                operator_id,
                login=body.login,
                name=body.name,
                role=body.role,
                capacity=body.capacity,
                queue_ids=sorted(members),
                supervised_queue_ids=sorted(supervised),
            )  # never the password
            return views.operator(tx.conn, operator_id)

    def _insert_operator(self, tx: Tx, body: m.OperatorCreate, password_hash: str) -> int:
        """The login compared exactly as stored, like signing in and the unique key do."""
        taken = select(s.operators.c.id).where(s.operators.c.login == body.login)
        if tx.conn.execute(taken).first() is not None:
            raise ApiError(ErrorCode.CONFLICT, "the login is taken")
        values = {
            "login": body.login,
            "name": body.name,
            "role": body.role,
            "password_hash": password_hash,
            "status": m.OperatorStatus.OFFLINE,
            "capacity": body.capacity,
            "enabled": True,
            "created_at": tx.now,
        }
        try:
            return new_id(tx.conn.execute(insert(s.operators).values(values)))
        except IntegrityError:  # another server process on the same database was first
            raise ApiError(ErrorCode.CONFLICT, "the login is taken") from None  # rolls it all back

    def set_queues(self, caller: Caller, operator_id: int, body: m.QueueAssignment) -> m.Operator:
        """Replaces the queues the operator works in and supervises. Dialogs assigned to them
        stay; waiting ones of a new queue may reach them now. Their open desks are sent
        resync_required after this change's events: which dialogs they see changed, and no
        event says so."""
        caller.require_admin()
        with self.write() as tx:
            row = self._operator_row(tx.conn, operator_id)
            members, supervised = assignment(body, m.Role(row.role))
            check_queues(tx.conn, members, supervised)
            changed = replace_memberships(tx, operator_id, members, supervised)
            if changed:
                self._note_queue_change(tx, operator_id)
                tx.touched_queues.update(changed)
            tx.audit(
                caller.id,
                "set_queues",
                "operator",
                operator_id,
                queue_ids=sorted(members),
                supervised_queue_ids=sorted(supervised),
            )
            routing.distribute(tx)
            result = views.operator(tx.conn, operator_id)
        if changed:  # the change's events are published first (write() scheduled them)
            frame = ev.ResyncRequiredFrame(
                head_cursor=tx.published[-1].cursor, reason=QUEUES_CHANGED
            ).model_dump_json()
            self.call_on_loop(self.hub.resync_operator, operator_id, frame)
        return result

    def _note_queue_change(self, tx: Tx, operator_id: int) -> None:
        """operator.updated now rather than at finish(): its cursor marks the change for a
        desk that resumes later (``replay_bounds``)."""
        cursor = tx.append(ev.OperatorUpdated(operator=views.operator(tx.conn, operator_id)), None)
        tx.conn.execute(delete(s.queue_changes).where(s.queue_changes.c.operator_id == operator_id))
        tx.conn.execute(insert(s.queue_changes).values(operator_id=operator_id, cursor=cursor))

    def reload_caller(self, caller: Caller) -> Caller:
        """The caller with their queues as they are now (a websocket session keeps its
        caller); as it was if they were disabled meanwhile (their session is closing)."""
        with self.read() as conn:
            fresh = load_caller(conn, caller.id, caller.token_hash)
        return caller if fresh is None else replace(fresh, expires_at=caller.expires_at)

    # ---- passwords -----------------------------------------------------------------------

    def change_password(self, caller: Caller, body: m.PasswordChange, address: str) -> None:
        """The caller's own. A wrong current password counts as a failed login: a stolen
        token must not become a way to guess the password. The caller's other sessions are
        revoked; the one asking stays."""
        self._check_rate(caller.login, address)
        with self.read() as conn:
            old_hash = self._operator_row(conn, caller.id).password_hash
        if not security.verify_password(old_hash, body.current_password):
            self.rate_limiter.failed(caller.login, address)
            raise ApiError(ErrorCode.INVALID_CREDENTIALS, "the current password is wrong")
        new_hash = security.hash_password(body.new_password)  # argon2: not under the lock
        with self.write() as tx:
            # only over the hash just verified: a reset meanwhile made the current one stale
            changed = tx.conn.execute(
                update(s.operators)
                .where(s.operators.c.id == caller.id, s.operators.c.password_hash == old_hash)
                .values(password_hash=new_hash)
            ).rowcount
            if not changed:
                raise ApiError(ErrorCode.INVALID_CREDENTIALS, "the current password is wrong")
            tx.conn.execute(
                delete(s.tokens).where(
                    s.tokens.c.operator_id == caller.id,
                    s.tokens.c.token_hash != caller.token_hash,
                )
            )
            tx.audit(caller.id, "change_password", "operator", caller.id)
        self.rate_limiter.succeeded(caller.login)
        self.call_on_loop(self.hub.close_operator, caller.id, WS_CLOSE_REVOKED, caller.token_hash)

    def reset_password(self, caller: Caller, operator_id: int, body: m.PasswordReset) -> None:
        """Admin only, and not their own: that one asks for the current password."""
        caller.require_admin()
        if operator_id == caller.id:
            raise ApiError(
                ErrorCode.CONFLICT, "change your own password with PUT /api/v1/me/password"
            )
        self.replace_password(operator_id, body.new_password, actor_id=caller.id)

    def replace_password(
        self, operator_id: int, password: str, actor_id: int | None = None
    ) -> None:
        """Sets the password and revokes every session: they sign in again with the new one.
        ``actor_id`` None: the server's console (``cli.py``), which has no caller."""
        new_hash = security.hash_password(password)
        with self.write() as tx:
            self._operator_row(tx.conn, operator_id)
            tx.conn.execute(
                update(s.operators)
                .where(s.operators.c.id == operator_id)
                .values(password_hash=new_hash)
            )
            self._sign_out_everywhere(tx, operator_id)
            tx.audit(actor_id, "reset_password", "operator", operator_id)
        self.call_on_loop(self.hub.close_operator, operator_id, WS_CLOSE_REVOKED)

    def _requeue_active(self, tx: Tx, operator_id: int) -> None:
        active = tx.conn.execute(
            select(s.dialogs.c.id, s.dialogs.c.queue_id).where(
                s.dialogs.c.assignee_id == operator_id,
                s.dialogs.c.state == m.DialogState.ACTIVE,
            )
        ).all()
        for dialog_id, queue_id in active:
            before = tx.audience(dialog_id)
            routing.enqueue(tx, dialog_id, queue_id)
            tx.emit_dialog(dialog_id, before)

    def _operator_row(self, conn: Connection, operator_id: int) -> Any:
        row = conn.execute(select(s.operators).where(s.operators.c.id == operator_id)).first()
        if row is None:
            raise not_found("operator")
        return row

    def _require_manager(self, conn: Connection, caller: Caller, operator_id: int) -> None:
        """Admins manage everyone; supervisors manage members of the queues they supervise."""
        self._operator_row(conn, operator_id)
        if caller.is_admin:
            return
        queues = set(
            conn.execute(
                select(s.queue_members.c.queue_id).where(
                    s.queue_members.c.operator_id == operator_id
                )
            ).scalars()
        )
        if not queues & caller.supervised_ids:
            raise forbidden("this operator")

    # ---- dialogs -------------------------------------------------------------------------

    def list_dialogs(
        self,
        caller: Caller,
        scope: m.DialogScope,
        cursor: str | None,
        limit: int,
        updated_since: datetime | None,
        day_start: datetime | None = None,
    ) -> m.Page[m.Dialog]:
        """``day_start``: when the caller's "today" began (their local midnight), for
        closed_today; UTC midnight when not given."""
        today = start_of_today(day_start, utcnow())
        query = select(s.dialogs).where(scope_filter(caller, scope, today))
        if cursor:
            query = query.where(s.dialogs.c.id < parse_cursor(cursor))
        if updated_since is not None:
            query = query.where(s.dialogs.c.updated_at >= updated_since)
        query = query.order_by(s.dialogs.c.id.desc()).limit(limit + 1)
        with self.read() as conn:
            rows = conn.execute(query).all()
            items = views.dialogs(conn, rows[:limit])
        more = len(rows) > limit
        return m.Page[m.Dialog](items=items, next_cursor=str(items[-1].id) if more else None)

    def get_dialog(self, caller: Caller, dialog_id: int) -> m.Dialog:
        with self.read() as conn:
            row = visible_dialog(conn, caller, dialog_id)
            return views.dialogs(conn, [row])[0]

    def list_messages(
        self,
        caller: Caller,
        dialog_id: int,
        before_id: int | None,
        after_id: int | None,
        limit: int,
    ) -> m.Page[m.Message]:
        if before_id is not None and after_id is not None:
            raise invalid("give before_id or after_id, not both")
        query = select(s.messages).where(s.messages.c.dialog_id == dialog_id)
        with self.read() as conn:
            visible_dialog(conn, caller, dialog_id)
            if after_id is not None:
                query = query.where(s.messages.c.id > after_id).order_by(s.messages.c.id)
                rows = conn.execute(query.limit(limit + 1)).all()
                more = len(rows) > limit
                rows = rows[:limit]
                cursor = rows[-1].id if more else None
            else:
                if before_id is not None:
                    query = query.where(s.messages.c.id < before_id)
                rows = conn.execute(query.order_by(s.messages.c.id.desc()).limit(limit + 1)).all()
                more = len(rows) > limit
                rows = list(reversed(rows[:limit]))
                cursor = rows[0].id if more else None
            items = views.messages(conn, rows)
        return m.Page[m.Message](items=items, next_cursor=str(cursor) if cursor else None)

    def send(
        self, caller: Caller, dialog_id: int, req: m.SendMessageRequest
    ) -> m.SendMessageResponse:
        try:
            return self._send(caller, dialog_id, req)
        except IntegrityError:  # a concurrent retry from another process won the race
            with self.read() as conn:
                answer = self._previous_send(conn, caller, dialog_id, req.client_msg_id)
            if answer is None:
                raise
            return answer

    def _send(
        self, caller: Caller, dialog_id: int, req: m.SendMessageRequest
    ) -> m.SendMessageResponse:
        accepted_at = utcnow()  # created_at: the wait for the group writer counts
        return self.writer.run(lambda tx: self._send_in(tx, caller, dialog_id, req), accepted_at)

    def _send_in(
        self, tx: Tx, caller: Caller, dialog_id: int, req: m.SendMessageRequest
    ) -> m.SendMessageResponse:
        answer = self._previous_send(tx.conn, caller, dialog_id, req.client_msg_id, tx)
        if answer is not None:
            return answer
        row = visible_dialog(tx.conn, caller, dialog_id)
        if row.state == m.DialogState.CLOSED:
            raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
        participants = participants_of(tx.conn, dialog_id)
        self._check_may_write(caller, row, participants, req.kind)
        if not req.text.strip() and not req.attachment_ids:
            raise invalid("a message needs text or an attachment", field="text")
        self._claim_attachments(tx, caller, dialog_id, req.attachment_ids)
        before = tx.audience_of(row)
        if row.assignee_id != caller.id and caller.id not in participants:
            tx.conn.execute(
                insert(s.dialog_participants).values(dialog_id=dialog_id, operator_id=caller.id)
            )
        message_id = int(
            _INSERT_MESSAGE.scalar(
                tx.conn,
                {
                    "dialog_id": dialog_id,
                    "author": m.Author.OPERATOR,
                    "author_id": caller.id,
                    "kind": req.kind,
                    "text": req.text,
                    "attachment_ids": req.attachment_ids,
                    "client_msg_id": req.client_msg_id,
                    "created_at": tx.now,
                },
            )
        )
        changes: dict[str, Any] = {
            "last_message_id": message_id,
            "message_count": s.dialogs.c.message_count + 1,
            "updated_at": tx.now,
        }
        if req.kind == m.MessageKind.MESSAGE:
            changes["waiting_since"] = None
            if row.first_response_at is None:
                changes["first_response_at"] = tx.now
            tx.outbound.append(
                Outbound("message", m.Channel(row.channel), row.address, dialog_id, req.text)
            )
        tx.conn.execute(update(s.dialogs).where(s.dialogs.c.id == dialog_id).values(**changes))
        message = m.Message(
            id=message_id,
            dialog_id=dialog_id,
            author=m.Author.OPERATOR,
            author_id=caller.id,
            author_name=caller.name,
            kind=req.kind,
            text=req.text,
            attachments=_attachments_of(tx, req.attachment_ids),
            client_msg_id=req.client_msg_id,
            created_at=tx.now,
        )
        cursor = tx.emit_message(message_id, dialog_id, before, message)
        tx.audit(caller.id, f"send_{req.kind}", "dialog", dialog_id, message_id=message_id)
        return m.SendMessageResponse(message=message, cursor=cursor)

    def _previous_send(
        self,
        conn: Connection,
        caller: Caller,
        dialog_id: int,
        client_msg_id: str,
        tx: Tx | None = None,
    ) -> m.SendMessageResponse | None:
        row = _SENT_BY_CLIENT_ID.first(
            conn, {"author_id": caller.id, "client_msg_id": client_msg_id}
        )
        if row is None:
            return None
        if row.dialog_id != dialog_id:
            raise ApiError(ErrorCode.CONFLICT, "client_msg_id already used in another dialog")
        # a retry inside the same batch: the cursor is not on the row yet
        cursor = tx.message_cursor(row.id, row.event_cursor) if tx else row.event_cursor
        return m.SendMessageResponse(message=views.messages(conn, [row])[0], cursor=cursor)

    def _check_may_write(
        self, caller: Caller, row: Any, participants: set[int], kind: m.MessageKind
    ) -> None:
        if row.assignee_id == caller.id or caller.supervises(row.queue_id):
            return
        if kind == m.MessageKind.COMMENT and caller.id in participants:
            return
        raise ApiError(ErrorCode.NOT_ASSIGNED, "this dialog is not assigned to you")

    def _claim_attachments(self, tx: Tx, caller: Caller, dialog_id: int, ids: list[int]) -> None:
        for attachment_id in ids:
            row = tx.conn.execute(
                select(s.attachments.c.uploader_id, s.attachments.c.dialog_id).where(
                    s.attachments.c.id == attachment_id
                )
            ).first()
            if (
                row is None
                or row.uploader_id != caller.id
                or row.dialog_id not in (None, dialog_id)
            ):
                raise invalid("unknown attachment", attachment_id=attachment_id)
            tx.conn.execute(
                update(s.attachments)
                .where(s.attachments.c.id == attachment_id)
                .values(dialog_id=dialog_id)
            )

    def take(self, caller: Caller, dialog_id: int) -> m.Dialog:
        with self.write() as tx:
            row = visible_dialog(tx.conn, caller, dialog_id, to_take=True)
            if row.state == m.DialogState.CLOSED:
                raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
            if row.assignee_id == caller.id:
                return views.dialogs(tx.conn, [row])[0]
            if not caller.supervises(row.queue_id):
                if row.state != m.DialogState.WAITING:
                    raise ApiError(ErrorCode.CONFLICT, "the dialog is already assigned")
                if not routing.has_free_capacity(tx, caller.id):
                    raise ApiError(ErrorCode.OPERATOR_AT_CAPACITY, "you are at capacity")
            self._drop_participant(tx, dialog_id, caller.id)
            routing.assign(tx, dialog_id, caller.id)
            tx.audit(caller.id, "take", "dialog", dialog_id, previous=row.assignee_id)
            return views.dialog(tx.conn, dialog_id)

    def _drop_participant(self, tx: Tx, dialog_id: int, operator_id: int | None) -> None:
        if operator_id is not None:
            tx.conn.execute(
                delete(s.dialog_participants).where(
                    s.dialog_participants.c.dialog_id == dialog_id,
                    s.dialog_participants.c.operator_id == operator_id,
                )
            )

    def _check_may_manage(self, caller: Caller, row: Any) -> None:
        if row.state == m.DialogState.CLOSED:
            raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
        if row.assignee_id != caller.id and not caller.supervises(row.queue_id):
            raise ApiError(ErrorCode.NOT_ASSIGNED, "this dialog is not assigned to you")

    def transfer(self, caller: Caller, dialog_id: int, req: m.TransferRequest) -> m.Dialog:
        if (req.to_operator_id is None) == (req.to_queue_id is None):
            raise invalid("give exactly one of to_operator_id and to_queue_id")
        with self.write() as tx:
            row = visible_dialog(tx.conn, caller, dialog_id)
            self._check_may_manage(caller, row)
            before = dialog_audience(tx.conn, row)
            if req.to_operator_id is not None:
                target = self._transfer_target(tx, row, req.to_operator_id)
                receiver = target.name
                self._drop_participant(tx, dialog_id, row.assignee_id)
                self._drop_participant(tx, dialog_id, target.id)
                routing.assign(tx, dialog_id, target.id, emit=False)
            else:
                queue = tx.conn.execute(
                    select(s.queues).where(s.queues.c.id == req.to_queue_id)
                ).first()
                if queue is None:
                    raise not_found("queue")
                receiver = queue.name
                self._drop_participant(tx, dialog_id, row.assignee_id)
                routing.enqueue(tx, dialog_id, queue.id)
            self._system_line(tx, dialog_id, f"{caller.name} → {receiver}")
            if req.comment.strip():
                self._comment(tx, caller, dialog_id, req.comment)
            tx.emit_dialog(dialog_id, before)
            tx.audit(
                caller.id,
                "transfer",
                "dialog",
                dialog_id,
                to_operator_id=req.to_operator_id,
                to_queue_id=req.to_queue_id,
            )
            routing.distribute(tx)
            return views.dialog(tx.conn, dialog_id)

    def _transfer_target(self, tx: Tx, row: Any, operator_id: int) -> Any:
        target = tx.conn.execute(select(s.operators).where(s.operators.c.id == operator_id)).first()
        if target is None or not target.enabled:
            raise not_found("operator")
        if target.id == row.assignee_id:
            raise ApiError(ErrorCode.CONFLICT, "the dialog is already assigned to this operator")
        if target.status != m.OperatorStatus.ONLINE:
            raise ApiError(
                ErrorCode.OPERATOR_OFFLINE,
                f"{target.name} is {target.status}",
                operator_id=target.id,
                status=target.status,
            )
        if not routing.has_free_capacity(tx, target.id):
            raise ApiError(
                ErrorCode.OPERATOR_AT_CAPACITY,
                f"{target.name} has no free capacity",
                operator_id=target.id,
                capacity=target.capacity,
            )
        return target

    def _system_line(self, tx: Tx, dialog_id: int, text: str) -> None:
        store_line(tx, dialog_id, m.Author.SYSTEM, None, m.MessageKind.MESSAGE, text)

    def _comment(self, tx: Tx, caller: Caller, dialog_id: int, text: str) -> None:
        store_line(tx, dialog_id, m.Author.OPERATOR, caller.id, m.MessageKind.COMMENT, text)

    def close(self, caller: Caller, dialog_id: int, req: m.CloseRequest) -> m.Dialog:
        tags = checked_tags(req.tags)
        with self.write() as tx:
            row = visible_dialog(tx.conn, caller, dialog_id)
            self._check_may_manage(caller, row)
            before = dialog_audience(tx.conn, row)
            tx.conn.execute(
                update(s.dialogs)
                .where(s.dialogs.c.id == dialog_id)
                .values(
                    state=m.DialogState.CLOSED,
                    closed_at=tx.now,
                    updated_at=tx.now,
                    queued_at=None,
                    waiting_since=None,
                    resolution=req.resolution,
                    tags=merge_tags(row.tags, tags),
                )
            )
            if row.assignee_id is not None:
                tx.touched_operators.add(row.assignee_id)
            tx.touched_queues.add(row.queue_id)
            tx.emit_dialog(dialog_id, before)
            tx.outbound.append(
                Outbound(
                    "rating_request",
                    m.Channel(row.channel),
                    row.address,
                    dialog_id,
                    RATING_REQUEST[language_of(tx.conn, dialog_id)],
                )
            )
            tx.audit(caller.id, "close", "dialog", dialog_id, resolution=req.resolution)
            routing.distribute(tx)
            return views.dialog(tx.conn, dialog_id)

    def set_tags(self, caller: Caller, dialog_id: int, req: m.TagsRequest) -> m.Dialog:
        tags = checked_tags(req.tags)
        with self.write() as tx:
            row = visible_dialog(tx.conn, caller, dialog_id)
            if row.assignee_id != caller.id and not caller.supervises(row.queue_id):
                raise ApiError(ErrorCode.NOT_ASSIGNED, "this dialog is not assigned to you")
            before = dialog_audience(tx.conn, row)
            tx.conn.execute(
                update(s.dialogs)
                .where(s.dialogs.c.id == dialog_id)
                .values(tags=tags, updated_at=tx.now)
            )
            tx.emit_dialog(dialog_id, before)
            tx.audit(caller.id, "set_tags", "dialog", dialog_id, tags=tags)
            return views.dialog(tx.conn, dialog_id)

    def operator_typing(self, caller: Caller, dialog_id: int, on: bool) -> None:
        with self.read() as conn:
            row = visible_dialog(conn, caller, dialog_id)
            if row.state == m.DialogState.CLOSED:
                raise ApiError(ErrorCode.DIALOG_CLOSED, "the dialog is closed")
            audience = dialog_audience(conn, row)
        frame = ev.EphemeralFrame(
            event=ev.Typing(dialog_id=dialog_id, who="operator", operator_id=caller.id, on=on)
        ).model_dump_json()
        self._deliver([Outbound("typing", m.Channel(row.channel), row.address, dialog_id, on=on)])
        self.call_on_loop(self.hub.publish_ephemeral, frame, audience, caller.id)

    # ---- contacts ------------------------------------------------------------------------

    def contact_card(self, caller: Caller, contact_id: int) -> m.ContactCard:
        with self.read() as conn:
            rows = conn.execute(
                select(s.dialogs)
                .where(s.dialogs.c.contact_id == contact_id)
                .order_by(s.dialogs.c.id.desc())
            ).all()
            if not rows:
                exists = conn.execute(
                    select(s.contacts.c.id).where(s.contacts.c.id == contact_id)
                ).first()
                if exists is None:
                    raise not_found("contact")
            if not caller.is_admin and not any(
                can_see(caller, r, participants_of(conn, r.id)) for r in rows
            ):
                raise forbidden("this contact")
            last_texts = dict(
                conn.execute(
                    select(s.messages.c.id, s.messages.c.text).where(
                        s.messages.c.id.in_([r.last_message_id for r in rows if r.last_message_id])
                    )
                ).all()
            )
            return m.ContactCard(
                contact=views.contact(conn, contact_id),
                dialogs=[
                    m.DialogHistoryItem(
                        id=r.id,
                        channel=m.Channel(r.channel),
                        state=m.DialogState(r.state),
                        created_at=r.created_at,
                        closed_at=r.closed_at,
                        tags=list(r.tags),
                        last_text=last_texts.get(r.last_message_id, "")[: views.PREVIEW_CHARS],
                    )
                    for r in rows
                ],
            )

    # ---- websocket replay ----------------------------------------------------------------

    def replay(self, operator_id: int, after: int, limit: int = 500) -> list[tuple[int, str]]:
        """The next events after a cursor that the operator may see, as ready frames."""
        audience = s.event_audience.c
        visible = or_(
            s.events.c.for_everyone.is_(True),
            exists().where(
                audience.cursor == s.events.c.cursor, audience.operator_id == operator_id
            ),
        )
        query = (
            select(s.events.c.cursor, s.events.c.payload)
            .where(s.events.c.cursor > after, visible)
            .order_by(s.events.c.cursor)
            .limit(limit)
        )
        from .txn import event_frame

        with self.read() as conn:
            return [(c, event_frame(c, p)) for c, p in conn.execute(query).all()]

    def dialog_audience_for_typing(self, caller: Caller, dialog_id: int) -> set[int]:
        with self.read() as conn:
            row = visible_dialog(conn, caller, dialog_id)
            return dialog_audience(conn, row)


def _attachments_of(tx: Tx, ids: list[int]) -> list[m.Attachment]:
    if not ids:
        return []
    by_id = {a.id: a for a in views.attachments(tx.conn, ids)}
    return [by_id[i] for i in ids if i in by_id]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a thread's write
        return None


def incompatible(version: int) -> ApiError:
    return ApiError(
        ErrorCode.INCOMPATIBLE_PROTOCOL,
        f"protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}",
        server_protocol_version=PROTOCOL_VERSION,
    )


def parse_cursor(cursor: str) -> int:
    try:
        return int(cursor)
    except ValueError:
        raise invalid("bad cursor", field="cursor") from None


def checked_tags(tags: list[str]) -> list[str]:
    cleaned = [t.strip() for t in tags]
    bad = [t for t in cleaned if not m.tag_ok(t)]
    if bad:
        raise invalid("tags must be 1-40 characters", field="tags")
    return list(dict.fromkeys(cleaned))


def operators_updated(events: list[Published]) -> set[int]:
    """The operators that operator.updated events among ``events`` are about."""
    changed = set()
    for event in events:
        body = json.loads(event.frame)["event"]
        if body.get("kind") == "operator.updated":
            changed.add(int(body["operator"]["id"]))
    return changed


def event_sequence(conn: Connection) -> tuple[int, int]:
    """The head cursor and the prune mark (events up to it are gone)."""
    seq = conn.execute(select(s.event_sequence).where(s.event_sequence.c.id == 1)).one()
    return int(seq.head), int(seq.pruned_through)


def assignment(body: m.QueueAssignment, role: m.Role) -> tuple[set[int], set[int]]:
    """The queues to work in and to supervise, without repeats. Only a supervisor supervises:
    an admin sees every queue anyway, an operator none beyond their own."""
    if body.supervised_queue_ids and role != m.Role.SUPERVISOR:
        raise ApiError(ErrorCode.CONFLICT, "only a supervisor supervises queues")
    return set(body.queue_ids), set(body.supervised_queue_ids)


def check_queues(conn: Connection, members: set[int], supervised: set[int]) -> None:
    wanted = members | supervised
    if not wanted:
        return
    in_range = [q for q in wanted if 0 < q <= MAX_QUEUE_ID]
    known = set(conn.execute(select(s.queues.c.id).where(s.queues.c.id.in_(in_range))).scalars())
    unknown = wanted - known
    if unknown:
        field = "queue_ids" if unknown & members else "supervised_queue_ids"
        raise invalid("unknown queue", field=field, queue_ids=sorted(unknown))


def replace_memberships(
    tx: Tx, operator_id: int, members: set[int], supervised: set[int]
) -> set[int]:
    """The operator's queues become these; the queues that gained or lost them."""
    changed: set[int] = set()
    for table, wanted in ((s.queue_members, members), (s.queue_supervisors, supervised)):
        mine = table.c.operator_id == operator_id
        had = set(tx.conn.execute(select(table.c.queue_id).where(mine)).scalars())
        if had == wanted:
            continue
        tx.conn.execute(delete(table).where(mine))
        if wanted:
            rows = [{"queue_id": q, "operator_id": operator_id} for q in sorted(wanted)]
            tx.conn.execute(insert(table), rows)
        changed |= had ^ wanted
    return changed


def merge_tags(old: list[str], new: list[str]) -> list[str]:
    return list(dict.fromkeys([*old, *new]))


def language_of(conn: Connection, dialog_id: int) -> str:
    """Russian unless the customer's latest message has no Cyrillic letters."""
    text = conn.execute(
        select(s.messages.c.text)
        .where(s.messages.c.dialog_id == dialog_id, s.messages.c.author == m.Author.CLIENT)
        .order_by(s.messages.c.id.desc())
        .limit(1)
    ).scalar()
    if text and not any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text):
        return "en"
    return "ru"


DAY_START_SPAN = timedelta(hours=26)  # a local midnight is under 24 h old; 2 h for clocks


def start_of_today(day_start: datetime | None, now: datetime) -> datetime:
    """The caller's local midnight as given, else UTC midnight: what "today" counts from for
    closed_today and the supervisors' board. A value outside the last 26 hours is brought
    into them: a client whose clock is off must still sync, not be refused."""
    if day_start is None:
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return min(max(aware(day_start, "day_start"), now - DAY_START_SPAN), now)


def scope_filter(caller: Caller, scope: m.DialogScope, day_start: datetime) -> ColumnElement[bool]:
    d = s.dialogs.c
    everything = caller.is_admin
    mine = and_(
        d.assignee_id == caller.id, d.state.in_([m.DialogState.WAITING, m.DialogState.ACTIVE])
    )
    own_queues = caller.queue_ids | caller.supervised_ids
    waiting = and_(
        d.state == m.DialogState.WAITING, true() if everything else d.queue_id.in_(own_queues)
    )
    closed_today = and_(
        d.state == m.DialogState.CLOSED, d.assignee_id == caller.id, d.closed_at >= day_start
    )
    if everything:
        supervised: ColumnElement[bool] = true()
    elif caller.supervised_ids:
        supervised = d.queue_id.in_(caller.supervised_ids)
    else:
        supervised = false()
    if scope == m.DialogScope.MINE:
        return mine
    if scope == m.DialogScope.WAITING:
        return waiting
    if scope == m.DialogScope.CLOSED_TODAY:
        return closed_today
    if scope == m.DialogScope.SUPERVISED:
        return supervised
    participant = d.id.in_(
        select(s.dialog_participants.c.dialog_id).where(
            s.dialog_participants.c.operator_id == caller.id
        )
    )
    return or_(mine, waiting, closed_today, supervised, participant)


PAGE_MAX = PAGE_LIMIT_MAX


def store_line(
    tx: Tx,
    dialog_id: int,
    author: m.Author,
    author_id: int | None,
    kind: m.MessageKind,
    text: str,
) -> int:
    """A message the server writes itself (system line, transfer comment, a supervisor's
    whisper): stored, counted in its dialog and published, never outbound. Its id."""
    message_id = new_id(
        tx.conn.execute(
            insert(s.messages).values(
                dialog_id=dialog_id,
                author=author,
                author_id=author_id,
                kind=kind,
                text=text,
                attachment_ids=[],
                created_at=tx.now,
            )
        )
    )
    tx.conn.execute(
        update(s.dialogs)
        .where(s.dialogs.c.id == dialog_id)
        .values(
            last_message_id=message_id,
            message_count=s.dialogs.c.message_count + 1,
            updated_at=tx.now,
        )
    )
    tx.emit_message(message_id, dialog_id, set())
    return message_id
