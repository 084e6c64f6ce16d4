"""The customer side: messages, typing and ratings as channel connectors deliver them."""

from __future__ import annotations

import hmac
import time
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update

from operator_app.protocol import events as ev
from operator_app.protocol import models as m
from operator_app.protocol.errors import ErrorCode

from . import routing, security
from . import schema as s
from .access import dialog_audience, participant_ids
from .errors import ApiError, not_found
from .hotsql import Hot
from .schema import new_id, utcnow
from .service import REOPEN_WINDOW, Backend
from .txn import Tx

SUBJECT_CHARS = 80


SECRET_TTL = 2.0  # seconds a channel's secret hash is trusted from memory (rotation delay)


def check_secret(backend: Backend, channel: m.Channel, secret: str | None) -> None:
    """The channel secret, checked against a hash re-read at most every SECRET_TTL seconds:
    the hot inbound path answers on the event loop without a database round trip."""
    cached = backend.secret_hashes.get(channel)
    if cached is None or time.monotonic() - cached[1] > SECRET_TTL:
        with backend.read() as conn:
            row = conn.execute(select(s.channels).where(s.channels.c.channel == channel)).first()
        cached = (row.secret_hash if row is not None else None, time.monotonic(), None)
        backend.secret_hashes[channel] = cached
    stored, read_at, last_good = cached
    if last_good and secret and hmac.compare_digest(secret.encode(), last_good.encode()):
        return  # the secret that matched the hash a moment ago: no digest per message
    if stored is None or not secret or not security.same_digest(secret, stored):
        raise ApiError(ErrorCode.UNAUTHORIZED, "wrong or missing channel secret")
    backend.secret_hashes[channel] = (stored, read_at, secret)


async def accept_message_async(
    backend: Backend, channel: m.Channel, msg: m.InboundMessage
) -> m.InboundAccepted:
    """accept_message for the event loop: waits for the group writer without a thread."""
    _require_text(msg)
    return await backend.writer.submit_async(lambda tx: _accept(tx, channel, msg), utcnow())


def _require_text(msg: m.InboundMessage) -> None:
    if not msg.text.strip():
        raise ApiError(ErrorCode.VALIDATION_ERROR, "empty message", field="text")


def accept_message(
    backend: Backend, channel: m.Channel, msg: m.InboundMessage
) -> m.InboundAccepted:
    """Store a customer message once per (channel, external_id), routing its dialog.

    It goes through the group writer: stamped now, answered once its batch committed."""
    _require_text(msg)
    accepted_at = utcnow()
    return backend.writer.run(lambda tx: _accept(tx, channel, msg), accepted_at)


# The statements of every customer message: prebuilt, run on the DB-API cursor (hotsql.py).
_SEEN = Hot(
    select(s.inbound_seen.c.dialog_id, s.inbound_seen.c.message_id).where(
        s.inbound_seen.c.channel == bindparam("channel"),
        s.inbound_seen.c.external_id == bindparam("external_id"),
    )
)
_INSERT_MESSAGE = Hot(
    insert(s.messages).returning(s.messages.c.id),
    column_keys=["dialog_id", "author", "kind", "text", "attachment_ids", "created_at"],
)
_INSERT_SEEN = Hot(
    insert(s.inbound_seen), column_keys=["channel", "external_id", "dialog_id", "message_id"]
)
_NOW = bindparam("now", type_=s.UTCDateTime())
_BUMPED = ("last_message_id", "message_count", "updated_at", "waiting_since")
_BUMP_DIALOG = Hot(
    update(s.dialogs)
    .where(s.dialogs.c.id == bindparam("dialog_id"))
    .values(
        last_message_id=bindparam("message_id"),
        message_count=s.dialogs.c.message_count + 1,
        updated_at=_NOW,
        waiting_since=func.coalesce(s.dialogs.c.waiting_since, _NOW),
    )
    .returning(*(s.dialogs.c[name] for name in _BUMPED))
)
_IDENTITY = Hot(
    select(s.contact_identities.c.contact_id).where(
        s.contact_identities.c.channel == bindparam("channel"),
        s.contact_identities.c.address == bindparam("address"),
    )
)
_LATEST_DIALOG = Hot(
    select(s.dialogs)
    .where(
        s.dialogs.c.contact_id == bindparam("contact_id"),
        s.dialogs.c.channel == bindparam("channel"),
    )
    .order_by(s.dialogs.c.id.desc())
    .limit(1)
)


