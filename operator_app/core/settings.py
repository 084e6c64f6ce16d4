"""Settings in a JSON file under the user config directory (no secrets, ever).

Window geometry and splitter states are the UI's business; it stores them here as base64
strings under ``window_state``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from operator_app import APP_ID

from .profiles import ProfileError, ServerProfile

log = logging.getLogger(__name__)


def default_settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_ID)) / "settings.json"


@dataclass(slots=True)
class Settings:
    profiles: list[ServerProfile] = field(default_factory=list)
    last_profile: str = ""
    # The profile whose session token "Remember me" put in the keyring: the app opens straight
    # into its workspace and reads the token after the first paint (the keyring's first read
    # costs ~0.4 s). Only a hint: no token in the keyring still ends in the sign-in window.
    remembered_profile: str = ""
    language: str = ""  # "" follows the system
    theme: str = "system"
    font_size: int = 0  # 0: the platform default
    sounds: bool = True
    window_state: dict[str, str] = field(default_factory=dict)  # name -> base64 blob
    retention_days: int = 90  # closed dialogs older than this leave the cache
    retention_max_messages: int = 1_000_000

    def profile(self, name: str) -> ServerProfile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["profiles"] = [p.to_json() for p in self.profiles]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        settings = cls()
        known = {f.name for f in fields(cls)} - {"profiles"}
        for name in known & data.keys():
            default = getattr(settings, name)
            if isinstance(data[name], type(default)):
                setattr(settings, name, data[name])
            else:
                log.info("settings: ignoring %s of the wrong type", name)
        for raw in data.get("profiles", []):
            try:
                settings.profiles.append(ServerProfile.from_json(raw))
            except (ProfileError, KeyError, TypeError) as exc:
                log.info("settings: dropping an unusable profile: %s", exc)
        return settings


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing file gives defaults, a broken one is kept aside and reset."""
    path = path or default_settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        backup = path.with_name(f"{path.name}.broken-{stamp}")
        log.warning("settings file %s is unreadable (%s); kept as %s", path, exc, backup.name)
        path.replace(backup)
        return Settings()
    return Settings.from_json(data)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    path = path or default_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(settings.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
