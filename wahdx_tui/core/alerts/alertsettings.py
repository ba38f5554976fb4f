"""The alert settings as one value: grouping window, outage delay, reminders, limit, quiet hours."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.settings.table import QuietHours


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
