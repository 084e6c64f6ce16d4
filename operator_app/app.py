"""The composition root: builds server (demo), net, core and ui, runs them on one qasync loop.

The only module that may import every layer. One loop, one way out: the app ends when the main
window closes (or the smoke check finishes); then the core closes its connections and the
embedded backend stops.

Start sequence: open the cache, build the main window and paint it from the cache (saying
"connecting"), and only then start the network (``DeskService.start()``, which imports
websockets and reads the keyring; httpx loads at the first request). The network stack costs
~300 ms of imports that the operator no longer waits for (docs/performance.md).

Signed-in start: when "Remember me" stored the last profile's token (``remembered_profile``
in the settings), the app opens straight into that workspace; the token is read after the
first paint. A refused token (or none left in the keyring) ends in the sign-in window with a
message; an unreachable server leaves the workspace offline, the outbox kept in the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from operator_app import APP_ID, APP_NAME, __version__
from operator_app.core.heap import LoopCollector

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from operator_app.core.changes import Change
    from operator_app.core.profiles import ServerProfile
    from operator_app.core.service import DeskService
    from operator_app.core.settings import Settings
    from operator_app.server.embedded import EmbeddedServer
    from operator_app.ui.main_window import MainWindow

logger = logging.getLogger("operator_app")

DEMO_LOGIN = "anna"
DEMO_PASSWORD = "demo"
DEMO_SIMULATE_RATE = 0.05  # a new customer message every ~20 s across the demo dialogs
# The network starts after the main window's first paint, or after this long without one
# (a window that starts minimized or on a screen that never exposes it still goes online).
FIRST_PAINT_WAIT = 1.0


@dataclass
class Options:
    demo: bool
    smoke: bool
    server: str
    login: str
    password: str
    language: str
    theme: str
    simulate_rate: float
    smoke_timeout: float


def parse_args(argv: list[str] | None) -> Options | None:
    parser = argparse.ArgumentParser(prog="operator-app", description=APP_NAME)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--demo", action="store_true", help="start the embedded demo backend")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="start the demo, open a dialog, send a message, check it was sent, exit 0",
    )
    parser.add_argument("--server", default="", help="server URL (default: the last profile)")
    parser.add_argument("--login", default="", help="login on that server")
    parser.add_argument("--lang", dest="language", default="", choices=["", "ru", "en"])
    parser.add_argument("--theme", default="", choices=["", "system", "light", "dark"])
    parser.add_argument("--simulate-rate", type=float, default=DEMO_SIMULATE_RATE)
    parser.add_argument("--smoke-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.version:
        print(f"operator-app {__version__}")
        return None
    return Options(
        demo=args.demo or args.smoke,
        smoke=args.smoke,
        server=args.server,
        login=args.login,
        password=os.environ.get("OPERATOR_DESK_PASSWORD", ""),
        language=args.language,
        theme=args.theme,
        simulate_rate=args.simulate_rate,
        smoke_timeout=args.smoke_timeout,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options is None:
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if options.smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)  # matches packaging/linux/operator-desk.desktop
    app.setQuitOnLastWindowClosed(False)  # the app ends through run(), see show_main_window
    # A loop of our own rather than qasync.run: on Python 3.11 that installs a process-wide
    # policy, and the embedded backend's thread would then get a Qt loop too.
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    collector = LoopCollector(loop)  # Qt objects are freed on this thread only: core/heap.py
    collector.start()
    try:
        code: int = loop.run_until_complete(run(app, options))
        return code
    except KeyboardInterrupt:
        return 130
    finally:
        collector.stop()
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


async def run(app: QApplication, options: Options) -> int:
    """Set up everything, show the window, and wait until the operator closes it."""
    from operator_app.core.errors import ActionError, OfflineError
    from operator_app.core.settings import load_settings

    settings = load_settings()
    prepare_ui(app, settings, language=options.language, theme=options.theme)
    launcher = Launcher(options)
    try:
        if options.demo:
            service = await launcher.start_demo()
        elif options.server and options.login and options.password:
            service = await launcher.sign_in(options.server, options.login, options.password)
        elif (remembered := open_remembered(settings)) is not None:
            service = remembered  # "Remember me": straight into the workspace
        else:
            chosen = await ask_to_sign_in(launcher, message=remembered_in_use(settings))
            if chosen is None:
                return 0
            service = chosen
        while True:
            service.settle_heap_online = True  # core/heap.py: the app only, never tests
            code, reason = await show_main_window(app, service, options)
            if reason == "quit" or options.smoke:
                return code
            if reason == "language":  # the same session, in the window built again
                continue
            # After "log out", or when the server refused the session: sign in again.
            chosen = await ask_to_sign_in(launcher, message=exit_message(reason))
            if chosen is None:
                return 0
            service = chosen
    except (ActionError, OfflineError) as failure:
        from operator_app.ui.login import explain

        print(f"operator-app: cannot sign in: {explain(failure)}", file=sys.stderr)
        return 2
    finally:
        await launcher.close()


def prepare_ui(
    app: QApplication, settings: Settings, *, language: str = "", theme: str = ""
) -> None:
    """Language and theme (the command line's, else the settings'), before any window."""
    from operator_app.ui import i18n
    from operator_app.ui import theme as themes

    i18n.install_language(language or i18n.language_for(settings.language))
    themes.apply(app, theme or settings.theme, settings.font_size)


def open_remembered(settings: Settings, *, cache_dir: Path | None = None) -> DeskService | None:
    """The last profile's session when "Remember me" kept its token: its cache opened, the
    service not started. None (the sign-in window) otherwise.

    The keyring is not read here: its first read costs ~0.4 s (backend discovery), so
    ``DeskService.start()`` reads the token after the window's first paint, and
    ``show_main_window`` returns to the sign-in window when there is none or the server
    refuses it.
    """
    from operator_app.core.bootstrap import build_service
    from operator_app.core.cache import CacheError, CacheInUse
    from operator_app.core.errors import ActionError, OfflineError

    profile = remembered_profile(settings)
    if profile is None:
        return None
    try:
        return build_service(profile, settings=settings, cache_dir=cache_dir)
    except CacheInUse as exc:  # the operator's other window: the sign-in window says so
        logger.info("the remembered profile %s is open elsewhere: %s", profile.name, exc)
        return None
    except (ActionError, OfflineError, CacheError) as exc:
        logger.warning("cannot open the remembered profile %s: %s", profile.name, exc)
        return None


def remembered_profile(settings: Settings) -> ServerProfile | None:
    """The last profile, when "Remember me" was on for it."""
    profile = settings.profile(settings.last_profile)
    if profile is None or not profile.login or settings.remembered_profile != profile.name:
        return None
    return profile


def remembered_in_use(settings: Settings, *, cache_dir: Path | None = None) -> str:
    """Why the remembered profile did not open when another app window holds its cache (the
    sign-in window says it at once), else ""."""
    from operator_app.core.cache import CacheInUse, cache_path_for, in_use

    profile = remembered_profile(settings)
    if profile is None:
        return ""
    path = cache_path_for(profile.base_url, profile.login, cache_dir)
    if not path.exists() or not in_use(path):
        return ""
    from operator_app.ui.login import explain

    return explain(CacheInUse(path.name))


def remember_session(profile_name: str | None) -> None:
    """Record which profile starts signed in next time (None: none, e.g. after log out)."""
    from operator_app.core.settings import load_settings, save_settings

    settings = load_settings()
    name = profile_name or ""
    if settings.remembered_profile != name:
        settings.remembered_profile = name
        save_settings(settings)


def exit_message(reason: str) -> str:
    """What the sign-in window says after the main window closed for ``reason``."""
    from operator_app.ui.login import why_sign_in_again

    return why_sign_in_again(reason)


class Launcher:
    """Owns what a session needs besides the core: the demo backend and its throwaway cache."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.server: EmbeddedServer | None = None
        self._demo_dir: tempfile.TemporaryDirectory[str] | None = None

    async def start_demo(self) -> DeskService:
        from operator_app.server.embedded import EmbeddedServer

        if self.server is None:
            server = EmbeddedServer(
                demo=True, simulate_rate=self.options.simulate_rate, reply_to_operators=True
            )
            await asyncio.get_running_loop().run_in_executor(None, server.start)
            logger.info("embedded demo backend at %s", server.url)
            self.server = server
            self._demo_dir = tempfile.TemporaryDirectory(prefix="operator-desk-demo-")
        cache_dir = Path(self._demo_dir.name) if self._demo_dir else None
        return await sign_in(
            self.server.url,
            DEMO_LOGIN,
            DEMO_PASSWORD,
            demo=True,
            cache_dir=cache_dir,
            start=False,  # show_main_window starts it after the first paint
        )

    async def sign_in(
        self,
        url: str,
        login: str,
        password: str,
        *,
        remember: bool = True,
        ca_bundle: str | None = None,
    ) -> DeskService:
        return await sign_in(
            url, login, password, demo=False, remember=remember, ca_bundle=ca_bundle, start=False
        )

    async def close(self) -> None:
        if self.server is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.server.stop)
            self.server = None
        if self._demo_dir is not None:
            self._demo_dir.cleanup()
            self._demo_dir = None


