"""Sync against the real server on loopback: first start, live events, resume, resync, actions."""

from __future__ import annotations

import pytest

from operator_app.core.changes import Assigned, DialogsChanged, MessagesChanged
from operator_app.core.errors import ActionError, OfflineError
from operator_app.core.rows import DeliveryState, Section
from operator_app.net.api import ApiClient
from operator_app.protocol.models import DialogState
from tests.helpers.desk_rows import me_of, message_state
from tests.integration.core.conftest import LiveServer, Services, eventually, online


@pytest.mark.asyncio
async def test_first_start_snapshots_and_applies_live_events(
    live_server: LiveServer, services: Services
) -> None:
    service, changes = await services.make(live_server.url)
    await online(service)
    me = service.me
    assert me is not None and me.login == "anna"
    assert service.dialogs(Section.MINE) and service.dialogs(Section.WAITING)
    assert service.operators() and service.queues()
    changes.clear()
    dialog_id = await live_server.inbound("@new_client", "Нужна помощь с ЗАКАЗОМ", "ext-1")
    await eventually(lambda: service.dialog(dialog_id) is not None, what="new dialog")
    row = service.dialog(dialog_id)
    assert row is not None and row.unread == 1
    assert row in service.dialogs(Section.WAITING)
    assert any(isinstance(c, DialogsChanged) and dialog_id in c.ids for c in changes)
    assert any(isinstance(c, MessagesChanged) and c.dialog_id == dialog_id for c in changes)
    [hit] = service.search("заказ")
    assert hit.dialog_id == dialog_id and "\x02ЗАКАЗОМ\x03" in hit.snippet


@pytest.mark.asyncio
async def test_restart_resumes_from_the_cursor_without_a_snapshot(
    live_server: LiveServer, services: Services
) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    cursor = service.cache.cursor
    await services.close(service)
    dialog_id = await live_server.inbound(
        "@while_away", "written while the app was closed", "ext-2"
    )
    again, _ = await services.make(live_server.url)
    await online(again)
    await eventually(lambda: again.dialog(dialog_id) is not None, what="replayed dialog")
    assert again.sync.snapshots_done == 0
    assert again.cache.cursor is not None and cursor is not None and again.cache.cursor > cursor
    assert [m.text for m in again.messages(dialog_id)] == ["written while the app was closed"]


@pytest.mark.asyncio
async def test_resync_required_refetches(
    tmp_path_factory: pytest.TempPathFactory, services: Services
) -> None:
    server = LiveServer(tmp_path_factory.mktemp("srv"), event_retention=3)
    server.start()
    try:
        service, _ = await services.make(server.url)
        await online(service)
        await services.close(service)
        ids = [await server.inbound(f"@burst{i}", f"burst {i}", f"ext-b{i}") for i in range(6)]
        again, _ = await services.make(server.url)
        await online(again)
        await eventually(lambda: again.sync.snapshots_done == 1, what="resync snapshot")
        assert all(again.dialog(i) is not None for i in ids)
    finally:
        for service in list(services.open):
            await services.close(service)
        server.stop()


@pytest.mark.asyncio
async def test_history_loads_lazily_once(live_server: LiveServer, services: Services) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    dialog_id = service.dialogs(Section.MINE)[0].dialog.id
    assert service.has_older(dialog_id)
    await service.open_dialog(dialog_id)
    first = service.messages(dialog_id)
    assert first
    while service.has_older(dialog_id):
        assert await service.load_older(dialog_id) > 0
    assert await service.load_older(dialog_id) == 0
    api = ApiClient(live_server.url)
    await api.login("anna", "demo")
    page = await api.messages(dialog_id, limit=500)
    await api.aclose()
    assert [m.server_id for m in service.messages(dialog_id, limit=500)] == [
        m.id for m in page.items
    ]
    row = service.dialog(dialog_id)
    assert row is not None and row.unread == 0


@pytest.mark.asyncio
async def test_actions_apply_at_once_and_refusals_are_action_errors(
    live_server: LiveServer, services: Services
) -> None:
    service, changes = await services.make(live_server.url)
    await online(service)
    waiting = service.dialogs(Section.WAITING)[0].dialog.id
    await service.take(waiting)
    row = service.dialog(waiting)
    assert row is not None and row.dialog.assignee_id == me_of(service).id
    assert Assigned(waiting) not in changes  # my own take is no news
    await service.close_dialog(waiting, resolution="done", tags=["test"])
    row = service.dialog(waiting)
    assert row is not None and row.dialog.state == DialogState.CLOSED
    assert row in service.dialogs(Section.CLOSED_TODAY)
    with pytest.raises(ActionError) as refused:
        await service.close_dialog(waiting)
    assert refused.value.message
    sent = service.send(waiting, "to a closed dialog")
    await eventually(lambda: message_state(service, sent.key) == DeliveryState.FAILED)
    failed = service.cache.message(sent.key)
    assert failed is not None and failed.error


@pytest.mark.asyncio
async def test_actions_offline_raise_offline_error(
    live_server: LiveServer, services: Services
) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    dialog_id = service.dialogs(Section.WAITING)[0].dialog.id
    live_server.stop()
    with pytest.raises(OfflineError):
        await service.take(dialog_id)
    assert service.dialogs(Section.WAITING)  # reads keep working
