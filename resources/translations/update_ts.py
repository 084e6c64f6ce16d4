"""Refresh the .ts sources from the UI code, then compile them to .qm with pyside6-lrelease.

Strings are found where the code calls ``tr("...")`` or marks them with ``N_("...")``. Existing
translations are kept; new strings arrive as unfinished. Usage: python update_ts.py [--check]
(--check exits 1 when a string lacks a translation or the .qm files are stale).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
UI = HERE.parents[1] / "operator_app" / "ui"
CONTEXT = "OperatorDesk"
LANGUAGES = ["ru"]


def source_strings() -> list[str]:
    found: dict[str, None] = {}
    for path in sorted(UI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("tr", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, None)
    return list(found)


def read_ts(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    known: dict[str, str] = {}
    for message in ET.parse(path).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        if translation is not None and translation.text and translation.get("type") != "unfinished":
            known[source] = translation.text
    return known


def write_ts(path: Path, language: str, strings: list[str], known: dict[str, str]) -> list[str]:
    root = ET.Element("TS", version="2.1", language=language)
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    missing = []
    for text in strings:
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = text
        translation = ET.SubElement(message, "translation")
        if text in known:
            translation.text = known[text]
        else:
            translation.set("type", "unfinished")
            missing.append(text)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", "utf-8"
    )
    return missing


def lrelease() -> str:
    found = shutil.which("pyside6-lrelease") or str(
        Path(sys.executable).parent / "pyside6-lrelease"
    )
    return found


def main() -> int:
    check = "--check" in sys.argv
    strings = source_strings()
    status = 0
    for language in LANGUAGES:
        ts = HERE / f"operator_desk_{language}.ts"
        known = read_ts(ts)
        missing = [s for s in strings if s not in known]
        if check:
            if missing:
                print(f"{ts.name}: {len(missing)} untranslated: {missing[:10]}")
                status = 1
            continue
        write_ts(ts, language, strings, known)
        qm = ts.with_suffix(".qm")
        subprocess.run([lrelease(), str(ts), "-qm", str(qm)], check=True, capture_output=True)
        print(f"{ts.name}: {len(strings)} strings, {len(missing)} untranslated")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
