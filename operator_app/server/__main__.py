from operator_app.server.cli import main

raise SystemExit(main())
