"""`python -m wahdx_tui`: the same command line as `wahdx-tui`."""

from wahdx_tui.cli import main

raise SystemExit(main())
