"""API health as the operator sees it: ok, retrying, or down since when, and whether data is stale."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from wahdx_tui.core.api.client import ClientEvent
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.poller import PollReport

HealthState = Literal["starting", "ok", "retrying", "down"]


@dataclass(slots=True)
class Health:
    """Tracks passes and client events; never loses the time of the last good refresh."""

    state: HealthState = "starting"
    down_since: float | None = None
    last_error: str | None = None
    last_success: float | None = None
    stale: bool = False
    rate_limited_until: float | None = None

    def on_event(self, event: ClientEvent) -> None:
        """A retry or rate limit during a pass."""
        if self.state != "down":
            self.state = "retrying"
        self.last_error = clean(event.message, 160)
        if event.kind == "rate_limited":
            self.rate_limited_until = time.time() + event.wait

    def on_report(self, report: PollReport) -> None:
        """A pass ended: complete means healthy; otherwise the board is stale."""
        result = report.result
        if result.complete:
            self.state = "ok"
            self.down_since = None
            self.last_error = None
            self.stale = False
            self.last_success = report.finished
            return
        self.stale = True
        self.last_error = clean(result.errors[0] if result.errors else "incomplete pass", 160)
        if result.statuses:
            self.state = "retrying"
        else:
            self._down(report.finished)

    def on_failure(self, message: str, when: float | None = None) -> None:
        """A pass could not run at all (key rejected, API unreachable)."""
        self.stale = True
        self.last_error = clean(message, 160)
        self._down(time.time() if when is None else when)

    def _down(self, when: float) -> None:
        if self.state != "down" or self.down_since is None:
            self.down_since = when
        self.state = "down"
