"""UI tests run coroutines on one qasync loop per test, against the real embedded backend."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from operator_app.core.heap import LoopCollector
from operator_app.ui.i18n import install_language


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)  # closing a window must not stop the loop
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    collector = LoopCollector(loop)  # as the app: cycles are collected on this thread only
    collector.start()
    yield loop
    collector.stop()  # frees the test's windows now, here, and gives collection back
    # Run the pending deleteLater()s now, while the loop and the test's objects still exist;
    # left for pytest-qt's event processing before the next test, they crashed it.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def russian(qapp: QApplication) -> Iterator[None]:
    """The UI in Russian, as the seed market's operators work, and English again after."""
    assert install_language("ru")
    yield
    install_language("en")
