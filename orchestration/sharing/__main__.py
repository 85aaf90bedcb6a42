"""``python -m orchestration.sharing``: see cli.py."""

from orchestration.sharing.cli import main

raise SystemExit(main())
