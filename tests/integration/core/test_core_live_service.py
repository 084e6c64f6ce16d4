"""DeskService end to end on the real server: login and logout, keyring, drafts, templates,
status, transfer, contact cards, typing, cache rebuild and wipe."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from keyring.backends import fail

from operator_app.core.cache import Cache
from operator_app.core.changes import SESSION_ENDED, DirectoryChanged, Notice
from operator_app.core.credentials import CredentialStore
from operator_app.core.errors import ActionError
from operator_app.core.rows import DeliveryState, Section
from operator_app.net.api import ApiClient
from operator_app.net.errors import ApiError
from operator_app.net.realtime import Phase
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.models import OperatorStatus, TemplateIn
from tests.helpers.desk_rows import message_state
from tests.helpers.keyring_backend import MemoryKeyring
from tests.integration.core.conftest import LiveServer, Services, eventually, online


@pytest.mark.asyncio
async def test_login_keeps_the_token_in_the_keyring_and_logout_removes_it(
    live_server: LiveServer, services: Services, test_keyring: MemoryKeyring
) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    service_name = f"operator-desk:{live_server.url}"
    token = test_keyring.secrets[(service_name, "anna")]
    await service.logout()
    assert test_keyring.secrets == {}
    assert service.needs_login
    probe = ApiClient(live_server.url, token=token)
    with pytest.raises(ApiError) as refused:
        await probe.me()
    await probe.aclose()
    assert refused.value.code == ErrorCode.UNAUTHORIZED
    await eventually(lambda: service.connection.phase is Phase.OFFLINE, what="offline")
    await service.login("demo")  # the same service signs in again
    await online(service)


@pytest.mark.asyncio
async def test_a_session_revoked_elsewhere_asks_for_login(
    live_server: LiveServer, services: Services, test_keyring: MemoryKeyring
) -> None:
    service, changes = await services.make(live_server.url)
    await online(service)
    elsewhere = ApiClient(live_server.url, token=service.api.token)
    await elsewhere.logout()  # revokes the token the service holds
    await elsewhere.aclose()
    await eventually(lambda: service.needs_login, what="needs login")
    assert test_keyring.secrets == {}
    assert any(isinstance(c, Notice) and c.text == SESSION_ENDED for c in changes)
    assert service.connection.phase is Phase.OFFLINE


@pytest.mark.asyncio
async def test_wrong_password_is_an_action_error(
    live_server: LiveServer, services: Services
) -> None:
    with pytest.raises(ActionError) as refused:
        await services.make(live_server.url, password="wrong")
    assert refused.value.code == ErrorCode.INVALID_CREDENTIALS


@pytest.mark.asyncio
async def test_without_a_keyring_it_says_so_and_writes_no_secret(
    live_server: LiveServer, services: Services, tmp_path: Path, hermetic_dirs: Path
) -> None:
    no_keyring = fail.Keyring()  # type: ignore[no-untyped-call]  # keyring: unannotated
    store = CredentialStore(live_server.url, backend=no_keyring)
    service, changes = await services.make(live_server.url, credentials=store)
    await online(service)
    assert any(isinstance(c, Notice) and "password" in c.text for c in changes)
    token = service.api.token
    assert token
    await services.close(service)
    for root in (tmp_path, hermetic_dirs):
        for file in root.rglob("*"):
            if file.is_file() and "server.db" not in file.name:
                assert token.encode() not in file.read_bytes(), file
    again, _ = await services.make(live_server.url, password=None, credentials=store)
    assert again.needs_login  # asked again at each start
    await eventually(
        lambda: again.connection.phase is Phase.OFFLINE and again.connection.reason != "not started"
    )


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_a_corrupt_cache_is_rebuilt_with_a_notice(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    (tmp_path / "anna.sqlite3").write_bytes(b"\x00garbage" * 1000)
    service, changes = await services.make(live_server.url)
    assert any(isinstance(c, Notice) and "rebuilt" in c.text for c in changes)
    await online(service)
    assert service.dialogs(Section.MINE)


@pytest.mark.asyncio
async def test_drafts_survive_a_restart(live_server: LiveServer, services: Services) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    dialog_id = service.dialogs(Section.MINE)[0].dialog.id
    service.save_draft(dialog_id, "Добрый день, ваш заказ")
    row = service.dialog(dialog_id)
    assert row is not None and row.has_draft
    await services.close(service)
    again, _ = await services.make(live_server.url, password=None)
    assert again.draft(dialog_id) == "Добрый день, ваш заказ"


@pytest.mark.asyncio
async def test_templates_status_transfer_and_contact_card(
    live_server: LiveServer, services: Services
) -> None:
    service, changes = await services.make(live_server.url)
    await online(service)
    body = TemplateIn(
        shortcut="hi",
        title="Greeting",
        body="Hi {client_name}, {operator_name} here from {queue_name}. {order}",
    )
    saved = await service.save_template(body)
    assert saved in service.templates()
    mine = service.dialogs(Section.MINE)[0].dialog
    rendered = service.render_template(saved, mine.id)
    me = service.me
    assert me is not None and me.name in rendered.text and mine.contact_name in rendered.text
    assert rendered.missing == ["order"]
    assert service.render_template(saved, mine.id, {"order": "A-1"}).missing == []
    await service.delete_template(saved.id)
    assert saved.id not in {t.id for t in service.templates()}

    await service.set_status(OperatorStatus.AWAY)
    me = service.me
    assert me is not None and me.status == OperatorStatus.AWAY
    assert DirectoryChanged("me") in changes

    other_queue = next(q.id for q in service.queues() if q.id != mine.queue_id)
    await service.transfer(mine.id, to_queue_id=other_queue, comment="over to you")
    assert mine.id not in {r.dialog.id for r in service.dialogs(Section.MINE)}
    with pytest.raises(ActionError):
        await service.transfer(mine.id, to_queue_id=other_queue, comment="x" * 5000)

    card = await service.contact_card(mine.contact_id)
    assert card is not None and card.contact.id == mine.contact_id
    live_server.stop()
    assert await service.contact_card(mine.contact_id) == card  # from the cache
    assert await service.contact_card(999_999) is None
    await service.set_typing(mine.id, True)  # offline: silently dropped


@pytest.mark.asyncio
async def test_retry_after_a_failure(live_server: LiveServer, services: Services) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    dialog_id = service.dialogs(Section.WAITING)[0].dialog.id  # not mine: refused
    row = service.send(dialog_id, "not mine yet")
    await eventually(lambda: message_state(service, row.key) == DeliveryState.FAILED)
    with pytest.raises(ActionError):
        service.retry("no-such-key")
    await service.take(dialog_id)
    service.retry(row.key)
    await eventually(lambda: message_state(service, row.key) == DeliveryState.SENT)
    with pytest.raises(ActionError):
        service.send(dialog_id, "   ")


@pytest.mark.asyncio
async def test_wipe_cache_needs_a_closed_service_then_deletes_the_file(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    service, _ = await services.make(live_server.url)
    await online(service)
    with pytest.raises(RuntimeError):
        service.wipe_cache()
    await service.close()
    services.open.remove(service)
    service.wipe_cache()
    assert not list(tmp_path.glob("anna.sqlite3*"))
    fresh = Cache.open(tmp_path / "anna.sqlite3")
    assert fresh.cursor is None
    fresh.close()
    await asyncio.sleep(0)


@pytest.mark.asyncio
@pytest.mark.allow_warnings
async def test_late_subscribers_get_the_notices_given_at_start(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    (tmp_path / "anna.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x01" * 200)
    service, early = await services.make(live_server.url)
    late: list[object] = []
    service.subscribe(late.append)
    rebuilt = [c for c in early if isinstance(c, Notice)]
    assert len(rebuilt) == 1 and "rebuilt" in rebuilt[0].text
    assert late == rebuilt
