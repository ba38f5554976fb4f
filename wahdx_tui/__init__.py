"""wahdx-tui: a terminal live board for posts published through the Wahdx Connection API."""

__version__ = "0.1.0"

import logging as _logging

# Nothing is logged anywhere unless `--log FILE` asks for it (the board draws on stderr).
_logging.getLogger("wahdx_tui").addHandler(_logging.NullHandler())
