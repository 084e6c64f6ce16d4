"""The live connection's state as the core exposes it to the UI (which never imports net)."""

from operator_app.net.state import ConnectionState, Phase

__all__ = ["ConnectionState", "Phase"]
