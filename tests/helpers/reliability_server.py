"""The reference server as its own process, so a test can kill -9 it and start it again.

    python -m tests.helpers.reliability_server --db sqlite:///PATH --port 0 [--send-queue N]

Demo world, no simulated customers. Prints ``LISTENING <url>`` once it accepts connections,
then serves until SIGTERM/SIGINT (a graceful stop) or SIGKILL (the crash under test).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from operator_app.server.embedded import EmbeddedServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--send-queue", type=int, default=1000)
    args = parser.parse_args(argv)
    server = EmbeddedServer(
        port=args.port,
        database_url=args.db,
        demo=True,
        simulate_rate=0.0,
        reply_to_operators=False,
        send_queue_size=args.send_queue,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent, stop), daemon=True).start()
    server.start()
    print(f"LISTENING {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def _exit_with_parent(parent: int, stop: threading.Event) -> None:
    """A test run that dies (timeout, Ctrl+C) must not leave its server behind."""
    while not stop.wait(0.5):
        if os.getppid() != parent:
            stop.set()


if __name__ == "__main__":
    sys.exit(main())
