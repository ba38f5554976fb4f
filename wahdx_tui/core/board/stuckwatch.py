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


MAX_SPANS = 256  # blind spans remembered; the oldest are forgotten first


class Blind:
    """The spans of time during which nobody could see the posts: the API gave no answer (or,
    on a board that follows a team, no poller was alive). A post is not stuck for time nobody
    could see it move, so these spans do not count toward its time in a state."""

    def __init__(self) -> None:
        self._spans: list[tuple[float, float]] = []  # closed spans, oldest first
        self._since: float | None = None  # the start of the open span, if any
        self.version = 0  # moves whenever a span opens or closes

    @property
    def open(self) -> bool:
        """Nobody can see the posts now."""
        return self._since is not None

    def begin(self, at: float) -> None:
        """The posts went out of sight at `at` (nothing, if they are already)."""
        if self._since is None:
            self._since = at
            self.version += 1

    def end(self, at: float) -> None:
        """The posts are in sight again from `at` (nothing, if they were)."""
        if self._since is None:
            return
        if at > self._since:
            self._spans.append((self._since, at))
            del self._spans[:-MAX_SPANS]
        self._since = None
        self.version += 1

    def within(self, start: float, end: float) -> float:
        """Seconds of closed spans between `start` and `end`."""
        if not self._spans:
            return 0.0
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self._spans if b > start)


def is_stuck(
    row: Row, now: float, limits: Mapping[State, float], blind: Blind | None = None
) -> bool:
    """Longer than its state's limit in that state, not counting the time nobody could see
    it (states without a limit never are)."""
    limit = limits.get(row.state)
    if limit is None or row.since is None:
        return False
    seen = now - row.since - (blind.within(row.since, now) if blind is not None else 0.0)
    return seen > limit


def _due(row: Row, limit: float, blind: Blind | None) -> int:
    """The whole second from which the row may be stuck, as the closed blind spans stand."""
    assert row.since is not None
    unseen = blind.within(row.since, math.inf) if blind is not None else 0.0
    return math.floor(row.since + limit + unseen)


class StuckWatch:
    """The rows not stuck yet, filed by the whole second at which each would be; and the rows
    changed since the last look. The first look, a change of limits, and a clock that went
    back scan every row as before; later looks cost what is due or changed.

    While nobody can see the posts (`Blind.open`) no row turns stuck; when they are seen again
    every row is looked at once more, its time out of sight not counted."""

    def __init__(self) -> None:
        self._blind: Blind | None = None
        self._blind_version = 0
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
        second = _due(row, limit, self._blind)
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
        blind: Blind | None = None,
    ) -> list[PostKey]:
        """Set each row's stuck flag as `is_stuck` says (through `flag`); the newly stuck.
        None turn stuck while `blind` is open."""
        if blind is not None and blind.open:
            return []  # nobody can see them move: looked at again when they can
        limits = dict(limits)
        version = blind.version if blind is not None else 0
        if limits != self._limits or now < self._last or blind is not self._blind:
            self._blind = blind
            return self._scan(rows.values(), now, limits, flag)
        if version != self._blind_version:
            return self._scan(rows.values(), now, limits, flag)
        self._last = now
        newly: list[PostKey] = []
        changed, self._changed = self._changed, {}
        for row in changed.values():
            if rows.get(row.key) is not row:
                continue  # gone from the board
            self._look_at(row, now, limits, flag, newly)
        seconds, due = self._seconds, self._due
        later: list[Row] = []
        while seconds and seconds[0] <= now:
            second = heapq.heappop(seconds)
            for row in due.pop(second):
                if row.stuck or rows.get(row.key) is not row:
                    continue
                limit = limits.get(row.state)
                if limit is None or row.since is None or _due(row, limit, self._blind) != second:
                    continue  # it moved on since it was filed: filed again when it changed
                if is_stuck(row, now, limits, self._blind):
                    flag(row, True)
                    newly.append(row.key)
                else:
                    later.append(row)  # within its second, not past it yet
        for row in later:
            self._file(row, limits)
        return newly

    def _look_at(
        self,
        row: Row,
        now: float,
        limits: dict[State, float],
        flag: Callable[[Row, bool], None],
        newly: list[PostKey],
    ) -> None:
        """Flag the row stuck or not as the rule says (adding it to `newly` when it turns
        stuck); while not stuck, file it under the second it would turn."""
        stuck = is_stuck(row, now, limits, self._blind)
        if stuck != row.stuck:
            flag(row, stuck)
            if stuck:
                newly.append(row.key)
        if not stuck:
            self._file(row, limits)

    def _scan(
        self,
        rows: Iterable[Row],
        now: float,
        limits: dict[State, float],
        flag: Callable[[Row, bool], None],
    ) -> list[PostKey]:
        self._limits, self._last = limits, now
        self._blind_version = self._blind.version if self._blind is not None else 0
        self._due, self._seconds, self._changed = {}, [], {}
        newly: list[PostKey] = []
        for row in list(rows):
            self._look_at(row, now, limits, flag, newly)
        return newly
