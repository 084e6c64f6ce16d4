"""The Chatwoot profile field and the capabilities the UI reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_app.core.bootstrap import build_service
from operator_app.core.errors import ActionError
from operator_app.core.profiles import ProfileError, ServerProfile
from operator_app.net.chatwoot import CAPABILITIES, ChatwootApi


def test_account_id_round_trips_and_old_profiles_still_load() -> None:
    profile = ServerProfile("cw", "https://chat.example/", kind="chatwoot", account_id=3)
    assert ServerProfile.from_json(profile.to_json()) == profile
    old = {"name": "d", "base_url": "https://desk.example", "kind": "operator-desk"}
    assert ServerProfile.from_json(old).account_id is None
    assert ServerProfile.from_json({**old, "account_id": "7"}).account_id == 7
    with pytest.raises(ProfileError):
        ServerProfile.from_json({**old, "account_id": "seven"})
    with pytest.raises(ProfileError):
        ServerProfile("cw", "https://chat.example", kind="chatwoot", account_id=0)


def test_build_service_needs_the_account(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match="account id"):
        build_service(
            ServerProfile("cw", "https://chat.example", kind="chatwoot"), cache_dir=tmp_path
        )


def test_capabilities_explain_every_missing_feature() -> None:
    missing = [name for name, value in vars(CAPABILITIES).items() if value is False]
    assert missing and all(CAPABILITIES.reasons.get(name) for name in missing)
    assert "private note" in CAPABILITIES.reasons["transfer_comment"]
    with pytest.raises(ValueError, match="account id"):
        ChatwootApi("https://chat.example", 0)
