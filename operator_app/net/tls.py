"""TLS settings shared by the REST client and the websocket, and plain words for failures."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

from .errors import TlsFailure

# Set ``verify`` to one of these: a ready context, a CA bundle path, True (system CAs) or False.
Verify = ssl.SSLContext | str | bool


def tls_context(verify: Verify) -> ssl.SSLContext:
    """The SSL context for ``verify``; a CA bundle that cannot be read raises ``TlsFailure``."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise TlsFailure(f"cannot load the CA bundle {verify!r}: {exc}") from exc


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from, newest first (cycles cut)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def tls_failure_from(exc: BaseException, host: str) -> TlsFailure | None:
    """A ``TlsFailure`` if ``exc`` was caused by a certificate or handshake problem.

    An EOF in the middle of a handshake is a dropped connection, not a TLS problem.
    """
    for cause in causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or cause.reason or str(cause)
            return TlsFailure(f"the TLS certificate of {host} is not trusted: {why}")
        if isinstance(cause, ssl.SSLZeroReturnError | ssl.SSLEOFError):
            return None
        if isinstance(cause, ssl.SSLError):
            why = cause.reason or str(cause)
            hint = " (does the server speak plain HTTP?)" if "WRONG_VERSION" in why else ""
            return TlsFailure(f"the TLS handshake with {host} failed: {why}{hint}")
    return None


# The fixed reasons below: the UI translates them (ui/problems.py, NETWORK_REASONS).
REFUSED = "connection refused"
RESET = "connection reset"
HOST_NOT_FOUND = "host not found"
TIMED_OUT = "timed out"
UNREACHABLE = "network unreachable"
NETWORK_REASONS = (REFUSED, RESET, HOST_NOT_FOUND, TIMED_OUT, UNREACHABLE)


def describe_network_error(exc: BaseException) -> str:
    """A short human reason for a transport failure: one of ``NETWORK_REASONS`` when the
    cause is known, else the exception's own words."""
    for cause in causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return REFUSED
        if isinstance(cause, ConnectionResetError):
            return RESET
        if isinstance(cause, socket.gaierror):
            return HOST_NOT_FOUND
        if isinstance(cause, TimeoutError):
            return TIMED_OUT
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return UNREACHABLE
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__
