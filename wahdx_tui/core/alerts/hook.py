"""The engine's facts, told to the alerter: new failures and stuck posts, the API, reminders."""

from __future__ import annotations

import time
from collections.abc import Iterable

from wahdx_tui.core.alerts import Alerter, AlertPost, ApiState
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import PostKey

REMIND_CHECK_EVERY = 60.0  # seconds between looks at the unacknowledged failures


def alert_post(row: Row) -> AlertPost:
    """A board row as an alert names it (the alerter makes every text inert)."""
    status = row.status
    return AlertPost(
        account=row.post.account_id,
        publish_id=row.post.publish_id,
        label=row.post.label,
        category=row.category.value if row.category is not None else None,
        error=status.error if status else None,
        public_url=status.public_url if status else None,
        state=row.state.value,
    )


class AlertHook:
    """Tells one alerter what the engine saw; only the team's poller calls it."""

    def __init__(self, alerter: Alerter) -> None:
        self.alerter = alerter
        self._reminded_at = 0.0

    def after_pass(
        self, api: ApiState, failed: Iterable[Row], now: float, published: Iterable[PostKey] = ()
    ) -> None:
        """A pass ended: its new failures, the posts it found published (all-clears), and how
        the API answered."""
        alerter = self.alerter
        failed_posts = [alert_post(r) for r in failed]
        if failed_posts:
            alerter.failures(failed_posts, now)
        self.published(published, now)
        alerter.api_state(api, now)
        alerter.tick(now)

    def published(self, keys: Iterable[PostKey], now: float) -> None:
        """Posts that turned published: the alerts all of whose posts did get an all-clear."""
        keys = list(keys)
        if keys:
            self.alerter.published(keys, now)

    def stuck(self, rows: Iterable[Row], now: float) -> None:
        """Posts newly flagged stuck."""
        posts = [alert_post(r) for r in rows]
        if posts:
            self.alerter.stuck(posts, now)

    def tick(self, unreviewed: Iterable[Row], now: float) -> None:
        """Let time pass (windows, the hour, quiet hours); now and then, the reminders."""
        if now - self._reminded_at >= REMIND_CHECK_EVERY:
            self._reminded_at = now
            self.alerter.unacknowledged([alert_post(r) for r in unreviewed], now)
        self.alerter.tick(now)

    def summary(self) -> str:
        """'2 alert targets · last alert 14:02' for the board's help."""
        status = self.alerter.status()
        last = status.last_sent_at
        when = time.strftime("%H:%M", time.localtime(last)) if last else "none sent yet"
        targets = f"{status.targets} alert target{'s' if status.targets != 1 else ''}"
        return f"{targets} · last alert {when}" if last else f"{targets} · {when}"

    def banner(self) -> str | None:
        """'alerts failing for slack: …' while a target's last message was dropped."""
        return self.alerter.status().banner

    def close(self) -> bool:
        """Wait at most 5 s for messages in flight."""
        return self.alerter.close(5.0)
