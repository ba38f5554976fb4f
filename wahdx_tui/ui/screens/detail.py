"""The detail screen: every field of one post, re-checked now, with its trail and trend."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Protocol

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS
from wahdx_tui.core.domain.display import format_age, state_label
from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.domain.sanitize import clean, is_web_url
from wahdx_tui.core.engine.outcomes import RecheckOutcome
from wahdx_tui.ui.clipboard import copy_best, copy_field
from wahdx_tui.ui.messages import PostRechecked
from wahdx_tui.ui.widgets.footer import FittingFooter
from wahdx_tui.ui.widgets.trend import FailureTrend

_RAW_LIMIT = 20_000
TRAIL_SHOWN = 12


def raw_json(value: object) -> str:
    """The last response item as indented JSON, escaped, cut to a readable size."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=True, sort_keys=True, default=str)
    except (ValueError, TypeError, RecursionError):
        text = "(could not be shown)"
    if len(text) > _RAW_LIMIT:
        text = text[:_RAW_LIMIT] + f"\n… ({len(text) - _RAW_LIMIT} more characters)"
    return clean(text, keep_newlines=True)


def detail_table(row: Row, now: float) -> Table:
    """Every field of the post as a two-column grid of plain (never markup) text."""
    status = row.status
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")

    def add(name: str, value: str | Text | None) -> None:
        grid.add_row(name, value if isinstance(value, Text) else Text(value or "—"))

    add("State", state_label(row.state) + (" (acknowledged)" if row.acked else ""))
    add("Label", row.label)
    add("Account", row.account)
    add("Publish ID", row.publish)
    add("Media type", row.post.media_type)
    add("In state", format_age(now - row.since) if row.since else None)
    add("Checked", _when(row.checked_at, now))
    add("Raw status", clean(status.raw_status, 200) if status else None)
    url = status.public_url if status else None
    if url and is_web_url(url):
        add("Public URL", Text(clean(url), style=Style(link=url, underline=True)))
    else:
        add("Public URL", clean(url, 500) if url else None)
    add("Error", clean(status.error, keep_newlines=True) if status and status.error else None)
    if row.category is not None:
        add("Reason", f"{CATEGORY_LABELS[row.category]}: {HINTS[row.category]}")
    if row.stuck:
        add("Stuck", f"{row.state.value} for longer than the threshold")
    if row.note:
        add("Note", row.note)
    if row.acked:
        add("Acknowledged", _acked_by(row, now))
    if row.from_last_run:
        add("Data", "from the last run (not yet re-checked)")
    return grid


class PostSource(Protocol):
    """What the detail screen needs of the engine: a re-check and a post's trail."""

    async def recheck(self, post: WatchedPost) -> RecheckOutcome:
        """Re-check one post now."""
        ...

    async def trail(self, key: PostKey) -> tuple[list[Transition], str | None]:
        """The post's recorded states, or why they cannot be read."""
        ...


def _acked_by(row: Row, now: float) -> str:
    """'by ana@host-a at 2024-11-29 10:04:05 (2m ago)': who wrote the note shown, and when."""
    who = f"by {clean(row.acked_by, 120)}" if row.acked_by else "by (not recorded)"
    when = _when(row.acked_at, now)
    return f"{who} at {when}" if when else who


def _when(ts: float | None, now: float) -> str | None:
    if not ts:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) + f" ({format_age(now - ts)} ago)"


