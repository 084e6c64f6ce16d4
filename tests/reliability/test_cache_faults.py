"""A full disk while the cache writes: a clear error, and the file stays sound.

The size limit (RLIMIT_FSIZE, in a child process, no root needed) makes every write past it
fail with EFBIG, which SQLite reports like a full disk. Corrupt and truncated caches are
covered by tests/unit/core/test_core_cache.py and the live rebuild test in
tests/integration/core/test_core_live_service.py.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from operator_app.core.cache import Cache, CacheError
from tests.helpers.reliability_world import FIGURES, ROOT


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
