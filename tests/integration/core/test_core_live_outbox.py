"""The outbox against the real server: restarts, offline start, a faulty network. Each test
ends by reading the server's own record: every message exactly once, in order per dialog."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from operator_app.core.changes import ConnectionChanged
from operator_app.core.rows import DeliveryState, Section
from operator_app.core.service import DeskService
from operator_app.net.realtime import Phase
from tests.helpers.desk_rows import message_state
from tests.helpers.fault_proxy import FaultProxy
from tests.integration.core.conftest import (
    LiveServer,
    Services,
    eventually,
    online,
    server_messages,
)


async def assert_exactly_once_in_order(url: str, dialog_id: int, texts: list[str]) -> None:
    stored = [m.text for m in await server_messages(url, dialog_id) if m.text in set(texts)]
    assert stored == texts


def my_two_dialogs(service: DeskService) -> list[int]:
    return [row.dialog.id for row in service.dialogs(Section.MINE)[:2]]


@pytest.mark.asyncio
async def test_server_restart_while_sends_are_in_flight(
    live_server: LiveServer, services: Services
) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    dialogs = my_two_dialogs(service)
    texts = {d: [f"restart {d} #{n}" for n in range(15)] for d in dialogs}
    for n in range(15):
        for d in dialogs:
            service.send(d, texts[d][n])
    await eventually(lambda: service.outbox.sent_count >= 3, what="first sends")
    assert live_server.server is not None and live_server.server.backend is not None
    writes = live_server.server.backend._write_lock
    writes.acquire()  # the next sends wait inside the server: the stop finds them in flight
    stopping = asyncio.ensure_future(asyncio.to_thread(live_server.stop))
    await asyncio.sleep(0.3)
    writes.release()
    await stopping
    assert service.cache.outbox_size() > 0, "the restart came too late to test anything"
    await asyncio.to_thread(live_server.start)
    await eventually(lambda: service.cache.outbox_size() == 0, timeout=20, what="outbox drained")
    for d in dialogs:
        await assert_exactly_once_in_order(live_server.url, d, texts[d])
        states = {m.state for m in service.messages(d) if m.text.startswith("restart")}
        assert states == {DeliveryState.SENT}
    await online(service)  # the socket came back to the restarted server and resumed
    fresh = await live_server.inbound("@after_restart", "after the restart", "ext-r1")
    await eventually(lambda: service.dialog(fresh) is not None, what="live after restart")


@pytest.mark.asyncio
async def test_offline_start_reads_searches_composes_and_delivers_later(
    live_server: LiveServer, services: Services
) -> None:
    first, _ = await services.make(live_server.url)
    await online(first)
    dialog_id = first.dialogs(Section.MINE)[0].dialog.id
    await first.open_dialog(dialog_id)
    cached = first.messages(dialog_id)
    await services.close(first)
    live_server.stop()

    offline, changes = await services.make(live_server.url, password=None)
    assert not offline.needs_login  # the token came from the keyring
    assert offline.dialogs(Section.MINE)
    assert offline.messages(dialog_id) == cached
    word = cached[0].text.split()[0]
    assert offline.search(word)
    row = offline.send(dialog_id, "typed while offline")
    offline.save_draft(dialog_id, "half a thought")
    await eventually(lambda: offline.connection.phase is Phase.RECONNECTING, what="reconnecting")
    assert offline.connection.reason
    assert any(
        isinstance(c, ConnectionChanged) and c.state.phase is Phase.RECONNECTING for c in changes
    )
    assert message_state(offline, row.key) == DeliveryState.PENDING

    live_server.start()
    await online(offline)
    await eventually(lambda: offline.cache.outbox_size() == 0, what="delivered")
    await assert_exactly_once_in_order(live_server.url, dialog_id, ["typed while offline"])
    assert offline.draft(dialog_id) == "half a thought"
    sent = offline.cache.message(row.key)
    assert sent is not None and sent.state == DeliveryState.SENT and sent.server_id


@pytest.mark.asyncio
@pytest.mark.slow
async def test_faulty_network_loses_and_duplicates_nothing(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    proxy = FaultProxy("127.0.0.1", live_server.port)
    port = await proxy.start()
    try:
        service, _ = await services.make(f"http://127.0.0.1:{port}", heartbeat_seconds=1.0)
        await online(service)
        dialogs = my_two_dialogs(service)
        texts = {d: [f"chaos {d} #{n}" for n in range(20)] for d in dialogs}
        inbound = []
        proxy.random_faults(seed=7, rate=0.08, max_stall=0.6, max_delay=0.1)
        for n in range(20):
            for d in dialogs:
                service.send(d, texts[d][n])
            if n % 4 == 0:
                inbound.append(await live_server.inbound(f"@chaos{n}", f"client {n}", f"ext-c{n}"))
            if n == 10:
                proxy.cut()
            if n == 15:
                proxy.stall(1.5)
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        proxy.pass_through()
        service.retry_connection_now()
        await eventually(lambda: service.cache.outbox_size() == 0, timeout=40, what="drained")
        await eventually(
            lambda: all(service.dialog(i) is not None for i in inbound), timeout=20, what="events"
        )
        assert sum(proxy.faults.values()) > 0
        for d in dialogs:
            await assert_exactly_once_in_order(live_server.url, d, texts[d])

            def last_sent(d: int = d) -> bool:
                return [m.state for m in service.messages(d)][-1] == DeliveryState.SENT

            await eventually(last_sent)
        for dialog_id in inbound:
            assert [m.text for m in service.messages(dialog_id)][:1]
    finally:
        await proxy.stop()
