"""Template completer, variables dialog, pinned shortcuts and the templates panel."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QPlainTextEdit
from pytestqt.qtbot import QtBot

from operator_app.protocol.models import Template, TemplateScope
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.template_completer import (
    rank_templates,
    subsequence_score,
    trigger_at_cursor,
)
from operator_app.ui.templates_panel import TemplatesPanel, filter_templates
from tests.helpers.qt_async import type_text, wait_until
from tests.ui.chat_harness import desk, run_with_server

ANNA_NAME = "Анна Смирнова"


def _template(id: int, shortcut: str, title: str, **extra: object) -> Template:
    return Template(
        id=id, scope=TemplateScope.SHARED, shortcut=shortcut, title=title, body="x", **extra
    )


# ---- ranking (pure) -------------------------------------------------------------------------


def test_subsequence_score_needs_every_letter_in_order() -> None:
    assert subsequence_score("dlv", "delivery") is not None
    assert subsequence_score("vld", "delivery") is None
    assert subsequence_score("", "anything") == 0.0
    # a prefix beats a scattered match
    prefix = subsequence_score("del", "delivery")
    scattered = subsequence_score("del", "model level")
    assert prefix is not None and scattered is not None and prefix > scattered


def test_rank_templates_matches_shortcut_and_title_best_first() -> None:
    templates = [
        _template(1, "refund", "Срок возврата денег"),
        _template(2, "return", "Условия возврата"),
        _template(3, "hello", "Приветствие"),
        _template(4, "bye", "Прощание"),
    ]
    assert [t.id for t in rank_templates(templates, "ret")] == [2]
    assert [t.id for t in rank_templates(templates, "rf")] == [1]
    assert [t.id for t in rank_templates(templates, "re")] == [1, 2]  # ties keep their order
    assert {t.id for t in rank_templates(templates, "возв")} == {1, 2}  # by title
    assert [t.id for t in rank_templates(templates, "b")] == [4]  # a shortcut prefix first
    assert [t.id for t in rank_templates(templates, "прив")] == [3]
    assert rank_templates(templates, "zzz") == []
    assert [t.id for t in rank_templates(templates, "")] == [1, 2, 3, 4]  # stable when empty


def test_trigger_only_at_the_start_of_a_word(qtbot: QtBot) -> None:
    editor = QPlainTextEdit()
    qtbot.addWidget(editor)
    for text, expected in [
        ("/del", (0, "del")),
        ("Добрый день /hel", (12, "hel")),
        ("http://site", None),
        ("a/b", None),
        ("/", (0, "")),
        ("/del more", None),
    ]:
        editor.setPlainText(text)
        editor.moveCursor(editor.textCursor().MoveOperation.End)
        assert trigger_at_cursor(editor) == expected, text


def test_panel_filter_is_fuzzy_then_body_and_by_category() -> None:
    templates = [
        _template(1, "delivery", "Сроки доставки", category="Доставка"),
        _template(2, "status", "Статус заказа", category="Доставка"),
        Template(
            id=3, scope=TemplateScope.SHARED, shortcut="x1", title="Другое", body="про доставку"
        ),
    ]
    assert [t.id for t in filter_templates(templates, "dlv", "")] == [1]
    assert [t.id for t in filter_templates(templates, "доставк", "")] == [1, 3]
    assert [t.id for t in filter_templates(templates, "", "Доставка")] == [1, 2]


# ---- the completer in a real chat tab -------------------------------------------------------


def test_slash_opens_the_completer_and_enter_inserts_the_rendered_template(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            dialog_id = session.mine()[0]
            client = session.service.dialog(dialog_id)
            assert client is not None
            tab = await session.open_tab(dialog_id)
            tab.composer.setFocus()
            type_text(tab.composer, "Добрый день! /hel")
            popup = tab.completer.popup
            await wait_until(popup.isVisible, what="the popup")
            shown = [popup.model.template_at(n).shortcut for n in range(popup.model.rowCount())]
            assert shown[:2] == ["hello", "hello-en"]
            assert (current := popup.current()) is not None and current.shortcut == "hello"
            QTest.keyClick(tab.composer, Qt.Key.Key_Down)
            assert (current := popup.current()) is not None and current.shortcut == "hello-en"
            QTest.keyClick(tab.composer, Qt.Key.Key_Up)
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            assert not popup.isVisible()
            assert tab.composer.toPlainText() == (
                f"Добрый день! Здравствуйте, {client.dialog.contact_name}! "
                f"Меня зовут {ANNA_NAME}, чем могу помочь?"
            )

            # Esc closes without inserting; Tab chooses too
            tab.composer.clear()
            type_text(tab.composer, "/st")
            await wait_until(popup.isVisible, what="the popup again")
            QTest.keyClick(tab.composer, Qt.Key.Key_Escape)
            assert not popup.isVisible() and tab.composer.toPlainText() == "/st"
            type_text(tab.composer, "a")
            assert popup.isVisible() and (current := popup.current()) is not None
            assert current.shortcut == "status"
            QTest.keyClick(tab.composer, Qt.Key.Key_Tab)
            assert tab.composer.toPlainText() == (
                f"Заказ по обращению №{dialog_id} передан в службу доставки."
            )

    run_with_server(qloop, scenario)


def test_ctrl_space_lists_every_template_and_filters_by_what_follows(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            tab = await session.open_tab(session.mine()[0])
            popup = tab.completer.popup
            QTest.keyClick(tab.composer, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
            assert popup.isVisible()
            assert popup.model.rowCount() == len(session.service.templates())
            type_text(tab.composer, "ждан")  # "Спасибо за ожидание" by its title
            assert (current := popup.current()) is not None and current.shortcut == "thanks"
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            assert tab.composer.toPlainText().startswith("Спасибо за ожидание, ")
            type_text(tab.composer, " /qqqqq")
            assert popup.isVisible() and popup.empty.isVisible()  # says nothing matches
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            assert not popup.isVisible()

    run_with_server(qloop, scenario)


def test_missing_variables_are_asked_for_with_a_preview(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            tab = await session.open_tab(session.mine()[0])
            type_text(tab.composer, "/promo")
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            dialog = tab.fill_dialog
            assert dialog is not None and dialog.isVisible()
            assert tab.composer.toPlainText() == ""  # nothing inserted before the values
            assert "{promo_code}" in dialog.preview.toPlainText()
            type_text(dialog.fields["promo_code"], "SALE10")
            assert "SALE10" in dialog.preview.toPlainText()
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            assert tab.composer.toPlainText() == (
                "Ваш промокод на скидку 10%: SALE10. Действует до конца месяца."
            )

            # cancelling inserts nothing
            tab.composer.clear()
            type_text(tab.composer, "/tariff")
            QTest.keyClick(tab.composer, Qt.Key.Key_Return)
            assert tab.fill_dialog is not None
            tab.fill_dialog.reject()
            assert tab.composer.toPlainText() == ""

    run_with_server(qloop, scenario)


def test_ctrl_digits_insert_the_pinned_templates_in_order(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            tab = await session.open_tab(session.mine()[0])
            tab.activateWindow()
            tab.composer.setFocus()
            await wait_until(tab.composer.hasFocus, what="focus in the composer")
            pinned = [t.shortcut for t in session.service.templates() if t.pinned]
            assert pinned == ["thanks", "check", "sorry"]
            QTest.keyClick(tab.composer, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            assert tab.composer.toPlainText() == "Минуту, проверяю информацию по вашему заказу."
            tab.composer.clear()
            tab.timeline.setFocus()  # anywhere in the tab
            QTest.keyClick(tab.timeline, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
            assert tab.composer.toPlainText() == "Приносим извинения за доставленные неудобства."
            assert not tab.insert_pinned(9)  # no ninth pinned template: nothing happens

    run_with_server(qloop, scenario)


# ---- the panel ------------------------------------------------------------------------------


def test_panel_sections_search_category_and_insert(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            panel = TemplatesPanel(session.service, session.runner)
            qtbot.addWidget(panel)
            panel.resize(300, 600)
            panel.show()
            shared = panel.model.item(0)
            personal = panel.model.item(1)
            assert shared.rowCount() == len(
                [t for t in session.service.templates() if t.scope == TemplateScope.SHARED]
            )
            assert personal.rowCount() == 4
            panel.search.setText("dlv")
            assert [t.shortcut for t in panel.visible_templates()] == ["delivery"]
            panel.search.clear()
            panel.category.setCurrentIndex(panel.category.findData("Доступ"))
            assert {t.shortcut for t in panel.visible_templates()} == {"reset", "2fa"}
            panel.category.setCurrentIndex(0)

            requested: list[Template] = []
            panel.insert_requested.connect(requested.append)
            assert panel.select(panel.visible_templates()[0].id)
            rect = panel.tree.visualRect(panel.tree.currentIndex())
            QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            assert requested == []  # a single click only selects
            QTest.mouseDClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            QTest.keyClick(panel.tree, Qt.Key.Key_Return)
            assert len(requested) == 2 and requested[0] == requested[1]

            # shared: read-only for an operator; personal: editable
            shared_one = next(t for t in panel.visible_templates() if t.scope == "shared")
            panel.select(shared_one.id)
            assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
            assert panel.confirm_delete() is None
            own = next(t for t in panel.visible_templates() if t.scope == "personal")
            panel.select(own.id)
            assert panel.edit_button.isEnabled() and panel.delete_button.isEnabled()

            # the panel inserts into a chat tab the way the main window wires it
            tab = await session.open_tab(session.mine()[0])
            panel.insert_requested.connect(tab.insert_template)
            panel.select(next(t.id for t in panel.visible_templates() if t.shortcut == "wait"))
            QTest.keyClick(panel.tree, Qt.Key.Key_Enter)
            assert tab.composer.toPlainText().startswith("Пожалуйста, подождите")

    run_with_server(qloop, scenario)


def test_operator_creates_edits_and_deletes_a_personal_template(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            panel = TemplatesPanel(session.service, session.runner)
            qtbot.addWidget(panel)
            session.bridge.directory_changed.connect(panel.on_directory_changed)
            panel.show()
            editor = panel.open_editor(None)
            editor.shortcut.setText("bad shortcut!")
            editor.title.setText("Новый")
            editor.body.setPlainText("Текст")
            editor.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            assert editor.error.isVisible() and editor.isVisible()  # refused locally
            assert editor.error.text() == (
                "Check the field “Shortcut”: letters, digits, “_” and “-” only"
            )
            editor.shortcut.setText("card")
            editor.category.setCurrentText("Оплата")
            editor.body.setPlainText("Оплатить можно картой, {client_name}.")
            editor.pinned.setChecked(True)
            editor.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            await wait_until(lambda: not editor.isVisible(), what="the editor closes")

            def by_shortcut(shortcut: str) -> Template | None:
                return next(
                    (t for t in session.service.templates() if t.shortcut == shortcut), None
                )

            created = by_shortcut("card")
            assert created is not None and created.scope == TemplateScope.PERSONAL
            assert created.pinned and created.category == "Оплата"
            assert (selected := panel.selected()) is not None and selected.id == created.id
            assert created.id in {t.id for t in panel.visible_templates()}

            editor = panel.open_editor(panel.selected())
            assert editor.body.toPlainText() == "Оплатить можно картой, {client_name}."
            editor.title.setText("Оплата картой")
            editor.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            await wait_until(lambda: not editor.isVisible(), what="the editor closes again")
            edited = by_shortcut("card")
            assert edited is not None and edited.title == "Оплата картой"

            editor = panel.open_editor(edited)
            editor.body.setPlainText("x" * 9000)  # over the protocol's limit: refused locally
            editor.submit()
            assert editor.error.isVisible() and editor.isVisible()
            assert editor.error.text() == "Check the field “Text”: at most 8192 characters"
            editor.reject()

            panel.select(edited.id)
            box = panel.confirm_delete()
            assert box is not None
            box.button(QMessageBox.StandardButton.Yes).click()
            await wait_until(
                lambda: edited.id not in {t.id for t in session.service.templates()},
                what="deleted",
            )
            await wait_until(
                lambda: edited.id not in {t.id for t in panel.visible_templates()},
                what="the panel refreshed",
            )

            # the server's refusal (it is gone now) is shown in the editor, which stays open
            editor = panel.open_editor(edited)
            editor.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            await wait_until(editor.error.isVisible, what="the server's refusal")
            assert editor.isVisible() and editor.buttons.isEnabled()
            editor.reject()

    run_with_server(qloop, scenario)


def test_panel_refreshes_when_another_session_changes_templates(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    from operator_app.protocol.models import TemplateIn

    async def scenario(server: EmbeddedServer) -> None:
        # another login: two sessions of one login would share one cache file
        async with desk(server) as first, desk(server, "admin", with_dialogs=False) as second:
            panel = TemplatesPanel(first.service, first.runner)
            qtbot.addWidget(panel)
            first.bridge.directory_changed.connect(panel.on_directory_changed)
            body = TemplateIn(
                scope=TemplateScope.SHARED, shortcut="elsewhere", title="От админа", body="Привет"
            )
            panel.show()
            made = await second.service.save_template(body)
            await wait_until(
                lambda: made.id in {t.id for t in panel.visible_templates()},
                what="the live template.changed event to reach the panel",
            )
            # a hidden panel does no work until it is shown again
            panel.hide()
            await second.service.delete_template(made.id)
            await wait_until(
                lambda: made.id not in {t.id for t in first.service.templates()},
                what="the deletion to reach the first session",
            )
            assert made.id in {t.id for t in panel.visible_templates()}
            panel.show()
            assert made.id not in {t.id for t in panel.visible_templates()}

    run_with_server(qloop, scenario)


def test_the_main_windows_panel_inserts_into_the_current_tab(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    from operator_app.ui.main_window import MainWindow

    async def scenario(server: EmbeddedServer) -> None:
        async with desk(server) as session:
            window = MainWindow(session.service)
            qtbot.addWidget(window)
            window.show()
            try:
                panel = window.templates_panel
                assert not panel.visible_templates()  # filled after the first paint:
                window.finish_start()  # as the app does then
                assert panel.visible_templates()
                tab = window.open_dialog(session.mine()[0])
                panel.select(next(t.id for t in panel.visible_templates() if t.shortcut == "check"))
                QTest.keyClick(panel.tree, Qt.Key.Key_Return)
                assert tab.composer.toPlainText() == "Минуту, проверяю информацию по вашему заказу."
            finally:
                window.close()
                await window.runner.cancel_all()
                window.deleteLater()  # gone before the cache closes: nothing may query it
                QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    run_with_server(qloop, scenario)
