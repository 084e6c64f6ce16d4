"""One write transaction: mutations plus the durable events they cause.

"Commit, then acknowledge, then publish": events get cursors from the one sequence row inside
the transaction; the caller publishes ``tx.published`` only after the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from operator_app.protocol import events as ev
from operator_app.protocol import models as m

from . import schema as s
from . import views
from .access import dialog_audience
from .hotsql import Hot
from .hub import Published


@dataclass(frozen=True)
class Outbound:
    """Something for the customer's channel, handed to the connector after the commit."""

    kind: str  # "message", "rating_request", "typing"
    channel: m.Channel
    address: str
    dialog_id: int
    text: str = ""
    on: bool = True


# Built once (constructing a statement costs more than running it on SQLite); the hot ones run
# on the DB-API cursor (hotsql.py): a customer message runs about ten of them.
_DIALOG_BY_ID = Hot(select(s.dialogs).where(s.dialogs.c.id == bindparam("dialog_id")))
_TAKE_CURSOR = Hot(
    update(s.event_sequence)
    .where(s.event_sequence.c.id == 1)
    .values(head=s.event_sequence.c.head + 1)
    .returning(s.event_sequence.c.head, s.event_sequence.c.pruned_through)
)
_SET_HEAD = Hot(
    update(s.event_sequence).where(s.event_sequence.c.id == 1).values(head=bindparam("new_head"))
)
_SET_MESSAGE_CURSOR = Hot(
    update(s.messages)
    .where(s.messages.c.id == bindparam("message_id"))
    .values(event_cursor=bindparam("cursor"))
)
_INSERT_EVENT = Hot(
    insert(s.events), column_keys=["cursor", "kind", "payload", "for_everyone", "created_at"]
)
_INSERT_AUDIENCE = Hot(insert(s.event_audience), column_keys=["operator_id", "cursor"])
_INSERT_AUDIT = Hot(
    insert(s.audit_log),
    column_keys=["operator_id", "action", "object_type", "object_id", "details", "created_at"],
)


