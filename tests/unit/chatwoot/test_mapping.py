"""Chatwoot JSON -> protocol models: enums, private notes, echo_id, hostile or missing fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from operator_app.net.chatwoot import mapping
from operator_app.net.chatwoot.mapping import MappingError
from operator_app.protocol.models import (
    Author,
    Channel,
    DialogState,
    MessageKind,
    OperatorStatus,
    Role,
    TemplateScope,
)


def test_message_types_private_notes_and_echo_id() -> None:
    incoming = mapping.message(
        {
            "id": 5,
            "conversation_id": 9,
            "message_type": 0,
            "content": "<b>hi</b>\u202e",
            "created_at": 1_700_000_000,
            "sender": {"name": "Ivan"},
        }
    )
    assert incoming.author is Author.CLIENT and incoming.text == "<b>hi</b>\u202e"
    assert incoming.created_at == datetime.fromtimestamp(1_700_000_000, UTC)
    note = mapping.message(
        {
            "id": 6,
            "conversation_id": 9,
            "message_type": "outgoing",
            "private": True,
            "sender_type": "User",
            "sender_id": 7,
            "echo_id": "abc",
            "content": None,
        }
    )
    assert note.kind is MessageKind.COMMENT and note.author is Author.OPERATOR
    assert note.author_id == 7 and note.client_msg_id == "abc" and note.text == ""
    activity = mapping.message({"id": 7, "conversation_id": 9, "message_type": 2})
    assert activity.author is Author.SYSTEM


def test_message_without_id_is_a_clear_error() -> None:
    with pytest.raises(MappingError, match="'id'"):
        mapping.message({"conversation_id": 9, "content": "x"})


def test_conversation_states_team_labels_channel() -> None:
    base: mapping.Json = {
        "id": 3,
        "status": "open",
        "created_at": 1_700_000_000.5,
        "updated_at": "2026-01-01T00:00:00Z",
        "labels": ["vip"],
        "meta": {"sender": {"id": 40, "name": "A"}, "channel": "Channel::Telegram"},
    }
    waiting = mapping.dialog(base)
    assert waiting.state is DialogState.WAITING and waiting.queue_id == mapping.NO_TEAM
    assert waiting.channel is Channel.TELEGRAM and waiting.tags == ["vip"]
    assert waiting.updated_at == datetime(2026, 1, 1, tzinfo=UTC)
    active = mapping.dialog(
        {**base, "meta": {**base["meta"], "assignee": {"id": 7}, "team": {"id": 2}}}
    )
    assert active.state is DialogState.ACTIVE and active.assignee_id == 7 and active.queue_id == 2
    closed = mapping.dialog({**base, "status": "resolved"})
    assert closed.state is DialogState.CLOSED and closed.closed_at is not None
    unknown = mapping.dialog({**base, "meta": {}, "inbox_id": 4}, inbox_channels={4: Channel.EMAIL})
    assert unknown.channel is Channel.EMAIL and unknown.contact_name == ""


def test_agents_profile_teams_canned() -> None:
    agent = mapping.operator(
        {
            "id": 8,
            "name": "Bob",
            "email": "b@x",
            "role": "administrator",
            "availability_status": "busy",
        }
    )
    assert agent.role is Role.ADMIN and agent.status is OperatorStatus.AWAY
    profile = mapping.operator(
        {"id": 7, "name": "Al", "accounts": [{"id": 2, "role": "agent", "availability": "online"}]},
        account_id=2,
    )
    assert profile.status is OperatorStatus.ONLINE and profile.role is Role.OPERATOR
    assert mapping.queue({"id": 3, "name": "Sales"}).name == "Sales"
    template = mapping.template({"id": 1, "short_code": "hi", "content": "Hello {{contact.name}}"})
    assert template.scope is TemplateScope.SHARED and template.shortcut == "hi"


@pytest.mark.parametrize("value", [None, True, "not a time", [1]])
def test_epoch_tolerates_junk(value: object) -> None:
    assert mapping.epoch(value) is None


def test_a_deleted_message_keeps_neither_its_text_nor_its_attachments() -> None:
    gone = mapping.message(
        {
            "id": 7,
            "conversation_id": 9,
            "message_type": 0,
            "content": "This message was deleted",
            "content_attributes": {"deleted": True},
            "attachments": [{"id": 1, "data_url": "https://cw.test/a.png"}],
        }
    )
    assert gone.deleted and gone.text == "" and gone.attachments == []
    kept = mapping.message({"id": 8, "conversation_id": 9, "content": "x", "attachments": []})
    assert not kept.deleted and kept.text == "x"
