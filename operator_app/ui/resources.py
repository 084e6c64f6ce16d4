"""Where resources/ lives (source tree or PyInstaller bundle) and cached icons from it."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from operator_app.protocol.enums import Channel


@cache  # resolved once: every icon and translation asks for it
def resources_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_root().joinpath(*parts)


CHANNEL_COLORS: dict[Channel, str] = {
    Channel.WHATSAPP: "#25D366",
    Channel.TELEGRAM: "#229ED9",
    Channel.VIBER: "#7360F2",
    Channel.VK: "#0077FF",
    Channel.WEBCHAT: "#F59E0B",
    Channel.EMAIL: "#64748B",
    Channel.EXTERNAL: "#94A3B8",
}


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg; a neutral placeholder when it is missing."""
    path = resource_path("icons", f"{name}.svg")
    if path.exists():
        return QIcon(str(path))
    return QIcon(_letter_pixmap(name[:1].upper() or "?", "#94A3B8"))


@cache
def channel_icon(channel: Channel) -> QIcon:
    path = resource_path("icons", f"channel-{channel.value}.svg")
    if path.exists():
        return QIcon(str(path))
    return QIcon(_letter_pixmap(channel.value[:1].upper(), CHANNEL_COLORS[channel]))


def _letter_pixmap(letter: str, color: str, size: int = 64) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size, size)
    font = QFont()
    font.setPixelSize(size // 2)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return pixmap