class DetailScreen(ModalScreen[None]):
    """One post in full; re-checked through the single-status endpoint when opened."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("r", "recheck", "Re-check"),
        Binding("c", "copy_best", "Copy"),
        Binding("i", "copy_field('id')", "Copy ID"),
        Binding("u", "copy_field('url')", "Copy URL"),
        Binding("e", "copy_field('error')", "Copy error"),
    ]

    def __init__(self, row: Row, source: PostSource) -> None:
        super().__init__()
        self.row = row
        self.source = source
        self.recheck_note = "re-checking now…"

    def compose(self) -> ComposeResult:
        """Fields, then the raw JSON of the last response."""
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-fields")
            yield FailureTrend(self.trend, caption="account's failures/h, 24 h", id="detail-trend")
            yield Static(Text("trail: loading…", style="dim"), id="detail-trail")
            yield Static(id="detail-recheck")
            yield Static("Last response for this post (raw JSON)", classes="detail-heading")
            yield Static(id="detail-raw")
        yield FittingFooter()

    def on_mount(self) -> None:
        """Draw, then re-check the post and load its trail."""
        self.query_one("#detail-body").border_title = "Post detail"
        self.refresh_fields()
        self.action_recheck()
        self._load_trail()

    @work(exclusive=False, exit_on_error=False, group="trail")
    async def _load_trail(self) -> None:
        trail, error = await self.source.trail(self.row.key)
        self.show_trail(trail, error)

    trend: Sequence[int] = ()
    """Failures per hour of the post's account (core.trend.failures_per_hour), oldest first."""

    def show_trend(self, counts: Sequence[int]) -> None:
        """Draw the account's failures per hour; callable before the screen is shown, too."""
        self.trend = list(counts)
        if self.is_mounted:
            self.query_one("#detail-trend", FailureTrend).show(self.trend)

    def show_trail(self, trail: list[Transition], error: str | None) -> None:
        """'Trail: QUEUED 10:02 -> PROCESSING 10:04 -> FAILED 10:05'."""
        text = Text("Trail  ", style="bold")
        if error:
            text.append(f"not available: {clean(error, 200)}", style="dim")
        elif not trail:
            text.append("no state changes recorded yet", style="dim")
        else:
            shown = trail[-TRAIL_SHOWN:]
            if len(trail) > len(shown):
                text.append("… ")
            for i, t in enumerate(shown):
                if i:
                    text.append(" -> ")
                stamp = time.strftime("%H:%M", time.localtime(t.at))
                text.append(f"{t.new.value.upper()} {stamp}")
        self.query_one("#detail-trail", Static).update(text)

    def refresh_fields(self) -> None:
        """Redraw from the row (after a re-check or a refresh)."""
        self.query_one("#detail-fields", Static).update(detail_table(self.row, time.time()))
        self.query_one("#detail-recheck", Static).update(Text(self.recheck_note, style="dim"))
        raw = self.row.status.raw if self.row.status else None
        self.query_one("#detail-raw", Static).update(Text(raw_json(raw)))

    def show_recheck(
        self, status: PostStatus | None, error: str | None, *, newest: bool = True
    ) -> None:
        """The single-status endpoint answered (or failed); `newest` is False when a refresh
        asked after it has already answered, so the board kept that newer state."""
        stamp = time.strftime("%H:%M:%S")
        if error:
            self.recheck_note = f"re-check at {stamp} failed: {clean(error, 300)}"
        else:
            state = status.state.value if status else "?"
            self.recheck_note = f"re-checked at {stamp}: {state}"
            if not newest:
                self.recheck_note += " (a newer answer is shown above)"
        self.refresh_fields()

    def action_recheck(self) -> None:
        """Re-check this post now (the answer reaches the board too)."""
        self.recheck_note = "re-checking now…"
        self.query_one("#detail-recheck", Static).update(Text(self.recheck_note, style="dim"))
        self._recheck()

    @work(exclusive=False, exit_on_error=False, group="recheck")
    async def _recheck(self) -> None:
        # Posted from here it bubbles to the app, which redraws the board behind this screen.
        self.post_message(PostRechecked(await self.source.recheck(self.row.post)))

    def on_post_rechecked(self, message: PostRechecked) -> None:
        """Show the re-check's answer (the message goes on to the app)."""
        outcome = message.outcome
        self.show_recheck(outcome.status, outcome.error, newest=outcome.newest)

    def action_copy_best(self) -> None:
        """Copy this post's error, URL or publish ID (whichever matters most)."""
        copy_best(self.app, self.row)

    def action_copy_field(self, field: str) -> None:
        """Copy one field of the post."""
        copy_field(self.app, self.row, field)
