"""When to send what: grouping windows, the hourly limit, quiet hours, outages and reminders.

Pure: every method takes the time (epoch seconds) and returns the messages to send now, so
tests drive the clock and nothing here sleeps, sends or reads the time itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from wahdx_tui.core.alerts.alertsettings import AlertSettings
from wahdx_tui.core.alerts.facts import API_STATES, AlertPost, ApiState
from wahdx_tui.core.alerts.message import AlertMessage, Kind
from wahdx_tui.core.alerts.render import Alert, render

HOUR = 3600.0


@dataclass(slots=True)
class _Window:
    """Posts gathered since the first one, until `width` seconds after it."""

    start: float | None = None
    posts: dict[tuple[str, str], AlertPost] = field(default_factory=dict)

    def add(self, posts: Iterable[AlertPost], now: float) -> None:
        for post in posts:
            if self.start is None:
                self.start = now
            self.posts.setdefault(post.key, post)

    def due(self, now: float, width: float) -> bool:
        return self.start is not None and now >= self.start + width

    def take(self) -> tuple[float, tuple[AlertPost, ...]]:
        start, posts = self.start, tuple(self.posts.values())
        self.start, self.posts = None, {}
        return (start if start is not None else 0.0), posts

    def drop(self, keys: set[tuple[str, str]]) -> None:
        """Forget these posts (published before the window closed)."""
        for key in keys & self.posts.keys():
            del self.posts[key]
        if not self.posts:
            self.start = None


MAX_OPEN = 200  # alerts remembered for their all-clear; the oldest are forgotten first


@dataclass(slots=True)
class _Open:
    """A failed or stuck alert sent, waiting for its posts to publish (its all-clear)."""

    kind: Kind  # the all-clear's kind
    at: float  # when the alert was sent
    posts: tuple[AlertPost, ...]
    waiting: set[tuple[str, str]]  # the posts not published yet
    spoilt: bool = False  # one of them failed since: no all-clear for this alert


class AlertPolicy:
    """Decides which alerts to send, from facts and the time; keeps no I/O and no clock."""

    def __init__(self, settings: AlertSettings, *, tz: tzinfo | None = None) -> None:
        self._settings = settings
        self._tz = tz
        self._failed = _Window()
        self._stuck = _Window()
        self._api: ApiState = "ok"
        self._down_since: float | None = None
        self._down_sent = False
        self._key_sent = False
        self._unacked: dict[tuple[str, str], AlertPost] = {}
        self._remind_at: float | None = None
        self._hour_start: float | None = None
        self._sent = 0
        self._limit_hit_at: float | None = None
        self._held: Counter[Kind] = Counter()
        self._held_posts: Counter[Kind] = Counter()
        self._quiet_since: float | None = None
        self._digest: list[Alert] = []
        self._open: list[_Open] = []

    @property
    def settings(self) -> AlertSettings:
        """The settings in force."""
        return self._settings

    def failures(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """Posts that turned failed at `now`; grouped with others of the same window."""
        out = self._advance(now)
        posts = list(posts)
        failed = {post.key for post in posts}
        for alert in self._open:  # a post of an alert failed (again): that alert never clears
            alert.spoilt = alert.spoilt or bool(alert.waiting & failed)
        self._failed.add(posts, now)
        self._flush_windows(now, out)
        return out

    def stuck(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """Posts newly found stuck at `now`; grouped like failures."""
        out = self._advance(now)
        self._stuck.add(posts, now)
        self._flush_windows(now, out)
        return out

    def published(self, keys: Iterable[tuple[str, str]], now: float) -> list[AlertMessage]:
        """Posts that turned published at `now`: a failed or stuck alert all of whose posts
        have published gets one short all-clear (under the same limit and quiet hours)."""
        out = self._advance(now)
        done = set(keys)
        if not done:
            return out
        self._failed.drop(done)  # not news any more: the window's message leaves them out
        self._stuck.drop(done)
        cleared = []
        for alert in self._open:
            alert.waiting -= done
            if not alert.waiting:
                cleared.append(alert)
        self._open = [a for a in self._open if a.waiting]
        for alert in cleared:
            if not alert.spoilt:
                self._emit(Alert(alert.kind, now, posts=alert.posts, since=alert.at), now, out)
        return out

    def api_state(
        self, state: ApiState, now: float, since: float | None = None
    ) -> list[AlertMessage]:
        """How the API answered at `now`; `since` is when a down or rejected state began."""
        if state not in API_STATES:
            raise ValueError(f"unknown API state {state!r}")
        out = self._advance(now)
        if state == "ok":
            if self._down_since is not None and (self._down_sent or self._key_sent):
                back = Alert(Kind.API_BACK, now, since=self._down_since, key=self._key_sent)
                self._emit(back, now, out)
            self._api, self._down_since = "ok", None
            self._down_sent = self._key_sent = False
            return out
        if self._down_since is None:
            self._down_since = now if since is None else min(since, now)
        self._api = state
        if state == "key_rejected" and not self._key_sent:
            self._key_sent = True
            self._emit(Alert(Kind.KEY_REJECTED, now, since=self._down_since, key=True), now, out)
        self._check_down(now, out)
        return out

    def unacknowledged(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """The failed posts nobody has acknowledged, as they are now; drives the reminders."""
        self._unacked = {post.key: post for post in posts}
        if not self._unacked:
            self._remind_at = None
        elif self._remind_at is None and self._settings.remind_every > 0:
            self._remind_at = now + self._settings.remind_every
        return self._advance(now)

    def tick(self, now: float) -> list[AlertMessage]:
        """Let time pass: close windows, end the hour, end quiet hours, check outages."""
        return self._advance(now)

    # -- internals -------------------------------------------------------------------------

    def _advance(self, now: float) -> list[AlertMessage]:
        out: list[AlertMessage] = []
        self._end_hour(now, out)
        self._quiet_edge(now, out)
        self._flush_windows(now, out)
        self._check_down(now, out)
        self._check_reminder(now, out)
        return out

    def _in_quiet(self, now: float) -> bool:
        quiet = self._settings.quiet
        moment = datetime.fromtimestamp(now, self._tz)
        return quiet is not None and quiet.covers(moment.hour * 60 + moment.minute)

    def _quiet_edge(self, now: float, out: list[AlertMessage]) -> None:
        quiet = self._in_quiet(now)
        if quiet and self._quiet_since is None:
            self._quiet_since = self._quiet_began(now)
        elif not quiet and self._quiet_since is not None:
            since, parts = self._quiet_since, tuple(self._digest)
            self._quiet_since, self._digest = None, []
            if parts:
                self._emit(Alert(Kind.DIGEST, now, since=since, parts=parts), now, out)

    def _quiet_began(self, now: float) -> float:
        """When the quiet hours that hold `now` began (their start time, today or yesterday)."""
        quiet = self._settings.quiet
        moment = datetime.fromtimestamp(now, self._tz)
        if quiet is None:
            return now
        start = moment.replace(hour=quiet.start // 60, minute=quiet.start % 60, second=0)
        start = start.replace(microsecond=0)
        if start > moment:
            start -= timedelta(days=1)
        return start.timestamp()

    def _flush_windows(self, now: float, out: list[AlertMessage]) -> None:
        width = self._settings.window
        windows = (
            (self._failed, Kind.FAILED, Kind.FAILED_RESOLVED),
            (self._stuck, Kind.STUCK, Kind.STUCK_RESOLVED),
        )
        for window, kind, resolved in windows:
            if window.due(now, width):
                start, posts = window.take()
                self._emit(Alert(kind, now, posts=posts, since=start), now, out)
                waiting = {post.key for post in posts}
                self._open.append(_Open(resolved, now, posts, waiting))
                del self._open[:-MAX_OPEN]

    def _check_down(self, now: float, out: list[AlertMessage]) -> None:
        if self._api != "down" or self._down_sent or self._key_sent:
            return
        if self._down_since is not None and now - self._down_since >= self._settings.down_after:
            self._down_sent = True
            self._emit(Alert(Kind.API_DOWN, now, since=self._down_since), now, out)

    def _check_reminder(self, now: float, out: list[AlertMessage]) -> None:
        every = self._settings.remind_every
        if every <= 0 or self._remind_at is None or now < self._remind_at:
            return
        self._remind_at = now + every
        if self._unacked:
            posts = tuple(self._unacked.values())
            self._emit(Alert(Kind.REMINDER, now, posts=posts), now, out)

    def _end_hour(self, now: float, out: list[AlertMessage]) -> None:
        if self._hour_start is None or now < self._hour_start + HOUR:
            return
        held = tuple((kind, n, self._held_posts[kind]) for kind, n in self._held.most_common())
        limit_hit_at = self._limit_hit_at
        self._hour_start, self._sent, self._limit_hit_at = None, 0, None
        self._held, self._held_posts = Counter(), Counter()
        if held:
            self._emit(Alert(Kind.HELD, now, since=limit_hit_at, held=held), now, out)

    def _emit(self, alert: Alert, now: float, out: list[AlertMessage]) -> None:
        urgent = alert.kind is Kind.KEY_REJECTED
        if not urgent and self._quiet_since is not None:
            self._digest.append(alert)
            return
        if self._hour_start is None:
            self._hour_start, self._sent = now, 0
        if not urgent and self._sent >= self._settings.max_per_hour:
            if self._limit_hit_at is None:
                self._limit_hit_at = now
            self._held[alert.kind] += 1
            self._held_posts[alert.kind] += len(alert.posts)
            return
        self._sent += 1
        out.append(render(alert, self._tz))
