"""A profile with its own CA bundle reaches an https server, REST and websocket alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from operator_app.core.bootstrap import build_service
from operator_app.core.profiles import ServerProfile
from operator_app.core.rows import Section
from operator_app.server.embedded import EmbeddedServer
from tests.integration.core.conftest import online


@pytest.mark.asyncio
async def test_https_profile_with_a_private_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    server = EmbeddedServer(demo=True, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file))
    url = server.start()
    try:
        assert url.startswith("https://")
        profile = ServerProfile("tls", url, login="anna", ca_bundle=str(ca_file))
        service = build_service(profile, cache_dir=tmp_path)
        try:
            await service.login("demo")
            await service.start()
            await online(service)
            assert service.dialogs(Section.MINE)
        finally:
            await service.close()
            service.cache.close()
    finally:
        server.stop()
