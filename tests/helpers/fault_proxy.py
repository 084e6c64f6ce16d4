"""A TCP proxy on 127.0.0.1 that injects network faults on demand, for HTTP and websockets alike.

    proxy = FaultProxy("127.0.0.1", server_port)
    port = await proxy.start()        # point the client at 127.0.0.1:port
    proxy.cut()                       # close every current connection (FIN)
    proxy.reset()                     # abort every current connection (RST, SO_LINGER 0)
    proxy.stall(2.0)                  # hold all traffic for 2 s (None: until pass_through())
    proxy.delay(150)                  # delay every chunk by 150 ms
    await proxy.refuse(True)          # stop listening: new connections are refused
    proxy.random_faults(seed=7, rate=0.05)   # reproducible chaos, per forwarded chunk
    proxy.pass_through()              # back to a clean pipe (refuse is separate)
    await proxy.stop()

``faults`` counts what was injected: "cut" and "reset" per connection hit, "stall", "delay" and
"refuse" per switch (random mode counts per chunk it hit).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

RANDOM_KINDS = ("cut", "reset", "stall", "delay")
_CHUNK = 64 * 1024
_STALL_POLL = 0.02


@dataclass(eq=False)
class _Link:
    """One proxied connection: the client's side and the target's side."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    closed: bool = field(default=False)

    def writers(self) -> tuple[asyncio.StreamWriter, asyncio.StreamWriter]:
        return self.client, self.upstream

    def close(self) -> None:
        self.closed = True
        for writer in self.writers():
            writer.close()

    def reset(self) -> None:
        """Abort with SO_LINGER 0 so both peers get an RST, not a FIN."""
        self.closed = True
        for writer in self.writers():
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


@dataclass
class _RandomFaults:
    rng: random.Random
    rate: float
    kinds: Sequence[str]
    max_stall: float
    max_delay: float


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target_host:target_port``; faults switchable at runtime."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.port = 0
        self.accepted = 0  # connections accepted so far
        self.faults: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._stall_until = 0.0
        self._delay = 0.0
        self._random: _RandomFaults | None = None

    @property
    def connections(self) -> int:
        """Connections open right now."""
        return len(self._links)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> int:
        """Start listening (on a free port the first time) and return the port."""
        self._server = await asyncio.start_server(
            self._handle, self.listen_host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening, abort every connection and wait for the forwarding to end."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.reset()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    # ---- faults ----------------------------------------------------------------------------

    def pass_through(self) -> None:
        """Forward cleanly again: no stall, no delay, no random faults."""
        self._stall_until = 0.0
        self._delay = 0.0
        self._random = None

    def cut(self) -> int:
        """Close every current connection (FIN both ways); returns how many."""
        return self._hit_all("cut")

    def reset(self) -> int:
        """Abort every current connection with an RST; returns how many."""
        return self._hit_all("reset")

    def stall(self, seconds: float | None) -> None:
        """Stop forwarding for ``seconds`` (None: until ``pass_through()``); sockets stay open."""
        self.faults["stall"] += 1
        self._stall_until = float("inf") if seconds is None else time.monotonic() + seconds

    def delay(self, ms: float) -> None:
        """Delay every forwarded chunk by ``ms`` milliseconds (0 turns it off)."""
        if ms > 0:
            self.faults["delay"] += 1
        self._delay = ms / 1000

    async def refuse(self, on: bool) -> None:
        """Refuse new connections (the port stops listening) or accept them again."""
        if on and self._server is not None:
            self.faults["refuse"] += 1
            self._server.close()
            self._server = None
        elif not on and self._server is None:
            await self.start()

    def random_faults(
        self,
        seed: int,
        rate: float = 0.05,
        kinds: Sequence[str] = RANDOM_KINDS,
        *,
        max_stall: float = 0.5,
        max_delay: float = 0.2,
    ) -> None:
        """Before each forwarded chunk, with probability ``rate``, inject one of ``kinds``."""
        unknown = set(kinds) - set(RANDOM_KINDS)
        if unknown or not kinds or not 0 <= rate <= 1:
            raise ValueError(f"rate in 0..1 and kinds from {RANDOM_KINDS}, got {rate}, {kinds}")
        self._random = _RandomFaults(random.Random(seed), rate, tuple(kinds), max_stall, max_delay)

    # ---- forwarding ------------------------------------------------------------------------

    def _hit_all(self, kind: str) -> int:
        links = list(self._links)
        for link in links:
            if kind == "cut":
                link.close()
            else:
                link.reset()
        self.faults[kind] += len(links)
        return len(links)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        try:
            await self._forward(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()  # the target is down: the client sees a dead connection
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(
                self._pump(link, reader, up_writer), self._pump(link, up_reader, writer)
            )
        finally:
            self._links.discard(link)
            if not link.closed:
                link.close()

    async def _pump(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while not link.closed:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                await self._gate()
                await self._maybe_strike(link)
                if link.closed:
                    break
                writer.write(data)
                await writer.drain()
        except OSError:
            pass  # a peer vanished: the other pump sees the close too
        finally:
            if not link.closed:
                link.close()

    async def _gate(self) -> None:
        """Hold the chunk while stalled, then apply the delay."""
        while time.monotonic() < self._stall_until:
            await asyncio.sleep(_STALL_POLL)
        if self._delay:
            await asyncio.sleep(self._delay)

    async def _maybe_strike(self, link: _Link) -> None:
        chaos = self._random
        if chaos is None or chaos.rng.random() >= chaos.rate:
            return
        kind = chaos.rng.choice(chaos.kinds)
        self.faults[kind] += 1
        if kind == "cut":
            link.close()
        elif kind == "reset":
            link.reset()
        elif kind == "stall":
            await asyncio.sleep(chaos.rng.uniform(0, chaos.max_stall))
        else:
            await asyncio.sleep(chaos.rng.uniform(0, chaos.max_delay))
