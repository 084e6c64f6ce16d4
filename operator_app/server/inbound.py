"""The customer side: messages, typing and ratings as channel connectors deliver them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from operator_app.protocol import events as ev
from operator_app.protocol import models as m
from operator_app.protocol.errors import ErrorCode

from . import routing, security
from . import schema as s
from .access import dialog_audience
from .errors import ApiError, not_found
from .schema import new_id
from .service import REOPEN_WINDOW, Backend
from .txn import Tx

SUBJECT_CHARS = 80


def check_secret(backend: Backend, channel: m.Channel, secret: str | None) -> None:
    with backend.read() as conn:
        row = conn.execute(select(s.channels).where(s.channels.c.channel == channel)).first()
    if row is None or not secret or not security.same_digest(secret, row.secret_hash):
        raise ApiError(ErrorCode.UNAUTHORIZED, "wrong or missing channel secret")


def accept_message(
    backend: Backend, channel: m.Channel, msg: m.InboundMessage
) -> m.InboundAccepted:
    """Store a customer message once per (channel, external_id), routing its dialog."""
    if not msg.text.strip():
        raise ApiError(ErrorCode.VALIDATION_ERROR, "empty message", field="text")
    with backend.write() as tx:
        seen = tx.conn.execute(
            select(s.inbound_seen).where(
                s.inbound_seen.c.channel == channel, s.inbound_seen.c.external_id == msg.external_id
            )
        ).first()
        if seen is not None:
            return m.InboundAccepted(
                dialog_id=seen.dialog_id, message_id=seen.message_id, duplicate=True
            )
        contact_id = _contact_for(tx, channel, msg)
        dialog_id, before = _dialog_for(tx, channel, msg, contact_id)
        message_id = new_id(
            tx.conn.execute(
                insert(s.messages).values(
                    dialog_id=dialog_id,
                    author=m.Author.CLIENT,
                    kind=m.MessageKind.MESSAGE,
                    text=msg.text,
                    attachment_ids=[],
                    created_at=tx.now,
                )
            )
        )
        row = tx.dialog_row(dialog_id)
        tx.conn.execute(
            update(s.dialogs)
            .where(s.dialogs.c.id == dialog_id)
            .values(
                last_message_id=message_id,
                message_count=s.dialogs.c.message_count + 1,
                updated_at=tx.now,
                waiting_since=row.waiting_since or tx.now,
            )
        )
        tx.conn.execute(
            insert(s.inbound_seen).values(
                channel=channel,
                external_id=msg.external_id,
                dialog_id=dialog_id,
                message_id=message_id,
            )
        )
        tx.emit_message(message_id, dialog_id, before)
        routing.distribute(tx)
        return m.InboundAccepted(dialog_id=dialog_id, message_id=message_id)


def _contact_for(tx: Tx, channel: m.Channel, msg: m.InboundMessage) -> int:
    found = tx.conn.execute(
        select(s.contact_identities.c.contact_id).where(
            s.contact_identities.c.channel == channel,
            s.contact_identities.c.address == msg.address,
        )
    ).scalar()
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


def _dialog_for(
    tx: Tx, channel: m.Channel, msg: m.InboundMessage, contact_id: int
) -> tuple[int, set[int]]:
    """The open dialog, a reopened recent one, or a new one; with its audience before."""
    latest = tx.conn.execute(
        select(s.dialogs)
        .where(s.dialogs.c.contact_id == contact_id, s.dialogs.c.channel == channel)
        .order_by(s.dialogs.c.id.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.state != m.DialogState.CLOSED:
        return latest.id, dialog_audience(tx.conn, latest)
    if latest is not None and latest.closed_at and tx.now - latest.closed_at < REOPEN_WINDOW:
        before = dialog_audience(tx.conn, latest)
        _reopen(tx, latest)
        return latest.id, before
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
    return int(dialog_id), set()


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
