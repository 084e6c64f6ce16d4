"""Render the screenshot set of docs/screenshots from the demo data, offscreen.

Usage: QT_QPA_PLATFORM=offscreen python docs/screenshots/make_screenshots.py [OUT_DIR]
(`make screenshots`). Produces the main window, the sign-in window and the transfer dialog in
Russian and English, light and dark (the sign-in window also set for a Chatwoot server), and
the supervisor console's four tabs in Russian, light and dark, over two weeks of history, and
a dialog the operator comes back to, with «Новые сообщения» where the unseen messages begin,
and the admin's Staff tab.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: tests' history

import qasync
import shiboken6
from PySide6.QtCore import QDate, QEvent
from PySide6.QtWidgets import QApplication, QWidget

from operator_app.app import DEMO_LOGIN, DEMO_PASSWORD, sign_in
from operator_app.core.service import DeskService, Section
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui import i18n, theme
from operator_app.ui.login import LoginDialog
from operator_app.ui.main_window import MainWindow
from operator_app.ui.supervisor.console import SupervisorConsole
from operator_app.ui.transfer import TransferDialog
from tests.ui.shell_helpers import address_of, customer_writes
from tests.ui.supervisor.history import busy_fortnight

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
VARIANTS = [("ru", "light"), ("ru", "dark"), ("en", "light"), ("en", "dark")]


async def settle(seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)


def save(widget: QWidget, name: str) -> None:
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


async def dispose(window: MainWindow, *others: QWidget) -> None:
    """Close and delete the windows now, as the app lets a window go: before its core is
    closed, and on this thread (left to the collector, one crashed the run at times)."""
    await window.runner.cancel_all()
    window.close()
    for widget in (window, *others):
        if shiboken6.isValid(widget):  # a console closed with WA_DeleteOnClose may be gone
            widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


async def shown_window(service: DeskService) -> MainWindow:
    """The main window at the screenshots' size, once the operator's dialogs are listed."""
    window = MainWindow(service)
    window.resize(1360, 820)
    window.show()
    for _ in range(100):
        if service.dialogs(Section.MINE):
            break
        await settle(0.05)
    return window


async def main_window_shots(app: QApplication, service: DeskService, lang: str, look: str) -> None:
    window = await shown_window(service)
    rows = service.dialogs(Section.MINE)
    for row in rows[:3]:
        window.open_dialog(row.dialog.id)
    await settle(1.0)
    tab = window.open_dialog(rows[0].dialog.id)
    tab.composer.setPlainText(
        "Добрый день! Уже проверяю ваш заказ."
        if lang == "ru"
        else "Hello! Checking your order now."
    )
    await settle(0.6)
    save(window, f"main-{lang}-{look}")

    transfer = TransferDialog(service, rows[0].dialog.id, window)
    transfer.show()
    await settle()
    save(transfer, f"transfer-{lang}-{look}")
    transfer.close()
    await dispose(window, transfer)


async def catch_up_shot(server: EmbeddedServer, service: DeskService) -> None:
    """A dialog the operator comes back to: «Новые сообщения» where the unseen ones begin.
    Taken last: the customer's messages stay on the demo server."""
    window = await shown_window(service)
    rows = service.dialogs(Section.MINE)
    behind = window.open_dialog(rows[0].dialog.id)
    await settle(1.0)
    window.open_dialog(rows[1].dialog.id)
    channel, address = await address_of(service, rows[0].dialog.id)
    for text in ("Заказ так и не пришёл", "Номер заказа 48213", "Подскажите, что делать?"):
        await customer_writes(server, channel, address, text)
    await settle(1.0)
    window.chat_tabs.setCurrentWidget(behind)
    await settle(0.6)
    save(window, "main-new-messages-ru-light")
    await dispose(window)


async def login_shot(lang: str, look: str) -> None:
    async def never(*_: object) -> DeskService:
        raise RuntimeError("not used")

    dialog = LoginDialog([], "", never, never, keyring_available=True)
    dialog.url_edit.setText("https://chat.example.com")
    dialog.login_edit.setText("anna")
    dialog.show()
    await settle()
    save(dialog, f"login-{lang}-{look}")
    dialog.close()
    await chatwoot_login_shot(lang, look)


