"""Outgoing side of the channels: messages, rating requests and typing go to a connector."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from .txn import Outbound


class Connector(Protocol):
    def deliver(self, item: Outbound) -> None:
        """Hand one item to the customer's channel. Called after the commit, off the loop."""


class SimulatedConnector:
    """Records what would go to the customers; listeners (the demo simulator) may react."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[Outbound] = []
        self.listeners: list[Callable[[Outbound], None]] = []

    def deliver(self, item: Outbound) -> None:
        with self._lock:
            self._sent.append(item)
        for listener in list(self.listeners):
            listener(item)

    def sent(self) -> list[Outbound]:
        with self._lock:
            return list(self._sent)
