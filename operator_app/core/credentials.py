"""The session token lives in the OS keyring, one service name per server; never in a file.

``keyring`` (~40 ms of imports, plus the backend probe) loads at the first token read, not
with the module: the app paints its window from the cache before it needs the token.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from operator_app import APP_ID

from .changes import NO_KEYRING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

# Backends that store nothing, or store it in plain files: we refuse them.
_UNUSABLE_BACKENDS = frozenset(
    {
        "keyring.backends.fail.Keyring",
        "keyring.backends.null.Keyring",
        "keyrings.alt.file.PlaintextKeyring",
        "keyrings.alt.file.EncryptedKeyring",
    }
)


def service_name(base_url: str) -> str:
    return f"{APP_ID}:{base_url.rstrip('/')}"


def _usable(backend: KeyringBackend) -> bool:
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name in _UNUSABLE_BACKENDS:
        return False
    inner = getattr(backend, "backends", None)  # the chainer: usable if any link is
    if inner is not None:
        return any(_usable(link) for link in inner)
    return True


class CredentialStore:
    """get/set/delete the token of one login on one server.

    When no usable keyring exists (headless Linux without Secret Service), ``available`` is
    False, nothing is stored, and the app must ask for the password at each start.
    """

    def __init__(self, base_url: str, backend: KeyringBackend | None = None) -> None:
        self.service = service_name(base_url)
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        import keyring

        return keyring.get_keyring()

    @property
    def available(self) -> bool:
        return _usable(self.backend)

    @property
    def backend_name(self) -> str:
        backend = self.backend
        return str(getattr(backend, "name", type(backend).__name__))

    def unavailable_reason(self) -> str:
        return NO_KEYRING

    def get_token(self, login: str) -> str | None:
        if not self.available:
            return None
        from keyring.errors import KeyringError

        try:
            return self.backend.get_password(self.service, login)
        except KeyringError as exc:
            log.warning("keyring %s cannot read the token: %s", self.backend_name, exc)
            return None

    def set_token(self, login: str, token: str) -> bool:
        """True when stored; False when there is no usable keyring (the token stays in memory)."""
        if not self.available:
            return False
        from keyring.errors import KeyringError

        try:
            self.backend.set_password(self.service, login, token)
        except KeyringError as exc:
            log.warning("keyring %s cannot store the token: %s", self.backend_name, exc)
            return False
        return True

    def delete_token(self, login: str) -> None:
        if not self.available:
            return
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self.backend.delete_password(self.service, login)
        except PasswordDeleteError:
            pass  # nothing stored: already logged out
        except KeyringError as exc:
            log.warning("keyring %s cannot delete the token: %s", self.backend_name, exc)
