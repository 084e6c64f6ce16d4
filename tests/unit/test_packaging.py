"""Packaging files: one version everywhere, valid desktop metadata, and a bundle spec that
keeps what the app needs and leaves out what it does not."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import plistlib
import re
import shutil
import ssl
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtWidgets import QApplication

import operator_app
from operator_app.app import parse_args

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
DESKTOP_FILE = LINUX / "operator-desk.desktop"
METAINFO = LINUX / "io.github.operatordesk.OperatorDesk.metainfo.xml"
INNO_SCRIPT = PACKAGING / "windows" / "operator-desk.iss"
INFO_PLIST = PACKAGING / "macos" / "Info.plist"
BUILD_SPEC = ROOT / "build.spec"
VERSION = operator_app.__version__


def load_script(path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sync_version(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(PACKAGING / "sync_version.py", "sync_version", monkeypatch)


@pytest.fixture
def render_icons(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(LINUX / "render_icons.py", "render_icons", monkeypatch)


class DesktopFileParser(configparser.ConfigParser):
    """A .desktop file: ``=`` only, no interpolation, keys case-sensitive."""

    def __init__(self) -> None:
        super().__init__(interpolation=None, delimiters=("=",))

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def read_desktop_entry() -> configparser.SectionProxy:
    parser = DesktopFileParser()
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def spec_namespace() -> dict[str, Any]:
    """The constants and the Qt file filter of build.spec, without running PyInstaller."""
    tree = ast.parse(BUILD_SPEC.read_text(encoding="utf-8"))
    wanted: list[ast.stmt] = [
        node
        for node in tree.body
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id
            in {
                "NAME",
                "BUNDLE_ID",
                "RESOURCE_PATTERNS",
                "QT_EXCLUDES",
                "UNWANTED_QT_PLUGINS",
                "UNWANTED_QT_LIBRARIES",
                "UNWANTED_QT_FRAMEWORKS",
                "QT_TRANSLATIONS_KEPT",
            }
        )
        or (isinstance(node, ast.FunctionDef) and node.name == "unwanted_qt_file")
    ]
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(BUILD_SPEC), "exec"), namespace)
    return namespace


# ---- one version ---------------------------------------------------------------------------


def test_version_is_read_from_the_package_source(sync_version: ModuleType) -> None:
    assert sync_version.read_version() == VERSION


def test_every_stamped_file_carries_the_package_version(sync_version: ModuleType) -> None:
    found = sync_version.stamped_versions()
    assert all(found.values()), found
    assert sync_version.drifted(VERSION) == [], "run: python packaging/sync_version.py"


def test_metainfo_newest_release_is_the_package_version() -> None:
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases[0].get("version") == VERSION


def test_installer_and_macos_bundle_carry_the_package_version() -> None:
    assert re.search(rf'#define AppVersion "{re.escape(VERSION)}"', INNO_SCRIPT.read_text())
    info = plistlib.loads(INFO_PLIST.read_bytes())
    assert info["CFBundleShortVersionString"] == info["CFBundleVersion"] == VERSION


def test_build_spec_hard_codes_no_version() -> None:
    text = BUILD_SPEC.read_text(encoding="utf-8")
    assert "read_version" in text
    assert not re.search(r"""["']\d+\.\d+\.\d+["']""", text)


def test_a_stale_file_is_reported(
    sync_version: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale_plist = tmp_path / "Info.plist"
    stale_plist.write_text(INFO_PLIST.read_text().replace(f">{VERSION}<", ">0.0.1<"))
    monkeypatch.setattr(sync_version, "INFO_PLIST", stale_plist)
    assert sync_version.drifted(VERSION) == [stale_plist]


def test_stamping_a_new_version_updates_every_file(
    sync_version: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = {}
    for attribute in ("METAINFO", "INNO_SCRIPT", "INFO_PLIST"):
        source: Path = getattr(sync_version, attribute)
        copies[attribute] = tmp_path / source.name
        shutil.copyfile(source, copies[attribute])
        monkeypatch.setattr(sync_version, attribute, copies[attribute])
    stampers = {copies[k]: f for k, f in zip(copies, sync_version.STAMPERS.values(), strict=True)}
    monkeypatch.setattr(sync_version, "STAMPERS", stampers)

    assert sorted(sync_version.stamp("9.8.7")) == sorted(copies.values())
    assert sync_version.drifted("9.8.7") == []
    releases = ET.parse(copies["METAINFO"]).getroot().findall("releases/release")
    assert [r.get("version") for r in releases] == ["9.8.7", VERSION], "old releases stay"
    assert sync_version.stamp("9.8.7") == [], "stamping twice changes nothing"


# ---- Linux -----------------------------------------------------------------------------------


def test_desktop_entry_has_the_required_keys() -> None:
    entry = read_desktop_entry()
    for key in ("Name", "Name[ru]", "Comment", "Comment[ru]"):
        assert entry.get(key, "").strip(), key
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "operator-app"
    assert entry["Icon"] == "operator-desk"
    assert entry["Categories"] == "Network;InstantMessaging;Office;"
    assert entry["Terminal"] == "false"


def test_desktop_entry_launches_an_installed_command_and_a_shipped_icon() -> None:
    entry = read_desktop_entry()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entry["Exec"].split()[0] in scripts
    assert (LINUX / "icons/hicolor/scalable/apps" / f"{entry['Icon']}.svg").is_file()


def test_desktop_actions_run_flags_the_app_accepts() -> None:
    parser = DesktopFileParser()
    parser.read(DESKTOP_FILE, encoding="utf-8")
    actions = [a for a in read_desktop_entry()["Actions"].split(";") if a]
    assert actions
    for action in actions:
        section = parser[f"Desktop Action {action}"]
        assert section["Name"] and section["Name[ru]"]
        command, *flags = section["Exec"].split()
        assert command == read_desktop_entry()["Exec"]
        assert parse_args(flags) is not None, section["Exec"]


def test_metainfo_points_at_the_desktop_file_and_the_icon() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == "io.github.operatordesk.OperatorDesk"
    assert root.findtext("launchable") == DESKTOP_FILE.name
    assert root.findtext("icon") == read_desktop_entry()["Icon"]
    assert root.findtext("provides/binary") == read_desktop_entry()["Exec"]
    assert {n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in root.iter("name")} == {
        None,
        "ru",
    }


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstreamcli (Debian: appstream)")
def test_metainfo_passes_appstreamcli() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not shutil.which("desktop-file-validate"), reason="desktop-file-validate (desktop-file-utils)"
)
def test_desktop_file_passes_desktop_file_validate() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP_FILE)], capture_output=True, text=True, timeout=60
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 0 and not errors, result.stdout


