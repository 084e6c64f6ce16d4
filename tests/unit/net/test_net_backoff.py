"""Backoff: bounds of every delay and the spread of the full jitter."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from operator_app.net import Backoff


def test_ceilings_double_up_to_the_cap_and_reset() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        backoff.next_delay()
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.ceiling() == 0.5


@given(
    base=st.floats(0.001, 10.0),
    factor=st.floats(1.0, 1000.0),
    attempts=st.integers(0, 2000),
    seed=st.integers(0, 2**32),
)
def test_every_delay_stays_within_zero_and_the_ceiling(
    base: float, factor: float, attempts: int, seed: int
) -> None:
    backoff = Backoff(base=base, cap=base * factor, rng=random.Random(seed))
    backoff.attempt = attempts  # far past any overflow of base * 2**attempt
    ceiling = backoff.ceiling()
    delay = backoff.next_delay()
    assert 0.0 <= delay <= ceiling <= base * factor


def test_full_jitter_is_uniform_over_the_range() -> None:
    rng = random.Random(2024)
    backoff = Backoff(base=1.0, cap=8.0, rng=rng)
    samples = []
    for _ in range(4000):
        backoff.attempt = 3  # ceiling 8.0
        samples.append(backoff.next_delay())
    assert 3.8 < statistics.fmean(samples) < 4.2
    quarters = [sum(q * 2 <= s < (q + 1) * 2 for s in samples) for q in range(4)]
    assert all(900 < count < 1100 for count in quarters), quarters
    assert len({round(s, 6) for s in samples}) > 3900  # jitter, not a few fixed steps


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_parameters_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError):
        Backoff(base=base, cap=cap)
