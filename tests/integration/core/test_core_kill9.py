"""kill -9 of a client process with a non-empty outbox, then a restart: exactly once.

The client runs as tests/helpers/headless_client.py behind a FaultProxy that delays every
chunk, so a request reaches the server well before its answer reaches the client. As soon as
the server holds a few of the messages the proxy stalls and the process is killed: at that
moment at least one message is stored on the server but still pending in the client's cache.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from operator_app.core.cache import Cache
from operator_app.net.api import ApiClient
from operator_app.protocol.models import DialogScope
from tests.helpers.fault_proxy import FaultProxy
from tests.integration.core.conftest import LiveServer, server_messages

ROOT = Path(__file__).resolve().parents[3]
COUNT = 12


async def spawn(url: str, cache: Path, dialog_id: int, *extra: str) -> asyncio.subprocess.Process:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.helpers.headless_client",
        "--url", url, "--login", "anna", "--password", "demo", "--cache", str(cache),
        "--dialog", str(dialog_id), "--prefix", "kill9", *extra,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def a_dialog_of_annas(url: str) -> int:
    api = ApiClient(url)
    try:
        await api.login("anna", "demo")
        return (await api.dialogs(DialogScope.MINE)).items[0].id
    finally:
        await api.aclose()


async def stored_texts(url: str, dialog_id: int) -> list[str]:
    return [m.text for m in await server_messages(url, dialog_id) if m.text.startswith("kill9")]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_kill9_mid_send_then_restart_delivers_exactly_once(
    live_server: LiveServer, tmp_path: Path
) -> None:
    dialog_id = await a_dialog_of_annas(live_server.url)
    cache_path = tmp_path / "headless.sqlite3"
    proxy = FaultProxy("127.0.0.1", live_server.port)
    port = await proxy.start()
    proxy.delay(150)  # before the client starts: every answer arrives late
    watcher = ApiClient(live_server.url)
    await watcher.login("olga", "demo")
    client = await spawn(f"http://127.0.0.1:{port}", cache_path, dialog_id, "--send", str(COUNT))
    try:
        assert client.stdout is not None
        line = await asyncio.wait_for(client.stdout.readline(), 20)
        assert line.decode().strip() == f"QUEUED {COUNT}"
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            page = await watcher.messages(dialog_id, limit=500)
            if sum(m.text.startswith("kill9") for m in page.items) >= 3:
                break
            assert asyncio.get_running_loop().time() < deadline, "the client never sent"
            await asyncio.sleep(0.005)
        proxy.stall(None)
        client.send_signal(signal.SIGKILL)
        await client.wait()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
        await proxy.stop()
        await watcher.aclose()
    assert client.returncode == -signal.SIGKILL

    left = Cache.open(cache_path)
    pending = {item.client_msg_id for item in left.outbox_heads()}
    unsent = left.outbox_size()
    left.close()
    on_server = {m.client_msg_id for m in await server_messages(live_server.url, dialog_id)}
    assert unsent > 0, "the kill came after everything was sent"
    assert pending & on_server, "no message was caught between the server and its answer"

    again = await spawn(live_server.url, cache_path, dialog_id, "--until-drained")
    out, err = await asyncio.wait_for(again.communicate(), 30)
    assert again.returncode == 0, err.decode()[-2000:]
    assert b"DRAINED" in out
    assert await stored_texts(live_server.url, dialog_id) == [f"kill9 #{n}" for n in range(COUNT)]
