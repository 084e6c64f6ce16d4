"""The Qt-free transport: REST client, live-events websocket, and the errors they raise.

See docs/net.md. Nothing here imports Qt, ui or server. The names below load on first use:
``errors`` and ``state`` are cheap, while ``api`` (httpx) and ``realtime`` (websockets) cost
~250 ms of imports, which the app spends only after its window has painted from the cache.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ApiClient, safe_filename
    from .errors import ApiError, IncompatibleServer, NetError, ServerUnreachable, TlsFailure
    from .realtime import RealtimeConnection
    from .state import Backoff, ConnectionState, Phase, ws_url_for
    from .tls import Verify, tls_context

_HOMES = {
    "ApiClient": "api",
    "safe_filename": "api",
    "ApiError": "errors",
    "IncompatibleServer": "errors",
    "NetError": "errors",
    "ServerUnreachable": "errors",
    "TlsFailure": "errors",
    "RealtimeConnection": "realtime",
    "Backoff": "state",
    "ConnectionState": "state",
    "Phase": "state",
    "ws_url_for": "state",
    "Verify": "tls",
    "tls_context": "tls",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "ApiClient",
    "ApiError",
    "Backoff",
    "ConnectionState",
    "IncompatibleServer",
    "NetError",
    "Phase",
    "RealtimeConnection",
    "ServerUnreachable",
    "TlsFailure",
    "Verify",
    "safe_filename",
    "tls_context",
    "ws_url_for",
]
