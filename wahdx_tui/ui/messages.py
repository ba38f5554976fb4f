"""Typed messages that workers and widgets send to the board app."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from wahdx_tui.core.model import PostKey, PostStatus
from wahdx_tui.core.poller import PollReport
from wahdx_tui.core.watchlist import Watchlist


@dataclass
class PollFinished(Message):
    """A polling pass ended with a report (possibly partial) and the statuses that changed."""

    report: PollReport
    changed: list[PostStatus]
    seq: int = 0  # when the pass was asked (see core.freshness)
    unanswered: list[PostKey] = field(default_factory=list)  # left out of the answer


@dataclass
class PollFailed(Message):
    """A polling pass could not run: the message says why, in one line."""

    error: str
    seq: int = 0


@dataclass
class PostRechecked(Message):
    """The single-status endpoint answered for one post (or failed, with `error`)."""

    key: PostKey
    status: PostStatus | None
    error: str | None = None
    seq: int = 0


@dataclass
class WatchlistReloaded(Message):
    """The watchlist file changed and loaded cleanly."""

    watchlist: Watchlist
    seq: int = 0  # which reload: only the newest is applied


@dataclass
class WatchlistInvalid(Message):
    """The watchlist file changed but does not load; the last good list stays."""

    error: str
    seq: int = 0


@dataclass
class HistorySaved(Message):
    """A history write ended: `error` says why it failed; `waiting` changes are kept for later."""

    error: str | None
    waiting: int = 0
    dropped: int = 0  # the oldest waiting changes dropped beyond the bound
