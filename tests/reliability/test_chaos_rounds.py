"""Three client cores and customer traffic through a TCP proxy that cuts, resets, stalls and
delays, round after round. Every message lands exactly once, in order within its dialog, and
every client's cache converges to the server's state, table by table.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest

from operator_app.core.service import DeskService
from operator_app.net.api import ApiClient
from operator_app.net.realtime import Phase
from operator_app.protocol.models import Author, Channel, DialogScope, DialogState, OperatorStatus
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.reliability_world import (
    FIGURES,
    ServerProcess,
    all_messages,
    close_desk,
    customer_writes,
    desk,
    eventually,
    eventually_async,
    logged_in,
    sized,
    table_differences,
)

ROUNDS = sized(15, 100)
OPERATORS = ("anna", "boris", "elena")
CUSTOMERS = tuple(f"@chaos-customer-{n}" for n in range(4))
FAULTS = ("random", "cut", "reset", "stall", "delay", "random", "clean")


def strike(proxy: FaultProxy, rng: random.Random, round_no: int) -> str:
    """Switch the proxy to this round's fault."""
    proxy.pass_through()
    kind = rng.choice(FAULTS)
    if kind == "random":
        proxy.random_faults(seed=round_no, rate=0.1, max_stall=0.4, max_delay=0.1)
    elif kind == "cut":
        proxy.cut()
    elif kind == "reset":
        proxy.reset()
    elif kind == "stall":
        proxy.stall(rng.uniform(0.1, 0.6))
    elif kind == "delay":
        proxy.delay(rng.uniform(10, 80))
    return kind


async def active_dialogs(service: DeskService) -> list[int]:
    me = service.me
    assert me is not None
    rows = service.cache.conn.execute(
        "SELECT id FROM dialogs WHERE assignee_id = ? AND state = ? ORDER BY id",
        (me.id, DialogState.ACTIVE.value),
    ).fetchall()
    return [dialog_id for (dialog_id,) in rows][:2]


async def wait_ready(service: DeskService) -> None:
    await eventually(lambda: service.connection.phase is Phase.ONLINE, 20, "online")
    await eventually(lambda: service.cache.get_meta("snapshot_owed") is None, 20, "snapshot")


def count_once(expected: list[str], found: list[str]) -> tuple[int, int]:
    """(lost, duplicated) of ``expected`` texts among ``found``."""
    lost = sum(1 for text in expected if text not in found)
    duplicated = sum(max(0, found.count(text) - 1) for text in set(expected))
    return lost, duplicated


