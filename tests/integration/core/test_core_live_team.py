"""Two desks on one server: a supervisor hands a dialog to an operator, customers type, files
travel through the outbox."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from operator_app.core.changes import Assigned, TypingChanged
from operator_app.core.errors import ActionError
from operator_app.core.rows import DeliveryState, Section
from operator_app.protocol import routes
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import Channel, OperatorStatus
from tests.helpers.desk_rows import message_state
from tests.integration.core.conftest import (
    LiveServer,
    Services,
    eventually,
    online,
    server_messages,
)


@pytest.mark.asyncio
async def test_supervisor_hands_a_dialog_to_an_operator(
    live_server: LiveServer, services: Services
) -> None:
    anna, _ = await services.make(live_server.url, "anna")
    elena, elena_changes = await services.make(live_server.url, "elena")
    olga, _ = await services.make(live_server.url, "olga")
    for service in (anna, elena, olga):
        await online(service)
    assert olga.dialogs(Section.SUPERVISED)
    dialog_id = await live_server.inbound("@handoff", "I need help", "ext-h1")
    await eventually(lambda: olga.dialog(dialog_id) is not None, what="olga sees it")
    anna_me, elena_me = anna.me, elena.me
    assert anna_me is not None and elena_me is not None
    with pytest.raises(ActionError) as full:  # the demo routing keeps Anna at her capacity
        await olga.transfer(dialog_id, to_operator_id=anna_me.id)
    assert full.value.code == ErrorCode.OPERATOR_AT_CAPACITY
    assert full.value.message
    await elena.set_status(OperatorStatus.ONLINE)
    await olga.transfer(dialog_id, to_operator_id=elena_me.id, comment="VIP, please")
    await eventually(lambda: Assigned(dialog_id) in elena_changes, what="Assigned")
    assert dialog_id in {row.dialog.id for row in elena.dialogs(Section.MINE)}
    row = olga.dialog(dialog_id)
    assert row is not None and row.dialog.assignee_id == elena_me.id  # applied at once


@pytest.mark.asyncio
async def test_customer_typing_reaches_the_operator(
    live_server: LiveServer, services: Services
) -> None:
    anna, changes = await services.make(live_server.url)
    await online(anna)
    dialog_id = await live_server.inbound("@typist", "hello?", "ext-t1")
    await eventually(lambda: anna.dialog(dialog_id) is not None)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            routes.INBOUND_TYPING.format(channel=Channel.TELEGRAM.value),
            json={"address": "@typist", "on": True},
            headers={"X-Channel-Secret": live_server.channel_secrets[Channel.TELEGRAM]},
        )
    assert response.status_code == 204
    await eventually(
        lambda: any(isinstance(c, TypingChanged) and c.dialog_id == dialog_id for c in changes)
    )
    typing = next(c for c in changes if isinstance(c, TypingChanged))
    assert typing.who == "client" and typing.on


@pytest.mark.asyncio
async def test_a_file_goes_through_the_outbox(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    anna, _ = await services.make(live_server.url)
    await online(anna)
    dialog_id = anna.dialogs(Section.MINE)[0].dialog.id
    invoice = tmp_path / "счёт.txt"
    invoice.write_text("total: 100")
    row = anna.send(dialog_id, "the invoice", attachment_paths=[invoice])
    await eventually(lambda: message_state(anna, row.key) == DeliveryState.SENT)
    sent = anna.cache.message(row.key)
    assert sent is not None and [a.name for a in sent.attachments] == ["счёт.txt"]
    [stored] = [
        m for m in await server_messages(live_server.url, dialog_id) if m.text == "the invoice"
    ]
    assert [a.size for a in stored.attachments] == [len("total: 100")]
