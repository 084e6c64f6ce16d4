"""Erlang C against published worked examples, and the multi-chat adaptation."""

from __future__ import annotations

import math

import pytest

from operator_app.core.staffing import (
    average_wait,
    erlang_b,
    erlang_c,
    operators_needed,
    servers_needed,
    service_level,
)

# Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example":
# 100 calls per 30 minutes, AHT 180 s -> 10 erlangs; target 80 % answered in 20 s.
# Published per agent count: (probability of waiting, service level, ASA seconds).
PUBLISHED = {
    11: (0.6821, 0.3896, 122.8),
    12: (0.4494, 0.6402, 40.4),
    13: (0.2853, 0.7956, 17.1),
    14: (0.1741, 0.8884, 7.8),
}


@pytest.mark.parametrize("agents", sorted(PUBLISHED))
def test_classic_worked_example_per_agent_count(agents: int) -> None:
    waits, level, asa = PUBLISHED[agents]
    assert erlang_c(10, agents) == pytest.approx(waits, abs=5e-4)
    assert service_level(10, agents, 180, 20) == pytest.approx(level, abs=5e-4)
    assert average_wait(10, agents, 180) == pytest.approx(asa, abs=0.05)


def test_classic_example_needs_13_for_the_rounded_target_and_14_for_strict_80_percent() -> None:
    arrivals_per_hour = 200  # 100 per half hour
    # 13 agents reach 79.6 %: the example's "13" rounds 79.6 up to the 80 % target
    assert servers_needed(arrivals_per_hour, 180, 20, 0.79) == 13
    assert servers_needed(arrivals_per_hour, 180, 20, 0.80) == 14


def test_textbook_closed_form_two_erlangs_three_servers() -> None:
    # Pw = (A^N/N! · N/(N−A)) / (Σ A^k/k! + that) = (8/6·3) / (1 + 2 + 2 + 4) = 4/9
    assert erlang_c(2, 3) == pytest.approx(4 / 9)
    assert erlang_b(2, 3) == pytest.approx((8 / 6) / (1 + 2 + 2 + 8 / 6))


def test_overload_and_idle_edges() -> None:
    assert erlang_c(10, 10) == 1.0
    assert service_level(10, 9, 180, 20) == 0.0
    assert math.isinf(average_wait(10, 10, 180))
    assert erlang_c(0, 3) == 0.0
    assert servers_needed(0, 180, 20, 0.8) == 0
    assert operators_needed(0, 300, concurrency=3).operators == 0


def test_large_traffic_is_numerically_stable() -> None:
    # the naive A^N/N! overflows long before 500 servers
    waits = erlang_c(450, 500)
    assert 0 < waits < 1
    assert servers_needed(450 * 3600 / 60, 60, 20, 0.8) > 450


def test_multichat_operators_are_concurrency_servers_each() -> None:
    single = operators_needed(120, 600, concurrency=1)
    triple = operators_needed(120, 600, concurrency=3)
    assert triple.servers == single.servers == 25
    assert triple.operators == math.ceil(25 / 3) == 9
    assert triple.service_level >= 0.8
    assert 0 < triple.occupancy < 1


def test_concurrency_factor_inflates_handling_time() -> None:
    focused = operators_needed(120, 400, concurrency=3, concurrency_factor=1.0)
    slowed = operators_needed(120, 400, concurrency=3, concurrency_factor=1.5)
    assert slowed.traffic_erlangs == pytest.approx(focused.traffic_erlangs * 1.5)
    assert slowed.operators > focused.operators


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency_factor": 0.5}, "concurrency_factor"),
        ({"target_level": 1.0}, "target_level"),
    ],
)
def test_bad_input_is_refused_clearly(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        operators_needed(100, 300, **kwargs)  # type: ignore[arg-type]


def test_aht_must_be_positive() -> None:
    with pytest.raises(ValueError, match="aht_seconds"):
        servers_needed(100, 0, 20, 0.8)
