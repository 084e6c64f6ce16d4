"""Erlang C staffing, and its adaptation to operators who handle several chats at once.

Pure functions, no I/O. The maths and its sources are explained in docs/staffing.md.

Classic Erlang C (M/M/N): calls arrive at rate λ, each takes on average ``aht`` seconds, so the
offered traffic is A = λ·aht erlangs. With N agents (N > A) the probability that a call waits is

    Pw = [A^N/N! · N/(N−A)] / [Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)]

and the service level (share answered within t seconds) is SL = 1 − Pw·e^{−(N−A)·t/aht}.

Multi-chat: an operator with ``concurrency`` c runs c chats in parallel, so we model them as c
servers each. Parallel chats are slower than a focused one; when the handling time was measured
on single chats, ``concurrency_factor`` inflates it (effective aht = aht · factor). Our own
measured handling time (assignment to close) already includes that slowdown: use factor 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 10_000  # a search bound: no chat center needs more for one hour


@dataclass(frozen=True)
class StaffingResult:
    operators: int  # people needed
    servers: int  # chat slots needed (operators × concurrency, before rounding up to people)
    traffic_erlangs: float
    wait_probability: float
    service_level: float
    average_wait_seconds: float
    occupancy: float  # busy share of the slots


def erlang_b(traffic: float, servers: int) -> float:
    """Blocking probability, by the stable recursion B(0)=1, B(n)=A·B/(n + A·B)."""
    if traffic < 0 or servers < 0:
        raise ValueError("traffic and servers must not be negative")
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(traffic: float, servers: int) -> float:
    """Probability that an arrival waits; 1.0 when the servers cannot keep up (N ≤ A)."""
    if traffic < 0 or servers < 0:
        raise ValueError("traffic and servers must not be negative")
    if traffic == 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    blocking = erlang_b(traffic, servers)
    return servers * blocking / (servers - traffic * (1 - blocking))


def service_level(traffic: float, servers: int, aht_seconds: float, target_seconds: float) -> float:
    """Share of arrivals answered within ``target_seconds``."""
    _check_positive(aht_seconds=aht_seconds)
    if traffic == 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    waits = erlang_c(traffic, servers)
    return max(0.0, 1.0 - waits * math.exp(-(servers - traffic) * target_seconds / aht_seconds))


def average_wait(traffic: float, servers: int, aht_seconds: float) -> float:
    """ASA in seconds: Pw · aht / (N − A); infinite when N ≤ A."""
    if traffic == 0:
        return 0.0
    if servers <= traffic:
        return math.inf
    return erlang_c(traffic, servers) * aht_seconds / (servers - traffic)


def servers_needed(
    arrivals_per_hour: float,
    aht_seconds: float,
    target_seconds: float,
    target_level: float,
) -> int:
    """Fewest Erlang C servers that reach ``target_level`` within ``target_seconds``."""
    _check_positive(aht_seconds=aht_seconds)
    if not 0 < target_level < 1:
        raise ValueError("target_level must be between 0 and 1 (exclusive)")
    if arrivals_per_hour < 0 or target_seconds < 0:
        raise ValueError("arrivals and target time must not be negative")
    traffic = arrivals_per_hour * aht_seconds / 3600
    if traffic == 0:
        return 0
    servers = math.floor(traffic) + 1
    while service_level(traffic, servers, aht_seconds, target_seconds) < target_level:
        servers += 1
        if servers > MAX_AGENTS:
            raise ValueError(f"the load needs more than {MAX_AGENTS} servers")
    return servers


def operators_needed(
    arrivals_per_hour: float,
    aht_seconds: float,
    *,
    target_seconds: float = 20,
    target_level: float = 0.8,
    concurrency: int = 1,
    concurrency_factor: float = 1.0,
) -> StaffingResult:
    """Operators needed in one interval, each handling up to ``concurrency`` chats at once."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if concurrency_factor < 1:
        raise ValueError("concurrency_factor must be at least 1 (parallel chats are not faster)")
    effective_aht = aht_seconds * concurrency_factor
    servers = servers_needed(arrivals_per_hour, effective_aht, target_seconds, target_level)
    operators = math.ceil(servers / concurrency)
    slots = operators * concurrency
    traffic = arrivals_per_hour * effective_aht / 3600
    return StaffingResult(
        operators=operators,
        servers=servers,
        traffic_erlangs=traffic,
        wait_probability=erlang_c(traffic, slots) if slots else 0.0,
        service_level=service_level(traffic, slots, effective_aht, target_seconds) if slots else 1,
        average_wait_seconds=average_wait(traffic, slots, effective_aht) if slots else 0.0,
        occupancy=traffic / slots if slots else 0.0,
    )


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive")
