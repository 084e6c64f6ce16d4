"""Quick-reply templates: shared per queue (or for every queue) and personal ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from operator_app.protocol import events as ev
from operator_app.protocol import models as m

from . import schema as s
from . import views
from .access import Caller
from .errors import forbidden, invalid, not_found
from .schema import new_id
from .service import Backend
from .txn import Tx


def list_for(backend: Backend, caller: Caller) -> list[m.Template]:
    t = s.templates.c
    shared_queues = caller.queue_ids | caller.supervised_ids
    shared = t.scope == m.TemplateScope.SHARED
    if not caller.is_admin:
        shared = shared & or_(t.queue_id.is_(None), t.queue_id.in_(shared_queues))
    personal = (t.scope == m.TemplateScope.PERSONAL) & (t.owner_id == caller.id)
    with backend.read() as conn:
        rows = conn.execute(select(s.templates).where(or_(shared, personal)).order_by(t.id)).all()
    return [views.template(r) for r in rows]


def create(backend: Backend, caller: Caller, body: m.TemplateIn) -> m.Template:
    with backend.write() as tx:
        _check_may_edit(tx.conn, caller, body.scope, body.queue_id, None)
        template_id = new_id(
            tx.conn.execute(insert(s.templates).values(**_values(caller, body), updated_at=tx.now))
        )
        return _changed(tx, caller, template_id, "template_create")


def replace(backend: Backend, caller: Caller, template_id: int, body: m.TemplateIn) -> m.Template:
    with backend.write() as tx:
        old = _row(tx.conn, caller, template_id)
        _check_may_edit(tx.conn, caller, m.TemplateScope(old.scope), old.queue_id, old.owner_id)
        _check_may_edit(tx.conn, caller, body.scope, body.queue_id, None)
        if old.scope != body.scope:
            # a scope change alters who may see it: say goodbye to the old audience first
            tx.append(ev.TemplateDeleted(template_id=template_id), _audience(old))
        tx.conn.execute(
            update(s.templates)
            .where(s.templates.c.id == template_id)
            .values(**_values(caller, body), updated_at=tx.now)
        )
        return _changed(tx, caller, template_id, "template_update")


def remove(backend: Backend, caller: Caller, template_id: int) -> None:
    with backend.write() as tx:
        old = _row(tx.conn, caller, template_id)
        _check_may_edit(tx.conn, caller, m.TemplateScope(old.scope), old.queue_id, old.owner_id)
        tx.conn.execute(delete(s.templates).where(s.templates.c.id == template_id))
        tx.append(ev.TemplateDeleted(template_id=template_id), _audience(old))
        tx.audit(caller.id, "template_delete", "template", template_id)


def _values(caller: Caller, body: m.TemplateIn) -> dict[str, Any]:
    personal = body.scope == m.TemplateScope.PERSONAL
    return {
        "scope": body.scope,
        "queue_id": None if personal else body.queue_id,
        "owner_id": caller.id if personal else None,
        "shortcut": body.shortcut,
        "title": body.title,
        "category": body.category,
        "body": body.body,
        "pinned": body.pinned,
    }


def _changed(tx: Tx, caller: Caller, template_id: int, action: str) -> m.Template:
    row = tx.conn.execute(select(s.templates).where(s.templates.c.id == template_id)).one()
    template = views.template(row)
    tx.append(ev.TemplateChanged(template=template), _audience(row))
    tx.audit(caller.id, action, "template", template_id)
    return template


def _audience(row: Any) -> frozenset[int] | None:
    """Personal templates go to their owner only; shared ones to everyone."""
    return frozenset({row.owner_id}) if row.scope == m.TemplateScope.PERSONAL else None


def _row(conn: Connection, caller: Caller, template_id: int) -> Any:
    row = conn.execute(select(s.templates).where(s.templates.c.id == template_id)).first()
    if row is None:
        raise not_found("template")
    if row.scope == m.TemplateScope.PERSONAL and row.owner_id != caller.id:
        raise not_found("template")  # someone else's personal template does not exist for you
    return row


def _check_may_edit(
    conn: Connection,
    caller: Caller,
    scope: m.TemplateScope,
    queue_id: int | None,
    owner_id: int | None,
) -> None:
    if scope == m.TemplateScope.PERSONAL:
        if owner_id not in (None, caller.id):
            raise forbidden("this template")
        return
    if queue_id is not None:
        if conn.execute(select(s.queues.c.id).where(s.queues.c.id == queue_id)).first() is None:
            raise invalid("unknown queue", field="queue_id")
        if caller.supervises(queue_id):
            return
    elif caller.is_admin:
        return
    raise forbidden("shared templates of this queue")
