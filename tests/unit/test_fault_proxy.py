"""FaultProxy: a clean pipe by default, and every fault it promises, against real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.helpers.fault_proxy import FaultProxy

pytestmark = pytest.mark.timeout(20)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # the proxy reset us: that is what some tests do
    finally:
        writer.close()


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    fault_proxy = FaultProxy("127.0.0.1", server.sockets[0].getsockname()[1])
    await fault_proxy.start()
    yield fault_proxy
    await fault_proxy.stop()
    server.close()


async def open_client(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.port)


async def round_trip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> bytes:
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), 5)


@pytest.mark.asyncio
async def test_pass_through_forwards_both_ways(proxy: FaultProxy) -> None:
    reader, writer = await open_client(proxy)
    assert await round_trip(reader, writer, b"hello") == b"hello"
    big = bytes(range(256)) * 2000
    assert await round_trip(reader, writer, big) == big
    assert proxy.accepted == 1 and proxy.connections == 1 and not proxy.faults
    writer.close()


@pytest.mark.asyncio
async def test_cut_closes_current_connections_only(proxy: FaultProxy) -> None:
    reader, writer = await open_client(proxy)
    await round_trip(reader, writer, b"x")
    assert proxy.cut() == 1
    assert await asyncio.wait_for(reader.read(10), 5) == b""
    reader2, writer2 = await open_client(proxy)
    assert await round_trip(reader2, writer2, b"again") == b"again"
    assert proxy.faults["cut"] == 1
    writer.close()
    writer2.close()


@pytest.mark.asyncio
async def test_reset_sends_an_rst(proxy: FaultProxy) -> None:
    reader, writer = await open_client(proxy)
    await round_trip(reader, writer, b"x")
    assert proxy.reset() == 1
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(10), 5)
    assert proxy.faults["reset"] == 1
    writer.close()


@pytest.mark.asyncio
async def test_stall_holds_traffic_then_delivers_it(proxy: FaultProxy) -> None:
    reader, writer = await open_client(proxy)
    proxy.stall(0.3)
    started = time.monotonic()
    assert await round_trip(reader, writer, b"late") == b"late"
    assert time.monotonic() - started >= 0.3
    proxy.stall(None)
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 0.2)
    proxy.pass_through()
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
    assert proxy.faults["stall"] == 2
    writer.close()


@pytest.mark.asyncio
async def test_delay_slows_every_chunk(proxy: FaultProxy) -> None:
    reader, writer = await open_client(proxy)
    proxy.delay(100)
    started = time.monotonic()
    await round_trip(reader, writer, b"slow")
    assert time.monotonic() - started >= 0.2  # one delay each way
    proxy.delay(0)
    started = time.monotonic()
    await round_trip(reader, writer, b"fast")
    assert time.monotonic() - started < 0.1
    writer.close()


@pytest.mark.asyncio
async def test_refuse_stops_listening_and_comes_back_on_the_same_port(proxy: FaultProxy) -> None:
    port = proxy.port
    await proxy.refuse(True)
    with pytest.raises(ConnectionRefusedError):
        await open_client(proxy)
    await proxy.refuse(False)
    assert proxy.port == port
    reader, writer = await open_client(proxy)
    assert await round_trip(reader, writer, b"ok") == b"ok"
    assert proxy.faults["refuse"] == 1
    writer.close()


@pytest.mark.asyncio
async def test_a_dead_target_closes_the_client_connection() -> None:
    dead = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = dead.sockets[0].getsockname()[1]
    dead.close()
    await dead.wait_closed()
    proxy = FaultProxy("127.0.0.1", port)
    await proxy.start()
    reader, writer = await open_client(proxy)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 5)
    writer.close()
    await proxy.stop()


async def chaos_run(seed: int) -> dict[str, int]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    proxy = FaultProxy("127.0.0.1", server.sockets[0].getsockname()[1])
    await proxy.start()
    proxy.random_faults(seed, rate=0.3, kinds=("stall", "delay"), max_stall=0.01, max_delay=0.01)
    reader, writer = await open_client(proxy)
    for i in range(30):
        await round_trip(reader, writer, f"m{i:02}".encode())
    writer.close()
    await proxy.stop()
    server.close()
    return dict(proxy.faults)


@pytest.mark.asyncio
async def test_random_faults_are_reproducible_from_the_seed() -> None:
    first = await chaos_run(seed=11)
    assert first == await chaos_run(seed=11)
    assert sum(first.values()) > 5  # 60 chunks at rate 0.3
    with pytest.raises(ValueError):
        FaultProxy("127.0.0.1", 1).random_faults(1, kinds=("explode",))


@pytest.mark.asyncio
async def test_websockets_through_the_proxy_see_cuts() -> None:
    async def echo_ws(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo_ws, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        proxy = FaultProxy("127.0.0.1", port)
        await proxy.start()
        async with connect(f"ws://127.0.0.1:{proxy.port}/") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"
            proxy.cut()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
        await proxy.stop()
