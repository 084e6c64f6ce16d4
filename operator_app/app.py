"""The composition root: builds server (demo), net, core and ui, runs them on one qasync loop.

The only module that may import every layer. One loop, one way out: the app ends when the main
window closes (or the smoke check finishes); then the core closes its connections and the
embedded backend stops.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_app import APP_ID, APP_NAME, __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from operator_app.core.service import DeskService
    from operator_app.server.embedded import EmbeddedServer

logger = logging.getLogger("operator_app")

DEMO_LOGIN = "anna"
DEMO_PASSWORD = "demo"
DEMO_SIMULATE_RATE = 0.05  # a new customer message every ~20 s across the demo dialogs


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
        demo=args.demo or args.smoke or not args.server,
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
    try:
        return int(qasync.run(run(app, options)))
    except KeyboardInterrupt:
        return 130


async def run(app: QApplication, options: Options) -> int:
    """Set up everything, show the window, and wait until the operator closes it."""
    from operator_app.core.settings import load_settings
    from operator_app.ui import i18n, theme

    settings = load_settings()
    i18n.install_language(options.language or settings.language or "ru")
    theme.apply(app, options.theme or settings.theme, settings.font_size)

    server = None
    try:
        if options.demo:
            server = await start_demo_server(options.simulate_rate)
            url, login, password = server.url, DEMO_LOGIN, DEMO_PASSWORD
        else:
            url, login, password = options.server, options.login, options.password
        service = await sign_in(url, login, password, demo=options.demo)
        return await show_main_window(app, service, options)
    except SignInFailed as failure:
        print(f"operator-app: {failure}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            await asyncio.get_running_loop().run_in_executor(None, server.stop)


async def start_demo_server(simulate_rate: float) -> EmbeddedServer:
    from operator_app.server.embedded import EmbeddedServer

    server = EmbeddedServer(demo=True, simulate_rate=simulate_rate, reply_to_operators=True)
    await asyncio.get_running_loop().run_in_executor(None, server.start)
    logger.info("embedded demo backend at %s", server.url)
    return server


class SignInFailed(Exception):
    pass


async def sign_in(url: str, login: str, password: str, *, demo: bool) -> DeskService:
    """Log in (or reuse the token in the keyring), open the cache and start the core."""
    from operator_app.core.cache import Cache, cache_path_for
    from operator_app.core.credentials import CredentialStore
    from operator_app.core.profiles import ServerProfile
    from operator_app.core.service import DeskService
    from operator_app.net import ApiClient, NetError

    profile = ServerProfile(name="Demo" if demo else url, base_url=url, login=login)
    credentials = CredentialStore(profile.base_url)
    api = ApiClient(profile.base_url, token=credentials.get_token(login))
    if api.token is None:
        try:
            response = await api.login(login, password)
        except NetError as exc:
            await api.aclose()
            raise SignInFailed(f"cannot sign in to {url} as {login}: {exc}") from exc
        credentials.set_token(login, response.token)
    cache = Cache.open(cache_path_for(profile.base_url, login))
    service = DeskService(profile=profile, cache=cache, api=api)
    await service.start()
    return service


async def show_main_window(app: QApplication, service: DeskService, options: Options) -> int:
    from operator_app.ui.main_window import MainWindow

    window = MainWindow(service)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.aboutToQuit.connect(closed.set)
    window.show()
    try:
        if options.smoke:
            from operator_app.ui.smoke import run_smoke

            return await run_smoke(window, timeout=options.smoke_timeout)
        await closed.wait()
        return 0
    finally:
        await window.runner.cancel_all()
        window.close()
        await service.close()
