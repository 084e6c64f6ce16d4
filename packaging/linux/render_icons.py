"""Render the app icon (resources/icons/app.svg) for every platform's packaging.

    python packaging/linux/render_icons.py

writes
    packaging/linux/icons/hicolor/<N>x<N>/apps/operator-desk.png   N = 16 ... 512
    packaging/linux/icons/hicolor/scalable/apps/operator-desk.svg
    packaging/windows/operator-desk.ico        (16-256 px; small sizes as bitmaps, 256 as PNG)
    packaging/macos/operator-desk.iconset/     (the input of `iconutil -c icns` on macOS)

Run it after changing app.svg; tests/unit/test_packaging.py fails when the outputs drift.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[2]
APP_SVG = ROOT / "resources" / "icons" / "app.svg"
ICON_NAME = "operator-desk"
HICOLOR = ROOT / "packaging" / "linux" / "icons" / "hicolor"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_PATH = ROOT / "packaging" / "windows" / f"{ICON_NAME}.ico"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET = ROOT / "packaging" / "macos" / f"{ICON_NAME}.iconset"
ICONSET_SIZES = (16, 32, 128, 256, 512)  # each also at @2x


def render(size: int) -> QImage:
    """The app icon at size x size pixels, straight from the vector source."""
    renderer = QSvgRenderer(str(APP_SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {APP_SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def dib_bytes(image: QImage) -> bytes:
    """A 32-bit BGRA bitmap as an .ico entry wants it: bottom-up, height doubled, AND mask."""
    size = image.width()
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows = []
    for y in reversed(range(size)):
        row = bytearray()
        for x in range(size):
            colour = image.pixelColor(x, y)
            row += bytes((colour.blue(), colour.green(), colour.red(), colour.alpha()))
        rows.append(bytes(row))
    mask_row = bytes(((size + 31) // 32) * 4)  # all zero: alpha carries transparency
    return header + b"".join(rows) + mask_row * size


def ico_bytes(sizes: tuple[int, ...]) -> bytes:
    """A multi-size .ico: PNG for 256 px (as Windows does), bitmaps below for old readers."""
    entries = [png_bytes(render(s)) if s >= 256 else dib_bytes(render(s)) for s in sizes]
    offset = 6 + 16 * len(sizes)
    directory = b""
    for size, entry in zip(sizes, entries, strict=True):
        side = size % 256  # 0 means 256 in an .ico directory
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(entry), offset)
        offset += len(entry)
    return struct.pack("<HHH", 0, 1, len(sizes)) + directory + b"".join(entries)


def iconset_files() -> dict[str, int]:
    """iconutil's file names and their pixel sizes."""
    files: dict[str, int] = {}
    for size in ICONSET_SIZES:
        files[f"icon_{size}x{size}.png"] = size
        files[f"icon_{size}x{size}@2x.png"] = size * 2
    return files


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a build machine has no display
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for size in HICOLOR_SIZES:
        target = HICOLOR / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png_bytes(render(size)))
    scalable = HICOLOR / "scalable" / "apps" / f"{ICON_NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(APP_SVG, scalable)
    ICO_PATH.parent.mkdir(parents=True, exist_ok=True)
    ICO_PATH.write_bytes(ico_bytes(ICO_SIZES))
    ICONSET.mkdir(parents=True, exist_ok=True)
    for name, size in iconset_files().items():
        (ICONSET / name).write_bytes(png_bytes(render(size)))
    print(f"rendered {APP_SVG.name} into {HICOLOR}, {ICO_PATH.name} and {ICONSET.name}")
    del app


if __name__ == "__main__":
    main()
