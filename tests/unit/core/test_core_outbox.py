"""The outbox loop against a fake server: order, retries, permanent failures, exactly once."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from operator_app.core.cache import Cache
from operator_app.core.outbox import Outbox
from operator_app.core.rows import DeliveryState, MessageRow
from operator_app.net.errors import ApiError
from operator_app.net.realtime import Backoff
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import Message, MessageKind
from tests.unit.core.core_factories import T0
from tests.unit.core.core_fakes import FakeApi


class Harness:
    def __init__(self, tmp_path: Path, *, retry_after: float = 0.01) -> None:
        self.cache = Cache.open(tmp_path / "c.sqlite3")
        self.api = FakeApi()
        self.failed: list[MessageRow] = []
        self.outbox = Outbox(
            self.cache,
            self.api.as_client(),
            on_sent=self._sent,
            on_failed=self.failed.append,
            backoff=Backoff(base=retry_after, cap=2 * retry_after, rng=random.Random(1)),
        )

    def _sent(self, message: Message) -> None:
        self.cache.apply_server_message(message)

    def queue(self, dialog_id: int, text: str, paths: list[str] | None = None) -> str:
        row = self.cache.add_pending(
            client_msg_id=f"cmid-{dialog_id}-{text}",
            dialog_id=dialog_id,
            kind=MessageKind.MESSAGE,
            text=text,
            attachment_paths=paths or [],
            author_id=1,
            author_name="Anna",
            created_at=T0,
        )
        return row.key


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


@pytest.mark.asyncio
async def test_sends_in_order_per_dialog_and_marks_sent(harness: Harness) -> None:
    for text in ("a1", "a2", "a3"):
        harness.queue(1, text)
    harness.queue(2, "b1")
    while await harness.outbox.flush() is None and harness.cache.outbox_heads():
        pass
    sends = [c for c in harness.api.calls if c.startswith("send:")]
    assert [s for s in sends if s.startswith("send:a")] == ["send:a1", "send:a2", "send:a3"]
    rows = harness.cache.messages(1)
    assert [r.state for r in rows] == [DeliveryState.SENT] * 3
    assert [r.text for r in rows] == ["a1", "a2", "a3"]
    assert harness.cache.outbox_size() == 0


@pytest.mark.asyncio
async def test_offline_keeps_pending_and_a_lost_answer_is_not_duplicated(harness: Harness) -> None:
    key = harness.queue(1, "hello")
    harness.api.down = True
    assert await harness.outbox.flush() is not None
    row = harness.cache.message(key)
    assert row is not None and row.state == DeliveryState.PENDING
    harness.api.down = False
    harness.api.lose_answers = 2  # stored on the server, the answer lost twice
    assert await harness.outbox.flush() is not None
    assert await harness.outbox.flush() is not None
    assert await harness.outbox.flush() is None
    assert len(harness.api.sent) == 1
    row = harness.cache.message(key)
    assert row is not None and row.state == DeliveryState.SENT
    assert row.server_id == harness.api.sent[key].id


@pytest.mark.asyncio
async def test_permanent_refusal_fails_with_reason_and_does_not_block_the_dialog(
    harness: Harness,
) -> None:
    harness.api.refuse["bad"] = ApiError(409, ErrorCode.DIALOG_CLOSED, "the dialog is closed")
    bad = harness.queue(1, "bad")
    harness.queue(1, "good")
    while harness.cache.outbox_heads():
        await harness.outbox.flush()
    failed = harness.cache.message(bad)
    assert failed is not None and failed.state == DeliveryState.FAILED
    assert failed.error == "the dialog is closed"
    assert [r.key for r in harness.failed] == [bad]
    assert [m.text for m in harness.api.sent.values()] == ["good"]
    del harness.api.refuse["bad"]
    harness.cache.requeue(bad)
    await harness.outbox.flush()
    again = harness.cache.message(bad)
    assert again is not None and again.state == DeliveryState.SENT


@pytest.mark.asyncio
async def test_transient_refusal_is_retried(harness: Harness) -> None:
    harness.api.refuse["busy"] = ApiError(503, ErrorCode.INTERNAL, "overloaded")
    key = harness.queue(1, "busy")
    assert await harness.outbox.flush() is not None
    del harness.api.refuse["busy"]
    assert await harness.outbox.flush() is None
    row = harness.cache.message(key)
    assert row is not None and row.state == DeliveryState.SENT


@pytest.mark.asyncio
async def test_attachments_upload_once_and_missing_files_fail(
    harness: Harness, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hi")
    key = harness.queue(1, "with file", [str(note)])
    harness.api.lose_answers = 1
    await harness.outbox.flush()
    await harness.outbox.flush()
    assert harness.api.uploads == ["note.txt"]  # the retry reused the uploaded id
    row = harness.cache.message(key)
    assert row is not None and row.state == DeliveryState.SENT and len(row.attachments) == 1
    gone = harness.queue(2, "lost file", [str(tmp_path / "gone.pdf")])
    await harness.outbox.flush()
    failed = harness.cache.message(gone)
    assert failed is not None and failed.state == DeliveryState.FAILED
    assert "gone.pdf" in failed.error


@pytest.mark.asyncio
async def test_run_loop_wakes_and_drains(harness: Harness) -> None:
    task = asyncio.create_task(harness.outbox.run())
    try:
        harness.queue(1, "x1")
        harness.queue(1, "x2")
        harness.outbox.wake()
        for _ in range(200):
            if harness.cache.outbox_size() == 0:
                break
            await asyncio.sleep(0.01)
        assert harness.cache.outbox_size() == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.asyncio
async def test_a_cancel_in_the_same_turn_as_a_wake_ends_the_run(tmp_path: Path) -> None:
    """Closing the app cancels the outbox while the connection's last change wakes it: the
    cancel must win (on Python 3.11 ``asyncio.wait_for`` returned the wake instead, the loop
    went on, and closing waited for it forever)."""
    harness = Harness(tmp_path, retry_after=30.0)
    harness.queue(1, "x")
    harness.api.down = True
    task = asyncio.create_task(harness.outbox.run())
    while not harness.api.calls:  # tried once, now waiting out its backoff
        await asyncio.sleep(0.01)
    harness.outbox.wake()
    task.cancel()
    await asyncio.wait([task], timeout=3)  # not ``await task``: a timeout would cancel it again
    assert task.cancelled()
