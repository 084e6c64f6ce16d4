"""What a backend cannot do is disabled with a translated reason: our own server's gaps (reopen)
here; Chatwoot's in test_login_chatwoot.py."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from operator_app.net.api import OWN_SERVER_GAPS
from operator_app.net.chatwoot.capabilities import CAPABILITIES
from operator_app.protocol.models import DialogState, TemplateScope
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.capabilities import REASONS, unsupported
from operator_app.ui.i18n import install_language
from operator_app.ui.templates_panel import TemplateEditor, TemplatesPanel
from tests.ui.chat_harness import desk, run_with_server


def test_every_reason_a_backend_gives_is_marked_for_translation() -> None:
    given = set(CAPABILITIES.reasons.values()) | set(OWN_SERVER_GAPS.values())
    assert given <= set(REASONS)


def test_our_server_cannot_reopen_and_the_closed_tab_says_why(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            tab = await session.open_tab(dialog_id)
            assert tab.reopen_button.isHidden() and not tab.close_button.isHidden()
            dialog = session.service.cache.get_dialog(dialog_id)  # the wire model
            assert dialog is not None
            closed = dialog.model_copy(update={"state": DialogState.CLOSED})
            session.service.sync.apply_dialog(closed)  # as if closed elsewhere
            tab.refresh_header()  # the main window does it on DialogsChanged
            assert not tab.reopen_button.isHidden() and tab.close_button.isHidden()
            assert not tab.reopen_button.isEnabled()
            assert "customer writes again" in tab.reopen_button.toolTip()
            panel = TemplatesPanel(session.service, session.runner)
            qtbot.addWidget(panel)
            sections = [panel.model.item(n).text() for n in range(panel.model.rowCount())]
            assert sections == ["Shared", "My templates"] and panel.new_button.isEnabled()
            try:
                assert install_language("ru")
                why = unsupported(session.service)["reopen"]
                assert why != OWN_SERVER_GAPS["reopen"] and "клиент" in why
            finally:
                install_language("en")

    run_with_server(qloop, scenario)


def test_the_editor_of_a_canned_response_keeps_shortcut_and_text_only(qtbot: QtBot) -> None:
    why = "Chatwoot canned responses keep only a shortcut and a text."
    editor = TemplateEditor(None, ["Sales"], shared_only=why)
    qtbot.addWidget(editor)
    assert not editor.title.isEnabled() and editor.title.toolTip() == why
    assert not editor.category.isEnabled() and not editor.pinned.isEnabled()
    editor.shortcut.setText("/thanks")
    editor.body.setPlainText("Thank you!")
    value = editor.value()
    assert (value.scope, value.shortcut, value.title) == (TemplateScope.SHARED, "thanks", "thanks")
    personal = TemplateEditor(None, [])
    qtbot.addWidget(personal)
    assert personal.title.isEnabled()
