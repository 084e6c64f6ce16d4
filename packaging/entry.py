"""Entry point of the PyInstaller bundle: the same main() as the `operator-app` command."""

from __future__ import annotations

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app must not re-run itself in child processes
    from operator_app.app import main

    raise SystemExit(main())
