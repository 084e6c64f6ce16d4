"""ui layer, see ARCHITECTURE.md."""

import ctypes
import sys

from PySide6 import __version__ as _pyside_version

# pyproject.toml excludes 6.12.0; this guards an environment that has it anyway.
if sys.version_info < (3, 12) and _pyside_version == "6.12.0":
    # PySide6 6.12.0 returns None (void methods) and True/False (Signal.emit) without a new
    # reference, so each call drains a singleton's refcount until CPython aborts with
    # "none_dealloc" / "bool_dealloc": after ~1,000 emits, or minutes of painting
    # (benchmarks/: 20 tabs, and live events, crashed). 3.12+ makes them immortal; on 3.11
    # give them a reference count no session can spend.
    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40
