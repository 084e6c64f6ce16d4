"""Rows to wire models: operators, queues, dialogs, messages, templates, contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, bindparam, func, select

from operator_app.protocol import models as m
from operator_app.protocol import routes

from . import schema as s
from .access import participant_ids
from .hotsql import Hot

PREVIEW_CHARS = 120


def operators(conn: Connection, ids: Iterable[int] | None = None) -> list[m.Operator]:
    rows = _by_id(conn, s.operators, ids)
    wanted = [r.id for r in rows]
    loads = _dialog_counts(conn, s.dialogs.c.assignee_id, m.DialogState.ACTIVE, wanted)
    members = _grouped(conn, s.queue_members, "operator_id", "queue_id", wanted)
    supervised = _grouped(conn, s.queue_supervisors, "operator_id", "queue_id", wanted)
    return [
        m.Operator(
            id=r.id,
            login=r.login,
            name=r.name,
            role=m.Role(r.role),
            status=m.OperatorStatus(r.status),
            capacity=r.capacity,
            load=loads.get(r.id, 0),
            queue_ids=members.get(r.id, []),
            supervised_queue_ids=supervised.get(r.id, []),
            enabled=r.enabled,
        )
        for r in rows
    ]


def operator(conn: Connection, operator_id: int) -> m.Operator:
    return operators(conn, [operator_id])[0]


def queues(conn: Connection, ids: Iterable[int] | None = None) -> list[m.Queue]:
    rows = _by_id(conn, s.queues, ids)
    wanted = [r.id for r in rows]
    waiting = _dialog_counts(conn, s.dialogs.c.queue_id, m.DialogState.WAITING, wanted)
    channel_rows = conn.execute(
        select(s.queue_channels).where(s.queue_channels.c.queue_id.in_(wanted))
    ).all()
    channels_by_queue: dict[int, list[m.Channel]] = defaultdict(list)
    for row in channel_rows:
        channels_by_queue[row.queue_id].append(m.Channel(row.channel))
    members = _grouped(conn, s.queue_members, "queue_id", "operator_id", wanted)
    supervisors = _grouped(conn, s.queue_supervisors, "queue_id", "operator_id", wanted)
    return [
        m.Queue(
            id=r.id,
            name=r.name,
            channels=sorted(channels_by_queue.get(r.id, [])),
            sla_seconds=r.sla_seconds,
            member_ids=members.get(r.id, []),
            supervisor_ids=supervisors.get(r.id, []),
            waiting_count=waiting.get(r.id, 0),
        )
        for r in rows
    ]


def _by_id(conn: Connection, table: Table, ids: Iterable[int] | None) -> Sequence[Row[Any]]:
    """The rows of ``table`` with these ids (all of them for None), by id."""
    query = select(table).order_by(table.c.id)
    if ids is not None:
        query = query.where(table.c.id.in_(list(ids)))
    return conn.execute(query).all()


def _dialog_counts(
    conn: Connection, owner: ColumnElement[Any], state: m.DialogState, wanted: list[int]
) -> dict[int, int]:
    """How many dialogs in ``state`` each of ``wanted`` has, by ``owner`` (the dialogs'
    assignee or queue column)."""
    counted = (
        select(owner, func.count())
        .where(s.dialogs.c.state == state)
        .where(owner.in_(wanted))
        .group_by(owner)
    )
    return {int(key): int(count) for key, count in conn.execute(counted).all()}


def _grouped(
    conn: Connection, table: Any, key: str, value: str, keys: Sequence[int]
) -> dict[int, list[int]]:
    result: dict[int, list[int]] = defaultdict(list)
    rows = conn.execute(
        select(table.c[key], table.c[value])
        .where(table.c[key].in_(list(keys)))
        .order_by(table.c[value])
    ).all()
    for k, v in rows:
        result[k].append(v)
    return result


def dialogs(conn: Connection, rows: Sequence[Any]) -> list[m.Dialog]:
    """Wire dialogs for dialog rows, in the same order, with names, previews and participants."""
    if not rows:
        return []
    if len(rows) == 1:  # every event carries one: prebuilt statements, no IN lists
        return [dialog_of(conn, rows[0])]
    ids = [r.id for r in rows]
    names = dict(
        conn.execute(
            select(s.contacts.c.id, s.contacts.c.name).where(
                s.contacts.c.id.in_({r.contact_id for r in rows})
            )
        ).all()
    )
    participants = _grouped(conn, s.dialog_participants, "dialog_id", "operator_id", ids)
    last_ids = [r.last_message_id for r in rows if r.last_message_id is not None]
    previews = {
        row.id: _preview(row)
        for row in conn.execute(
            select(
                s.messages.c.id,
                s.messages.c.author,
                s.messages.c.kind,
                func.substr(s.messages.c.text, 1, PREVIEW_CHARS).label("text"),
                s.messages.c.created_at,
            ).where(s.messages.c.id.in_(last_ids))
        )
    }
    return [
        _wire_dialog(
            r,
            names.get(r.contact_id, ""),
            participants.get(r.id, []),
            previews.get(r.last_message_id),
        )
        for r in rows
    ]


# One event's dialog: prebuilt and run on the DB-API cursor (hotsql.py), since every event
# of the message write path carries one.
_CONTACT_NAME = Hot(select(s.contacts.c.name).where(s.contacts.c.id == bindparam("contact_id")))
_PREVIEW = Hot(
    select(
        s.messages.c.author,
        s.messages.c.kind,
        func.substr(s.messages.c.text, 1, PREVIEW_CHARS).label("text"),
        s.messages.c.created_at,
    ).where(s.messages.c.id == bindparam("message_id"))
)


def dialog_of(
    conn: Connection,
    r: Any,
    written: m.Message | None = None,
    participants: list[int] | None = None,
) -> m.Dialog:
    """One row's wire dialog; ``written``, a message the caller just stored, spares reading
    it back when it is the dialog's last, ``participants`` (in id order) reading them again."""
    name = _CONTACT_NAME.scalar(conn, {"contact_id": r.contact_id})
    if participants is None:
        participants = participant_ids(conn, r.id)
    preview = None
    if written is not None and written.id == r.last_message_id:
        preview = _preview(written)
    elif r.last_message_id is not None:
        last = _PREVIEW.first(conn, {"message_id": r.last_message_id})
        if last is not None:
            preview = _preview(last)
    return _wire_dialog(r, name or "", participants, preview)


