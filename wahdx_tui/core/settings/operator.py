"""Who works at this board: user@host, as their acknowledgements name them."""

from __future__ import annotations

import getpass
import os
import socket

from wahdx_tui.core.domain.sanitize import clean


def operator_name() -> str:
    """Who works at this board, as its acknowledgements say: user@host (inert text)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        user = f"uid{os.getuid()}"
    return clean(f"{user}@{socket.gethostname()}", 120)
