"""ui layer, see ARCHITECTURE.md."""

import sys
from types import ModuleType

import PySide6.QtCore  # noqa: F401  (installs PySide's import hook, replaced below)
from PySide6 import __version__ as _pyside_version

# pyproject.toml excludes 6.12.0; this guards an environment that has it anyway.
if sys.version_info < (3, 12) and _pyside_version == "6.12.0":
    # PySide6 6.12.0 returns None (void methods) and True/False (Signal.emit) without a new
    # reference, so each call drains a singleton's refcount until CPython aborts with
    # "none_dealloc" / "bool_dealloc": after ~1,000 emits, or minutes of painting
    # (benchmarks/: 20 tabs, and live events, crashed). 3.12+ makes them immortal; on 3.11
    # give them a reference count no session can spend.
    import ctypes  # only here: ~2 ms of imports before the first paint otherwise

    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40


def _lighten_feature_check() -> None:
    """PySide6 asks of every module imported after it whether its source says "PySide6" (for
    its opt-in ``__feature__`` switches, which this app does not use) through
    ``inspect.getsource``: linecache, an encoding scan and the whole file kept in memory, for
    the ~100 modules the start imports (~12 ms of CPU before the first paint). The same
    question asked of the file's bytes; anything else goes to PySide's own check."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None:
        return

    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]  # a private hook


_lighten_feature_check()
