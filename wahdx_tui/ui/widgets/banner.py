"""The banner under the summary: one line per source (poll, history, watchlist), each until cleared."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.outcomes import PassOutcome
from wahdx_tui.core.team.engine import FollowOutcome


def pass_banner(outcome: PassOutcome) -> str | None:
    """What the banner says after a pass: None when it answered for every post."""
    kind = outcome.kind
    if kind == "ok":
        return None
    if kind == "left_out":
        return (
            f"⚠ the API's answer left out {outcome.left_out:,} of {outcome.asked:,} posts; "
            "showing their last known state (marked ⚠ in Checked)"
        )
    if kind == "partial":
        return (
            f"⚠ {outcome.not_checked} of {outcome.asked} posts could not be refreshed: "
            f"{clean(outcome.error, 160)}; showing their last known state"
        )
    stamp = time.strftime("%H:%M:%S")
    return f"⚠ refresh failed at {stamp}: {clean(outcome.error, 200)} — showing last known data"


def history_banner(error: str | None, waiting: int = 0, dropped: int = 0) -> str | None:
    """What the banner says while history is not being written: None once a write succeeds."""
    if error is None:
        return None
    said = error
    if waiting:
        said += f" ({waiting:,} changes kept, retried with the next write"
        said += f"; {dropped:,} oldest dropped)" if dropped else ")"
    return f"⚠ history not saved: {said}"


def _hhmm(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def team_banner(outcome: FollowOutcome) -> str | None:
    """What the banner says when the team's store or poller is missing: None when all is well."""
    if outcome.store_error is not None:
        since = _hhmm(outcome.store_down_since or time.time())
        return (
            f"⚠ store unreachable since {since}: {clean(outcome.store_error, 200)} — "
            "showing the last known states; reconnecting"
        )
    if outcome.poller_gone is not None:
        return (
            f"⚠ no poller since {_hhmm(outcome.poller_gone)}: showing the last known states "
            "(stale); start `wahdx-tui serve`, or a board with an API key, to resume"
        )
    return None


class Banner(Static):
    """Messages keyed by their source; hidden when none is left, red while any is an error."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._messages: dict[str, tuple[str, bool]] = {}

    def show_message(self, text: str, source: str, *, error: bool = True) -> None:
        """Show `text` for `source` until that source clears it; others stay."""
        self._messages[source] = (clean(text, 400), error)
        self._draw()

    def say(self, source: str, text: str | None) -> None:
        """Show `text` as an error for `source`, or clear what it said when None."""
        if text is None:
            self.hide_message(source)
        else:
            self.show_message(text, source)

    def hide_message(self, source: str) -> None:
        """Clear what `source` said, if anything."""
        if self._messages.pop(source, None) is not None:
            self._draw()

    def _draw(self) -> None:
        if not self._messages:
            self.display = False
            return
        self.update(Text("\n".join(text for text, _ in self._messages.values())))
        self.set_class(any(error for _, error in self._messages.values()), "-error")
        self.display = True
