"""Build a DeskService for a profile: the one place that knows how the parts fit together.

The composition root (operator_app/app.py) may build the parts itself; this helper keeps TLS
settings (``ca_bundle``), the cache location and retention in one place.

Building a service imports no network library: ``ApiClient`` builds its httpx client at the
first request and the service imports websockets in ``start()``. The Chatwoot modules (which
import both) load only for a Chatwoot profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from operator_app.net.api import ApiClient
from operator_app.net.errors import NetError
from operator_app.protocol.enums import ErrorCode

from .cache import Cache, cache_path_for
from .credentials import CredentialStore
from .errors import ActionError, translate
from .profiles import ServerProfile
from .service import DeskService
from .settings import Settings

if TYPE_CHECKING:
    from operator_app.net.chatwoot.realtime import CatchUpState
    from operator_app.net.realtime import RealtimeConnection


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
    if profile.kind == "chatwoot":
        return _build_chatwoot(profile, settings or Settings(), cache_dir, credentials)
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


def _build_chatwoot(
    profile: ServerProfile,
    settings: Settings,
    cache_dir: Path | None,
    credentials: CredentialStore | None,
) -> DeskService:
    """The same service over Chatwoot: its REST API and its ActionCable, mapped (docs/chatwoot.md).

    The "password" of ``login`` is the user's Chatwoot access token; it goes to the keyring.
    """
    from operator_app.net.chatwoot import ChatwootApi, ChatwootRealtime

    if profile.account_id is None:
        raise ActionError(ErrorCode.BAD_REQUEST, "The Chatwoot profile needs its account id.")
    try:
        api = ChatwootApi(
            profile.base_url,
            profile.account_id,
            verify=profile.ca_bundle or True,
            require_tls=profile.base_url.startswith("https://"),
        )
    except NetError as exc:
        raise translate(exc) from exc
    cache = Cache.open(cache_path_for(profile.base_url, profile.login, cache_dir))

    def catch_up_state() -> CatchUpState:
        return chatwoot_catch_up_state(cache)

    def realtime(ws_url: str, **options: Any) -> RealtimeConnection:
        return ChatwootRealtime(ws_url, api=api, catch_up_state=catch_up_state, **options)

    return DeskService(
        profile=profile,
        cache=cache,
        api=api,
        realtime_factory=realtime,
        credentials=credentials,
        retention_days=settings.retention_days,
        retention_max_messages=settings.retention_max_messages,
    )


def chatwoot_catch_up_state(cache: Cache) -> CatchUpState:
    """What to re-fetch after a reconnect: dialogs updated since the newest one cached, and
    messages after the newest cached id of every open dialog or dialog with cached history."""
    from operator_app.net.chatwoot.realtime import CatchUpState

    rows = cache.conn.execute(
        "SELECT d.id, (SELECT max(m.server_id) FROM messages m WHERE m.dialog_id = d.id)"
        " FROM dialogs d WHERE d.state != 'closed' OR d.hist_from IS NOT NULL"
        " OR d.hist_complete = 1"
    )
    last_ids = {int(dialog_id): None if top is None else int(top) for dialog_id, top in rows}
    return CatchUpState(updated_since=cache.latest_dialog_update(), last_message_ids=last_ids)
