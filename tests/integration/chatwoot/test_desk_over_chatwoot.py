"""End to end: DeskService (cache, sync engine, outbox) over the fake Chatwoot, REST checked
against swagger.json, live events over a real ActionCable websocket on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from operator_app.core.bootstrap import build_service, chatwoot_catch_up_state
from operator_app.core.cache import Cache
from operator_app.core.profiles import ServerProfile
from operator_app.core.rows import DeliveryState, Section
from operator_app.core.service import DeskService
from operator_app.net.chatwoot import ChatwootApi, ChatwootRealtime
from operator_app.net.realtime import Backoff, Phase, RealtimeConnection
from operator_app.protocol.events import EventFrame
from operator_app.protocol.models import DialogState, MessageKind
from tests.helpers.desk_rows import dialog_of, message_state

from .contract import CheckingTransport
from .fake_server import ACCOUNT, ME, PUBSUB, TOKEN, FakeChatwoot


async def until(check: Callable[[], bool], what: str, seconds: float = 8.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what


def texts(service: DeskService, dialog_id: int) -> list[str]:
    return [row.text for row in service.messages(dialog_id)]


@pytest_asyncio.fixture
async def service(
    base_url: str, checking: CheckingTransport, tmp_path: Path
) -> AsyncIterator[DeskService]:
    profile = ServerProfile("cw", base_url, kind="chatwoot", login="alice", account_id=ACCOUNT)
    api = ChatwootApi(base_url, ACCOUNT, transport=checking)
    cache = Cache.open(tmp_path / "cache.sqlite")

    def realtime(ws_url: str, **options: Any) -> RealtimeConnection:
        return ChatwootRealtime(
            ws_url,
            api=api,
            catch_up_state=lambda: chatwoot_catch_up_state(cache),
            backoff=Backoff(base=0.05, cap=0.2),
            presence_seconds=0.3,
            **options,
        )

    desk = DeskService(profile=profile, cache=cache, api=api, realtime_factory=realtime)
    yield desk
    await desk.close()
    cache.close()


@pytest.mark.asyncio
async def test_desk_over_chatwoot(service: DeskService, fake: FakeChatwoot) -> None:
    operator = await service.login(TOKEN)
    assert operator.id == ME["id"]
    assert service.credentials.get_token("alice") == TOKEN  # the keyring, not a settings file
    await service.start()
    await until(lambda: service.sync.snapshots_done >= 1, "the first snapshot")
    await until(lambda: service.connection.phase is Phase.ONLINE, "online")
    assert fake.subscribe_identifiers[-1] == {
        "channel": "RoomChannel",
        "pubsub_token": PUBSUB,
        "account_id": ACCOUNT,
        "user_id": ME["id"],
    }
    assert [row.dialog.id for row in service.dialogs(Section.MINE)] == [11]
    assert [row.dialog.id for row in service.dialogs(Section.WAITING)] == [12]
    assert [t.shortcut for t in service.templates()] == ["hi"]

    await service.open_dialog(11)
    assert texts(service, 11) == ["hello from Ivan", "are you there?"]

    # send: echo_id carries the client_msg_id; one message on the server, one row here
    row = service.send(11, "on my way")
    await until(
        lambda: (
            (sent := service.cache.message(row.key)) is not None
            and sent.state is DeliveryState.SENT
        ),
        "the reply is sent",
    )
    note = service.send(11, "call him back", MessageKind.COMMENT)
    await until(lambda: texts(service, 11).count("call him back") == 1, "the note")
    await until(
        lambda: message_state(service, note.key) is DeliveryState.SENT,
        "the note is sent",
    )
    assert [m["content"] for m in fake.messages].count("on my way") == 1
    assert fake.messages[-1]["private"] is True
    assert texts(service, 11).count("on my way") == 1  # the ActionCable echo merged, not doubled

    # live: a customer message arrives over ActionCable
    fake.add_message(11, "live <i>one</i>")
    await until(lambda: "live <i>one</i>" in texts(service, 11), "the live message")
    await until(lambda: fake.presence_pings >= 1, "a presence ping")

    # the cable drops; events of the gap are never pushed; the reconnect catches up
    fake.broadcasting = False
    await fake.drop_sockets()
    fake.add_message(11, "missed 1")
    fake.add_message(11, "missed 2")
    fake.add_conversation(13, "New While Away")
    fake.conversations[12]["status"] = "resolved"
    fake.conversations[12]["updated_at"] = fake.now()
    fake.broadcasting = True
    await until(lambda: "missed 2" in texts(service, 11), "the catch-up of messages")
    await until(lambda: service.dialog(13) is not None, "the catch-up of new conversations")
    await until(
        lambda: dialog_of(service, 12).state is DialogState.CLOSED,
        "the catch-up of a status change",
    )
    fake.add_message(11, "after the reconnect")
    await until(lambda: "after the reconnect" in texts(service, 11), "live again")
    history = texts(service, 11)
    assert history == [
        "hello from Ivan",
        "are you there?",
        "on my way",
        "call him back",
        "live <i>one</i>",
        "missed 1",
        "missed 2",
        "after the reconnect",
    ]
    server_ids = [row.server_id for row in service.messages(11)]
    assert len(server_ids) == len(set(server_ids))


@pytest.mark.asyncio
async def test_build_service_for_a_chatwoot_profile(base_url: str, tmp_path: Path) -> None:
    profile = ServerProfile("cw", base_url, kind="chatwoot", login="alice", account_id=ACCOUNT)
    service = build_service(profile, cache_dir=tmp_path)
    try:
        assert isinstance(service.api, ChatwootApi)
        await service.login(TOKEN)
        await service.start()
        await until(lambda: service.connection.phase is Phase.ONLINE, "online via the seam")
        assert ServerProfile.from_json(profile.to_json()) == profile
    finally:
        await service.close()
        service.cache.close()


@pytest.mark.asyncio
async def test_attachment_fails_clearly_and_nothing_is_sent(
    service: DeskService, fake: FakeChatwoot, tmp_path: Path
) -> None:
    await service.login(TOKEN)
    await service.start()
    await until(lambda: service.connection.phase is Phase.ONLINE, "online")
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG")
    before = len(fake.messages)
    row = service.send(11, "see attached", attachment_paths=[picture])
    await until(
        lambda: message_state(service, row.key) is DeliveryState.FAILED,
        "the message fails for good",
    )
    failed = service.cache.message(row.key)
    assert failed is not None and "Chatwoot cannot" in failed.error
    assert len(fake.messages) == before


async def online(service: DeskService) -> None:
    await service.login(TOKEN)
    await service.start()
    await until(lambda: service.sync.snapshots_done >= 1, "the first snapshot")
    await until(lambda: service.connection.phase is Phase.ONLINE, "online")


def shown(service: DeskService, dialog_id: int) -> list[tuple[str, bool]]:
    return [(row.text, row.deleted) for row in service.messages(dialog_id)]


@pytest.mark.asyncio
async def test_edits_and_deletions_made_in_chatwoot_show(
    service: DeskService, fake: FakeChatwoot
) -> None:
    await online(service)
    await service.open_dialog(11)
    first, second = (m["id"] for m in fake.messages[:2])
    fake.edit_message(first, "hello from Ivan (edited)")
    await until(
        lambda: shown(service, 11)[0] == ("hello from Ivan (edited)", False), "the live edit"
    )
    fake.delete_message(second)
    await until(lambda: shown(service, 11)[1] == ("", True), "the live deletion")
    assert [hit.message_key for hit in service.cache.search("edited")] == [f"s{first}"]
    assert len(service.messages(11)) == 2  # edited in place, nothing added


@pytest.mark.asyncio
async def test_a_conversation_resolved_during_a_gap_shows_in_closed_today(
    service: DeskService, fake: FakeChatwoot
) -> None:
    await online(service)
    assert [row.dialog.id for row in service.dialogs(Section.CLOSED_TODAY)] == []
    fake.broadcasting = False
    await fake.drop_sockets()
    fake.add_conversation(14, "Never Cached")  # opened and resolved while we were away
    fake.add_message(14, "thanks, solved")
    fake.resolve(14)
    fake.broadcasting = True
    await until(lambda: service.dialog(14) is not None, "the catch-up of resolved conversations")
    assert [row.dialog.id for row in service.dialogs(Section.CLOSED_TODAY)] == [14]


@pytest.mark.asyncio
async def test_messages_missed_during_a_gap_are_applied_as_one_run(
    service: DeskService, fake: FakeChatwoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a night offline a dialog's missed messages arrive together, as a replay's do
    from our own server: one transaction and one screen update, not one per message."""
    runs: list[list[str]] = []
    apply = service.sync.on_frames

    async def recording(frames: Sequence[EventFrame]) -> None:
        runs.append([type(frame.event).__name__ for frame in frames])
        await apply(frames)

    monkeypatch.setattr(service.sync, "on_frames", recording)
    await online(service)
    await service.open_dialog(11)  # its history is cached: the catch-up knows its newest id
    fake.broadcasting = False
    await fake.drop_sockets()
    missed = [f"missed {n}" for n in range(5)]
    for text in missed:
        fake.add_message(11, text)
    fake.broadcasting = True
    await until(lambda: texts(service, 11)[-5:] == missed, "the catch-up of missed messages")
    assert ["MessageCreated"] * 5 in runs
