"""A strict, hermetic harness: tmp standard dirs, a forced test keyring, warnings fail tests."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.helpers.keyring_backend import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def hermetic_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every standard directory points into this test's tmp dir."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    (home / "runtime").chmod(0o700)
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def test_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def fail_on_unexpected_warnings(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Our code logging a warning or an error fails the test unless it says it expects one."""
    caplog.set_level(logging.INFO, logger="operator_app")
    yield
    if request.node.get_closest_marker("allow_warnings"):
        return
    bad = [
        r
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING and r.name.startswith("operator_app")
    ]
    if bad:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)
        pytest.fail(f"unexpected warnings logged:\n{lines}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """After a Qt test, free what its fixtures held, on this (the GUI) thread.

    pytest lets go of a test's fixture values only after their teardown, so a window held by
    one becomes garbage after the test's loop stopped collecting on this thread; the next
    test's server thread would otherwise collect it, where Qt cannot destroy it.
    """
    yield
    if "qapp" in getattr(item, "fixturenames", ()):
        gc.collect()
