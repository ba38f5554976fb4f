"""The summary bar: counts per state, last and next refresh, API health, and the current view."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.display import STATE_GLYPHS
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.health import Health

_ORDER = (State.FAILED, State.PROCESSING, State.QUEUED, State.PUBLISHED, State.UNKNOWN)
_STYLE = {
    State.FAILED: "bold red",
    State.PROCESSING: "yellow",
    State.QUEUED: "cyan",
    State.PUBLISHED: "green",
    State.UNKNOWN: "magenta",
}


def _clock(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "never"


def counts_text(board: Board, counts: Mapping[State, int], *, mono: bool = False) -> Text:
    """'✗ 3 FAILED (2 unreviewed)  ◐ 5 PROCESSING ...  Σ 25 total'.

    Failures are drawn reversed, so they stand out in colour and in monochrome (NO_COLOR) alike.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    for state in _ORDER:
        n = counts.get(state, 0)
        style = _STYLE[state] if n else "dim"
        if state is State.FAILED and n:
            style = "bold reverse" if mono else "bold white on red"
        text.append(f"{STATE_GLYPHS[state]} {n} {state.value.upper()}", style=style)
        if state is State.FAILED and n:
            unreviewed = board.unreviewed
            if unreviewed != n:
                text.append(f" ({unreviewed} unreviewed)", style=style)
        text.append("  ")
    stuck = board.stuck
    if stuck:
        text.append(f"⚠ {stuck} STUCK  ", style="bold yellow")
    text.append(f"Σ {len(board.rows)} total", style="bold")
    return text


def updated_text(health: Health) -> Text:
    """'updated 14:02:05', with STALE when the last refresh failed."""
    text = Text(no_wrap=True)
    text.append(f"updated {_clock(health.last_success)}")
    if health.stale:
        text.append(" STALE", style="bold reverse")
    return text


def next_text(next_at: float | None, paused: bool) -> Text:
    """'next 14:02:20', 'refreshing…' or 'PAUSED'; `next_at` is the wall-clock time of the
    next pass. A time, not a countdown: it changes once a pass, so a board left open for
    weeks draws no frame a second for it (a countdown's frame was half its idle CPU)."""
    if paused:
        return Text("PAUSED", style="bold reverse")
    if next_at is None:
        return Text("refreshing…")
    return Text(f"next {_clock(next_at)}", no_wrap=True)


def health_text(health: Health) -> Text:
    """'API ok', 'API retrying: …' or 'API DOWN since 14:02: …'."""
    text = Text("API ", no_wrap=True, overflow="ellipsis")
    if health.state == "ok":
        text.append("ok", style="green")
    elif health.state == "starting":
        text.append("connecting…")
    elif health.state == "retrying":
        text.append("retrying", style="bold yellow")
        if health.last_error:
            text.append(f": {health.last_error}")
    else:
        text.append(f"DOWN since {_clock(health.down_since)[:5]}", style="bold red")
        if health.last_error:
            text.append(f": {health.last_error}")
    return text


def view_text(board: Board) -> Text:
    """'state: failed · text: "tiktok" · 12 shown · sort: label ▲'.

    Filters come first and the sort last: on a narrow screen the end is cut, and the sort is
    also shown by the arrow in the column headings, while a filter is shown nowhere else.
    """
    pieces: list[str] = []
    if board.state_filter is not None:
        pieces.append(f"state: {board.state_filter.value}")
    if board.account_filter is not None:
        pieces.append(f"account: {clean(board.account_filter, 60)}")
    if board.category_filter is not None:
        pieces.append(f"reason: {board.category_filter.value.replace('_', ' ')}")
    if board.text_filter:
        pieces.append(f"text: {board.text_filter!r}")
    pieces.append(f"{len(board)} shown")
    arrow = "▼" if board.reverse else "▲"
    pieces.append(f"sort: {board.sort_column} {arrow}")
    return Text(" · ".join(pieces), no_wrap=True, overflow="ellipsis", style="dim")


def title_text(counts: Mapping[State, int], health: Health) -> str:
    """The terminal title: 'wahdx-tui: 3 failed (stale)', so a background tab tells too."""
    failed = counts.get(State.FAILED, 0)
    title = f"wahdx-tui: {failed} failed" if failed else "wahdx-tui: no failures"
    return title + " (stale)" if health.stale else title


class SummaryLine(Static):
    """One piece of the summary bar; redrawn only when its text really changes."""

    # One line, cut with an ellipsis: wrapped, a narrow piece would move the words after its
    # first break ('16:02' of 'API DOWN since 16:02') to a second line nobody sees.
    DEFAULT_CSS = (
        "SummaryLine { height: 1; width: auto; text-wrap: nowrap; text-overflow: ellipsis; }"
    )

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._shown: Text | None = None

    def show(self, text: Text) -> None:
        """Update when different from what is on screen."""
        old = self._shown
        if old is None or text != old:
            self._shown = text
            # A layout pass costs a full repaint: only for auto-width pieces whose width changed.
            width = self.styles.width
            auto = width is None or width.is_auto
            self.update(text, layout=auto and (old is None or len(old.plain) != len(text.plain)))

    @property
    def plain(self) -> str:
        """The text shown, without styles (for tests)."""
        return self._shown.plain if self._shown is not None else ""


class SummaryBar(Static):
    """Counts on the first line; updated, next, health and the view on the second."""

    def compose(self) -> ComposeResult:
        """The pieces, each redrawn on its own."""
        yield SummaryLine(id="counts")
        with Horizontal(id="status-row"):
            yield SummaryLine(id="updated")
            yield SummaryLine(id="next")
            yield SummaryLine(id="health")
            yield SummaryLine(id="view")

    def show_board(
        self,
        board: Board,
        counts: Mapping[State, int],
        health: Health,
        next_piece: Text,
        via: str | None = None,
    ) -> None:
        """Redraw each piece whose text changed; `via` says where a team board's states come
        from ('via poller on HOST')."""
        self.query_one("#counts", SummaryLine).show(
            counts_text(board, counts, mono=self.app.no_color)
        )
        self.query_one("#updated", SummaryLine).show(updated_text(health))
        self.query_one("#next", SummaryLine).show(next_piece)
        said = health_text(health)
        if via:
            said = Text.assemble(
                Text(f"{via} · ", style="bold"), said, no_wrap=True, overflow="ellipsis"
            )
        self.query_one("#health", SummaryLine).show(said)
        self.query_one("#view", SummaryLine).show(view_text(board))
