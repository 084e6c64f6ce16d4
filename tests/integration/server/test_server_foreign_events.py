"""The serving process publishes what another process committed, once, in cursor order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from operator_app.server import db
from operator_app.server.hub import Published
from operator_app.server.service import Backend


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    engine = db.create(db.sqlite_url(str(tmp_path / "events.db")))
    db.init_schema(engine)
    backend = Backend(engine)
    yield backend
    backend.shutdown()
    engine.dispose()


def ours(*cursors: int) -> list[Published]:
    return [Published(c, f'{{"cursor":{c}}}', None) for c in cursors]


def test_our_events_in_order_pass_as_they_are(backend: Backend) -> None:
    backend.published_through = 10
    assert backend._after_foreign(ours(11, 12)) == ours(11, 12)
    assert backend.published_through == 12


def test_events_a_gap_read_already_sent_are_not_sent_twice(backend: Backend) -> None:
    backend.published_through = 12  # 11 and 12 went out with a gap's read
    assert backend._after_foreign(ours(11, 12)) == []
    assert backend._after_foreign(ours(12, 13)) == ours(13)
    assert backend.published_through == 13
