"""Who and where a change to the team's watchlist comes from, in the words the store keeps."""

from __future__ import annotations

import getpass
import os
import socket

from wahdx_tui.core.sanitize import clean


def operator_name() -> str:
    """``user@host``: who is adding or retiring posts from this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = f"uid {os.getuid()}"
    return clean(f"{user}@{socket.gethostname()}", 200)


def file_source(path: str) -> str:
    """The source a watchlist file's posts are kept under: ``file HOST:/absolute/path``, so
    two hosts with a file of the same name are two sources."""
    return clean(f"file {socket.gethostname()}:{os.path.abspath(path)}", 1000)