async def sign_in(
    url: str,
    login: str,
    password: str,
    *,
    demo: bool,
    cache_dir: Path | None = None,
    remember: bool = True,
    ca_bundle: str | None = None,
    start: bool = True,
) -> DeskService:
    """Sign in to our own backend at ``url``; see ``sign_in_profile``."""
    from operator_app.core.profiles import ServerProfile

    profile = ServerProfile(
        name="Demo" if demo else url, base_url=url, login=login, ca_bundle=ca_bundle
    )
    return await sign_in_profile(
        profile, password, cache_dir=cache_dir, remember=remember, always_login=demo, start=start
    )


async def sign_in_profile(
    profile: ServerProfile,
    password: str,
    *,
    cache_dir: Path | None = None,
    remember: bool = True,
    always_login: bool = False,
    start: bool = True,
) -> DeskService:
    """Open the cache, log in unless the keyring holds a token, and start the core (unless
    ``start`` is False: the app starts it after the main window's first paint).

    ``password`` is the Chatwoot access token for a Chatwoot profile. Raises the core's
    ActionError / OfflineError when the server refuses or cannot be reached.
    """
    from operator_app.core.bootstrap import build_service
    from operator_app.core.settings import load_settings

    service = build_service(profile, settings=load_settings(), cache_dir=cache_dir)
    cache = service.cache
    login = profile.login
    if always_login or password or service.credentials.get_token(login) is None:
        try:
            await service.login(password)
        except BaseException:
            await service.close()
            cache.close()
            raise
        if not remember:
            service.credentials.delete_token(login)
    if start:
        await service.start()
    return service


