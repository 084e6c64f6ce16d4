"""The supervisor console (supervisors and admins only): boards, monitor, reports, staffing."""

from .console import SupervisorConsole

__all__ = ["SupervisorConsole"]
