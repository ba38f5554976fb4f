"""Which rows may be stuck, and when: each row is looked at when its time comes or it changed,
so a board of 100,000 posts is not scanned every few seconds."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from wahdx_tui.core.domain.model import PostKey, State

if TYPE_CHECKING:
    from wahdx_tui.core.board.state import Row


def is_stuck(row: Row, now: float, limits: Mapping[State, float]) -> bool:
    """Longer than its state's limit in that state (states without a limit never are)."""
    limit = limits.get(row.state)
    return limit is not None and row.since is not None and now - row.since > limit


class StuckWatch:
    """The rows not stuck yet, filed by the whole second at which each would be; and the rows
    changed since the last look. The first look, a change of limits, and a clock that went
    back scan every row as before; later looks cost what is due or changed."""

    def __init__(self) -> None:
        self._limits: dict[State, float] | None = None
        self._last = -math.inf
        self._due: dict[int, list[Row]] = {}  # second -> rows that may be stuck from then
        self._seconds: list[int] = []  # heap of the keys of _due
        self._changed: dict[PostKey, Row] = {}

    def changed(self, row: Row) -> None:
        """The row's state, time in state or stuck flag changed, or it is new."""
        if self._limits is not None:
            self._changed[row.key] = row

    def _file(self, row: Row, limits: Mapping[State, float]) -> None:
        limit = limits.get(row.state)
        if limit is None or row.since is None:
            return
        second = math.floor(row.since + limit)
        rows = self._due.get(second)
        if rows is None:
            rows = self._due[second] = []
            heapq.heappush(self._seconds, second)
        rows.append(row)

    def look(
        self,
        rows: Mapping[PostKey, Row],
        now: float,
        limits: Mapping[State, float],
        flag: Callable[[Row, bool], None],
    ) -> list[PostKey]:
        """Set each row's stuck flag as `is_stuck` says (through `flag`); the newly stuck."""
        limits = dict(limits)
        if limits != self._limits or now < self._last:
            return self._scan(rows.values(), now, limits, flag)
        self._last = now
        newly: list[PostKey] = []
        changed, self._changed = self._changed, {}
        for row in changed.values():
            if rows.get(row.key) is not row:
                continue  # gone from the board
            stuck = is_stuck(row, now, limits)
            if stuck != row.stuck:
                flag(row, stuck)
                if stuck:
                    newly.append(row.key)
            if not stuck:
                self._file(row, limits)
        seconds, due = self._seconds, self._due
        later: list[Row] = []
        while seconds and seconds[0] <= now:
            second = heapq.heappop(seconds)
            for row in due.pop(second):
                if row.stuck or rows.get(row.key) is not row:
                    continue
                limit = limits.get(row.state)
                if limit is None or row.since is None or math.floor(row.since + limit) != second:
                    continue  # it moved on since it was filed: filed again when it changed
                if now - row.since > limit:
                    flag(row, True)
                    newly.append(row.key)
                else:
                    later.append(row)  # within its second, not past it yet
        for row in later:
            self._file(row, limits)
        return newly

    def _scan(
        self,
        rows: Iterable[Row],
        now: float,
        limits: dict[State, float],
        flag: Callable[[Row, bool], None],
    ) -> list[PostKey]:
        self._limits, self._last = limits, now
        self._due, self._seconds, self._changed = {}, [], {}
        newly: list[PostKey] = []
        for row in list(rows):
            stuck = is_stuck(row, now, limits)
            if stuck != row.stuck:
                flag(row, stuck)
                if stuck:
                    newly.append(row.key)
            if not stuck:
                self._file(row, limits)
        return newly
