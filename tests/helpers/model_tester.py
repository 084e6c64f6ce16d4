"""pytest-qt's ``qtmodeltester`` with annotations: ``ModelTester.check`` has none."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from pytestqt.modeltest import ModelTester


def check_model(tester: ModelTester, model: QAbstractItemModel, *, force_py: bool = False) -> None:
    """Run Qt's model checks on ``model`` (``force_py``: pytest-qt's Python port of them)."""
    tester.check(model, force_py=force_py)  # type: ignore[no-untyped-call]
