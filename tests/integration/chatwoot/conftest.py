from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from operator_app.net.chatwoot import ChatwootApi

from .contract import CheckingTransport, load_contract
from .fake_server import ACCOUNT, TOKEN, FakeChatwoot, running


@pytest_asyncio.fixture
async def fake() -> FakeChatwoot:
    world = FakeChatwoot(load_contract())
    world.add_conversation(11, "Ivan <b>Petrov</b>")
    world.add_conversation(12, "Waiting Customer", assignee=False)
    world.add_message(11, "hello from Ivan")
    world.add_message(11, "are you there?")
    world.canned[1] = {"id": 1, "account_id": ACCOUNT, "short_code": "hi", "content": "Hello!"}
    return world


@pytest_asyncio.fixture
async def base_url(fake: FakeChatwoot) -> AsyncIterator[str]:
    async with running(fake) as url:
        yield url


@pytest_asyncio.fixture
async def checking() -> CheckingTransport:
    return CheckingTransport(load_contract())


@pytest_asyncio.fixture
async def api(base_url: str, checking: CheckingTransport) -> AsyncIterator[ChatwootApi]:
    client = ChatwootApi(base_url, ACCOUNT, token=TOKEN, transport=checking)
    yield client
    await client.aclose()
