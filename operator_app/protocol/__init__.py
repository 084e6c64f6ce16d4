"""The wire contract shared by the client and the server. Imports nothing else of ours."""

from . import errors, events, limits, models, reports, routes

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1


def compatible(client_version: int) -> bool:
    return MIN_PROTOCOL_VERSION <= client_version <= PROTOCOL_VERSION


__all__ = [
    "MIN_PROTOCOL_VERSION",
    "PROTOCOL_VERSION",
    "compatible",
    "errors",
    "events",
    "limits",
    "models",
    "reports",
    "routes",
]