def test_hicolor_icons_come_in_every_standard_size(render_icons: ModuleType) -> None:
    assert render_icons.HICOLOR_SIZES == (16, 24, 32, 48, 64, 128, 256, 512)
    for size in render_icons.HICOLOR_SIZES:
        path = LINUX / f"icons/hicolor/{size}x{size}/apps/operator-desk.png"
        assert png_size(path) == (size, size)
    scalable = LINUX / "icons/hicolor/scalable/apps/operator-desk.svg"
    assert scalable.read_bytes() == (ROOT / "resources/icons/app.svg").read_bytes()


def test_rendered_icons_match_the_current_app_svg(
    qapp: QApplication, render_icons: ModuleType
) -> None:
    """Fails when app.svg changed and render_icons.py was not run again."""
    for size in (16, 48, 256):
        fresh = render_icons.render(size)
        committed = QImage(str(LINUX / f"icons/hicolor/{size}x{size}/apps/operator-desk.png"))
        committed = committed.convertToFormat(fresh.format())
        differing = sum(
            1
            for y in range(size)
            for x in range(size)
            if abs(fresh.pixelColor(x, y).alpha() - committed.pixelColor(x, y).alpha()) > 8
            or abs(fresh.pixelColor(x, y).hue() - committed.pixelColor(x, y).hue()) > 8
        )
        assert differing < size * size * 0.01, f"{size}px: run packaging/linux/render_icons.py"


# ---- Windows and macOS ----------------------------------------------------------------------


def test_inno_setup_script_installs_shortcuts_in_both_languages() -> None:
    text = INNO_SCRIPT.read_text(encoding="utf-8")
    assert 'Name: "english"' in text and "Russian.isl" in text
    assert re.search(r'^Name: "\{group\}\\\{#AppName\}"', text, re.M), "start-menu shortcut"
    assert re.search(r'^Name: "\{autodesktop\}\\', text, re.M), "desktop shortcut"
    assert "{uninstallexe}" in text, "an uninstall entry in the start menu"
    assert "AppId={{" in text, "a fixed AppId so upgrades replace the old version"
    assert '#define AppExe "operator-desk.exe"' in text
    assert (INNO_SCRIPT.parent / "operator-desk.ico").is_file()


