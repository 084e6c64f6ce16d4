"""Who may do what, as the client decides what to show (the server checks every call anyway).

Apart from ``supervision`` so that the main window can ask at start without loading the
console's facade (reports, staffing, CSV: ~17 ms of imports before the first paint).
"""

from __future__ import annotations

from operator_app.protocol.enums import Role

from .rows import OperatorInfo

SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def may_supervise(operator: OperatorInfo | None) -> bool:
    """The client-side role check: only supervisors and admins see the console."""
    return operator is not None and operator.role in SUPERVISOR_ROLES
