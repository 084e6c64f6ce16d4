"""The wire contract shared by the client and the server. Imports nothing else of ours.

The submodules load on first use (``from operator_app.protocol import events`` or
``protocol.events``): importing one of them does not build the others' pydantic models.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import enums, errors, events, limits, models, reports, routes

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
_SUBMODULES = frozenset({"enums", "errors", "events", "limits", "models", "reports", "routes"})


def compatible(client_version: int) -> bool:
    return MIN_PROTOCOL_VERSION <= client_version <= PROTOCOL_VERSION


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MIN_PROTOCOL_VERSION",
    "PROTOCOL_VERSION",
    "compatible",
    "enums",
    "errors",
    "events",
    "limits",
    "models",
    "reports",
    "routes",
]
