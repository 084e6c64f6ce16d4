"""Run a DeskService without any UI, as its own process (for the kill -9 tests).

    python -m tests.helpers.headless_client --url URL --login anna --password demo \\
        --cache PATH [--dialog ID --send N --prefix TEXT] [--until-drained]

It logs in, starts the service, queues ``--send`` messages into dialog ``--dialog`` (each
written to the cache before any network call) and then keeps running. It prints one line per
milestone on stdout: ``QUEUED <n>``, ``DRAINED``. With ``--until-drained`` it exits 0 once the
outbox is empty. The core is what the desktop app runs; only the window is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from operator_app.core.cache import Cache
from operator_app.core.profiles import ServerProfile
from operator_app.core.service import DeskService
from operator_app.net.api import ApiClient
from operator_app.net.realtime import Backoff


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--cache", required=True, type=Path)
    parser.add_argument("--dialog", type=int, default=0)
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--prefix", default="headless")
    parser.add_argument("--until-drained", action="store_true")
    return parser.parse_args(argv)


def say(line: str) -> None:
    print(line, flush=True)


async def run(args: argparse.Namespace) -> int:
    service = DeskService(
        profile=ServerProfile("headless", args.url, login=args.login),
        cache=Cache.open(args.cache),
        api=ApiClient(args.url, timeout=5.0),
        outbox_backoff=Backoff(base=0.05, cap=0.5),
    )
    await service.login(args.password)
    await service.start()
    for n in range(args.send):
        service.send(args.dialog, f"{args.prefix} #{n}")
    say(f"QUEUED {args.send}")
    try:
        while True:
            if service.cache.outbox_size() == 0:
                say("DRAINED")
                if args.until_drained:
                    return 0
            await asyncio.sleep(0.02)
    finally:
        await service.close()
        service.cache.close()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(run(parse(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
