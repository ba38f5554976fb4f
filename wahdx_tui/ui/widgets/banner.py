"""The banner under the summary: one line per source (poll, history, watchlist), each until cleared."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.outcomes import PassOutcome
from wahdx_tui.core.team.engine import FollowOutcome
from wahdx_tui.ui.widgets.fit import Said, fit_said, share_lines, wrap

DETAIL = 1000  # characters of an error kept before the banner cuts it to fit (at whole words)


def pass_banner(outcome: PassOutcome) -> Said | None:
    """What the banner says after a pass: None when it answered for every post."""
    kind = outcome.kind
    if kind == "ok":
        return None
    if kind == "left_out":
        return Said(
            f"⚠ the API's answer left out {outcome.left_out:,} of {outcome.asked:,} posts; "
            "showing their last known state (marked ⚠ in Checked)"
        )
    if kind == "partial":
        return Said(
            f"⚠ {outcome.not_checked} of {outcome.asked} posts could not be refreshed: ",
            clean(outcome.error, DETAIL),
            "; showing their last known state",
        )
    stamp = time.strftime("%H:%M:%S")
    return Said(
        f"⚠ refresh failed at {stamp}: ",
        clean(outcome.error, DETAIL),
        " — showing last known data",
    )


def history_banner(error: str | None, waiting: int = 0, dropped: int = 0) -> Said | None:
    """What the banner says while history is not being written: None once a write succeeds."""
    if error is None:
        return None
    kept = ""
    if waiting:
        kept = f" ({waiting:,} changes kept, retried with the next write"
        kept += f"; {dropped:,} oldest dropped)" if dropped else ")"
    return Said("⚠ history not saved: ", clean(error, DETAIL), kept)


def _hhmm(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def team_banner(outcome: FollowOutcome) -> Said | None:
    """What the banner says when the team's store or poller is missing: None when all is well."""
    if outcome.store_error is not None:
        since = _hhmm(outcome.store_down_since or time.time())
        return Said(
            f"⚠ store unreachable since {since}: ",
            clean(outcome.store_error, DETAIL),
            " — showing the last known states; reconnecting",
        )
    if outcome.poller_gone is not None:
        return Said(
            f"⚠ no poller since {_hhmm(outcome.poller_gone)}: ",
            "showing the last known states (stale); ",
            "start `wahdx-tui serve`, or a board with an API key, to resume",
        )
    return None


class Banner(Static):
    """Messages keyed by their source; hidden when none is left, red while any is an error.

    Each message is fitted to the banner's width and its share of the lines: an error's text
    is cut from the middle at whole words, never what the message is about or what to do.
    """

    LINES = 3  # the banner's max-height in board.tcss

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._messages: dict[str, tuple[Said, bool]] = {}

    def show_message(self, text: str | Said, source: str, *, error: bool = True) -> None:
        """Show `text` for `source` until that source clears it; others stay."""
        said = text if isinstance(text, Said) else Said("", clean(text, DETAIL))
        self._messages[source] = (said, error)
        self._draw()

    def say(self, source: str, text: str | Said | None) -> None:
        """Show `text` as an error for `source`, or clear what it said when None."""
        if text is None:
            self.hide_message(source)
        else:
            self.show_message(text, source)

    def hide_message(self, source: str) -> None:
        """Clear what `source` said, if anything."""
        if self._messages.pop(source, None) is not None:
            self._draw()

    @property
    def whole(self) -> str:
        """Every message whole, one a line (for tests and logs)."""
        return "\n".join(said.text for said, _ in self._messages.values())

    def on_resize(self) -> None:
        """Fit the messages to the new width."""
        self._draw()

    def _draw(self) -> None:
        if not self._messages:
            self.display = False
            return
        width = self.content_region.width or (self.app.size.width - 2)
        needs = [len(wrap(said.text, width)) for said, _ in self._messages.values()]
        shares = share_lines(needs, self.LINES)
        lines: list[str] = []
        for (said, _), share in zip(self._messages.values(), shares, strict=True):
            lines += fit_said(said, width, share) if share else []
        self.update(Text("\n".join(lines)))
        self.set_class(any(error for _, error in self._messages.values()), "-error")
        self.display = True
