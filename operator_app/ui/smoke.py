"""The smoke check behind ``operator-app --smoke``: connect, open a dialog, send, see it sent."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import uuid
from collections.abc import Callable

from operator_app.core.connection import Phase
from operator_app.core.service import DeliveryState, Section

from .main_window import MainWindow


class SmokeFailure(Exception):
    pass


async def _wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def run_smoke(window: MainWindow, timeout: float = 30.0) -> int:
    """Return 0 when the whole slice works, 1 with a reason on stderr otherwise."""
    service = window.service
    try:
        if gc.isenabled():  # app.main's LoopCollector: never a Qt object freed off this thread
            raise SmokeFailure("the cycle collector may run on the embedded server's threads")
        await _wait(
            lambda: service.connection.phase == Phase.ONLINE, timeout, "the live connection"
        )
        await _wait(lambda: service.dialogs(Section.MINE), timeout, "my dialogs")
        dialog_id = service.dialogs(Section.MINE)[0].dialog.id
        tab = window.open_dialog(dialog_id)
        text = f"smoke check {uuid.uuid4().hex[:8]}"
        tab.composer.setPlainText(text)
        tab.submit()
        rows = [r for r in service.messages(dialog_id, limit=50) if r.text == text]
        if not rows:
            raise SmokeFailure("the sent message did not appear in the timeline")
        key = rows[0].key

        def sent() -> bool:
            row = next((r for r in service.messages(dialog_id, limit=50) if r.key == key), None)
            if row is not None and row.state == DeliveryState.FAILED:
                raise SmokeFailure(f"the server refused the message: {row.error}")
            return row is not None and row.state == DeliveryState.SENT

        await _wait(sent, timeout, "the message to be acknowledged as sent")
        shown = tab.model.row_of_key(key)
        if shown < 0 or tab.model.message_at(shown).state != DeliveryState.SENT:
            raise SmokeFailure("the timeline does not show the message as sent")
    except SmokeFailure as failure:
        print(f"smoke: FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"smoke: OK (dialog #{dialog_id}, message {key} sent)")
    return 0
