"""The alert settings as one value, and the parser for quiet hours ("22:00-07:00")."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.settings.table import QuietHours
from wahdx_tui.core.settings.table import parse_quiet as parse_setting_quiet


def parse_quiet(text: str | None) -> QuietHours | None:
    """Quiet hours from "HH:MM-HH:MM" (local time); None for no quiet hours ("none" or empty).

    The format is the settings table's (core/settings.py); raises ValueError in one line.
    """
    if text is None or not text.strip() or text.strip().lower() in ("none", "off"):
        return None
    try:
        return parse_setting_quiet(text.strip())
    except ValueError as exc:
        why = f": {exc}" if str(exc) else ""
        raise ValueError(
            f"quiet hours {text[:40]!r} are not HH:MM-HH:MM, for example 22:00-07:00{why}"
        ) from None


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
