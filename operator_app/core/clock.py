"""Times the cache's sections depend on; apart from ``sync`` so the first paint's list read
does not load the sync engine (and with it the wire events)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_midnight(now: datetime) -> datetime:
    """Start of the operator's local day, for "closed today"."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