def _accept(tx: Tx, channel: m.Channel, msg: m.InboundMessage) -> m.InboundAccepted:
    seen = _SEEN.first(tx.conn, {"channel": channel, "external_id": msg.external_id})
    if seen is not None:  # a retry, maybe of a message earlier in this very batch
        return m.InboundAccepted(
            dialog_id=seen.dialog_id, message_id=seen.message_id, duplicate=True
        )
    contact_id = _contact_for(tx, channel, msg)
    dialog_id, before, open_row, participants = _dialog_for(tx, channel, msg, contact_id)
    message_id = int(
        _INSERT_MESSAGE.scalar(
            tx.conn,
            {
                "dialog_id": dialog_id,
                "author": m.Author.CLIENT,
                "kind": m.MessageKind.MESSAGE,
                "text": msg.text,
                "attachment_ids": [],
                "created_at": tx.now,
            },
        )
    )
    bumped = _BUMP_DIALOG.one(
        tx.conn, {"dialog_id": dialog_id, "message_id": message_id, "now": tx.now}
    )
    _INSERT_SEEN.run(
        tx.conn,
        {
            "channel": channel,
            "external_id": msg.external_id,
            "dialog_id": dialog_id,
            "message_id": message_id,
        },
    )
    message = m.Message(
        id=message_id,
        dialog_id=dialog_id,
        author=m.Author.CLIENT,
        author_id=None,
        author_name="",
        kind=m.MessageKind.MESSAGE,
        text=msg.text,
        attachments=[],
        client_msg_id=None,
        created_at=tx.now,
    )
    # a message to an open dialog changes nobody's access: its audience is the one before,
    # and its row is the one read before with what the bump returned
    still_open = open_row is not None
    row = open_row._replace(**bumped._asdict()) if still_open else None
    tx.emit_message(
        message_id,
        dialog_id,
        before,
        message,
        same_audience=still_open,
        dialog=row,
        participants=participants,  # a customer's message changes nobody's part in it
    )
    if not still_open:  # a new or reopened dialog may join the line; an open one changes nothing
        routing.distribute_later(tx)
    return m.InboundAccepted(dialog_id=dialog_id, message_id=message_id)


def _contact_for(tx: Tx, channel: m.Channel, msg: m.InboundMessage) -> int:
    found = _IDENTITY.scalar(tx.conn, {"channel": channel, "address": msg.address})
    if found is not None:
        return int(found)
    contact_id = new_id(
        tx.conn.execute(
            insert(s.contacts).values(
                name=msg.name.strip() or msg.address, tags=[], note="", created_at=tx.now
            )
        )
    )
    tx.conn.execute(
        insert(s.contact_identities).values(
            contact_id=contact_id, channel=channel, address=msg.address
        )
    )
    return int(contact_id)


class _Found(NamedTuple):
    dialog_id: int
    before: set[int]  # its audience before this message
    open_row: Any  # the row as read, if the dialog was open already; else None
    participants: list[int] | None  # ...and its participants, in id order


