"""Settings (Ctrl+,): server profiles, sounds, language, theme and font size.

Edits a copy of the saved ``Settings``; OK saves it and applies it: theme, font size and
sounds at once; a new language by building the main window again over the same session (every
text is set when a widget is built), and the dialog says so before.
Profiles hold no secrets: passwords and tokens live in the keyring only.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.profiles import ProfileError, ServerProfile
from operator_app.core.settings import Settings, load_settings, save_settings

from . import theme
from .i18n import LANGUAGES, N_, current_language, install_language, language_for, tr
from .resources import icon

if TYPE_CHECKING:
    from .main_window import MainWindow

logger = logging.getLogger(__name__)

THEMES = [("system", N_("Like the system")), ("light", N_("Light")), ("dark", N_("Dark"))]
FONT_SIZES = (0, 8, 40)  # 0: the platform default
ProfileRole = Qt.ItemDataRole.UserRole + 1


class ProfileForm(QDialog):
    """Add or edit one server profile; refuses to close on an unusable address."""

    def __init__(
        self, profile: ServerProfile | None, taken: set[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Server profile") if profile else tr("New server profile"))
        self.taken = taken
        self.profile: ServerProfile | None = None
        form = QFormLayout(self)
        self.name_edit = QLineEdit(profile.name if profile else "", self)
        self.url_edit = QLineEdit(profile.base_url if profile else "https://", self)
        self.login_edit = QLineEdit(profile.login if profile else "", self)
        self.ca_edit = QLineEdit((profile.ca_bundle or "") if profile else "", self)
        self.ca_edit.setPlaceholderText(tr("Optional: a PEM file with the server's CA"))
        form.addRow(tr("Name"), self.name_edit)
        form.addRow(tr("Server address"), self.url_edit)
        form.addRow(tr("Login"), self.login_edit)
        form.addRow(tr("CA certificate"), self.ca_edit)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._kind = profile.kind if profile else "operator-desk"

    def accept(self) -> None:
        name = self.name_edit.text().strip()
        if not name:
            self.error_label.setText(tr("Give the profile a name."))
            return
        if name in self.taken:
            self.error_label.setText(tr("A profile with this name exists already."))
            return
        try:
            self.profile = ServerProfile(
                name=name,
                base_url=self.url_edit.text().strip(),
                kind=self._kind,
                login=self.login_edit.text().strip(),
                ca_bundle=self.ca_edit.text().strip() or None,
            )
        except ProfileError:
            self.error_label.setText(
                tr("The server address must start with http:// or https:// and name a host.")
            )
            return
        super().accept()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self.original = settings
        self.settings = copy.deepcopy(settings)
        column = QVBoxLayout(self)
        column.addWidget(self._build_profiles())
        column.addWidget(self._build_appearance())
        column.addWidget(self._build_notifications())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.resize(520, 560)

    # ---- sections --------------------------------------------------------------------------

    def _build_profiles(self) -> QGroupBox:
        box = QGroupBox(tr("Servers"), self)
        row = QHBoxLayout(box)
        self.profile_list = QListWidget(box)
        self.profile_list.itemDoubleClicked.connect(lambda _item: self.edit_profile())
        row.addWidget(self.profile_list, 1)
        buttons = QVBoxLayout()
        self.add_button = QPushButton(tr("Add…"), box)
        self.edit_button = QPushButton(tr("Edit…"), box)
        self.remove_button = QPushButton(tr("Remove"), box)
        self.add_button.clicked.connect(self.add_profile)
        self.edit_button.clicked.connect(self.edit_profile)
        self.remove_button.clicked.connect(self.remove_profile)
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        self._fill_profiles()
        self.profile_list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self._update_buttons()
        return box

    def _build_appearance(self) -> QGroupBox:
        box = QGroupBox(tr("Appearance"), self)
        form = QFormLayout(box)
        self.language_combo = QComboBox(box)
        self.language_combo.addItem(tr("Like the system"), "")
        for code, name in LANGUAGES.items():
            self.language_combo.addItem(name, code)  # each language in its own name
        self._choose(self.language_combo, self.settings.language)
        self.language_note = QLabel(
            tr("OK builds the window again in this language: open tabs and drafts stay."), box
        )
        self.language_note.setObjectName("muted")
        self.language_note.setWordWrap(True)
        self.language_note.setVisible(False)
        self.language_combo.currentIndexChanged.connect(
            lambda _i: self.language_note.setVisible(
                switches_language(self.original, str(self.language_combo.currentData()))
            )
        )
        self.theme_combo = QComboBox(box)
        for name, label in THEMES:
            self.theme_combo.addItem(tr(label), name)
        self._choose(self.theme_combo, self.settings.theme)
        self.font_spin = QSpinBox(box)
        self.font_spin.setRange(FONT_SIZES[0], FONT_SIZES[2])
        self.font_spin.setSpecialValueText(tr("Default"))
        self.font_spin.setSuffix(" pt")
        self.font_spin.setValue(
            self.settings.font_size if self.settings.font_size >= FONT_SIZES[1] else 0
        )
        form.addRow(tr("Language"), self.language_combo)
        form.addRow("", self.language_note)
        form.addRow(tr("Theme"), self.theme_combo)
        form.addRow(tr("Font size"), self.font_spin)
        return box

    def _build_notifications(self) -> QGroupBox:
        box = QGroupBox(tr("Notifications"), self)
        column = QVBoxLayout(box)
        self.sounds_check = QCheckBox(tr("Play a sound for new dialogs and messages"), box)
        self.sounds_check.setChecked(self.settings.sounds)
        column.addWidget(self.sounds_check)
        return box

    @staticmethod
    def _choose(combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    # ---- profiles --------------------------------------------------------------------------

    def _fill_profiles(self) -> None:
        self.profile_list.clear()
        for profile in self.settings.profiles:
            login = f" ({profile.login})" if profile.login else ""
            item = QListWidgetItem(f"{profile.name} — {profile.base_url}{login}")
            item.setData(ProfileRole, profile.name)
            self.profile_list.addItem(item)

    def _update_buttons(self) -> None:
        chosen = self.profile_list.currentRow() >= 0
        self.edit_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)

    def _selected(self) -> ServerProfile | None:
        row = self.profile_list.currentRow()
        return self.settings.profiles[row] if 0 <= row < len(self.settings.profiles) else None

    def add_profile(self) -> ProfileForm:
        form = ProfileForm(None, {p.name for p in self.settings.profiles}, self)
        form.accepted.connect(lambda: self._store_profile(None, form.profile))
        form.open()
        return form

    def edit_profile(self) -> ProfileForm | None:
        current = self._selected()
        if current is None:
            return None
        taken = {p.name for p in self.settings.profiles} - {current.name}
        form = ProfileForm(current, taken, self)
        form.accepted.connect(lambda: self._store_profile(current, form.profile))
        form.open()
        return form

    def _store_profile(self, old: ServerProfile | None, new: ServerProfile | None) -> None:
        if new is None:
            return
        profiles = self.settings.profiles
        if old is None:
            profiles.append(new)
        else:
            profiles[profiles.index(old)] = new
            if self.settings.last_profile == old.name:
                self.settings.last_profile = new.name
        self._fill_profiles()
        self.profile_list.setCurrentRow(profiles.index(new))

    def remove_profile(self) -> None:
        current = self._selected()
        if current is None:
            return
        self.settings.profiles.remove(current)
        if self.settings.last_profile == current.name:
            self.settings.last_profile = ""
        self._fill_profiles()
        self._update_buttons()

    # ---- result ----------------------------------------------------------------------------

    def chosen_settings(self) -> Settings:
        return replace(
            self.settings,
            language=str(self.language_combo.currentData()),
            theme=str(self.theme_combo.currentData()),
            font_size=self.font_spin.value(),
            sounds=self.sounds_check.isChecked(),
            window_state=dict(load_settings().window_state),  # never roll back the session
        )


_default_point_size: list[float] = []


def apply_appearance(app: QApplication, settings: Settings) -> None:
    """Theme and font size at once; font size 0 goes back to the platform default."""
    if not _default_point_size:
        _default_point_size.append(app.font().pointSizeF())
    if not settings.font_size:
        font = app.font()
        font.setPointSizeF(_default_point_size[0])
        app.setFont(font)
    theme.apply(app, settings.theme, settings.font_size)


def switches_language(original: Settings, chosen: str) -> bool:
    """A new choice that shows another language than the one shown now (a choice left as it
    was never overrides the command line's ``--lang``)."""
    return chosen != original.language and language_for(chosen) != current_language()


def apply_settings(window: MainWindow, settings: Settings, original: Settings) -> None:
    """Save and apply: appearance and sounds now; a new language by building the window again
    (the app does it when the window closes with the reason "language")."""
    try:
        save_settings(settings)
    except OSError as exc:
        logger.warning("settings could not be saved: %s", exc)
        window.statusBar().showMessage(tr("Settings could not be saved: {e}").format(e=exc))
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_appearance(app, settings)
    notifier = getattr(window, "notifier", None)
    if notifier is not None:
        notifier.sounds_enabled = settings.sounds
    window.on_connection(window.service.connection)  # its colour comes from the theme
    if switches_language(original, settings.language):
        install_language(language_for(settings.language))
        window.rebuild_for_language()


def open_settings(window: MainWindow) -> SettingsDialog:
    """Window-modal and non-blocking, so live updates keep flowing while it is open."""
    dialog = SettingsDialog(load_settings(), window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(
        lambda: apply_settings(window, dialog.chosen_settings(), dialog.original)
    )
    dialog.open()
    return dialog


def install_settings(window: MainWindow) -> QAction:
    """Ctrl+, and a gear button in the top bar open the settings."""
    action = QAction(icon("settings"), tr("Settings (Ctrl+,)"), window)
    action.setShortcut(QKeySequence("Ctrl+,"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda: open_settings(window))
    window.addAction(action)
    button = QToolButton(window)
    button.setDefaultAction(action)
    button.setObjectName("settingsButton")
    top_bar = window.status_combo.parentWidget()
    bar = top_bar.layout() if top_bar is not None else None
    if isinstance(bar, QHBoxLayout):
        bar.addWidget(button)
    return action
