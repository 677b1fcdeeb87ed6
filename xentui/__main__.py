"""`python -m xentui`."""

from xentui.cli import main

raise SystemExit(main())