async def chatwoot_login_shot(lang: str, look: str) -> None:
    """The sign-in window set for a Chatwoot server: account number and access token."""

    async def never(*_: object) -> DeskService:
        raise RuntimeError("not used")

    dialog = LoginDialog([], "", never, never, keyring_available=True)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("chatwoot"))
    dialog.url_edit.setText("https://chatwoot.example.com")
    dialog.account_spin.setValue(3)
    dialog.login_edit.setText("anna@example.com")
    dialog.password_edit.setText("x" * 24)
    dialog.show()
    await settle()
    save(dialog, f"login-chatwoot-{lang}-{look}")
    dialog.close()


async def supervisor_shots(service: DeskService, look: str) -> None:
    """The console's tabs as Olga sees them: live boards, three dialogs watched, the last two
    weeks' reports and the staffing helper over them."""
    window = MainWindow(service)
    console = window.open_supervisor_console()
    assert isinstance(console, SupervisorConsole)
    console.resize(1400, 860)
    await settle(1.5)
    save(console, f"supervisor-live-{look}")
    watched = [r.dialog.id for r in service.dialogs(Section.SUPERVISED) if r.dialog.assignee_id]
    for dialog_id in watched[:3]:
        console.open_monitor(dialog_id)
    await settle(1.5)
    save(console, f"supervisor-monitor-{look}")
    shown: list[bool] = []
    console.reports_shown.connect(lambda: shown.append(True))
    console.tabs.setCurrentWidget(console.reports)
    today = QDate.currentDate()
    console.reports.since_edit.setDate(today.addDays(-14))
    console.reports.until_edit.setDate(today)
    console.reports.show_button.click()
    for _ in range(100):
        if shown:
            break
        await settle(0.05)
    await settle(1.0)
    save(console, f"supervisor-reports-{look}")
    console.tabs.setCurrentWidget(console.staffing)
    await settle(0.6)
    save(console, f"supervisor-staffing-{look}")
    console.close()
    await dispose(window, console)


@asynccontextmanager
async def signed_in(
    server: EmbeddedServer, login: str = DEMO_LOGIN, password: str = DEMO_PASSWORD
) -> AsyncIterator[DeskService]:
    with tempfile.TemporaryDirectory() as cache_dir:
        service = await sign_in(server.url, login, password, demo=True, cache_dir=Path(cache_dir))
        try:
            yield service
        finally:
            await service.close()
            service.cache.close()


async def staff_shot(service: DeskService) -> None:
    """The admin's Staff tab, a colleague chosen."""
    window = MainWindow(service)
    console = window.open_supervisor_console()
    assert isinstance(console, SupervisorConsole) and console.staff is not None
    console.resize(1400, 860)
    console.tabs.setCurrentWidget(console.staff)
    for _ in range(100):
        if console.staff.model.rowCount():
            break
        await settle(0.05)
    anna = next(r.id for r in console.staff.model.rows() if r.login == DEMO_LOGIN)
    console.staff.select(anna)
    await settle(0.5)
    save(console, "supervisor-staff-light")
    console.close()
    await dispose(window, console)


async def run(app: QApplication) -> None:
    server = EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False)
    server.start()
    busy_fortnight(server)
    try:
        for look in ("light", "dark"):
            i18n.install_language("ru")
            theme.apply(app, look)
            async with signed_in(server, "olga") as service:
                await supervisor_shots(service, look)
        for lang, look in VARIANTS:
            i18n.install_language(lang)
            theme.apply(app, look)
            async with signed_in(server) as service:
                await main_window_shots(app, service, lang, look)
                await login_shot(lang, look)
        i18n.install_language("ru")
        theme.apply(app, "light")
        async with signed_in(server) as service:
            await catch_up_shot(server, service)
        async with signed_in(server, "admin", "admin") as service:
            await staff_shot(service)
    finally:
        server.stop()


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        loop.run_until_complete(run(app))
    finally:
        loop.close()  # joins qasync's executor threads: alive at exit, Qt aborts
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
