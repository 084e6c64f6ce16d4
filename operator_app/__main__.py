"""``python -m operator_app``: the desktop app."""

from operator_app.app import main

raise SystemExit(main())
