"""Typed messages that workers and widgets send to the board app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from wahdx_tui.core.engine.outcomes import (
    PassOutcome,
    RecheckOutcome,
    ReloadOutcome,
    RestoreOutcome,
)
from wahdx_tui.core.team.engine import FollowOutcome


@dataclass
class PassDone(Message):
    """A pass ended and was applied to the board (or could not run: `outcome.ran`)."""

    outcome: PassOutcome


@dataclass
class PostRechecked(Message):
    """The detail screen's re-check of one post ended (its answer is on the board if newest)."""

    outcome: RecheckOutcome


@dataclass
class HistoryRestored(Message):
    """The last run's states were put on the board (or could not be read)."""

    outcome: RestoreOutcome


@dataclass
class WatchlistReloaded(Message):
    """The watchlist file was saved and re-read: taken in, or refused (`outcome.error`)."""

    outcome: ReloadOutcome


@dataclass
class HistorySaved(Message):
    """A history write ended: `error` says why it failed; `waiting` changes are kept for later."""

    error: str | None
    waiting: int = 0
    dropped: int = 0  # the oldest waiting changes dropped beyond the bound


@dataclass
class TeamFollowed(Message):
    """A look at the team store found something to show or do."""

    outcome: FollowOutcome
