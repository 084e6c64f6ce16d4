"""Write to a cache until the file size limit (RLIMIT_FSIZE) makes the disk "full".

    python -m tests.helpers.reliability_diskfull CACHE_PATH

Run in its own process: the limit stays with it. SIGXFSZ is ignored so writes fail with
EFBIG instead of killing the process. Prints one JSON line: how many messages were stored,
and the type and text of the error the core raised.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from operator_app.core.cache import Cache
from operator_app.protocol.models import MessageKind

HEADROOM = 96 * 1024


def main(argv: list[str]) -> int:
    cache = Cache.open(Path(argv[0]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = Path(argv[0]).stat().st_size + HEADROOM
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    stored = 0
    error: BaseException | None = None
    try:
        for n in range(100_000):
            cache.add_pending(
                client_msg_id=f"diskfull-{n:06d}",
                dialog_id=1,
                kind=MessageKind.MESSAGE,
                text=f"message {n} " + "x" * 2000,
                attachment_paths=[],
                author_id=1,
                author_name="Anna",
                created_at=datetime.now(UTC),
            )
            stored += 1
    except Exception as exc:
        error = exc
    print(
        json.dumps(
            {
                "stored": stored,
                "error_type": f"{type(error).__module__}.{type(error).__qualname__}",
                "error": str(error),
            }
        ),
        flush=True,
    )
    cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
