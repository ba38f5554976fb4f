"""A one-line trend: failures per hour over the last day, as a sparkline with its numbers."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static


def trend_summary(counts: Sequence[int]) -> str:
    """'7 in 24 h · 2 in the last hour · peak 3/h', or 'no failures in 24 h'."""
    total = sum(counts)
    if not counts or total == 0:
        return f"no failures in {len(counts)} h"
    return f"{total} in {len(counts)} h · {counts[-1]} in the last hour · peak {max(counts)}/h"


class FailureTrend(Horizontal):
    """'failures/h, 24 h ▁▁▃▁█▂ 7 in 24 h · …': the shape first, then the numbers, which also
    say it without colour. Hidden until it has counts to show."""

    DEFAULT_CSS = """
    FailureTrend {
        height: 1;
        padding: 0 1;
    }
    FailureTrend > .trend-caption {
        width: auto;
        padding-right: 1;
        color: $text-muted;
    }
    FailureTrend > Sparkline {
        width: 1fr;
        max-width: 48;
        min-width: 12;
    }
    FailureTrend > Sparkline > .sparkline--max-color {
        color: $error;
    }
    FailureTrend > Sparkline > .sparkline--min-color {
        color: $success 60%;
    }
    FailureTrend > .trend-summary {
        width: auto;
        padding-left: 1;
    }
    """

    def __init__(
        self,
        counts: Sequence[int] | None = None,
        *,
        caption: str = "failures/h, 24 h",
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.counts: list[int] = list(counts or [])
        self.caption = caption

    def compose(self) -> ComposeResult:
        """Caption, sparkline, numbers."""
        yield Static(Text(self.caption), classes="trend-caption")
        yield Sparkline(self.counts, summary_function=max)
        yield Static(Text(trend_summary(self.counts)), classes="trend-summary")

    def on_mount(self) -> None:
        """Nothing to draw yet: take no room."""
        self.display = bool(self.counts)

    def show(self, counts: Sequence[int]) -> None:
        """Draw new counts (oldest hour first), only if they changed."""
        new = list(counts)
        if new == self.counts:
            return
        self.counts = new
        if not self.is_mounted:
            return
        self.display = bool(new)
        self.query_one(Sparkline).data = new
        self.query_one(".trend-summary", Static).update(Text(trend_summary(new)))

    @property
    def summary(self) -> str:
        """The numbers shown beside the sparkline (for tests and screen readers)."""
        return trend_summary(self.counts)
