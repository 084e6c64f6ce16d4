"""ChatwootRealtime alone: frames it feeds, cursors, typing, junk, a refused subscription."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from operator_app.net.chatwoot import ChatwootApi, ChatwootRealtime
from operator_app.net.errors import ApiError
from operator_app.net.realtime import Backoff, ConnectionState, Phase
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.events import (
    EphemeralFrame,
    EventFrame,
    HelloFrame,
    MessageCreated,
    OperatorUpdated,
    ServerFrame,
)
from operator_app.protocol.models import OperatorStatus

from .fake_server import FakeChatwoot


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.02)


def connection(
    api: ChatwootApi,
    frames: list[ServerFrame],
    states: list[ConnectionState],
    cursor: int | None,
    silence: float = 10.0,
) -> ChatwootRealtime:
    async def on_frame(frame: ServerFrame) -> None:
        frames.append(frame)

    return ChatwootRealtime(
        api=api,
        token=lambda: api.token,
        since_cursor=lambda: cursor,
        on_frame=on_frame,
        on_state=states.append,
        backoff=Backoff(base=0.05, cap=0.1),
        silence_seconds=silence,
    )


@pytest.mark.asyncio
async def test_events_typing_and_junk(api: ChatwootApi, fake: FakeChatwoot) -> None:
    frames: list[ServerFrame] = []
    states: list[ConnectionState] = []
    live = connection(api, frames, states, cursor=41)
    task = asyncio.create_task(live.run())
    try:
        await until(lambda: live.state.phase is Phase.ONLINE)
        hello = frames[0]
        assert isinstance(hello, HelloFrame) and hello.head_cursor == 41 and hello.operator_id == 7
        await fake.send_raw("not json {")
        await fake.send_raw("[1, 2]")
        await fake.send_raw('{"identifier": "x", "message": {"event": "presence.update"}}')
        await fake.send_raw(
            '{"identifier": "x", "message": {"event": "message.created", "data": {}}}'
        )
        fake.broadcast(
            "conversation.typing_on",
            {"conversation": {"id": 11}, "user": {"id": 500, "type": "contact"}},
        )
        fake.add_message(11, "live")
        await until(
            lambda: any(
                isinstance(f, EventFrame)
                and isinstance(f.event, MessageCreated)
                and f.event.message.text == "live"
                for f in frames
            )
        )
        fake.broadcast("presence.update", {"users": {"8": "busy", "7": "online"}, "contacts": {}})
        await until(
            lambda: any(
                isinstance(f, EventFrame) and isinstance(f.event, OperatorUpdated) for f in frames
            )
        )
        updated = [
            f.event.operator
            for f in frames
            if isinstance(f, EventFrame) and isinstance(f.event, OperatorUpdated)
        ]
        assert [(o.id, o.status) for o in updated] == [(8, OperatorStatus.AWAY)]
        typing = [f for f in frames if isinstance(f, EphemeralFrame)]
        assert typing and typing[0].event.who == "client" and typing[0].event.dialog_id == 11
        cursors = [f.cursor for f in frames if isinstance(f, EventFrame)]
        assert cursors == sorted(set(cursors)) and cursors[0] > 41
        assert await live.send_typing(11, True)
    finally:
        await live.stop()
        await task


@pytest.mark.asyncio
async def test_refused_subscription_parks_offline(api: ChatwootApi, fake: FakeChatwoot) -> None:
    fake.pubsub = "someone else"
    frames: list[ServerFrame] = []
    states: list[ConnectionState] = []
    live = connection(api, frames, states, cursor=None)
    task = asyncio.create_task(live.run())
    try:
        await until(lambda: live.state.phase is Phase.OFFLINE and live.state.error is not None)
        error = live.state.error
        assert isinstance(error, ApiError) and error.code is ErrorCode.UNAUTHORIZED
        assert frames == []
    finally:
        await live.stop()
        await task


@pytest.mark.asyncio
async def test_event_of_an_unknown_conversation_is_skipped(
    api: ChatwootApi, fake: FakeChatwoot
) -> None:
    frames: list[ServerFrame] = []
    states: list[ConnectionState] = []
    live = connection(api, frames, states, cursor=1)
    task = asyncio.create_task(live.run())
    try:
        await until(lambda: live.state.phase is Phase.ONLINE)
        ghost = {"id": 999, "conversation_id": 404, "message_type": 0, "content": "?"}
        fake.broadcast("message.created", ghost)
        fake.add_message(11, "after the ghost")
        await until(
            lambda: any(
                isinstance(f, EventFrame)
                and isinstance(f.event, MessageCreated)
                and f.event.message.text == "after the ghost"
                for f in frames
            )
        )
        assert sum(1 for s in states if s.phase is Phase.ONLINE) == 1  # no reconnect
    finally:
        await live.stop()
        await task


@pytest.mark.asyncio
async def test_revoked_token_parks_offline(api: ChatwootApi, fake: FakeChatwoot) -> None:
    api.token = "revoked"
    frames: list[ServerFrame] = []
    states: list[ConnectionState] = []
    live = connection(api, frames, states, cursor=3)
    task = asyncio.create_task(live.run())
    try:
        await until(lambda: live.state.phase is Phase.OFFLINE and live.state.error is not None)
        error = live.state.error
        assert isinstance(error, ApiError) and error.code is ErrorCode.UNAUTHORIZED
        assert frames == [] and fake.subscribe_identifiers == []
    finally:
        await live.stop()
        await task


@pytest.mark.asyncio
async def test_a_silent_cable_is_dropped_and_resumed(api: ChatwootApi, fake: FakeChatwoot) -> None:
    fake.ping_seconds = 60.0  # the server stops pinging: a dead peer as far as we can tell
    frames: list[ServerFrame] = []
    states: list[ConnectionState] = []
    live = connection(api, frames, states, cursor=5, silence=0.4)
    task = asyncio.create_task(live.run())
    try:
        await until(lambda: sum(1 for s in states if s.phase is Phase.ONLINE) >= 2)
        assert any(s.phase is Phase.RECONNECTING and "ping" in s.reason for s in states)
        assert len(fake.subscribe_identifiers) >= 2
        heads = [f.head_cursor for f in frames if isinstance(f, HelloFrame)]
        cursors = [f.cursor for f in frames if isinstance(f, EventFrame)]
        assert heads == sorted(heads) and heads[0] == 5  # never a rewind
        assert cursors == sorted(set(cursors)) and cursors[0] == 6  # minted past the cache's
    finally:
        await live.stop()
        await task
