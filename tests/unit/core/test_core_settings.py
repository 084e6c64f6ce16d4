"""Settings and profiles: JSON in the config dir, atomic writes, no secrets, bad input handled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from operator_app.core.profiles import ProfileError, ServerProfile
from operator_app.core.settings import Settings, default_settings_path, load_settings, save_settings


def test_round_trip_in_the_config_dir(hermetic_dirs: Path) -> None:
    settings = Settings(language="ru", font_size=12, window_state={"main": "AAEC"})
    settings.profiles.append(ServerProfile("Work", "https://desk.example/", login="anna"))
    save_settings(settings)
    path = default_settings_path()
    assert str(path).startswith(str(hermetic_dirs))
    loaded = load_settings()
    assert loaded.language == "ru" and loaded.font_size == 12
    assert loaded.window_state == {"main": "AAEC"}
    assert loaded.profile("Work") == ServerProfile("Work", "https://desk.example", login="anna")
    assert "password" not in path.read_text() and "token" not in path.read_text()


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.json") == Settings()


@pytest.mark.allow_warnings
def test_broken_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert load_settings(path) == Settings()
    assert len(list(tmp_path.glob("settings.json.broken-*"))) == 1


def test_wrong_types_and_bad_profiles_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    data = {
        "font_size": "huge",
        "theme": "dark",
        "profiles": [
            {"name": "x", "base_url": "ftp://nope"},
            {"name": "ok", "base_url": "http://h"},
        ],
    }
    path.write_text(json.dumps(data))
    loaded = load_settings(path)
    assert loaded.font_size == 0 and loaded.theme == "dark"
    assert [p.name for p in loaded.profiles] == ["ok"]


def test_profile_validation() -> None:
    with pytest.raises(ProfileError):
        ServerProfile("x", "not a url")
    with pytest.raises(ProfileError):
        ServerProfile("x", "http://h", kind="slack")  # type: ignore[arg-type]
