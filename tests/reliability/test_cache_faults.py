"""A full disk while the cache writes: a clear error, and the file stays sound.

The size limit (RLIMIT_FSIZE, in a child process, no root needed) makes every write past it
fail with EFBIG, which SQLite reports like a full disk. Corrupt and truncated caches are
unit-tested in tests/unit/core/test_core_cache.py; here a damaged real cache (garbage pages,
truncated, zeroed header) is moved aside, rebuilt from the server, and converges table by table.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from operator_app.core.cache import Cache, CacheError
from operator_app.core.rows import Section
from operator_app.server.embedded import EmbeddedServer
from tests.helpers.reliability_world import (
    FIGURES,
    ROOT,
    close_desk,
    desk,
    eventually,
    eventually_async,
    logged_in,
    table_differences,
)


def test_a_full_disk_is_a_clear_cache_error_and_leaves_the_cache_sound(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    Cache.open(path).close()
    child = subprocess.run(
        [sys.executable, "-m", "tests.helpers.reliability_diskfull", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["stored"] > 0, "the limit left no room at all"
    assert result["error_type"] == f"{CacheError.__module__}.{CacheError.__qualname__}", result
    assert "full" in result["error"].lower(), result["error"]

    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    cache = Cache.open(path)
    try:
        assert cache.notices == [], "a sound cache was rebuilt"
        assert cache.outbox_size() == result["stored"], "a committed message was lost"
        (rows,) = cache.conn.execute("SELECT count(*) FROM messages").fetchone()
        assert rows == result["stored"], "half a transaction was kept"
    finally:
        cache.close()
    FIGURES.add("disk full", faults_injected=1, messages_sent=result["stored"])


@pytest.mark.asyncio
@pytest.mark.allow_warnings  # the core warns that it moved a damaged cache aside
@pytest.mark.parametrize("damage", ["garbage pages", "truncated", "zeroed header"])
async def test_a_damaged_cache_is_rebuilt_and_converges_with_the_server(
    tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "anna.sqlite3"
    with EmbeddedServer(reply_to_operators=False) as server:
        service = await desk(server.url, "anna", path)
        api = await logged_in(server.url, "anna")
        try:
            await eventually(lambda: service.cache.get_meta("snapshot_owed") is None, 20, "sync")
            for row in service.dialogs(Section.MINE):
                await service.open_dialog(row.dialog.id)
            await close_desk(service)
            ruin(path, damage)
            service = await desk(server.url, "anna", path)
            assert any("rebuilt" in n for n in service.cache.notices), service.cache.notices
            diffs: list[str] = ["not compared yet"]

            async def converged() -> bool:
                nonlocal diffs
                diffs = await table_differences(service, api)
                return not diffs

            try:
                await eventually_async(converged, 20, "the rebuilt cache to converge")
            except AssertionError:
                raise AssertionError("\n".join(diffs)) from None
            assert list(tmp_path.glob("anna.sqlite3.corrupt-*")), "the damaged file is gone"
        finally:
            await close_desk(service)
            await api.aclose()
    FIGURES.add("damaged cache rebuilt", faults_injected=1)


def ruin(path: Path, damage: str) -> None:
    data = bytearray(path.read_bytes())
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    if damage == "garbage pages":
        rng = random.Random(5)
        for page in range(1, len(data) // 4096):
            if page % 2:
                data[page * 4096 : page * 4096 + 512] = rng.randbytes(512)
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data[:100] = bytes(100)
    path.write_bytes(bytes(data))
