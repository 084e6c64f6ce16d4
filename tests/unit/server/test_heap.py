"""SurvivorFreezer: full passes freeze their survivors; a thaw lets dead frozen cycles go."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from operator_app.server.heap import SurvivorFreezer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    """A cycle whose death can be watched (a weak reference to it)."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def clock() -> Iterator[Clock]:
    """A freezer on a fake clock; the process's frozen objects are thawed afterwards (other
    tests' cycles must stay collectable)."""
    yield Clock()
    gc.unfreeze()


def test_a_full_pass_freezes_what_survived_it(clock: Clock) -> None:
    freezer = SurvivorFreezer(thaw_seconds=600, clock=clock)
    freezer.install()
    try:
        gc.unfreeze()
        kept = Node()
        gc.collect()
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(kept)
        frozen_before = gc.get_freeze_count()
        gc.collect(1)  # a young pass freezes nothing
        assert gc.get_freeze_count() == frozen_before
    finally:
        freezer.uninstall()


def test_a_cycle_that_dies_frozen_is_freed_after_the_thaw(clock: Clock) -> None:
    freezer = SurvivorFreezer(thaw_seconds=600, clock=clock)
    freezer.install()
    try:
        node = Node()
        watch = weakref.ref(node)
        gc.collect()  # node survives: frozen
        del node
        gc.collect()
        assert watch() is not None  # dead, but frozen: no pass looks at it
        clock.now = 601.0
        gc.collect()  # this pass still skips it, then thaws everything
        assert freezer.thaws == 1
        assert gc.get_freeze_count() == 0
        gc.collect()  # over everything: the dead cycle goes, the survivors freeze again
        assert watch() is None
        assert gc.get_freeze_count() > 0
    finally:
        freezer.uninstall()


def test_uninstalled_it_freezes_nothing(clock: Clock) -> None:
    freezer = SurvivorFreezer(clock=clock)
    freezer.install()
    freezer.install()  # once only
    assert gc.callbacks.count(freezer._on_collection) == 1
    freezer.uninstall()
    gc.unfreeze()
    gc.collect()
    assert gc.get_freeze_count() == 0
