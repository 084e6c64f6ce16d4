"""ChatwootApi against the fake Chatwoot; every request and answer checked against swagger."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_app.net.chatwoot import ChatwootApi
from operator_app.net.errors import ApiError
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import (
    Attachment,
    Author,
    CloseRequest,
    DialogScope,
    DialogState,
    MessageKind,
    Role,
    SendMessageRequest,
    TemplateIn,
    TransferRequest,
)

from .contract import CheckingTransport
from .fake_server import ACCOUNT, ME, FakeChatwoot


@pytest.mark.asyncio
async def test_login_with_access_token_maps_profile(
    base_url: str, checking: CheckingTransport
) -> None:
    client = ChatwootApi(base_url, ACCOUNT, transport=checking)
    try:
        with pytest.raises(ApiError) as refused:
            await client.login("alice", "wrong-token")
        assert refused.value.code is ErrorCode.UNAUTHORIZED
        assert client.token is None
        answer = await client.login("alice", " agent-token-7 ")
        assert answer.token == "agent-token-7"
        assert answer.operator.id == ME["id"]
        assert answer.operator.role is Role.OPERATOR
        assert client.profile_json["pubsub_token"] == "pubsub-alice"
    finally:
        await client.aclose()


@pytest.mark.asyncio
async def test_directory_agents_teams_canned(api: ChatwootApi, checking: CheckingTransport) -> None:
    operators = await api.operators()
    assert [o.name for o in operators] == ["Alice Agent", "Bob Agent"]
    assert [q.name for q in await api.queues()] == ["Sales"]
    templates = await api.templates()
    assert templates[0].shortcut == "hi" and templates[0].body == "Hello!"
    created = await api.create_template(TemplateIn(shortcut="bye", title="bye", body="Bye {x}"))
    assert created.id == 2 and created.shortcut == "bye"
    channels = await api.inbox_channels()
    assert channels[1].value == "webchat"
    assert len(checking.requests) == 5


@pytest.mark.asyncio
async def test_dialogs_and_history(api: ChatwootApi, fake: FakeChatwoot) -> None:
    mine = await api.dialogs(DialogScope.MINE)
    assert [d.id for d in mine.items] == [11]
    dialog = mine.items[0]
    assert dialog.contact_name == "Ivan <b>Petrov</b>"  # verbatim, untrusted
    assert dialog.state is DialogState.ACTIVE and dialog.assignee_id == ME["id"]
    assert dialog.last_message is not None and dialog.last_message.text == "are you there?"
    waiting = await api.dialogs(DialogScope.WAITING)
    assert [(d.id, d.state) for d in waiting.items] == [(12, DialogState.WAITING)]
    for n in range(25):
        fake.add_message(12, f"m{n}")
    newest = await api.messages(12)
    assert len(newest.items) == 20 and newest.next_cursor == str(newest.items[0].id)
    older = await api.messages(12, before_id=newest.items[0].id)
    assert [m.text for m in older.items] == ["m0", "m1", "m2", "m3", "m4"]
    after = await api.messages(12, after_id=older.items[-1].id)
    assert after.items[0].text == "m5" and after.next_cursor is None
    assert all(m.author is Author.CLIENT for m in after.items)


@pytest.mark.asyncio
async def test_send_note_transfer_tags_close(api: ChatwootApi, fake: FakeChatwoot) -> None:
    body = SendMessageRequest(client_msg_id="c" * 32, text="Hi <script>", kind=MessageKind.MESSAGE)
    sent = await api.send_message(11, body)
    assert sent.message.client_msg_id == "c" * 32 and sent.message.author is Author.OPERATOR
    note = SendMessageRequest(client_msg_id="n" * 32, text="internal", kind=MessageKind.COMMENT)
    assert (await api.send_message(11, note)).message.kind is MessageKind.COMMENT
    moved = await api.transfer(11, TransferRequest(to_operator_id=8, comment="VIP, careful"))
    assert moved.assignee_id == 8
    assert fake.messages[-1]["private"] and fake.messages[-1]["content"] == "VIP, careful"
    teamed = await api.transfer(12, TransferRequest(to_queue_id=3))
    assert teamed.queue_id == 3
    tagged = await api.set_tags(11, ["vip"])
    assert tagged.tags == ["vip"]
    closed = await api.close_dialog(11, CloseRequest(tags=["sold"]))
    assert closed.state is DialogState.CLOSED and closed.tags == ["vip", "sold"]
    reopened = await api.reopen(11)
    assert reopened.state is DialogState.ACTIVE


@pytest.mark.asyncio
async def test_retry_after_lost_answer_does_not_send_twice(
    api: ChatwootApi, fake: FakeChatwoot
) -> None:
    body = SendMessageRequest(client_msg_id="r" * 32, text="only once")
    first = await api.send_message(11, body)
    api._send_attempts[body.client_msg_id] = first.message.created_at  # the answer was lost
    again = await api.send_message(11, body)
    assert again.message.id == first.message.id
    assert [m["content"] for m in fake.messages].count("only once") == 1


@pytest.mark.asyncio
async def test_unknown_dialog_and_unsupported(api: ChatwootApi) -> None:
    with pytest.raises(ApiError) as missing:
        await api.dialog(999)
    assert missing.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(ApiError) as unsupported:
        await api.set_my_status(ErrorCode.NOT_FOUND)  # type: ignore[arg-type]
    assert unsupported.value.permanent


@pytest.mark.asyncio
async def test_contact_card_with_its_conversations(api: ChatwootApi) -> None:
    card = await api.contact(511)
    assert card.contact.name == "Ivan <b>Petrov</b>"
    assert [i.address for i in card.contact.identities] == ["+100200300"]
    assert [(d.id, d.last_text) for d in card.dialogs] == [(11, "are you there?")]
    with pytest.raises(ApiError) as missing:
        await api.contact(1)
    assert missing.value.code is ErrorCode.NOT_FOUND


@pytest.mark.asyncio
async def test_attachments_download_through_the_redirect_without_the_token(
    api: ChatwootApi, fake: FakeChatwoot, checking: CheckingTransport, tmp_path: Path
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    fake.attach(11, "photo 1.png", picture)
    page = await api.messages(11)
    (attachment,) = page.items[-1].attachments
    assert (attachment.name, attachment.mime, attachment.size) == (
        "photo 1.png",
        "image/png",
        len(picture),
    )
    saved = await api.download(attachment, tmp_path)
    assert saved.read_bytes() == picture and saved.name == "photo 1.png"
    assert [path.split("/")[3] for path in checking.files] == ["blobs", "disk"]
    with pytest.raises(ApiError) as too_big:
        await api.download(attachment, tmp_path / "small.png", max_bytes=100)
    assert too_big.value.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert not (tmp_path / "small.png").exists()


@pytest.mark.asyncio
async def test_an_attachment_url_off_the_chatwoot_server_is_refused(
    api: ChatwootApi, tmp_path: Path
) -> None:
    elsewhere = Attachment(id=1, name="x.png", mime="image/png", size=1, url="https://evil.test/x")
    with pytest.raises(ApiError) as refused:
        await api.download(elsewhere, tmp_path)
    assert refused.value.permanent and "outside the Chatwoot server" in refused.value.message
    with pytest.raises(ApiError) as upload:
        await api.upload(tmp_path / "anything.png")
    assert upload.value.permanent
