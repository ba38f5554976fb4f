"""Whether the terminal a process was started from has gone away (hung up or closed)."""

from __future__ import annotations

import select
import sys


def terminal_gone(fd: int | None = None) -> bool:
    """True when the terminal on stdin hung up or was closed (poll reports HUP/ERR/NVAL)."""
    try:
        fd = sys.__stdin__.fileno() if fd is None and sys.__stdin__ else fd
    except (ValueError, OSError):
        return True
    if fd is None:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events)
