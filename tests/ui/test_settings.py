"""Settings dialog, session restore and the dialog-list filters, on the real embedded backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from operator_app.core.profiles import ServerProfile
from operator_app.core.service import Section
from operator_app.core.settings import Settings, load_settings, save_settings
from operator_app.protocol.models import Channel
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import i18n, theme
from operator_app.ui.session_state import decode_tabs, encode_tabs, open_tab_ids
from operator_app.ui.settings_dialog import SettingsDialog, apply_appearance, switches_language
from tests.helpers.desk_rows import dialog_of
from tests.helpers.qt_async import wait_until
from tests.ui.shell_helpers import collect_garbage_here, current_tab, signed_in_window

__all__ = ["collect_garbage_here"]  # an autouse fixture


def test_saved_tabs_round_trip_and_survive_damage() -> None:
    assert decode_tabs(encode_tabs([3, 1, 2], 1)) == ([3, 1, 2], 1)
    assert decode_tabs("not base64 at all!") == ([], None)
    assert decode_tabs("") == ([], None)


def test_settings_dialog_edits_profiles_and_applies_at_once(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, qapp: QApplication
) -> None:
    office = ServerProfile(name="Офис", base_url="https://desk.example.com", login="anna")
    save_settings(Settings(profiles=[office], last_profile="Офис"))
    try:
        with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
            qloop.run_until_complete(_settings(server, qtbot, qapp))
    finally:
        apply_appearance(qapp, Settings())  # the theme is process-wide: leave it as found


async def _settings(server: EmbeddedServer, qtbot: QtBot, app: QApplication) -> None:
    async with signed_in_window(server, qtbot) as (_service, window):
        window.activateWindow()
        QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
        dialog = window.findChild(SettingsDialog)
        assert dialog is not None
        await wait_until(dialog.isVisible, what="the settings dialog")
        assert dialog.profile_list.count() == 1

        form = dialog.add_profile()
        form.name_edit.setText("Филиал")
        form.url_edit.setText("ftp://branch")
        form.accept()
        assert form.isVisible() and "http" in form.error_label.text()  # refused, stays open
        form.url_edit.setText("https://branch.example.com/")
        form.accept()
        assert dialog.profile_list.count() == 2

        dialog.profile_list.setCurrentRow(0)
        editing = dialog.edit_profile()
        assert editing is not None
        form = editing
        form.name_edit.setText("Филиал")
        form.accept()
        assert "exists" in form.error_label.text()  # names stay unique
        form.name_edit.setText("Главный офис")
        form.accept()
        dialog.profile_list.setCurrentRow(1)
        dialog.remove_profile()
        assert dialog.profile_list.count() == 1

        dialog.sounds_check.setChecked(False)
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        dialog.font_spin.setValue(13)
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("ru"))
        assert dialog.language_note.isVisibleTo(dialog)  # OK would build the window again
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))
        assert not dialog.language_note.isVisibleTo(dialog)  # English is shown already
        dialog.accept()

        saved = load_settings()
        assert [(p.name, p.base_url, p.login) for p in saved.profiles] == [
            ("Главный офис", "https://desk.example.com", "anna")
        ]
        assert saved.last_profile == "Главный офис"
        assert (saved.sounds, saved.theme, saved.font_size, saved.language) == (
            False,
            "dark",
            13,
            "en",
        )
        assert theme.current().name == "dark"
        assert app.font().pointSize() == 13
        assert window.notifier.sounds_enabled is False


def test_session_restores_tabs_current_tab_and_layout(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        qloop.run_until_complete(_session(server, qtbot))


async def _session(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (_service, window):
        window.finish_start()  # as the app does after the first paint
        mine = window.models[Section.MINE]
        first, second = mine.dialog_id_at(0), mine.dialog_id_at(1)
        window.open_dialog(first)
        window.open_dialog(second)
        window.open_dialog(first)
        window.resize(780, 560)  # the layout may widen it to its minimum: read it back below
        window.splitter.setSizes([420, 302, 220])
        await asyncio.sleep(0.1)
        sizes = window.splitter.sizes()
        size = (window.width(), window.height())
    assert "geometry" in load_settings().window_state

    async with signed_in_window(server, qtbot) as (_service, window):
        assert open_tab_ids(window) == []  # the tabs reopen after the first paint
        window.finish_start()
        assert open_tab_ids(window) == [first, second]
        await asyncio.sleep(0.1)  # the layout takes the tabs' minimum width into account
        assert current_tab(window).dialog_id == first
        assert (window.width(), window.height()) == size
        assert window.splitter.sizes() == sizes


def test_tabs_of_dialogs_not_cached_yet_reopen_when_the_sync_brings_them(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        qloop.run_until_complete(_pending(server, qtbot, tmp_path))


async def _pending(server: EmbeddedServer, qtbot: QtBot, tmp_path: Path) -> None:
    async with signed_in_window(server, qtbot) as (_service, window):
        window.finish_start()
        mine = window.models[Section.MINE]
        first, second = mine.dialog_id_at(0), mine.dialog_id_at(1)
        window.open_dialog(first)
        window.open_dialog(second)

    # a new computer: an empty cache, so the dialogs arrive with the first sync
    async with signed_in_window(server, qtbot, cache_dir=tmp_path / "fresh") as (_s, window):
        window.finish_start()
        await wait_until(lambda: open_tab_ids(window) == [first, second], what="tabs reopened")
        assert current_tab(window).dialog_id == second
        assert not window.session_restorer.pending


def test_channel_and_tag_filters_narrow_every_section(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        qloop.run_until_complete(_filters(server, qtbot))


async def _filters(server: EmbeddedServer, qtbot: QtBot) -> None:
    async with signed_in_window(server, qtbot) as (service, window):
        filters = window.list_filters
        model = window.models[Section.MINE]
        everything = model.rowCount()
        filters.refresh_choices()
        tags = [filters.tag_combo.itemData(n) for n in range(filters.tag_combo.count())]
        assert "VIP" in tags

        filters.choose(channel=Channel.TELEGRAM)
        rows = [dialog_of(service, model.dialog_id_at(n)) for n in range(model.rowCount())]
        assert rows and all(r.channel == Channel.TELEGRAM for r in rows)
        assert model.rowCount() < everything

        filters.choose(tag="VIP")
        assert model.rowCount() == 1
        assert "VIP" in dialog_of(service, model.dialog_id_at(0)).tags

        window.section_bar.setCurrentIndex(1)  # the waiting list keeps the filters
        waiting = window.models[Section.WAITING]
        assert waiting.narrowed.tag == "VIP" and window.dialog_view.model() is waiting

        window.section_bar.setCurrentIndex(0)
        filters.choose()
        assert model.rowCount() == everything


@pytest.mark.parametrize(
    ("system", "chosen", "shown"),
    [
        ("ru_RU", "", "ru"),
        ("en_GB", "", "en"),
        ("kk_KZ", "", "ru"),  # a language we do not ship: the seed market's Russian
        ("C", "", "ru"),  # no locale at all (a server, CI)
        ("ru_RU", "en", "en"),  # a choice beats the system
    ],
)
def test_like_the_system_follows_the_system_language(
    monkeypatch: pytest.MonkeyPatch, system: str, chosen: str, shown: str
) -> None:
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale(system)))
    assert i18n.language_for(chosen) == shown


def test_only_a_new_choice_of_another_language_switches(qapp: QApplication) -> None:
    assert i18n.current_language() == "en"  # the suite's language
    started_with_lang = Settings(language="")  # --lang en on a Russian system, say
    assert not switches_language(started_with_lang, "")  # a choice left alone
    assert not switches_language(Settings(language="ru"), "en")  # English is shown already
    assert switches_language(started_with_lang, "ru")
