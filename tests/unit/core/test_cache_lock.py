"""One app per cache file: a second one (another process) is refused before it reads, repairs
or moves anything, and a crashed app's lock goes with its process. Real files, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from operator_app.core.cache import Cache, CacheInUse, in_use

HOLDER = """
import sys, time
from pathlib import Path
from operator_app.core.cache import Cache
cache = Cache.open(Path(sys.argv[1]))
print("open", flush=True)
time.sleep(60)
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """Another app process with the cache open; killed with SIGKILL at the end."""
    path = tmp_path / "c.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    yield path, holder
    holder.kill()
    holder.wait(10)
    holder.stdout.close()


def test_a_second_app_is_refused_and_touches_nothing(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    path, _holder = held
    (path.parent / (path.name + ".damaged")).write_text("would be moved aside", encoding="utf-8")
    before = sorted(p.name for p in path.parent.iterdir())
    assert in_use(path)
    with pytest.raises(CacheInUse):
        Cache.open(path)
    assert sorted(p.name for p in path.parent.iterdir()) == before  # nothing moved or rebuilt


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX; Windows drops locks alike")
def test_a_killed_app_leaves_no_lock_behind(held: tuple[Path, subprocess.Popen[str]]) -> None:
    path, holder = held
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    assert not in_use(path)
    cache = Cache.open(path)
    cache.close()


def test_closing_lets_the_next_open_in(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    first = Cache.open(path)
    with pytest.raises(CacheInUse):  # the same process, a second open: refused too
        Cache.open(path)
    first.close()
    assert not in_use(path)
    Cache.open(path).close()
