"""LoopCollector: cycles are collected on the loop's thread, when CPython's counts say so."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from operator_app.core.heap import LoopCollector


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def make_cycles(count: int) -> None:
    for _ in range(count):
        cycle: list[object] = []
        cycle.append(cycle)


def test_collection_is_off_while_it_runs_and_back_after(loop: asyncio.AbstractEventLoop) -> None:
    collector = LoopCollector(loop)
    collector.start()
    try:
        assert not gc.isenabled()
        assert collector.running
    finally:
        collector.stop()
    assert gc.isenabled()
    assert not collector.running


def test_a_young_generation_under_its_threshold_is_left_alone(
    loop: asyncio.AbstractEventLoop,
) -> None:
    collector = LoopCollector(loop)
    collector.start()
    try:
        gc.collect()
        assert collector.collect_due() is None
        make_cycles(gc.get_threshold()[0] + 1)
        assert collector.collect_due() == 0
        assert gc.get_count()[0] < gc.get_threshold()[0]
    finally:
        collector.stop()


def test_the_loop_collects_what_other_code_left(loop: asyncio.AbstractEventLoop) -> None:
    collector = LoopCollector(loop, interval=0.01)
    collector.start()
    try:
        gc.collect()
        make_cycles(gc.get_threshold()[0] * 3)
        left = gc.get_count()[0]
        loop.run_until_complete(asyncio.sleep(0.05))
        assert gc.get_count()[0] < left // 3
    finally:
        collector.stop()


def test_stopping_twice_or_before_start_is_harmless(loop: asyncio.AbstractEventLoop) -> None:
    collector = LoopCollector(loop)
    collector.stop()
    assert gc.isenabled()
    collector.start()
    collector.stop()
    collector.stop()
    assert gc.isenabled()
