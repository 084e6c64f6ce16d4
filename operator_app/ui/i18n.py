"""Translations: one context, Qt's QTranslator, sources in resources/translations/*.ts."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from .resources import resource_path

CONTEXT = "OperatorDesk"
LANGUAGES = {"ru": "Русский", "en": "English"}
FALLBACK = "ru"  # for a system in a language we do not ship: the seed market's (CIS locales)
_installed: list[QTranslator] = []
_current = ["en"]  # the source language until a translation is installed


def tr(text: str) -> str:
    """Translate a UI string; extracted by resources/translations/update_ts.py."""
    return QCoreApplication.translate(CONTEXT, text)


def N_(text: str) -> str:
    """Mark a string for translation where it is defined; translate it with tr() where shown."""
    return text


def system_language() -> str:
    name = QLocale.system().name()[:2]
    return name if name in LANGUAGES else FALLBACK


def language_for(chosen: str) -> str:
    """The language to show for a setting: "" (or one we do not ship) follows the system."""
    return chosen if chosen in LANGUAGES else system_language()


def current_language() -> str:
    return _current[0]


def install_language(language: str) -> bool:
    """Install the translation for ``language``; English is the source and needs none."""
    app = QCoreApplication.instance()
    if app is None:
        return False
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    _current[0] = "en"
    if language == "en":
        return True
    qm = resource_path("translations", f"operator_desk_{language}.qm")
    translator = QTranslator(app)
    if not qm.exists() or not translator.load(str(qm)):
        return False
    app.installTranslator(translator)
    _installed.append(translator)
    _current[0] = language
    qt_translator = QTranslator(app)  # Qt's own dialogs and context menus
    from PySide6.QtCore import QLibraryInfo

    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_translator.load(f"qtbase_{language}", qt_dir):
        app.installTranslator(qt_translator)
        _installed.append(qt_translator)
    return True
