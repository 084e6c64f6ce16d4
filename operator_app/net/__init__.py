"""The Qt-free transport: REST client, live-events websocket, and the errors they raise.

See docs/net.md. Nothing here imports Qt, ui or server.
"""

from .api import ApiClient, safe_filename
from .errors import ApiError, IncompatibleServer, NetError, ServerUnreachable, TlsFailure
from .realtime import Backoff, ConnectionState, Phase, RealtimeConnection, ws_url_for
from .tls import Verify, tls_context

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
