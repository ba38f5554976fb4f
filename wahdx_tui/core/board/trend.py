"""Trends from state changes: how many posts failed in each hour of the last day."""

from __future__ import annotations

from collections.abc import Iterable

from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.records import Transition

HOUR = 3600.0


def failures_per_hour(
    transitions: Iterable[Transition],
    now: float,
    hours: int = 24,
    account: str | None = None,
) -> list[int]:
    """Posts that turned failed in each of the last `hours` hours, oldest hour first.

    Bucket i covers [now - (hours - i) h, now - (hours - i - 1) h), the last one up to and
    including `now`; a change into failed from any other state (or at first sight) counts,
    one that stays failed does not. `account` keeps only that accountId's posts. Changes
    outside the window, or stamped in the future (a skewed clock), are left out.
    """
    if hours <= 0:
        return []
    counts = [0] * hours
    start = now - hours * HOUR
    for t in transitions:
        if t.new is not State.FAILED or t.old is State.FAILED:
            continue
        if account is not None and t.key[0] != account:
            continue
        at = t.at
        if not start <= at <= now:  # NaN fails this too
            continue
        index = min(hours - 1, int((at - start) // HOUR))
        counts[index] += 1
    return counts
