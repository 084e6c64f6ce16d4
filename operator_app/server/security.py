"""Password hashing (argon2), opaque tokens stored hashed, channel secrets, login rate limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Light parameters keep the embedded demo server snappy on a laptop; still memory-hard.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the login is unknown, so timing does not reveal which logins exist.
_DUMMY_HASH = _hasher.hash("no such operator")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Tokens and channel secrets are stored as sha256: they are random, so no salt is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def demo_channel_secret(channel: str) -> str:
    """Demo mode only: a documented, deterministic secret so `simulate` finds it."""
    return f"demo-{channel}-secret"


class LoginRateLimiter:
    """Counts failed logins in a sliding window, per login and per client address."""

    def __init__(
        self, *, per_login: int = 5, per_address: int = 30, window_seconds: float = 60.0
    ) -> None:
        self.per_login = per_login
        self.per_address = per_address
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, login: str, address: str) -> float:
        """Seconds to wait before another attempt is allowed; 0 when allowed now."""
        now = time.monotonic()
        with self._lock:
            waits = [
                self._wait(f"login:{login.lower()}", self.per_login, now),
                self._wait(f"addr:{address}", self.per_address, now),
            ]
        return max(waits)

    def failed(self, login: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"login:{login.lower()}", f"addr:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, login: str) -> None:
        with self._lock:
            self._failures.pop(f"login:{login.lower()}", None)

    def _wait(self, key: str, limit: int, now: float) -> float:
        stamps = self._failures.get(key)
        if not stamps:
            return 0.0
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return 0.0
        if len(stamps) < limit:
            return 0.0
        return stamps[0] + self.window - now
