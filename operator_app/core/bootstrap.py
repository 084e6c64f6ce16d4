"""Build a DeskService for a profile: the one place that knows how the parts fit together.

The composition root (operator_app/app.py) may build the parts itself; this helper keeps TLS
settings (``ca_bundle``), the cache location and retention in one place.
"""

from __future__ import annotations

from pathlib import Path

from operator_app.net.api import ApiClient
from operator_app.net.errors import NetError
from operator_app.protocol.errors import ErrorCode

from .cache import Cache, cache_path_for
from .credentials import CredentialStore
from .errors import ActionError, translate
from .profiles import ServerProfile
from .service import DeskService
from .settings import Settings


def build_service(
    profile: ServerProfile,
    *,
    settings: Settings | None = None,
    cache_dir: Path | None = None,
    credentials: CredentialStore | None = None,
) -> DeskService:
    """A ready, not yet started service. Then: ``login(password)`` if ``needs_login`` after
    ``start()``, or before it when there is no stored token.

    Raises ``ActionError`` for a profile this build cannot serve and ``OfflineError`` for TLS
    setup problems (an unreadable CA bundle); ``CacheError`` when the cache directory is
    unusable (not writable, disk full).
    """
    if profile.kind != "operator-desk":
        raise ActionError(ErrorCode.BAD_REQUEST, f"{profile.kind} servers are not supported yet.")
    settings = settings or Settings()
    try:
        api = ApiClient(
            profile.base_url,
            verify=profile.ca_bundle or True,
            require_tls=profile.base_url.startswith("https://"),
        )
    except NetError as exc:
        raise translate(exc) from exc
    cache = Cache.open(cache_path_for(profile.base_url, profile.login, cache_dir))
    return DeskService(
        profile=profile,
        cache=cache,
        api=api,
        credentials=credentials,
        retention_days=settings.retention_days,
        retention_max_messages=settings.retention_max_messages,
    )
