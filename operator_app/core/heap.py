"""The cycle collector's view of a long-running app.

A full collection walks every container object the process holds: ~100,000 once the main
window, its lists and the wire models exist, which takes 60-130 ms of the GUI thread on the
machines we measure. During a reconnect replay the objects each event leaves alive (the
dialog it updates, its frame while the batch runs) trigger one such pass every ~2,500
events. Almost everything alive once the app is up (modules, classes, the window) lives as
long as the app: ``freeze_long_lived`` moves it out of the collector's sight, so later full
passes walk only what was made since (~20,000 objects, 7-17 ms).
"""

from __future__ import annotations

import asyncio
import gc

_frozen = False


def freeze_long_lived() -> bool:
    """Freeze every object alive now (``gc.freeze``), once per process; True the first time.

    Frozen objects are never examined by the collector again: a reference cycle among them
    is never freed. Call it only from the app itself, once it is up; never in a test process
    that builds and drops windows (their cycles must stay collectable).
    """
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.freeze()
    return True


class LoopCollector:
    """Runs the cycle collector only on the thread of one asyncio loop: the GUI thread's.

    CPython collects cycles on whichever thread happens to pass an allocation threshold. The
    app has other threads (the embedded demo server's, ``asyncio.to_thread`` workers), and a Qt
    window or timer freed on one of them is destroyed off the thread that owns it: Qt warns
    ("Timers cannot be stopped from another thread") or crashes. So automatic collection is
    off while this runs, and the loop checks every ``interval`` seconds whether a generation
    is due by CPython's own counts and thresholds, then collects it here.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.5) -> None:
        self._loop = loop
        self._interval = interval
        self._thresholds = gc.get_threshold()
        self._handle: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        if self.running:
            return
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._schedule()

    def stop(self) -> None:
        """Collect what is left here, then hand collection back to CPython."""
        if self._handle is None:
            return
        self._handle.cancel()
        self._handle = None
        gc.collect()
        gc.enable()

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose count passed its threshold; which, or None."""
        counts = gc.get_count()
        if counts[0] <= self._thresholds[0]:
            return None
        generation = 0
        for older in (1, 2):
            if counts[older] > self._thresholds[older]:
                generation = older
        gc.collect(generation)
        return generation

    def _schedule(self) -> None:
        self._handle = self._loop.call_later(self._interval, self._tick)

    def _tick(self) -> None:
        self.collect_due()
        self._schedule()
