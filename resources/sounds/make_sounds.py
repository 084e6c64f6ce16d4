"""Generate the notification sounds: soft sine tones with an attack/decay envelope.

Run ``python resources/sounds/make_sounds.py`` after changing a tone; the output is
deterministic, and tests/unit/test_resources.py fails when the committed WAVs drift from it.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 22050  # plenty for tones under 2 kHz and keeps each file small
PEAK = 0.45  # of full scale: notification sounds should not startle


@dataclass(frozen=True)
class Tone:
    start: float  # seconds
    frequency: float  # Hz
    length: float  # seconds until the tone has decayed


def _envelope(t: float, length: float) -> float:
    """A 10 ms attack (no click) and an exponential decay that reaches silence at the end."""
    attack = 0.010
    if t < attack:
        return t / attack
    fade = 1.0 - (t - attack) / (length - attack)
    return math.exp(-4.0 * (t - attack) / length) * max(fade, 0.0)


def _sample(tones: tuple[Tone, ...], t: float) -> float:
    value = 0.0
    for tone in tones:
        local = t - tone.start
        if 0.0 <= local < tone.length:
            phase = 2.0 * math.pi * tone.frequency * local
            # a little second harmonic makes the sine sound like a soft bell
            voice = math.sin(phase) + 0.18 * math.sin(2.0 * phase)
            value += voice * _envelope(local, tone.length)
    return value


def render(tones: tuple[Tone, ...]) -> bytes:
    """The WAV bytes (mono, 16-bit) of the tones mixed and normalised to PEAK."""
    duration = max(tone.start + tone.length for tone in tones)
    count = int(duration * SAMPLE_RATE)
    raw = [_sample(tones, i / SAMPLE_RATE) for i in range(count)]
    scale = PEAK * 32767 / max(abs(v) for v in raw)
    frames = struct.pack(f"<{count}h", *(round(v * scale) for v in raw))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames)
    return buffer.getvalue()


# new message: a quick, light rising major third (C6 -> E6)
NEW_MESSAGE = (Tone(0.0, 1046.5, 0.30), Tone(0.11, 1318.5, 0.38))
# new dialog: lower and longer, a rising fifth heard twice (G5 -> D6), so it is told apart
NEW_DIALOG = (
    Tone(0.0, 784.0, 0.28),
    Tone(0.14, 1174.7, 0.30),
    Tone(0.42, 784.0, 0.28),
    Tone(0.56, 1174.7, 0.42),
)
SOUNDS = {"new-message.wav": NEW_MESSAGE, "new-dialog.wav": NEW_DIALOG}


def main() -> None:
    here = Path(__file__).resolve().parent
    for name, tones in SOUNDS.items():
        data = render(tones)
        (here / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
