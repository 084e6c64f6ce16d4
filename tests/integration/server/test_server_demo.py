"""The demo world is seeded relative to the time it is seeded at: its dialogs closed "today"
(the server's day starts at midnight UTC) stay today even just after midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from operator_app.protocol.enums import DialogState
from operator_app.server import db, demo
from operator_app.server import schema as s

CLOSED_TODAY = sum(1 for p in demo.PLANS if p.state == DialogState.CLOSED and p.age < demo.D)


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 11, 24, 0, 5, tzinfo=UTC), datetime(2026, 11, 24, 15, 0, tzinfo=UTC)],
    ids=["just after midnight", "afternoon"],
)
def test_the_dialogs_closed_today_are_closed_today_whenever_seeded(
    tmp_path: Path, now: datetime
) -> None:
    engine = db.create(db.sqlite_url(str(tmp_path / "demo.db")))
    db.init_schema(engine)
    demo.seed(engine, now=now)
    midnight = now.replace(hour=0, minute=0)
    with engine.connect() as conn:
        closed = list(
            conn.execute(
                select(s.dialogs.c.created_at, s.dialogs.c.closed_at).where(
                    s.dialogs.c.state == DialogState.CLOSED
                )
            )
        )
    engine.dispose()
    today = [row for row in closed if row.closed_at >= midnight]
    assert CLOSED_TODAY >= 3
    assert len(today) == CLOSED_TODAY
    assert all(midnight <= row.created_at <= row.closed_at <= now for row in today)
