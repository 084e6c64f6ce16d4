from tests.ui.conftest import qloop

__all__ = ["qloop"]
