"""The start sequence: the main window paints the cached dialogs before the network stack and
the wire models (pydantic) load.

The cold-start figure (docs/performance.md) rests on this order, so it is asserted here as
structure, not as time: a fresh process opens a cache that a real session filled, builds the
window the way the app does, and records at the dialog list's first paint which network
libraries and wire models are loaded, what the connection says and whether the last session's
tabs (saved in the settings) were built. Then the same process must go online with those tabs
reopened.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from operator_app.app import sign_in
from operator_app.core.connection import Phase
from operator_app.core.service import Section
from operator_app.core.settings import load_settings, save_settings
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.main_window import FIRST_SCREEN_ROWS
from operator_app.ui.session_state import encode_tabs
from tests.helpers.qt_async import wait_until

# Loaded only after the first paint: httpx (REST), websockets (live events), keyring (token),
# and our modules that import them.
NETWORK = [
    "httpx",
    "websockets",
    "keyring",
    "operator_app.net.realtime",
    "operator_app.net.chatwoot",
]

# Loaded when first used, not for the first paint: the chat tab machinery, the transfer and
# close forms, the supervisor console's facade.
LATER = [
    "operator_app.ui.chat_tab",
    "operator_app.ui.timeline",
    "operator_app.ui.transfer",
    "operator_app.ui.close_dialog",
    "operator_app.core.supervision",
]

# Loaded after the first paint too: pydantic and the wire models (~70 ms of imports and class
# building). The list, ``me`` and the core read plain rows and enums (core/rows.py,
# protocol/enums.py); the sync engine and the outbox, which need the models, are built at
# start(); the templates panel fills in finish_start.
WIRE = [
    "pydantic",
    "operator_app.protocol.models",
    "operator_app.protocol.events",
    "operator_app.protocol.errors",
    "operator_app.core.sync",
    "operator_app.core.outbox",
]

FRESH_START = r"""
import asyncio, json, os, sys, time

import qasync
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

NETWORK = json.loads(os.environ["START_NETWORK"])
LATER = json.loads(os.environ["START_LATER"])
WIRE = json.loads(os.environ["START_WIRE"])


async def start() -> dict:
    from operator_app.app import build_main_window, show_then_start
    from operator_app.core.bootstrap import build_service
    from operator_app.core.profiles import ServerProfile

    profile = ServerProfile(name="test", base_url=os.environ["START_URL"], login="anna")
    service = build_service(profile)
    service.api.token = os.environ["START_TOKEN"]  # the keyring's part, read after the paint
    window = build_main_window(service)
    seen: dict = {}

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "rows" not in seen:
                seen["rows"] = window.dialog_view.model().rowCount()
                seen["rows_read"] = window.dialog_view.model().rows_read()
                seen["phase"] = service.connection.phase.value
                seen["loaded"] = [name for name in NETWORK if name in sys.modules]
                seen["later"] = [name for name in LATER if name in sys.modules]
                seen["wire"] = [name for name in WIRE if name in sys.modules]
                seen["templates"] = window.templates_panel.model.rowCount()
                seen["tabs"] = list(window.tabs_by_dialog)
            return False

    watch = FirstPaint()
    window.dialog_view.viewport().installEventFilter(watch)
    await show_then_start(window, service)
    deadline = time.monotonic() + 30
    while service.connection.phase.value != "online" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    seen["then"] = service.connection.phase.value
    seen["loaded_then"] = [name for name in NETWORK if name in sys.modules]
    seen["tabs_then"] = list(window.tabs_by_dialog)
    seen["wire_then"] = [name for name in WIRE if name in sys.modules]
    seen["templates_then"] = len(window.templates_panel.visible_templates())
    seen["rows_read_then"] = window.dialog_view.model().rows_read()
    seen["rows_then"] = window.dialog_view.model().rowCount()
    current = window.current_tab()
    seen["current_then"] = None if current is None else current.dialog_id
    window.close()
    await window.runner.cancel_all()
    await service.close()
    service.cache.close()
    return seen


app = QApplication(sys.argv[:1])
app.setQuitOnLastWindowClosed(False)  # as the app does: the loop ends the process, not Qt
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
print("RESULT " + json.dumps(loop.run_until_complete(start())), flush=True)
"""


def test_the_window_paints_from_the_cache_before_the_network_loads(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:

        async def fill_the_cache() -> tuple[str, list[int]]:
            service = await sign_in(server.url, "anna", "demo", demo=True)
            try:
                await wait_until(lambda: service.connection.phase == Phase.ONLINE, what="online")
                await wait_until(lambda: bool(service.dialogs(Section.MINE)), what="mine cached")
                token = service.api.token
                assert token
                return token, [row.dialog.id for row in service.dialogs(Section.MINE)[:2]]
            finally:
                await service.close()
                service.cache.close()

        token, tabs = qloop.run_until_complete(fill_the_cache())
        settings = load_settings()  # the last session left two tabs open, the second current
        settings.window_state["tabs:test:anna"] = encode_tabs(tabs, tabs[1])
        save_settings(settings)
        env = dict(
            os.environ,
            START_URL=server.url,
            START_TOKEN=token,
            START_NETWORK=json.dumps(NETWORK),
            START_LATER=json.dumps(LATER),
            START_WIRE=json.dumps(WIRE),
            QT_QPA_PLATFORM="offscreen",
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        done = subprocess.run(
            [sys.executable, "-c", FRESH_START],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the fresh start failed:\n{done.stderr[-3000:]}"
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    assert seen["rows"] > 0  # the cached dialogs are in the first paint
    # of which only a screenful was read (parsed) for it, the rest right after it
    assert seen["rows_read"] == min(seen["rows"], FIRST_SCREEN_ROWS)
    assert seen["rows_read_then"] == seen["rows_then"]
    assert seen["loaded"] == []  # and nothing of the network stack was imported for it
    assert seen["later"] == []  # nor what only a tab, a form or the console needs
    assert seen["wire"] == []  # nor pydantic and the wire models: plain rows and enums
    assert seen["templates"] == 0  # the templates panel fills right after the paint
    assert seen["phase"] == "connecting"  # not "offline" while the network starts
    assert seen["tabs"] == []  # the saved tabs reopen after the first paint,
    assert seen["tabs_then"] == tabs and seen["current_then"] == tabs[1]  # all of them
    assert seen["then"] == "online"
    assert "httpx" in seen["loaded_then"] and "websockets" in seen["loaded_then"]
    assert seen["wire_then"] == WIRE
    assert seen["templates_then"] > 0  # the demo's templates, from the cache
