"""Every UI string has a Russian translation, and the compiled .qm matches the .ts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTranslator

TRANSLATIONS = Path(__file__).resolve().parents[2] / "resources" / "translations"


def test_every_ui_string_is_translated_to_russian() -> None:
    done = subprocess.run(
        [sys.executable, str(TRANSLATIONS / "update_ts.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compiled_russian_catalogue_translates(qapp: object) -> None:
    translator = QTranslator()
    assert translator.load(str(TRANSLATIONS / "operator_desk_ru.qm"))
    assert translator.translate("OperatorDesk", "Waiting") == "Ожидают"
    assert translator.translate("OperatorDesk", "Send") == "Отправить"
