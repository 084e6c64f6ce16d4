"""Simulated customers: background traffic and answers to operators, for demos and tests.

Customer text goes through the same function the inbound endpoint uses, so it is routed,
stored and published exactly like a connector's webhook.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Coroutine
from typing import Any

from operator_app.protocol import models as m

from . import inbound
from .demo import CONTACTS
from .demo_scripts import EN_OPENERS, EN_REPLIES, RU_OPENERS, RU_REPLIES
from .service import Backend
from .txn import Outbound

log = logging.getLogger(__name__)

NEW_NAMES_RU = [
    "Григорий Титов",
    "Людмила Андреева",
    "Роман Гусев",
    "Вера Киселева",
    "Олег Баранов",
]
NEW_NAMES_EN = ["Chris Taylor", "Laura White", "James Moore"]
NEW_CHANNELS = [m.Channel.WHATSAPP, m.Channel.TELEGRAM, m.Channel.WEBCHAT, m.Channel.VK]


def has_cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)


class TrafficGenerator:
    """Plausible customer messages: demo contacts writing again, and new customers."""

    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        self.identities: list[tuple[m.Channel, str, str]] = [
            (channel, address, name)
            for name, _lang, identities in CONTACTS
            for channel, address in identities
        ]
        self._new = 0

    def next_message(self) -> tuple[m.Channel, m.InboundMessage]:
        if self.rnd.random() < 0.3:
            channel, address, name = self._new_customer()
            lines = RU_OPENERS if has_cyrillic(name) else EN_OPENERS
        else:
            channel, address, name = self.rnd.choice(self.identities)
            pool = RU_OPENERS + RU_REPLIES if has_cyrillic(name) else EN_OPENERS + EN_REPLIES
            lines = pool
        text = self.rnd.choice(lines).format(order=self.rnd.randint(100000, 999999))
        return channel, m.InboundMessage(
            address=address, name=name, text=text, external_id=f"sim-{uuid.uuid4()}"
        )

    def reply_to(self, operator_text: str) -> str:
        lines = RU_REPLIES if has_cyrillic(operator_text) else EN_REPLIES
        return self.rnd.choice(lines).format(order=self.rnd.randint(100000, 999999))

    def _new_customer(self) -> tuple[m.Channel, str, str]:
        self._new += 1
        names = NEW_NAMES_RU if self.rnd.random() < 0.75 else NEW_NAMES_EN
        name = self.rnd.choice(names)
        channel = self.rnd.choice(NEW_CHANNELS)
        address = f"sim-{channel}-{self._new}-{self.rnd.randint(1000, 9999)}"
        identity = (channel, address, name)
        self.identities.append(identity)
        return identity


class Simulator:
    """Runs on the server loop; every task it starts is kept and its errors are logged."""

    def __init__(self, backend: Backend, *, rate: float, reply_to_operators: bool) -> None:
        self.backend = backend
        self.rate = rate
        self.reply_to_operators = reply_to_operators
        self.traffic = TrafficGenerator()
        self.reply_delay = (1.5, 4.0)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.rate > 0:
            self._spawn(self._traffic_loop())

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def on_outbound(self, item: Outbound) -> None:
        """Connector listener, called from worker threads after a commit."""
        if not self.reply_to_operators or self._loop is None or self._loop.is_closed():
            return
        if item.kind == "message":
            self._loop.call_soon_threadsafe(self._spawn, self._answer(item))
        elif item.kind == "rating_request":
            self._loop.call_soon_threadsafe(self._spawn, self._rate(item))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulated customer failed", exc_info=task.exception())

    async def _traffic_loop(self) -> None:
        while True:
            await asyncio.sleep(self.traffic.rnd.expovariate(self.rate))
            channel, message = self.traffic.next_message()
            await asyncio.to_thread(inbound.accept_message, self.backend, channel, message)

    async def _answer(self, item: Outbound) -> None:
        await asyncio.sleep(self.traffic.rnd.uniform(*self.reply_delay))
        message = m.InboundMessage(
            address=item.address,
            text=self.traffic.reply_to(item.text),
            external_id=f"sim-{uuid.uuid4()}",
        )
        await asyncio.to_thread(inbound.accept_message, self.backend, item.channel, message)

    async def _rate(self, item: Outbound) -> None:
        await asyncio.sleep(self.traffic.rnd.uniform(*self.reply_delay))
        rating = m.InboundRating(
            address=item.address,
            dialog_id=item.dialog_id,
            rating=self.traffic.rnd.choice([4, 5, 5, 3]),
        )
        try:
            await asyncio.to_thread(inbound.record_rating, self.backend, item.channel, rating)
        except Exception as exc:  # reopened meanwhile: the customer simply does not rate
            log.info("simulated rating skipped: %s", exc)