def _preview(row: Any) -> m.MessagePreview:
    return m.MessagePreview(
        author=m.Author(row.author),
        kind=m.MessageKind(row.kind),
        text=row.text[:PREVIEW_CHARS],
        created_at=row.created_at,
    )


def _wire_dialog(
    r: Any, contact_name: str, participants: list[int], preview: m.MessagePreview | None
) -> m.Dialog:
    return m.Dialog(
        id=r.id,
        channel=m.Channel(r.channel),
        contact_id=r.contact_id,
        contact_name=contact_name,
        queue_id=r.queue_id,
        assignee_id=r.assignee_id,
        participant_ids=participants,
        state=m.DialogState(r.state),
        tags=list(r.tags),
        subject=r.subject,
        created_at=r.created_at,
        updated_at=r.updated_at,
        waiting_since=r.waiting_since,
        first_response_at=r.first_response_at,
        closed_at=r.closed_at,
        resolution=r.resolution,
        rating=r.rating,
        last_message=preview,
        last_message_id=r.last_message_id,
        message_count=r.message_count,
    )


def dialog(conn: Connection, dialog_id: int) -> m.Dialog:
    row = conn.execute(select(s.dialogs).where(s.dialogs.c.id == dialog_id)).one()
    return dialogs(conn, [row])[0]


def messages(conn: Connection, rows: Sequence[Any]) -> list[m.Message]:
    author_ids = {r.author_id for r in rows if r.author_id is not None}
    names = dict(
        conn.execute(
            select(s.operators.c.id, s.operators.c.name).where(s.operators.c.id.in_(author_ids))
        ).all()
    )
    attachment_ids = {a for r in rows for a in r.attachment_ids}
    files = {a.id: a for a in attachments(conn, attachment_ids)} if attachment_ids else {}
    return [
        m.Message(
            id=r.id,
            dialog_id=r.dialog_id,
            author=m.Author(r.author),
            author_id=r.author_id,
            author_name=names.get(r.author_id, "") if r.author_id is not None else "",
            kind=m.MessageKind(r.kind),
            text=r.text,
            attachments=[files[a] for a in r.attachment_ids if a in files],
            client_msg_id=r.client_msg_id,
            created_at=r.created_at,
        )
        for r in rows
    ]


def message(conn: Connection, message_id: int) -> m.Message:
    row = conn.execute(select(s.messages).where(s.messages.c.id == message_id)).one()
    return messages(conn, [row])[0]


def attachments(conn: Connection, ids: Iterable[int]) -> list[m.Attachment]:
    rows = conn.execute(
        select(
            s.attachments.c.id, s.attachments.c.name, s.attachments.c.mime, s.attachments.c.size
        ).where(s.attachments.c.id.in_(list(ids)))
    ).all()
    return [
        m.Attachment(
            id=r.id,
            name=r.name,
            mime=r.mime,
            size=r.size,
            url=routes.ATTACHMENT.format(attachment_id=r.id),
        )
        for r in rows
    ]


def template(row: Any) -> m.Template:
    return m.Template(
        id=row.id,
        scope=m.TemplateScope(row.scope),
        queue_id=row.queue_id,
        owner_id=row.owner_id,
        shortcut=row.shortcut,
        title=row.title,
        category=row.category,
        body=row.body,
        pinned=row.pinned,
    )


def contact(conn: Connection, contact_id: int) -> m.Contact:
    row = conn.execute(select(s.contacts).where(s.contacts.c.id == contact_id)).one()
    identities = conn.execute(
        select(s.contact_identities)
        .where(s.contact_identities.c.contact_id == contact_id)
        .order_by(s.contact_identities.c.id)
    ).all()
    return m.Contact(
        id=row.id,
        name=row.name,
        identities=[
            m.ContactIdentity(channel=m.Channel(i.channel), address=i.address) for i in identities
        ],
        tags=list(row.tags),
        note=row.note,
        created_at=row.created_at,
    )
