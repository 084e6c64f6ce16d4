"""Builders of protocol objects for the core unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from operator_app.protocol.models import (
    Author,
    Channel,
    Dialog,
    DialogState,
    Message,
    MessageKind,
    MessagePreview,
    Operator,
    OperatorStatus,
    Queue,
    Role,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def operator(op_id: int = 1, **over: Any) -> Operator:
    fields: dict[str, Any] = {
        "id": op_id,
        "login": f"op{op_id}",
        "name": f"Operator {op_id}",
        "role": Role.OPERATOR,
        "status": OperatorStatus.ONLINE,
        "queue_ids": [10],
        "supervised_queue_ids": [],
    }
    return Operator(**(fields | over))


def queue(queue_id: int = 10, **over: Any) -> Queue:
    return Queue(**({"id": queue_id, "name": f"Queue {queue_id}", "sla_seconds": 90} | over))


def message(
    msg_id: int,
    dialog_id: int = 1,
    text: str = "hello",
    *,
    author: Author = Author.CLIENT,
    client_msg_id: str | None = None,
    minutes: int = 0,
    kind: MessageKind = MessageKind.MESSAGE,
) -> Message:
    return Message(
        id=msg_id,
        dialog_id=dialog_id,
        author=author,
        author_id=1 if author == Author.OPERATOR else None,
        author_name="Anna" if author == Author.OPERATOR else "Client",
        kind=kind,
        text=text,
        client_msg_id=client_msg_id,
        created_at=T0 + timedelta(minutes=minutes or msg_id),
    )


def dialog(
    dialog_id: int = 1,
    *,
    assignee_id: int | None = None,
    state: DialogState = DialogState.WAITING,
    queue_id: int = 10,
    minutes: int = 0,
    last: Message | None = None,
    **over: Any,
) -> Dialog:
    updated = T0 + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "id": dialog_id,
        "channel": Channel.TELEGRAM,
        "contact_id": 100 + dialog_id,
        "contact_name": f"Client {dialog_id}",
        "queue_id": queue_id,
        "assignee_id": assignee_id,
        "state": state,
        "created_at": T0,
        "updated_at": updated,
        "waiting_since": updated if state == DialogState.WAITING else None,
        "closed_at": updated if state == DialogState.CLOSED else None,
    }
    if last is not None:
        fields["last_message"] = MessagePreview(
            author=last.author, kind=last.kind, text=last.text[:80], created_at=last.created_at
        )
        fields["last_message_id"] = last.id
    return Dialog(**(fields | over))


def fill_cache_file(path: Path, messages: int = 400) -> None:
    """A cache file of many pages (a message of 300 characters each), fully checkpointed."""
    from operator_app.core.cache import Cache

    cache = Cache.open(path)
    with cache.transaction():
        for i in range(1, messages):
            cache.apply_server_message(message(i, text="x" * 300))
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
