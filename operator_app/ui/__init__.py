"""ui layer, see ARCHITECTURE.md."""

import ctypes
import sys

if sys.version_info < (3, 12):
    # PySide6 6.12.0 returns None from void methods without a new reference, so each call
    # drains None's refcount until CPython aborts ("none_dealloc") after some minutes of
    # painting (benchmarks/: 20 tabs crash). 3.12+ makes None immortal; on 3.11 give it a
    # reference count no session can spend.
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
