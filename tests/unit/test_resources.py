"""The shipped icons and sounds: present, well-formed, rendering, and in the house style."""

from __future__ import annotations

import importlib.util
import math
import re
import struct
import sys
import wave
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from operator_app.protocol.models import Channel

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICONS = RESOURCES / "icons"
SOUNDS = RESOURCES / "sounds"
SVG_NS = "{http://www.w3.org/2000/svg}"
UI_GREY = "#5f6b7a"

UI_ICONS = (
    "send",
    "attach",
    "lock",
    "transfer",
    "close-dialog",
    "tab-close",
    "take",
    "search",
    "settings",
    "template",
    "retry",
    "warning",
    "offline",
    "supervisor",
    "chart",
    "user",
)
# status dots are coloured on purpose: three grey dots could not be told apart
STATUS_ICONS = ("status-online", "status-away", "status-offline")
CHANNEL_ICONS = tuple(f"channel-{channel.value}" for channel in Channel)
ALL_ICONS = ("app", *CHANNEL_ICONS, *UI_ICONS, *STATUS_ICONS)


def render(name: str, size: int) -> QImage:
    renderer = QSvgRenderer(str(ICONS / f"{name}.svg"))
    assert renderer.isValid(), f"{name}.svg does not parse as SVG"
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def opaque_fraction(image: QImage) -> float:
    """Share of pixels that are at least half opaque."""
    size = image.width() * image.height()
    painted = sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() >= 128
    )
    return painted / size


def svg_root(name: str) -> ET.Element:
    return ET.parse(ICONS / f"{name}.svg").getroot()


def test_every_listed_icon_exists_and_nothing_unlisted_ships() -> None:
    shipped = {path.stem for path in ICONS.glob("*.svg")}
    assert shipped == set(ALL_ICONS)


def test_every_channel_has_an_icon() -> None:
    for channel in Channel:
        assert (ICONS / f"channel-{channel.value}.svg").is_file(), channel


@pytest.mark.parametrize("name", ALL_ICONS)
def test_icon_is_a_24px_svg_without_scripts_or_external_references(name: str) -> None:
    root = svg_root(name)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == "0 0 24 24"
    assert root.find(f"{SVG_NS}title") is not None, "a title names the icon for accessibility"
    text = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r"href=\"(?!#)", text), "icons must be self-contained"
    assert "currentColor" not in text, "Qt's SVG renderer has no currentColor context"


@pytest.mark.parametrize("name", ALL_ICONS)
def test_icon_renders_visibly_at_16_and_128_px(qapp: QApplication, name: str) -> None:
    for size in (16, 128):
        painted = opaque_fraction(render(name, size))
        # a blank render or one that floods the whole square are both broken icons
        assert 0.04 < painted < 0.97, f"{name} at {size}px paints {painted:.0%} of its square"


@pytest.mark.parametrize("name", UI_ICONS)
def test_ui_icons_are_drawn_in_the_house_grey_only(name: str) -> None:
    colours: set[str] = set()
    for element in svg_root(name).iter():
        for attribute in ("stroke", "fill"):
            value = element.get(attribute)
            if value is not None:
                colours.add(value.lower())
    assert colours <= {UI_GREY, "none"}, colours
    assert UI_GREY in colours


def test_app_icon_stays_readable_at_16_px(qapp: QApplication) -> None:
    image = render("app", 16)
    # the mark stands out of the background: white and accent pixels, not one flat tile
    distinct = {
        image.pixelColor(x, y).name()
        for y in range(16)
        for x in range(16)
        if image.pixelColor(x, y).alpha() == 255
    }
    assert len(distinct) > 10


def _wav_samples(path: Path) -> tuple[tuple[int, int, str, int], list[int]]:
    """(channels, sample width, compression, rate) and the samples of a 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        frames = wav.readframes(params.nframes)
    shape = (params.nchannels, params.sampwidth, params.comptype, params.framerate)
    return shape, list(struct.unpack(f"<{len(frames) // 2}h", frames))


@pytest.mark.parametrize("name", ["new-message.wav", "new-dialog.wav"])
def test_sound_is_a_short_soft_mono_wav(name: str) -> None:
    path = SOUNDS / name
    assert path.stat().st_size < 60 * 1024
    (channels, width, compression, rate), samples = _wav_samples(path)
    assert (channels, width, compression) == (1, 2, "NONE")
    duration = len(samples) / rate
    assert 0.2 < duration < 1.5
    peak = max(abs(s) for s in samples)
    assert 0.2 * 32767 < peak < 0.8 * 32767, "audible but never clipping"
    # starts and ends silent: no click on either edge
    assert abs(samples[0]) < 200
    assert max(abs(s) for s in samples[-50:]) < 200


def test_the_two_sounds_are_distinct() -> None:
    message = _wav_samples(SOUNDS / "new-message.wav")[1]
    dialog = _wav_samples(SOUNDS / "new-dialog.wav")[1]
    assert not math.isclose(len(message), len(dialog), rel_tol=0.2)


def _load_generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sounds", SOUNDS / "make_sounds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built
    monkeypatch.setitem(sys.modules, "make_sounds", module)
    spec.loader.exec_module(module)
    return module


def test_committed_sounds_are_what_the_generator_makes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    generator = _load_generator(monkeypatch)
    for name, tones in generator.SOUNDS.items():
        fresh = tmp_path / name
        fresh.write_bytes(generator.render(tones))
        committed_shape, committed = _wav_samples(SOUNDS / name)
        fresh_shape, regenerated = _wav_samples(fresh)
        assert committed_shape == fresh_shape, f"re-run make_sounds.py: {name}"
        assert len(committed) == len(regenerated), f"re-run make_sounds.py: {name}"
        # one step of rounding slack: libm may differ in the last bit between platforms
        worst = max(abs(a - b) for a, b in zip(committed, regenerated, strict=True))
        assert worst <= 1, f"re-run make_sounds.py: {name}"
