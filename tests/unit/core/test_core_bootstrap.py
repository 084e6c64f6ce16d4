"""build_service: one file per profile in the data dir, retention from settings, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_app.core.bootstrap import build_service
from operator_app.core.errors import ActionError, OfflineError
from operator_app.core.profiles import ServerProfile
from operator_app.core.settings import Settings


@pytest.mark.asyncio
async def test_builds_on_a_cache_in_the_user_data_dir(hermetic_dirs: Path) -> None:
    service = build_service(
        ServerProfile("w", "http://127.0.0.1:9", login="anna"), settings=Settings(retention_days=7)
    )
    try:
        assert str(service.cache.path).startswith(str(hermetic_dirs / "data" / "operator-desk"))
        assert service.needs_login
        assert service.retention == (7, 1_000_000)
    finally:
        await service.close()
        service.cache.close()


def test_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(ActionError):
        build_service(
            ServerProfile("c", "https://chat.example", kind="chatwoot"), cache_dir=tmp_path
        )
    bad_ca = ServerProfile("t", "https://desk.example", ca_bundle=str(tmp_path / "missing.pem"))
    with pytest.raises(OfflineError):
        build_service(bad_ca, cache_dir=tmp_path)
