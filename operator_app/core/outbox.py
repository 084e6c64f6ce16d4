"""The outbox: pending messages leave in order per dialog and are retried until acknowledged.

Each entry was written to the cache (with its ``client_msg_id``) before any network call, and
the server stores a message once per ``client_msg_id``: resending after a crash, a lost answer
or a restart is therefore harmless and the message lands exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from operator_app.net.errors import ApiError, NetError
from operator_app.net.state import Backoff, wait_or_wake
from operator_app.protocol.models import Message, SendMessageRequest

from .cache import Cache, OutboxItem
from .rows import MessageRow

if TYPE_CHECKING:  # annotations only: httpx loads after the window's first paint
    from operator_app.net.api import ApiClient

log = logging.getLogger(__name__)


# A kept reason is a fixed sentence the UI translates, then ": " and a detail (ui/problems.py).
UNREADABLE_FILE = "An attached file cannot be read"


class _Permanent(Exception):
    """This message can never be sent as it is; the reason is for the operator."""


class Outbox:
    def __init__(
        self,
        cache: Cache,
        api: ApiClient,
        *,
        on_sent: Callable[[Message], None],
        on_failed: Callable[[MessageRow], None],
        backoff: Backoff | None = None,
    ) -> None:
        self.cache = cache
        self.api = api
        self._on_sent = on_sent
        self._on_failed = on_failed
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self.sent_count = 0

    def wake(self) -> None:
        """Try now: a new message, a retry, or the connection came back."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled. Network trouble waits out a backoff (or a ``wake()``)."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.cache.outbox_heads():
                delay = await self.flush()
                if delay is None:
                    continue  # progress made: the next message of each dialog is due
                await wait_or_wake(self._wake, delay)
                self._wake.clear()

    async def flush(self) -> float | None:
        """One pass over the head of every dialog; returns a retry delay after trouble."""
        for item in self.cache.outbox_heads():
            try:
                await self._send(item)
            except _Permanent as exc:
                failed = self.cache.mark_failed(item.client_msg_id, str(exc))
                log.info("outbox: %s failed for good: %s", item.client_msg_id, exc)
                if failed is not None:
                    self._on_failed(failed)
            except NetError as exc:
                delay = self._backoff.next_delay()
                log.info("outbox: sending paused (%s), retry in %.1fs", exc, delay)
                return delay
        self._backoff.reset()
        return None

    async def _send(self, item: OutboxItem) -> None:
        self.cache.note_attempt(item.client_msg_id)
        attachment_ids = item.attachment_ids
        if attachment_ids is None:
            attachment_ids = await self._upload(item)
        try:
            body = SendMessageRequest(
                client_msg_id=item.client_msg_id,
                text=item.text,
                kind=item.kind,
                attachment_ids=list(attachment_ids),
            )
        except ValidationError as exc:
            raise _Permanent(exc.errors()[0]["msg"]) from exc
        try:
            answer = await self.api.send_message(item.dialog_id, body)
        except ApiError as exc:
            if exc.permanent:
                raise _Permanent(exc.message) from exc
            raise
        self.sent_count += 1
        message = answer.message
        if message.client_msg_id != item.client_msg_id:  # be tolerant of a terse server
            message = message.model_copy(update={"client_msg_id": item.client_msg_id})
        self._on_sent(message)

    async def _upload(self, item: OutboxItem) -> tuple[int, ...]:
        ids: list[int] = []
        for raw in item.attachment_paths:
            path = Path(raw)
            try:
                attachment = await self.api.upload(path)
            except OSError as exc:
                log.info("outbox: %s cannot be read: %s", path, exc)
                raise _Permanent(f"{UNREADABLE_FILE}: {path.name}") from exc
            except ApiError as exc:
                if exc.permanent:
                    raise _Permanent(exc.message) from exc
                raise
            ids.append(attachment.id)
        self.cache.set_uploaded(item.client_msg_id, ids)
        return tuple(ids)