async def ask_to_sign_in(launcher: Launcher, *, message: str = "") -> DeskService | None:
    """Show the sign-in window without a nested event loop; None when the operator cancels.

    ``message`` is shown in it at once (why the operator must sign in again)."""
    from operator_app.core.credentials import CredentialStore
    from operator_app.core.settings import load_settings, save_settings
    from operator_app.ui.login import Credentials, LoginDialog

    settings = load_settings()

    async def attempt(credentials: Credentials) -> DeskService:
        profile = credentials.profile
        service = await sign_in_profile(
            profile, credentials.password, remember=credentials.remember, start=False
        )
        settings.profiles = [p for p in settings.profiles if p.name != profile.name] + [profile]
        settings.last_profile = profile.name
        stored = credentials.remember and service.credentials.get_token(profile.login)
        settings.remembered_profile = profile.name if stored else ""
        save_settings(settings)
        return service

    available = CredentialStore("https://probe.invalid").available
    dialog = LoginDialog(
        settings.profiles,
        settings.last_profile,
        attempt,
        launcher.start_demo,
        available,
        message=message,
    )
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda code: None if finished.done() else finished.set_result(code))
    dialog.show()
    await finished
    return dialog.service


async def show_main_window(
    app: QApplication, service: DeskService, options: Options
) -> tuple[int, str]:
    """Run the main window until it closes; returns the exit code and why it closed."""
    window = build_main_window(service)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.aboutToQuit.connect(closed.set)
    unsubscribe = service.subscribe(leave_when_refused(window, service))
    code = 0
    try:
        await show_then_start(window, service)
        if session_refused(service):  # no token in the keyring: nothing to wait for
            leave(window, "session_ended")
        if options.smoke:
            from operator_app.ui.smoke import run_smoke

            code = await run_smoke(window, timeout=options.smoke_timeout)
        else:
            await closed.wait()
    finally:
        unsubscribe()
        await window.runner.cancel_all()
        window.close()
        if window.exit_reason in ("logout", "wipe"):
            await service.logout()
        if window.exit_reason in ("logout", "wipe", "session_ended"):
            remember_session(None)
        if window.exit_reason != "language":  # else the next window goes on with the session
            await service.close()
            if window.exit_reason == "wipe":
                service.wipe_cache()
            else:
                service.cache.close()
    return code, window.exit_reason


