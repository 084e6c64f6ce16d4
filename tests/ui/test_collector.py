"""The app's threads never destroy a Qt object: cycles are collected on the GUI thread.

The qloop fixture runs the app's LoopCollector, as app.main does. Without it, a worker thread
that allocates (the embedded server's, an ``asyncio.to_thread`` job) runs the cycle collector
itself and destroys the Qt timer below off its thread, which Qt reports as a warning and the
harness turns into a failure.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import ClassVar

from PySide6.QtCore import QTimer


class TimerInCycle:
    freed_on: ClassVar[list[int]] = []

    def __init__(self) -> None:
        self.itself = self
        self.timer = QTimer()
        self.timer.start(60_000)

    def __del__(self) -> None:
        self.freed_on.append(threading.get_ident())


def churn_cycles() -> None:
    for _ in range(gc.get_threshold()[0] * 50):
        cycle: list[object] = []
        cycle.append(cycle)


def test_a_worker_threads_allocations_leave_qt_objects_to_the_gui_thread(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    TimerInCycle.freed_on.clear()
    TimerInCycle()
    worker = threading.Thread(target=churn_cycles)
    worker.start()
    worker.join()
    assert TimerInCycle.freed_on == []

    qloop.run_until_complete(asyncio.sleep(1.2))  # two of the collector's checks
    assert TimerInCycle.freed_on == [threading.get_ident()]
