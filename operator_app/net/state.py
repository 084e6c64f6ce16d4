"""What the UI shows about the live connection, and the retry pacing: no websockets, no httpx.

Kept apart from ``realtime`` so the window can show the connection state (and the core can
hold it) before the network stack is imported: the app paints from the cache first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from operator_app.protocol import routes

from .errors import NetError


class Phase(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True)
class ConnectionState:
    phase: Phase
    retry_at: float | None = None  # time.monotonic() of the next attempt while RECONNECTING
    reason: str = ""  # human-readable last error ("connection refused", "token revoked"...)
    # Why an OFFLINE connection waits for retry_now(): TlsFailure, IncompatibleServer or
    # ApiError(UNAUTHORIZED). None while the trouble is transient.
    error: NetError | None = None

    def retry_in(self, now: float | None = None) -> float | None:
        """Seconds until the next attempt (never negative), None when none is scheduled."""
        if self.retry_at is None:
            return None
        current = time.monotonic() if now is None else now
        return max(0.0, self.retry_at - current)


class Backoff:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt))."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base}, cap={cap}")
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        return min(self.cap, self.base * 2.0 ** min(self.attempt, 64))

    def next_delay(self) -> float:
        delay = self._rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


async def wait_or_wake(wake: asyncio.Event, delay: float | None) -> None:
    """Wait ``delay`` seconds (forever if None) or until ``wake`` is set.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives in the
    same turn as the event (it returns the event's result instead), and the cancelled task
    then runs on, so closing the app waited for it forever.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await wake.wait()


def ws_url_for(base_url: str) -> str:
    """The websocket URL of a server: http -> ws, https -> wss, the base path kept, + routes.WS."""
    parts = urlsplit(base_url)
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"not an http(s) server address: {base_url!r}")
    path = parts.path.rstrip("/") + routes.WS
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, "", ""))
