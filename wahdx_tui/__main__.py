"""Entry point for `python -m wahdx_tui`."""

from wahdx_tui.cli import main

raise SystemExit(main())