@pytest.mark.asyncio
@pytest.mark.timeout(300)
async def test_proxy_chaos_rounds_deliver_exactly_once_and_caches_converge(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path)
    url = await server.start()
    proxy = FaultProxy("127.0.0.1", server.port)
    via_proxy = f"http://127.0.0.1:{await proxy.start()}"
    services: dict[str, DeskService] = {}
    direct: dict[str, ApiClient] = {}
    http = httpx.AsyncClient(base_url=via_proxy, timeout=2.0)
    rng = random.Random(20261123)
    sent: dict[int, list[str]] = {}
    said: dict[str, list[str]] = {c: [] for c in CUSTOMERS}
    inbound_retries = 0
    try:
        for login in OPERATORS:
            services[login] = await desk(via_proxy, login, tmp_path / f"{login}.sqlite3")
            direct[login] = await logged_in(url, login)
        for service in services.values():
            await wait_ready(service)
            await service.set_status(OperatorStatus.ONLINE)
        owned = {login: await active_dialogs(s) for login, s in services.items()}
        for login, dialogs in owned.items():
            assert dialogs, f"{login} has no active dialog in the demo world"
            for dialog_id in dialogs:
                await services[login].open_dialog(dialog_id)  # a history window to converge
                sent[dialog_id] = []
        secret = "demo-telegram-secret"
        kinds = []
        for round_no in range(ROUNDS):
            kinds.append(strike(proxy, rng, round_no))
            for login, service in services.items():
                for dialog_id in owned[login]:
                    text = f"chaos r{round_no} {login} d{dialog_id}"
                    service.send(dialog_id, text)
                    sent[dialog_id].append(text)
            for customer in rng.sample(CUSTOMERS, 2):
                text = f"customer {customer} r{round_no}"
                _, failed = await customer_writes(
                    http, secret, customer, text, f"{customer}-{round_no}"
                )
                inbound_retries += failed
                said[customer].append(text)
            await asyncio.sleep(rng.uniform(0.05, 0.25))
        proxy.pass_through()
        for service in services.values():
            service.retry_connection_now()
            service.outbox.wake()
        for login, service in services.items():

            def drained(s: DeskService = service) -> bool:
                return s.cache.outbox_size() == 0

            await eventually(drained, 60, f"{login} drained")
        lost = duplicated = 0
        olga = await logged_in(url, "olga")
        try:
            for dialog_id, texts in sent.items():
                found = [m.text for m in await all_messages(olga, dialog_id)]
                found = [t for t in found if t.startswith("chaos ")]
                missing, doubled = count_once(texts, found)
                lost, duplicated = lost + missing, duplicated + doubled
                assert found == texts, f"dialog {dialog_id}: sent {texts}, stored {found}"
            customer_dialogs = await customer_dialog_texts(olga)
            for customer, texts in said.items():
                found = customer_dialogs.get(customer, [])
                missing, doubled = count_once(texts, found)
                lost, duplicated = lost + missing, duplicated + doubled
                assert found == texts, f"{customer}: said {texts}, stored {found}"
        finally:
            await olga.aclose()
        for login, service in services.items():
            api = direct[login]
            last: list[str] = []

            async def converged(s: DeskService = service, a: ApiClient = api) -> bool:
                nonlocal last
                last = await table_differences(s, a)
                return not last

            try:
                await eventually_async(converged, 30, f"{login}'s cache to converge")
            except AssertionError:
                raise AssertionError(f"{login} diverges:\n" + "\n".join(last)) from None
        await the_comparison_sees_a_tampered_row(services["anna"], direct["anna"])
        messages = sum(len(t) for t in sent.values()) + sum(len(t) for t in said.values())
        FIGURES.add(
            "chaos rounds (3 cores + customers)",
            rounds=ROUNDS,
            faults_injected=sum(proxy.faults.values()),
            messages_sent=messages,
            lost=lost,
            duplicated=duplicated,
            server_errors=server.crashes_logged(),
        )
        FIGURES.note(
            f"chaos: faults {dict(proxy.faults)}, rounds by kind "
            f"{dict(Counter(kinds))}, inbound retries {inbound_retries}"
        )
        assert sum(proxy.faults.values()) >= ROUNDS // 2
        assert server.crashes_logged() == 0, server.errors_text()[-3000:]
    finally:
        await http.aclose()
        for service in services.values():
            await close_desk(service)
        for api in direct.values():
            await api.aclose()
        await proxy.stop()
        await server.stop()


async def customer_dialog_texts(olga: ApiClient) -> dict[str, list[str]]:
    """The customers' texts per address, from every dialog of the telegram channel."""
    texts: dict[str, list[str]] = {}
    for dialog in (await olga.dialogs(DialogScope.ALL_VISIBLE, limit=500)).items:
        if dialog.channel != Channel.TELEGRAM:
            continue
        for message in await all_messages(olga, dialog.id):
            if message.author == Author.CLIENT and message.text.startswith("customer @chaos"):
                address = message.text.split()[1]
                texts.setdefault(address, []).append(message.text)
    return texts


async def the_comparison_sees_a_tampered_row(service: DeskService, api: ApiClient) -> None:
    """The convergence check is not vacuous: one changed cached message is reported."""
    conn = service.cache.conn
    (key, text) = conn.execute(
        "SELECT key, text FROM messages WHERE server_id IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE messages SET text = 'tampered' WHERE key = ?", (key,))
    assert any("tampered" in d for d in await table_differences(service, api))
    conn.execute("UPDATE messages SET text = ? WHERE key = ?", (text, key))
