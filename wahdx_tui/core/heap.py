"""The collector tuned for a board's heap: many long-lived rows, and each pass's garbage."""

from __future__ import annotations

import gc

YOUNG = 10_000  # objects made between young collections (CPython's default is 700)
OLDER = 20  # collections of a generation between those of the next (the default is 10)
_settled = False


def settle() -> None:
    """Once the first pass is in: freeze what is alive (posts, rows, the screen), so no
    collection scans it again, and collect less often. Later calls do nothing.

    A 100,000-post board holds about a million tracked objects: with CPython's defaults a full
    collection (about 0.1 s, the screen stalled) came every few passes and the collector took
    a fifth of the board's CPU in steady state; with this, under a tenth and no full ones.
    """
    global _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
