"""Notice when the watchlist file was saved, cheaply (size and modification time)."""

from __future__ import annotations

import os

Stamp = tuple[int, int]


def stamp_of(path: str) -> Stamp | None:
    """(mtime_ns, size) of the file, or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class WatchedFile:
    """A file whose saves are numbered, so only the newest save's read is applied."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seq = 0  # the number of the newest save seen
        self._stamp = stamp_of(path)

    def saved(self) -> int | None:
        """The new save's number when the file changed since the last look, else None."""
        stamp = stamp_of(self.path)
        if stamp is None or stamp == self._stamp:
            return None
        self._stamp = stamp
        self.seq += 1
        return self.seq

    def is_newest(self, seq: int) -> bool:
        """Whether save `seq` is still the newest one (an older read must not be applied)."""
        return seq == self.seq