@dataclass
class Tx:
    conn: Connection
    now: datetime
    retention: int
    memo: dict[Any, Any] | None = None  # batch-wide cache of queue staff (see writer.py)
    published: list[Published] = field(default_factory=list)
    outbound: list[Outbound] = field(default_factory=list)
    touched_operators: set[int] = field(default_factory=set)
    touched_queues: set[int] = field(default_factory=set)
    routing_pending: bool = False  # see routing.distribute_later
    # Events wait here until finish() writes them with a few multi-row statements.
    _head: int | None = None
    _pruned_through = 0  # read with the first cursor, for _prune
    _events: list[dict[str, Any]] = field(default_factory=list)
    _audience_rows: list[dict[str, Any]] = field(default_factory=list)
    _message_cursors: dict[int, int] = field(default_factory=dict)  # message id -> cursor

    def dialog_row(self, dialog_id: int) -> Any:
        return _DIALOG_BY_ID.one(self.conn, {"dialog_id": dialog_id})

    def audience_of(self, dialog: Any, participants: Collection[int] | None = None) -> set[int]:
        return dialog_audience(self.conn, dialog, self.memo, participants)

    def audience(self, dialog_id: int) -> set[int]:
        return self.audience_of(self.dialog_row(dialog_id))

    def emit_dialog(self, dialog_id: int, before: set[int]) -> int:
        """dialog.updated to everyone who could see it before or can see it now."""
        row = self.dialog_row(dialog_id)
        dialog = views.dialogs(self.conn, [row])[0]
        audience = before | self.audience_of(row)
        return self.append(ev.DialogUpdated(dialog=dialog), frozenset(audience))

    def emit_message(
        self,
        message_id: int,
        dialog_id: int,
        before: set[int],
        message: m.Message | None = None,
        *,
        same_audience: bool = False,
        dialog: Any = None,
        participants: list[int] | None = None,
    ) -> int:
        """message.created; ``message`` and ``dialog`` (its row as it is now) spare
        re-reading rows the caller just wrote, ``participants`` (the dialog's, in id order)
        the ones it just read, ``same_audience`` recomputing an audience the caller knows did
        not change."""
        row = dialog if dialog is not None else self.dialog_row(dialog_id)
        event = ev.MessageCreated(
            message=message or views.message(self.conn, message_id),
            dialog=views.dialog_of(self.conn, row, message, participants),
        )
        audience = before if same_audience else before | self.audience_of(row)
        cursor = self.append(event, frozenset(audience))
        self._message_cursors[message_id] = cursor
        return cursor

    def message_cursor(self, message_id: int, stored: int | None) -> int | None:
        """A message's event cursor, also before finish() has written it to its row."""
        return self._message_cursors.get(message_id, stored)

    def next_cursor(self) -> int:
        """The next cursor of the one sequence. The first takes the sequence row (on
        PostgreSQL its row lock orders concurrent processes); the rest count in memory and
        finish() stores the head once."""
        if self._head is None:
            taken = _TAKE_CURSOR.one(self.conn)
            self._head, self._pruned_through = int(taken.head), int(taken.pruned_through)
        else:
            self._head += 1
        return self._head

    def append(self, event: m.WireModel, audience: frozenset[int] | None) -> int:
        """Store one durable event with its audience (None: everyone); returns its cursor."""
        head = self.next_cursor()
        payload = event.model_dump_json()
        self._events.append(
            {
                "cursor": head,
                "kind": getattr(event, "kind", ""),
                "payload": payload,
                "for_everyone": audience is None,
                "created_at": self.now,
            }
        )
        if audience:
            self._audience_rows.extend({"operator_id": o, "cursor": head} for o in audience)
        self.published.append(Published(head, event_frame(head, payload), audience))
        return head

    def finish(self) -> None:
        """Emit operator/queue snapshots for what changed, write the events, then prune."""
        # Most writes touch neither; an empty id list still ran the load count over every
        # active dialog (15% of a send's server time at 10,000 dialogs).
        if self.touched_operators:
            for op in views.operators(self.conn, sorted(self.touched_operators)):
                self.append(ev.OperatorUpdated(operator=op), None)
        if self.touched_queues:
            for queue in views.queues(self.conn, sorted(self.touched_queues)):
                self.append(ev.QueueUpdated(queue=queue), None)
        self.touched_operators.clear()
        self.touched_queues.clear()
        self._flush_events()
        if self.published:
            self._prune()

    def _flush_events(self) -> None:
        if not self._events:
            return
        first = self._events[0]["cursor"]
        if self._head is not None and self._head > first:
            _SET_HEAD.run(self.conn, {"new_head": self._head})
        _INSERT_EVENT.many(self.conn, self._events)
        if self._audience_rows:
            _INSERT_AUDIENCE.many(self.conn, self._audience_rows)
        if self._message_cursors:
            _SET_MESSAGE_CURSOR.many(
                self.conn,
                [{"message_id": k, "cursor": v} for k, v in self._message_cursors.items()],
            )
        self._events, self._audience_rows, self._message_cursors = [], [], {}

    def _prune(self) -> None:
        """Called after events were appended, so the head and the prune mark are known."""
        assert self._head is not None
        keep_from = self._head - self.retention
        if keep_from - self._pruned_through < max(1, self.retention // 100):
            return
        self.conn.execute(delete(s.event_audience).where(s.event_audience.c.cursor <= keep_from))
        self.conn.execute(delete(s.events).where(s.events.c.cursor <= keep_from))
        self.conn.execute(
            update(s.event_sequence)
            .where(s.event_sequence.c.id == 1)
            .values(pruned_through=keep_from)
        )
        self._pruned_through = keep_from

    def audit(
        self,
        operator_id: int | None,
        action: str,
        object_type: str,
        object_id: int | None,
        **details: Any,
    ) -> None:
        _INSERT_AUDIT.run(
            self.conn,
            {
                "operator_id": operator_id,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "details": details,
                "created_at": self.now,
            },
        )


def event_frame(cursor: int, payload: str) -> str:
    """The EventFrame JSON, assembled around the stored payload instead of re-encoding it."""
    return f'{{"type":"event","cursor":{cursor},"event":{payload}}}'