def _dialog_for(tx: Tx, channel: m.Channel, msg: m.InboundMessage, contact_id: int) -> _Found:
    """The open dialog, a reopened recent one, or a new one."""
    latest = _LATEST_DIALOG.first(tx.conn, {"contact_id": contact_id, "channel": channel})
    if latest is not None and latest.state != m.DialogState.CLOSED:
        participants = participant_ids(tx.conn, latest.id)
        return _Found(latest.id, tx.audience_of(latest, participants), latest, participants)
    if latest is not None and latest.closed_at and tx.now - latest.closed_at < REOPEN_WINDOW:
        participants = participant_ids(tx.conn, latest.id)  # reopening changes nobody's part
        before = tx.audience_of(latest, participants)
        _reopen(tx, latest)
        return _Found(latest.id, before, None, participants)
    queue_id = _queue_for(tx, channel, msg.queue_id)
    dialog_id = new_id(
        tx.conn.execute(
            insert(s.dialogs).values(
                channel=channel,
                address=msg.address,
                contact_id=contact_id,
                queue_id=queue_id,
                state=m.DialogState.WAITING,
                tags=[],
                subject=msg.text.strip().splitlines()[0][:SUBJECT_CHARS],
                created_at=tx.now,
                updated_at=tx.now,
                queued_at=tx.now,
                resolution="",
                message_count=0,
            )
        )
    )
    tx.touched_queues.add(queue_id)
    return _Found(int(dialog_id), set(), None, None)


def _reopen(tx: Tx, dialog: Any) -> None:
    """Back to the same operator if online with room, else to the queue."""
    tx.conn.execute(
        update(s.dialogs)
        .where(s.dialogs.c.id == dialog.id)
        .values(closed_at=None, resolution="", rating=None)
    )
    operator = None
    if dialog.assignee_id is not None:
        operator = tx.conn.execute(
            select(s.operators).where(s.operators.c.id == dialog.assignee_id)
        ).first()
    if (
        operator is not None
        and operator.enabled
        and operator.status == m.OperatorStatus.ONLINE
        and routing.has_free_capacity(tx, operator.id)
    ):
        routing.assign(tx, dialog.id, operator.id, emit=False)
    else:
        routing.enqueue(tx, dialog.id, dialog.queue_id)


def _queue_for(tx: Tx, channel: m.Channel, hint: int | None) -> int:
    if hint is not None:
        found = tx.conn.execute(select(s.queues.c.id).where(s.queues.c.id == hint)).scalar()
        if found is not None:
            return int(found)
    default = tx.conn.execute(
        select(s.channels.c.default_queue_id).where(s.channels.c.channel == channel)
    ).scalar()
    if default is not None:
        return int(default)
    serving = tx.conn.execute(
        select(s.queue_channels.c.queue_id)
        .where(s.queue_channels.c.channel == channel)
        .order_by(s.queue_channels.c.queue_id)
        .limit(1)
    ).scalar()
    if serving is not None:
        return int(serving)
    first = tx.conn.execute(select(s.queues.c.id).order_by(s.queues.c.id).limit(1)).scalar()
    if first is None:
        raise ApiError(ErrorCode.CONFLICT, "the server has no queue to route to")
    return int(first)


def customer_typing(backend: Backend, channel: m.Channel, address: str, on: bool) -> None:
    with backend.read() as conn:
        row = conn.execute(
            select(s.dialogs)
            .where(
                s.dialogs.c.channel == channel,
                s.dialogs.c.address == address,
                s.dialogs.c.state != m.DialogState.CLOSED,
            )
            .order_by(s.dialogs.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise not_found("open dialog")
        audience = dialog_audience(conn, row)
    frame = ev.EphemeralFrame(
        event=ev.Typing(dialog_id=row.id, who="client", on=on)
    ).model_dump_json()
    backend.call_on_loop(backend.hub.publish_ephemeral, frame, audience, None)


def record_rating(backend: Backend, channel: m.Channel, rating: m.InboundRating) -> m.Dialog:
    from . import views

    with backend.write() as tx:
        row = tx.conn.execute(select(s.dialogs).where(s.dialogs.c.id == rating.dialog_id)).first()
        if row is None or row.channel != channel or row.address != rating.address:
            raise not_found("dialog")
        if row.state != m.DialogState.CLOSED:
            raise ApiError(ErrorCode.CONFLICT, "only a closed dialog can be rated")
        before = dialog_audience(tx.conn, row)
        tx.conn.execute(
            update(s.dialogs)
            .where(s.dialogs.c.id == row.id)
            .values(rating=rating.rating, updated_at=tx.now)
        )
        tx.emit_dialog(row.id, before)
        return views.dialog(tx.conn, row.id)
