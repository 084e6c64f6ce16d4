"""Closed dialogs with known timings written straight into the server's database.

The demo world holds a few days of history; reports and the staffing helper need more, and
tests need numbers they can predict. Dialogs have no messages: reports read the timings only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from operator_app.protocol.models import DialogState
from operator_app.server import schema as s
from operator_app.server.embedded import EmbeddedServer


@dataclass(frozen=True)
class Seeded:
    created_at: datetime
    first_response_seconds: float
    handling_seconds: float
    rating: int | None


def add_closed_dialogs(
    server: EmbeddedServer, operator_login: str, queue_name: str, items: list[Seeded]
) -> None:
    assert server.backend is not None
    with server.backend.engine.begin() as conn:
        operator_id = conn.execute(
            select(s.operators.c.id).where(s.operators.c.login == operator_login)
        ).scalar_one()
        queue_id = conn.execute(
            select(s.queues.c.id).where(s.queues.c.name == queue_name)
        ).scalar_one()
        contact_id = conn.execute(select(s.contacts.c.id).limit(1)).scalar_one()
        for item in items:
            assigned = item.created_at + timedelta(seconds=5)
            closed = assigned + timedelta(seconds=item.handling_seconds)
            conn.execute(
                insert(s.dialogs).values(
                    channel="webchat",
                    address=f"history-{item.created_at.timestamp()}",
                    contact_id=contact_id,
                    queue_id=queue_id,
                    assignee_id=operator_id,
                    state=DialogState.CLOSED,
                    tags=[],
                    subject="",
                    created_at=item.created_at,
                    updated_at=closed,
                    assigned_at=assigned,
                    first_response_at=item.created_at
                    + timedelta(seconds=item.first_response_seconds),
                    closed_at=closed,
                    resolution="",
                    rating=item.rating,
                    message_count=0,
                )
            )


def busy_fortnight(server: EmbeddedServer, *, seed: int = 7, now: datetime | None = None) -> None:
    """Two weeks of plausible traffic for every demo operator (screenshots, staffing)."""
    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    people = [
        ("anna", "Продажи"),
        ("boris", "Поддержка"),
        ("elena", "Продажи"),
        ("dmitry", "Биллинг"),
    ]
    for login, queue in people:
        items = []
        for day in range(1, 15):
            for hour in range(8, 21):
                for _ in range(rnd.choice((0, 1, 1, 2, 3)) + (2 if 11 <= hour <= 16 else 0)):
                    start = (now - timedelta(days=day)).replace(
                        hour=hour, minute=rnd.randrange(60), second=0, microsecond=0
                    )
                    items.append(
                        Seeded(
                            start,
                            rnd.uniform(15, 240),
                            rnd.uniform(240, 1500),
                            rnd.choice((None, 3, 4, 4, 5, 5, 5)),
                        )
                    )
        add_closed_dialogs(server, login, queue, items)
