"""The sign-in window reaches a Chatwoot server: account number and access token."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from operator_app.app import sign_in_profile
from operator_app.core.service import DeskService
from operator_app.ui.chat_tab import ChatTab
from operator_app.ui.login import Credentials, LoginDialog
from operator_app.ui.main_window import MainWindow
from tests.helpers.qt_async import wait_until
from tests.integration.chatwoot.contract import load_contract
from tests.integration.chatwoot.fake_server import ACCOUNT, TOKEN, FakeChatwoot, running


def test_chatwoot_sign_in_with_account_and_access_token(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    world = FakeChatwoot(load_contract())
    world.add_conversation(11, "Ivan Petrov")
    world.add_message(11, "hello from Ivan")

    async def attempt(credentials: Credentials) -> DeskService:
        return await sign_in_profile(
            credentials.profile, credentials.password, cache_dir=tmp_path, remember=False
        )

    async def scenario() -> None:
        async with running(world) as url:
            dialog = LoginDialog([], "", attempt, attempt, keyring_available=True)  # type: ignore[arg-type]
            qtbot.addWidget(dialog)
            dialog.show()
            assert not dialog.account_spin.isVisible()
            dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("chatwoot"))
            assert dialog.account_spin.isVisible()
            assert dialog.password_label.text() == "Access token"
            dialog.url_edit.setText(url)
            dialog.account_spin.setValue(ACCOUNT)
            dialog.login_edit.setText("alice@example.com")
            dialog.password_edit.setText(TOKEN)
            QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
            await wait_until(
                lambda: dialog.service is not None or "refused" in dialog.error_label.text(),
                what="signed in to Chatwoot",
            )
            service = dialog.service
            assert service is not None, dialog.error_label.text()
            window = MainWindow(service)
            qtbot.addWidget(window)
            try:
                assert service.profile.kind == "chatwoot"
                assert service.profile.account_id == ACCOUNT
                assert service.me is not None
                # what Chatwoot cannot do is disabled, saying why
                assert not window.status_combo.isEnabled()
                assert "Chatwoot" in window.status_combo.toolTip()
                assert not window.password_action.isEnabled()  # an access token, no password
                assert "Chatwoot" in window.password_action.toolTip()
                await wait_until(lambda: service.dialog(11) is not None, what="the conversation")
                tab = window.open_dialog(11)
                assert not tab.attach_button.isEnabled()
                assert "Chatwoot" in tab.attach_button.toolTip()
                chooser = window.transfer_dialog(11)
                assert "private note" in chooser.comment.toolTip()
                chooser.reject()
                await check_templates_and_console(window)
                await check_reopen(window, world, tab)
            finally:
                window.close()
                await window.runner.cancel_all()
                await service.close()
                service.cache.close()

    qloop.run_until_complete(scenario())


async def check_templates_and_console(window: MainWindow) -> None:
    """Canned responses are shared: no "My templates", and an agent creates none."""
    panel = window.templates_panel
    panel.refresh()
    sections = [panel.model.item(n).text() for n in range(panel.model.rowCount())]
    assert sections == ["Shared"]
    assert not panel.new_button.isEnabled()
    assert "shared by the whole account" in panel.new_button.toolTip()
    assert not window.supervisor_action.isEnabled()
    assert "Chatwoot" in window.supervisor_action.toolTip()
    assert window.open_supervisor_console() is None


async def check_reopen(window: MainWindow, world: FakeChatwoot, tab: ChatTab) -> None:
    """A conversation resolved in Chatwoot reopens from its tab (toggle_status open)."""
    assert tab.reopen_button.isHidden()  # the window is not shown: isHidden, not isVisible
    world.resolve(11)
    await wait_until(lambda: not tab.reopen_button.isHidden(), what="the reopen action")
    assert tab.reopen_button.isEnabled() and tab.close_button.isHidden()
    tab.reopen_button.click()
    await wait_until(lambda: world.conversations[11]["status"] == "open", what="reopened there")
    await wait_until(lambda: not tab.close_button.isHidden(), what="shown open here")
    assert tab.reopen_button.isHidden() and not tab.composer.isReadOnly()
