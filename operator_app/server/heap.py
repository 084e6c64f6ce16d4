"""The cycle collector in a long-running server: full passes walk only what is new.

A full collection walks every container object the process holds. With 1,000 staff
connected that is ~200,000 objects (per connection: its tasks and coroutines, queues,
websocket protocol, headers), one pass of 100 ms on the machines we measure, and under
500 customer messages a second CPython ran one every few seconds: each held the event loop,
and every delivery behind it, for those 100 ms (the whole tail of figure 7 in
docs/performance.md).

Most of those objects live as long as their connection, for hours. So the survivors of each
full pass are frozen (``gc.freeze``): the next passes walk only what was made since, a few
thousand objects. A frozen object is never examined again, so a cycle among objects that die
after the freeze would never be freed; every ``thaw_seconds`` the frozen objects go back to the
oldest generation, and the next full pass, over everything, frees them and freezes what is
still alive. One long pass every ten minutes instead of one every few seconds.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

THAW_SECONDS = 600.0


class SurvivorFreezer:
    """Freezes the survivors of every full collection; thaws them every ``thaw_seconds``.

    Runs as a ``gc.callbacks`` hook, on whichever thread collected: freezing and thawing only
    move the collector's lists, after the pass is over."""

    def __init__(
        self, thaw_seconds: float = THAW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._thaw_seconds = thaw_seconds
        self._clock = clock
        self._thawed_at = clock()
        self.thaws = 0  # for tests and diagnostics

    def install(self) -> None:
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)

    def uninstall(self) -> None:
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        now = self._clock()
        if now - self._thawed_at >= self._thaw_seconds:
            gc.unfreeze()  # the next full pass walks everything: dead frozen cycles are freed
            self._thawed_at = now
            self.thaws += 1
        else:
            gc.freeze()
