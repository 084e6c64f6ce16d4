"""Stamp operator_app.__version__ into the packaging files, or check that they agree.

    python packaging/sync_version.py          # rewrite the stamped files after a version bump
    python packaging/sync_version.py --check  # exit 1 and name every file that drifted
    python packaging/sync_version.py --print  # just the version, for shell scripts

The version lives only in operator_app/__init__.py. It is read by parsing the file, never by
importing the package, so neither this script nor build.spec pulls in Qt or the app.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / "operator_app" / "__init__.py"
METAINFO = ROOT / "packaging" / "linux" / "io.github.operatordesk.OperatorDesk.metainfo.xml"
INNO_SCRIPT = ROOT / "packaging" / "windows" / "operator-desk.iss"
INFO_PLIST = ROOT / "packaging" / "macos" / "Info.plist"

_RELEASE = re.compile(r'<release version="([^"]+)"')
_INNO_DEFAULT = re.compile(r'(#define AppVersion ")([^"]+)(")')
_PLIST_VERSION = re.compile(
    r"(<key>(CFBundleShortVersionString|CFBundleVersion)</key>\s*<string>)([^<]+)(</string>)"
)


def read_version(version_file: Path = VERSION_FILE) -> str:
    """The literal assigned to ``__version__`` in operator_app/__init__.py."""
    tree = ast.parse(version_file.read_text(encoding="utf-8"), str(version_file))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ValueError(f"no literal __version__ = '...' in {version_file}")


def stamped_versions() -> dict[Path, list[str]]:
    """Every version written in each stamped file (the newest metainfo release only)."""
    metainfo = _RELEASE.findall(METAINFO.read_text(encoding="utf-8"))[:1]
    inno = [m.group(2) for m in _INNO_DEFAULT.finditer(INNO_SCRIPT.read_text(encoding="utf-8"))]
    plist = [m.group(3) for m in _PLIST_VERSION.finditer(INFO_PLIST.read_text(encoding="utf-8"))]
    return {METAINFO: metainfo, INNO_SCRIPT: inno, INFO_PLIST: plist}


def drifted(version: str) -> list[Path]:
    """Files whose stamped version is missing or differs from ``version``."""
    return [
        path
        for path, found in stamped_versions().items()
        if not found or any(v != version for v in found)
    ]


def _stamp_metainfo(text: str, version: str) -> str:
    newest = _RELEASE.search(text)
    if newest and newest.group(1) == version:
        return text
    # a new release goes on top; AppStream lists releases newest first
    today = dt.datetime.now(dt.UTC).date().isoformat()
    entry = f'<release version="{version}" date="{today}"/>\n    '
    return text.replace("<release ", entry + "<release ", 1)


def _stamp_inno(text: str, version: str) -> str:
    return _INNO_DEFAULT.sub(lambda m: m.group(1) + version + m.group(3), text)


def _stamp_plist(text: str, version: str) -> str:
    return _PLIST_VERSION.sub(lambda m: m.group(1) + version + m.group(4), text)


STAMPERS: dict[Path, Callable[[str, str], str]] = {
    METAINFO: _stamp_metainfo,
    INNO_SCRIPT: _stamp_inno,
    INFO_PLIST: _stamp_plist,
}


def stamp(version: str) -> list[Path]:
    """Write ``version`` into every stamped file; returns the files that changed."""
    changed = []
    for path, stamper in STAMPERS.items():
        text = path.read_text(encoding="utf-8")
        updated = stamper(text, version)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    version = read_version()
    if "--print" in argv:
        print(version)
        return 0
    if "--check" in argv:
        stale = drifted(version)
        for path in stale:
            print(f"{path.relative_to(ROOT)}: not at version {version}", file=sys.stderr)
        return 1 if stale else 0
    for path in stamp(version):
        print(f"{path.relative_to(ROOT)}: stamped {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
