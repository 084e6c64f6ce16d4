"""The server restarts under many connected clients: they come back spread out, not as a herd.

Every client is a real ``RealtimeConnection`` with the production backoff (no test tuning).
After a kill -9 and a restart, no 1-second window may hold more than 20% of the reconnects
(the attempts that brought the clients back: when each client chose to come back, not when a
busy two-core test machine got round to its replay), and every client must have resynced
(hello, replay, replay_done) within 60 s of the restart.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from operator_app.net.realtime import ConnectionState, Phase, RealtimeConnection, ws_url_for
from operator_app.protocol.events import EventFrame, ReplayDoneFrame, ServerFrame
from tests.helpers.reliability_world import FIGURES, ServerProcess, eventually, logged_in, sized

CLIENTS = sized(300, 1000)  # fewer make the 20% statistic mostly noise
MAX_SHARE_PER_SECOND = 0.20
RESYNC_WITHIN = 60.0


class Client:
    def __init__(self, url: str, token: str) -> None:
        self.cursor: int | None = None
        self.resynced_at: list[float] = []
        self.attempts: list[float] = []
        self.connection = RealtimeConnection(
            ws_url_for(url),
            token=lambda: token,
            since_cursor=lambda: self.cursor,
            on_frame=self.on_frame,
            on_state=self.on_state,
        )
        self.online = False

    def on_state(self, state: ConnectionState) -> None:
        self.online = state.phase is Phase.ONLINE
        if state.phase is Phase.CONNECTING:
            self.attempts.append(time.monotonic())

    def reconnected_at(self) -> float:
        """When the attempt that brought it back after the restart began."""
        return max(a for a in self.attempts if a <= self.resynced_at[1])

    async def on_frame(self, frame: ServerFrame) -> None:
        if isinstance(frame, EventFrame):
            self.cursor = frame.cursor
        elif isinstance(frame, ReplayDoneFrame):
            self.cursor = frame.cursor
            self.resynced_at.append(time.monotonic())


def busiest_second(moments: list[float]) -> int:
    """The most moments that fall in any window of one second."""
    ordered = sorted(moments)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] > 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.asyncio
@pytest.mark.timeout(400)
async def test_restart_under_many_clients_spreads_reconnects_and_all_resync(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path, send_queue=100)
    url = await server.start()
    apis = [await logged_in(url, login) for login in ("anna", "boris", "elena", "olga")]
    tokens = [api.token or "" for api in apis]
    clients = [Client(url, tokens[n % len(tokens)]) for n in range(CLIENTS)]
    tasks = [
        asyncio.create_task(c.connection.run(), name=f"storm-{n}") for n, c in enumerate(clients)
    ]
    try:
        await eventually(lambda: all(c.resynced_at for c in clients), 120, "everyone online")
        await server.kill9()
        crashed = time.monotonic()
        await eventually(lambda: not any(c.online for c in clients), 60, "everyone to notice")
        await server.start()
        restarted = time.monotonic()
        await eventually(
            lambda: all(len(c.resynced_at) >= 2 for c in clients),
            RESYNC_WITHIN + 30,
            "everyone to resync",
        )
        back = [c.reconnected_at() for c in clients]
        slowest = max(c.resynced_at[1] for c in clients) - restarted
        peak = busiest_second(back)
        FIGURES.add(
            "restart storm",
            rounds=1,
            faults_injected=1,
            server_errors=server.crashes_logged(),
        )
        histogram = [0] * (int(max(back) - crashed) + 1)
        for moment in back:
            histogram[int(moment - crashed)] += 1
        FIGURES.note(f"restart storm: reconnects per second after the crash {histogram}")
        FIGURES.note(
            f"restart storm: {CLIENTS} clients, down {restarted - crashed:.1f}s, all resynced "
            f"{slowest:.1f}s after the restart, busiest second {peak} ({peak / CLIENTS:.0%})"
        )
        assert slowest <= RESYNC_WITHIN
        assert peak <= MAX_SHARE_PER_SECOND * CLIENTS, (
            f"{peak} of {CLIENTS} clients reconnected within one second"
        )
        assert server.crashes_logged() == 0, server.errors_text()[-3000:]
    finally:
        await asyncio.gather(*(c.connection.stop() for c in clients))
        await asyncio.gather(*tasks, return_exceptions=True)
        for api in apis:
            await api.aclose()
        await server.stop()