def test_windows_icon_holds_every_size(render_icons: ModuleType) -> None:
    data = (PACKAGING / "windows" / "operator-desk.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = [data[6 + 16 * i] or 256 for i in range(count)]
    assert tuple(sizes) == render_icons.ICO_SIZES
    assert 256 in sizes and 16 in sizes


def test_windows_icon_decodes_to_the_app_icon(qapp: QApplication, render_icons: ModuleType) -> None:
    """Qt's own .ico reader sees every entry, upright and identical to the hicolor PNG."""
    reader = QImageReader(str(PACKAGING / "windows" / "operator-desk.ico"))
    assert reader.imageCount() == len(render_icons.ICO_SIZES)
    for index, size in enumerate(render_icons.ICO_SIZES):
        assert reader.jumpToImage(index)
        entry = reader.read()
        assert (entry.width(), entry.height()) == (size, size)
        png = QImage(str(LINUX / f"icons/hicolor/{size}x{size}/apps/operator-desk.png"))
        assert entry == png.convertToFormat(entry.format()), f"{size}px entry differs"


def test_info_plist_describes_a_retina_app() -> None:
    info = plistlib.loads(INFO_PLIST.read_bytes())
    assert info["CFBundleIdentifier"] == spec_namespace()["BUNDLE_ID"]
    assert info["CFBundleIdentifier"] == ET.parse(METAINFO).getroot().findtext("id")
    assert info["CFBundleExecutable"] == spec_namespace()["NAME"]
    assert info["NSHighResolutionCapable"] is True
    assert re.fullmatch(r"\d+\.\d+", info["LSMinimumSystemVersion"])
    assert info["CFBundlePackageType"] == "APPL"


def test_macos_iconset_is_what_iconutil_expects(render_icons: ModuleType) -> None:
    iconset = PACKAGING / "macos" / "operator-desk.iconset"
    expected = render_icons.iconset_files()
    assert {p.name for p in iconset.iterdir()} == set(expected)
    for name, size in expected.items():
        assert png_size(iconset / name) == (size, size), name


# ---- build.spec ------------------------------------------------------------------------------


def test_bundle_keeps_every_qt_module_the_app_imports() -> None:
    imported: set[str] = set()
    for path in (ROOT / "operator_app").rglob("*.py"):
        imported |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    # the app plays sounds and draws reports even if those modules land later
    needed = imported | {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtMultimedia", "QtCharts"}
    excluded = {name.removeprefix("PySide6.") for name in spec_namespace()["QT_EXCLUDES"]}
    assert not needed & excluded
    assert {"QtWebEngineCore", "QtQuick", "QtQml", "Qt3DCore", "QtPdf"} <= excluded


@pytest.mark.parametrize(
    ("destination", "dropped"),
    [
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", True),
        ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-x11-integration.so", True),
        ("PySide6/Qt/lib/libQt6Quick.so.6", True),
        ("PySide6/Qt/lib/libQt6QmlModels.so.6", True),
        ("PySide6/Qt/lib/libQt6Multimedia.so.6", False),
        ("PySide6/Qt/lib/libQt6Charts.so.6", False),
        ("PySide6/Qt/lib/libQt6Svg.so.6", False),
        ("PySide6\\Qt6Pdf.dll", True),
        ("PySide6\\plugins\\imageformats\\qpdf.dll", True),
        ("PySide6\\plugins\\platforms\\qwindows.dll", False),
        ("PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick", True),
        ("PySide6/Qt/lib/QtQmlModels.framework/Versions/A/QtQmlModels", True),
        ("PySide6/Qt/lib/QtWidgets.framework/Versions/A/QtWidgets", False),
        ("PySide6/Qt/lib/QtMultimedia.framework/Resources/Info.plist", False),
        ("PySide6/Qt/translations/qtbase_de.qm", True),
        ("PySide6/Qt/translations/qtbase_ru.qm", False),
        ("resources/translations/operator_desk_ru.qm", False),
        ("libpython3.11.so.1.0", False),
    ],
)
def test_bundle_filter_drops_only_unused_qt_parts(destination: str, dropped: bool) -> None:
    unwanted: Callable[[str], bool] = spec_namespace()["unwanted_qt_file"]
    assert unwanted(destination) is dropped


def test_bundle_takes_every_runtime_resource_and_no_build_input() -> None:
    patterns: dict[str, tuple[str, ...]] = spec_namespace()["RESOURCE_PATTERNS"]
    for folder in ("icons", "sounds"):
        shipped = {
            p for pattern in patterns[folder] for p in (ROOT / "resources" / folder).glob(pattern)
        }
        present = {p for p in (ROOT / "resources" / folder).iterdir() if p.suffix != ".py"}
        assert shipped == present, folder
    assert not any(pattern.endswith((".py", ".ts")) for ps in patterns.values() for pattern in ps)


# ---- Linux install script --------------------------------------------------------------------


def run_install_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(LINUX / "install.sh"), *args], capture_output=True, text=True, timeout=60
    )


