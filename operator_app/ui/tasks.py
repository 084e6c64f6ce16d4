"""Background coroutines started from the UI: every task is kept, keyed, and its errors seen.

Like qasync's asyncSlot, but a task started under a key cancels the previous one under the
same key (loading history for dialog A is dropped when the operator jumps to dialog B), and
every failure goes to one handler that logs it and shows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], None]


class TaskRunner:
    def __init__(self, on_error: ErrorHandler | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}
        self.on_error = on_error

    def start(self, coro: Coroutine[Any, Any, Any], *, key: str | None = None) -> asyncio.Task[Any]:
        if key is not None and (previous := self._keyed.get(key)) is not None:
            previous.cancel()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task
        task.add_done_callback(lambda t: self._finished(t, key))
        return task

    def _finished(self, task: asyncio.Task[Any], key: str | None) -> None:
        self._tasks.discard(task)
        if key is not None and self._keyed.get(key) is task:
            del self._keyed[key]
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if self.on_error is not None:
            self.on_error(error)
        else:
            logger.error("background task failed", exc_info=error)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
