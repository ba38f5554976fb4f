"""The alert settings as one value, and the parser for quiet hours ("22:00-07:00")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_QUIET = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily range of local time, in minutes after midnight; it may cross midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < MINUTES_A_DAY and 0 <= self.end < MINUTES_A_DAY):
            raise ValueError("quiet hours must lie between 00:00 and 23:59")
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same minute")

    def contains(self, moment: datetime) -> bool:
        """True when the (local) moment falls within the quiet hours."""
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_quiet(text: str | None) -> QuietHours | None:
    """Quiet hours from "HH:MM-HH:MM" (local time); None for no quiet hours ("none" or empty).

    Raises ValueError with a one-line reason for anything else.
    """
    if text is None or not text.strip() or text.strip().lower() in ("none", "off"):
        return None
    match = _QUIET.fullmatch(text)
    if not match:
        raise ValueError(f"quiet hours {text[:40]!r} are not HH:MM-HH:MM, for example 22:00-07:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"quiet hours {text[:40]!r} hold a time that does not exist")
    return QuietHours(h1 * 60 + m1, h2 * 60 + m2)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """How alerts are grouped, limited and held; built from the settings table, no defaults here."""

    window: float
    """Seconds from a first failure during which further failures join the same message."""
    down_after: float
    """Seconds the API may be down before one message says so."""
    remind_every: float
    """Seconds between reminders of unacknowledged failures; 0 turns them off."""
    max_per_hour: int
    """Messages at most per hour; past it one summary when the hour ends."""
    quiet: QuietHours | None
    """Local hours that hold everything but a rejected key, sent as one digest when they end."""

    def __post_init__(self) -> None:
        if self.window < 0 or self.down_after < 0 or self.remind_every < 0:
            raise ValueError("alert windows and intervals must not be negative")
        if self.max_per_hour < 1:
            raise ValueError("notify_max_per_hour must be at least 1")