def test_install_script_puts_everything_where_desktops_look_and_removes_it(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    launcher = bundle / "operator-desk"
    launcher.write_text('#!/bin/sh\necho "operator-app test-bundle"\n')
    launcher.chmod(0o755)
    prefix = tmp_path / "prefix"

    installed = run_install_script("--prefix", str(prefix), str(bundle))
    assert installed.returncode == 0, installed.stderr
    command = prefix / "bin" / "operator-app"  # what the .desktop file's Exec runs
    ran = subprocess.run([str(command)], capture_output=True, text=True, timeout=30)
    assert ran.stdout.strip() == "operator-app test-bundle"
    assert (prefix / "share/applications/operator-desk.desktop").is_file()
    assert (prefix / "share/metainfo" / METAINFO.name).is_file()
    assert (prefix / "share/icons/hicolor/48x48/apps/operator-desk.png").is_file()
    assert (prefix / "share/icons/hicolor/scalable/apps/operator-desk.svg").is_file()

    removed = run_install_script("--prefix", str(prefix), "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not command.exists() and not (prefix / "lib/operator-desk").exists()
    assert not list(prefix.rglob("operator-desk*"))


def test_install_script_refuses_a_missing_bundle(tmp_path: Path) -> None:
    result = run_install_script("--prefix", str(tmp_path / "prefix"), str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "make package" in result.stderr
    assert not (tmp_path / "prefix").exists()


# ---- CA certificates in the bundle -----------------------------------------------------------


@pytest.fixture
def ca_hook(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(PACKAGING / "pyi_rth_ca_certificates.py", "pyi_rth_ca", monkeypatch)


def verify_paths(cafile: Path, capath: Path) -> ssl.DefaultVerifyPaths:
    # cafile and capath are None at run time when OpenSSL's defaults do not exist; typeshed
    # declares them str
    return ssl.DefaultVerifyPaths(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        "SSL_CERT_FILE",
        str(cafile),
        "SSL_CERT_DIR",
        str(capath),
    )


def test_ca_hook_leaves_a_working_openssl_default_alone(
    ca_hook: ModuleType, tmp_path: Path
) -> None:
    capath = tmp_path / "certs"
    capath.mkdir()
    (capath / "ca.pem").write_text("pem")
    chosen = ca_hook.ca_file_to_use(
        {}, verify_paths(tmp_path / "missing.pem", capath), [str(capath / "ca.pem")], "certifi"
    )
    assert chosen is None


def test_ca_hook_finds_the_system_bundle_where_the_build_host_path_is_missing(
    ca_hook: ModuleType, tmp_path: Path
) -> None:
    """A Debian-built bundle on Fedora: /usr/lib/ssl is absent, /etc/pki/... is not."""
    fedora_bundle = tmp_path / "tls-ca-bundle.pem"
    fedora_bundle.write_text("pem")
    defaults = verify_paths(tmp_path / "usr/lib/ssl/cert.pem", tmp_path / "usr/lib/ssl/certs")
    candidates = [str(tmp_path / "etc/ssl/certs/ca-certificates.crt"), str(fedora_bundle)]
    assert ca_hook.ca_file_to_use({}, defaults, candidates, "certifi") == str(fedora_bundle)
    assert ca_hook.ca_file_to_use({}, defaults, candidates[:1], "certifi") == "certifi"


def test_ca_hook_respects_the_users_choice(ca_hook: ModuleType, tmp_path: Path) -> None:
    defaults = verify_paths(tmp_path / "missing.pem", tmp_path / "missing")
    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        assert ca_hook.ca_file_to_use({variable: "/mine"}, defaults, [], "certifi") is None


def test_ca_hook_is_installed_by_the_spec_and_idle_outside_a_bundle(ca_hook: ModuleType) -> None:
    assert "pyi_rth_ca_certificates.py" in BUILD_SPEC.read_text(encoding="utf-8")
    assert not getattr(sys, "frozen", False)  # loading it here changed nothing