def session_refused(service: DeskService) -> bool:
    """The server refused the session (or there is no token to offer): sign in again.

    The core has dropped a refused token already (``needs_login``); unsent messages stay in
    the cache's outbox and go out after the next sign-in to the same profile."""
    from operator_app.net.errors import ApiError
    from operator_app.net.state import Phase
    from operator_app.protocol.errors import ErrorCode

    state = service.connection
    return (
        service.needs_login
        and state.phase is Phase.OFFLINE
        and isinstance(state.error, ApiError)
        and state.error.code == ErrorCode.UNAUTHORIZED
    )


def leave_when_refused(window: MainWindow, service: DeskService) -> Callable[[Change], None]:
    """A change listener that closes the window (reason "session_ended") once the server
    refuses the session; an unreachable server keeps it open, offline."""
    from operator_app.core.changes import ConnectionChanged

    def on_change(change: Change) -> None:
        if isinstance(change, ConnectionChanged) and session_refused(service):
            # Not from inside the core's notification: the window tears its models down.
            asyncio.get_running_loop().call_soon(leave, window, "session_ended")

    return on_change


def leave(window: MainWindow, reason: str) -> None:
    if window.isVisible() and window.exit_reason == "quit":
        window.exit_reason = reason
        window.close()


def build_main_window(service: DeskService) -> MainWindow:
    """The main window over a service that may not be started yet: it lists the cached
    dialogs and says "connecting" until ``show_then_start`` starts the network."""
    from operator_app.ui.main_window import MainWindow

    service.announce_start()
    return MainWindow(service)  # the supervisor facade is built when the console first opens


async def show_then_start(
    window: MainWindow, service: DeskService, *, wait: float = FIRST_PAINT_WAIT
) -> None:
    """Show the window, let it paint the dialog list from the cache, then start the network."""
    painted = watch_first_paint(window.dialog_view.viewport())
    window.show()  # on some platforms the first paint happens in here: the watch is set before
    try:
        await asyncio.wait({painted}, timeout=wait)
    finally:
        painted.cancel()
    window.finish_start()
    await service.start()


def watch_first_paint(widget: QWidget) -> asyncio.Future[None]:
    """A future done at the widget's next Paint event; cancel it to stop watching."""
    from PySide6.QtCore import QEvent, QObject

    painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class PaintWatch(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not painted.done():
                painted.set_result(None)
            return False

    watch = PaintWatch(widget)
    widget.installEventFilter(watch)

    def unwatch(_done: asyncio.Future[None]) -> None:
        widget.removeEventFilter(watch)
        watch.deleteLater()

    painted.add_done_callback(unwatch)
    return painted
