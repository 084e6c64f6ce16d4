"""PyInstaller runtime hook: let the bundled OpenSSL find the system's CA certificates.

The bundle carries the build host's libssl, which looks for CAs where the build host keeps
them (Debian: /usr/lib/ssl). Elsewhere (Fedora, openSUSE, macOS) that directory does not exist
and every https:// and wss:// connection would fail verification. Before the app starts, point
OpenSSL at the CA bundle this system actually has, or at certifi's as a last resort. An
SSL_CERT_FILE or SSL_CERT_DIR set by the user always wins.
"""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Iterable, Mapping

# where distributions keep their PEM bundle of trusted CAs
SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL (extracted)
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, FreeBSD
)


def _has_certificates(directory: str) -> bool:
    try:
        with os.scandir(directory) as entries:
            return any(entries)
    except OSError:
        return False


def ca_file_to_use(
    environ: Mapping[str, str],
    defaults: ssl.DefaultVerifyPaths,
    candidates: Iterable[str],
    fallback: str | None,
) -> str | None:
    """The CA file OpenSSL should be told about, or None when its defaults already work."""
    if environ.get("SSL_CERT_FILE") or environ.get("SSL_CERT_DIR"):
        return None
    if os.path.isfile(defaults.openssl_cafile) or _has_certificates(defaults.openssl_capath):
        return None
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    return fallback


def _certifi_bundle() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def _install() -> None:
    if sys.platform == "win32":
        return  # Python reads the Windows certificate store itself
    chosen = ca_file_to_use(
        os.environ, ssl.get_default_verify_paths(), SYSTEM_CA_FILES, _certifi_bundle()
    )
    if chosen is not None:
        os.environ["SSL_CERT_FILE"] = chosen


if getattr(sys, "frozen", False):
    _install()
