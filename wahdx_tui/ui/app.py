"""The board app: polls on a self-rescheduling timer and reconciles the table by row key."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from wahdx_tui.core.board import SORT_COLUMNS, STATE_FILTERS, Board, Changes, Row, carries_state
from wahdx_tui.core.categories import Category
from wahdx_tui.core.client import ClientEvent, WahdxClient
from wahdx_tui.core.display import format_age
from wahdx_tui.core.errors import ApiError
from wahdx_tui.core.export import write_export
from wahdx_tui.core.freshness import Freshness
from wahdx_tui.core.health import Health
from wahdx_tui.core.history import History
from wahdx_tui.core.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.poller import Poller
from wahdx_tui.core.sanitize import clean
from wahdx_tui.core.store import StoreError, Transition
from wahdx_tui.core.watchlist import (
    Watchlist,
    WatchlistError,
    WatchlistSettings,
    load_watchlist,
)
from wahdx_tui.ui.eventlog import EventLogScreen
from wahdx_tui.ui.footer import FittingFooter
from wahdx_tui.ui.keys import KEYS, bindings
from wahdx_tui.ui.messages import (
    HistorySaved,
    PollFailed,
    PollFinished,
    PostRechecked,
    WatchlistInvalid,
    WatchlistReloaded,
)
from wahdx_tui.ui.review import AckScreen
from wahdx_tui.ui.screens import DetailScreen, HelpScreen
from wahdx_tui.ui.summary import (
    SummaryLine,
    counts_text,
    health_text,
    next_text,
    updated_text,
    view_text,
)
from wahdx_tui.ui.table import BoardTable, TableHeader
from wahdx_tui.ui.themes import install_themes

INTERVALS = (2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
MAX_TOASTS = 3
DIFF_SLICE = 2000
STUCK_CHECK_EVERY = 5.0
DEFAULT_STUCK_QUEUED_MIN = 30.0
DEFAULT_STUCK_PROCESSING_MIN = 15.0
CATEGORY_FILTERS: tuple[Category | None, ...] = (None, *Category)
ClientFactory = Callable[[Callable[[ClientEvent], None]], WahdxClient]


class BoardApp(App[int]):
    """The live board of watched posts."""

    CSS_PATH = "board.tcss"
    TITLE = "wahdx-tui"
    BINDINGS = [*bindings(), Binding("escape", "clear_filter", "Clear filter", show=False)]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        watchlist: Watchlist,
        client_factory: ClientFactory,
        *,
        interval: float = 15.0,
        final_every: int = 10,
        bell: bool = True,
        watch_file: bool = True,
        subtitle: str = "",
        clock: Callable[[], float] = time.time,
        history: History | None = None,
        export_dir: Path | None = None,
        fixed_settings: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        # Settings given on the command line: an edit of the watchlist does not override them.
        self.fixed_settings = fixed_settings
        self.watchlist = watchlist
        self.history = history or History(None, "")
        self.export_dir = export_dir
        self.board = Board(watchlist.posts)
        self.health = Health()
        self.interval = interval
        self.final_every = final_every
        self.ring_bell = bell
        self.watch_file = watch_file
        self.sub_title = subtitle
        self.paused = False
        self.polling = False
        self.refresh_again = False
        self.next_at: float | None = None
        self.passes = 0
        self.failed_passes = 0
        self.clock = clock
        self._client_factory = client_factory
        self._client: WahdxClient | None = None
        self._poller: Poller | None = None
        self._freshness = Freshness()
        self._timer: Timer | None = None
        self._file_stamp = self._stamp()
        self._reload_seq = 0  # only the newest reload's result is applied
        self._title_shown = ""
        self._history_warned = False
        self._banners: dict[str, tuple[str, bool]] = {}
        self._last_stuck_check = 0.0

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Summary, banner, headings, table, filter box, footer."""
        table = BoardTable(self.board, id="table")
        with Static(id="summary"):
            yield SummaryLine(id="counts")
            with Horizontal(id="status-row"):
                yield SummaryLine(id="updated")
                yield SummaryLine(id="next")
                yield SummaryLine(id="health")
                yield SummaryLine(id="view")
        yield Static(id="banner")
        yield TableHeader(table, id="header")
        yield table
        yield Input(
            placeholder="filter: text in any column · Enter keeps · Esc clears", id="filter"
        )
        # Compact, and without the palette hint (Ctrl+P is in the help): the keys fit 120 columns.
        yield FittingFooter(compact=True, show_command_palette=False)

    @property
    def table(self) -> BoardTable:
        """The board table."""
        return self.query_one(BoardTable)

    def on_mount(self) -> None:
        """Create the client inside the app's loop, draw, and start the first poll."""
        install_themes(self)  # the palette's themes, and the one chosen last time
        self.history.on_saved = self._history_saved
        self._client = self._client_factory(self._client_event)
        self._poller = Poller(self._client, self.final_every)
        self.query_one("#filter", Input).display = False
        self.query_one("#banner", Static).display = False
        self.table.focus()
        self.update_summary()
        self.set_interval(1.0, self._tick)
        self._load_history()
        self.start_poll()

    async def on_unmount(self) -> None:
        """Close the connection pool and finish writing history (even if closing the pool
        fails)."""
        try:
            if self._client is not None:
                await self._client.aclose()
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self.history.close)

    # -- history ------------------------------------------------------------------------------

    @work(exclusive=False, exit_on_error=False, group="history")
    async def _load_history(self) -> None:
        try:
            stored, acks = await self.history.load()
        except StoreError as exc:
            self._history_failed(str(exc))
            return
        restored = self.board.restore(stored, acks)
        if restored:
            self.table.reconcile(full=True)
            self.update_summary()
            if self.passes == 0:
                self._show_banner(
                    f"showing the last run's states for {restored} posts until the first refresh",
                    "history",
                    error=False,
                )

    def _save_history(self, changed: list[PostStatus], transitions: list[Transition]) -> None:
        # Queued at once, in order: a quit right after a pass still writes it (on_unmount).
        self.history.save(changed, transitions)

    def _history_saved(self, error: str | None) -> None:
        """Called on the history thread when a write ends."""
        history = self.history
        with contextlib.suppress(RuntimeError):  # the app's loop has already closed
            self.post_message(HistorySaved(error, history.unsaved, history.dropped))

    def on_history_saved(self, message: HistorySaved) -> None:
        """Say when history is not being saved, and stop saying so once a write succeeds."""
        if message.error is None:
            if self._history_warned:
                self._history_warned = False
                self._hide_banner("history-error")
            return
        said = message.error
        if message.waiting:
            said += f" ({message.waiting:,} changes kept, retried with the next write"
            said += f"; {message.dropped:,} oldest dropped)" if message.dropped else ")"
        self._history_failed(said)

    def _history_failed(self, error: str) -> None:
        self._history_warned = True
        self._show_banner(f"⚠ history not saved: {error}", "history-error")

    def _transitions(self, changes: Changes) -> list[Transition]:
        rows = self.board.rows
        return [
            Transition(key, old, new, rows[key].since or self.clock())
            for key, old, new in changes.transitions
            if key in rows
        ]

    # -- polling ------------------------------------------------------------------------------

    def start_poll(self, everything: bool = False) -> None:
        """Begin a pass unless one is running; a request during a pass is coalesced."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.polling:
            self.refresh_again = True
            return
        self.polling = True
        self.next_at = None
        self.update_summary()
        self._poll(everything, self._freshness.pass_started())

    @work(exclusive=False, exit_on_error=False, group="poll")
    async def _poll(self, everything: bool, seq: int) -> None:
        assert self._poller is not None
        try:
            # Posts shown from the last run, or left unanswered, count as never checked: due.
            states = {
                k: r.state
                for k, r in self.board.rows.items()
                if not (r.from_last_run or r.unanswered)
            }
            report = await self._poller.poll(self.board.posts, states, everything=everything)
            unanswered: list[PostKey] = []
            changed = await self._absorb_unchanged(report.result.statuses, unanswered)
        except ApiError as exc:  # the key rejected too: polling goes on, so a new key recovers
            self.post_message(PollFailed(str(exc), seq=seq))
        except Exception as exc:  # a bug must not take the board down, nor stop its refreshes
            message = f"internal error: {exc.__class__.__name__}: {exc}"
            self.post_message(PollFailed(message, seq=seq))
        else:
            self.post_message(PollFinished(report, changed, seq, unanswered))

    async def _absorb_unchanged(
        self, statuses: list[PostStatus], unanswered: list[PostKey] | None = None
    ) -> list[PostStatus]:
        """The O(n) diff, in slices with frames between them, so the UI never waits on it."""
        changed: list[PostStatus] = []
        for start in range(0, len(statuses), DIFF_SLICE):
            chunk = statuses[start : start + DIFF_SLICE]
            changed += self.board.absorb_unchanged(chunk, unanswered)
            await asyncio.sleep(0)
        return changed

    def _client_event(self, event: ClientEvent) -> None:
        self.health.on_event(event)
        self.update_summary()

    def on_poll_finished(self, message: PollFinished) -> None:
        """Apply the statuses, redraw what changed, and schedule the next pass."""
        report = message.report
        self.passes += 1
        self.health.on_report(report)
        result = report.result
        left_out = message.unanswered
        # A re-check asked while this pass ran is newer than its answer for that post.
        changed, not_answered = self._freshness.pass_answered(
            message.seq,
            result.statuses,
            message.changed,
            [*left_out, *(p.key for p in result.failed)],
        )
        changes = self.board.apply(changed)
        self.table.reconcile(full=changes.reordered and len(changes.changed) > 50)
        self._hide_banner("history")
        self._save_history(changed, self._transitions(changes))
        # Rows this pass did not answer are marked stale, in words as well as in colour.
        if not_answered:
            self.board.mark_unanswered(not_answered)
            self.table.mark_stale(True)
        elif self.table.stale:
            self.table.mark_stale(self.board.any_unanswered())
        if result.complete and left_out:
            self._show_banner(
                f"⚠ the API's answer left out {len(left_out):,} of {report.asked:,} posts; "
                "showing their last known state (marked ⚠ in Checked)",
                "poll",
            )
        elif result.complete:
            self._hide_banner("poll")
        elif not result.statuses:
            stamp = time.strftime("%H:%M:%S")
            self._show_banner(
                f"⚠ refresh failed at {stamp}: {self.health.last_error} — showing last known data",
                "poll",
            )
        else:
            self._show_banner(
                f"⚠ {len(result.failed)} of {report.asked} posts could not be refreshed: "
                f"{self.health.last_error}; showing their last known state",
                "poll",
            )
        self._announce_failures(changes.new_failures, first=self.passes == 1)
        self._poll_ended()

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep every last-known state, mark stale, say what happened, and try again later."""
        self.failed_passes += 1
        answered_since = self._freshness.pass_failed(message.seq)
        self.health.on_failure(message.error)
        stamp = time.strftime("%H:%M:%S")
        self._show_banner(
            f"⚠ refresh failed at {stamp}: {clean(message.error, 200)} — showing last known data",
            "poll",
        )
        # Nothing was answered: every row is as old as it was, but for fresh re-checks.
        rows = self.board.rows
        self.board.mark_unanswered(
            [k for k in rows if k not in answered_since] if answered_since else None
        )
        self.table.mark_stale(True)
        self._poll_ended()

    def _poll_ended(self) -> None:
        self.polling = False
        if self.refresh_again:
            self.refresh_again = False
            self.start_poll()
            return
        self._schedule()
        self.update_summary()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.paused or self.polling:
            self.next_at = None
            return
        delay = self.interval
        if self.health.rate_limited_until:
            delay = max(delay, self.health.rate_limited_until - self.clock())
        self.next_at = self.clock() + delay
        self._timer = self.set_timer(delay, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self.start_poll()

    def _announce_failures(self, keys: list[PostKey], *, first: bool) -> None:
        rows = [self.board.rows[k] for k in keys if k in self.board.rows]
        if first and len(rows) > MAX_TOASTS:
            # At start-up a backlog of failures is one toast, not a flood.
            self.notify(f"{len(rows)} posts have failed", severity="error", markup=False)
            self._ring()
            return
        self._announce(
            rows,
            "✗ FAILED",
            "error",
            lambda row: clean(row.status.error if row.status else None, 160) or "failed",
            "failed posts",
        )

    def _announce(
        self,
        rows: list[Row],
        title: str,
        severity: SeverityLevel,
        detail: Callable[[Row], str],
        more: str,
    ) -> None:
        """A toast for each of the first few rows, one for the rest, and one bell."""
        if not rows:
            return
        for row in rows[:MAX_TOASTS]:
            self.notify(
                f"{row.label or row.publish}: {detail(row)}",
                title=f"{title} · {row.account}",
                severity=severity,
                timeout=10,
                markup=False,
            )
        if len(rows) > MAX_TOASTS:
            self.notify(
                f"and {len(rows) - MAX_TOASTS} more {more}", severity=severity, markup=False
            )
        self._ring()

    def _ring(self) -> None:
        if self.ring_bell:
            self.bell()

    # -- re-checking one post -----------------------------------------------------------------

    def recheck(self, post: WatchedPost) -> None:
        """Re-check one post through the single-status endpoint (from the detail screen)."""
        self._recheck(post, self._freshness.recheck_started(post.key))

    @work(exclusive=False, exit_on_error=False, group="recheck")
    async def _recheck(self, post: WatchedPost, seq: int) -> None:
        assert self._client is not None
        try:
            status = await self._client.check_one(post)
        except ApiError as exc:
            self.post_message(PostRechecked(post.key, None, str(exc), seq))
        except Exception as exc:
            message = f"internal error: {exc.__class__.__name__}"
            self.post_message(PostRechecked(post.key, None, message, seq))
        else:
            self.post_message(PostRechecked(post.key, status, seq=seq))

    def on_post_rechecked(self, message: PostRechecked) -> None:
        """Fold the answer into the board (unless a newer one is there) and show it."""
        newest = True
        status = message.status
        if status is not None and carries_state(status):
            newest = self._freshness.recheck_answered(message.key, message.seq)
        else:
            # No answer, or one without a state (not found): a pass's answer stays welcome,
            # and the board keeps a known state either way (Board.apply).
            self._freshness.recheck_failed(message.seq)
        if status is not None and newest:
            changes = self.board.apply([status])
            self.table.reconcile()
            self._save_history([status], self._transitions(changes))
            self._announce_failures(changes.new_failures, first=False)
        screen = self.screen
        if isinstance(screen, DetailScreen) and screen.row.key == message.key:
            screen.show_recheck(message.status, message.error, newest=newest)
        self.update_summary()

    # -- the summary, banner and title ----------------------------------------------------------

    def update_summary(self) -> None:
        """Redraw the summary lines (each only if its text changed) and the terminal title."""
        try:
            counts = self.query_one("#counts", SummaryLine)
        except NoMatches:
            return
        board_counts = self.board.counts()
        counts.show(counts_text(self.board, board_counts, mono=self.no_color))
        next_in = None if self.next_at is None else self.next_at - self.clock()
        self.query_one("#updated", SummaryLine).show(updated_text(self.health))
        self.query_one("#next", SummaryLine).show(next_text(next_in, self.paused, self.interval))
        self.query_one("#health", SummaryLine).show(health_text(self.health))
        self.query_one("#view", SummaryLine).show(view_text(self.board))
        failed = board_counts.get(State.FAILED, 0)
        title = f"wahdx-tui: {failed} failed" if failed else "wahdx-tui: no failures"
        if self.health.stale:
            title += " (stale)"
        self._set_terminal_title(title)

    def _set_terminal_title(self, title: str) -> None:
        if title == self._title_shown or self._driver is None:
            return
        self._title_shown = title
        self.title = title
        if not self.is_headless:
            self._driver.write(f"\x1b]2;{clean(title, 80)}\x07")

    def _show_banner(self, text: str, source: str, *, error: bool = True) -> None:
        """Show a message until its source clears it; messages of other sources stay too."""
        self._banners[source] = (clean(text, 400), error)
        self._draw_banner()

    def _hide_banner(self, source: str) -> None:
        if self._banners.pop(source, None) is not None:
            self._draw_banner()

    def _draw_banner(self) -> None:
        banner = self.query_one("#banner", Static)
        if not self._banners:
            banner.display = False
            return
        banner.update(Text("\n".join(text for text, _ in self._banners.values())))
        banner.set_class(any(error for _, error in self._banners.values()), "-error")
        banner.display = True

    def _tick(self) -> None:
        """Once a second: countdown, coarse ages, and the watchlist file."""
        self.update_summary()
        if not isinstance(self.screen, DetailScreen | HelpScreen):
            self.table.reconcile()
        if self.watch_file and int(self.clock()) % 2 == 0:
            self._check_watchlist_file()
        if self.clock() - self._last_stuck_check >= STUCK_CHECK_EVERY:
            self.check_stuck()

    def check_stuck(self) -> None:
        """Flag posts too long queued or processing; announce the newly stuck like failures."""
        self._last_stuck_check = now = self.clock()
        settings = self.watchlist.settings
        limits = {
            State.QUEUED: 60 * (settings.stuck_queued_minutes or DEFAULT_STUCK_QUEUED_MIN),
            State.PROCESSING: 60
            * (settings.stuck_processing_minutes or DEFAULT_STUCK_PROCESSING_MIN),
        }
        newly = self.board.find_stuck(now, limits)
        if not newly:
            return
        self.table.reconcile()
        self.update_summary()
        self._announce(
            [self.board.rows[k] for k in newly],
            "⚠ STUCK",
            "warning",
            lambda row: f"{row.state.value} for {format_age(now - (row.since or now))}",
            "stuck posts",
        )

    # -- hot reload of the watchlist ------------------------------------------------------------

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.watchlist.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _check_watchlist_file(self) -> None:
        stamp = self._stamp()
        if stamp is None or stamp == self._file_stamp:
            return
        self._file_stamp = stamp
        self._reload_seq += 1
        self._reload(self.watchlist.path, self._reload_seq)

    @work(thread=True, exit_on_error=False, group="reload")
    def _reload(self, path: str, seq: int) -> None:
        try:
            watchlist = load_watchlist(path)
        except WatchlistError as exc:
            self.post_message(WatchlistInvalid(str(exc), seq))
        except Exception as exc:
            self.post_message(WatchlistInvalid(f"{path}: {exc.__class__.__name__}: {exc}", seq))
        else:
            self.post_message(WatchlistReloaded(watchlist, seq))

    def on_watchlist_reloaded(self, message: WatchlistReloaded) -> None:
        """Swap in the new posts, keeping sort, filter, cursor and what is known."""
        if message.seq != self._reload_seq:
            return  # a later save is loading (or has loaded): this read is older
        old = self.watchlist.settings
        self.watchlist = message.watchlist
        added, removed = self.board.set_posts(message.watchlist.posts)
        self.table.posts_changed()
        self._hide_banner("watchlist")
        said = self._apply_settings(old, message.watchlist.settings)
        note = f"watchlist reloaded: +{added} / -{removed} posts"
        self.notify("; ".join([note, *said]), markup=False)
        self.update_summary()
        if added:
            self.start_poll()

    def _apply_settings(self, old: WatchlistSettings, new: WatchlistSettings) -> list[str]:
        """Settings edited in the file take effect now, unless the command line gave them."""
        said: list[str] = []
        fixed = self.fixed_settings
        if new.interval is not None and new.interval != old.interval and "interval" not in fixed:
            self.interval = new.interval
            said.append(f"refresh every {new.interval:g}s")
            if not self.polling and not self.paused:
                self._schedule()
        # A setting taken out of the file keeps its current value, as with `interval`.
        changed = new.final_every != old.final_every
        if new.final_every is not None and changed and "final_every" not in fixed:
            self.final_every = new.final_every
            if self._poller is not None:
                self._poller.final_every = max(1, self.final_every)
            said.append(f"final posts re-checked every {self.final_every} passes")
        later = [
            name.replace("_", " ")
            for name in ("batch_size", "concurrency")
            if getattr(new, name) != getattr(old, name)
        ]
        if later:
            said.append(f"{' and '.join(later)} take effect at the next start")
        return said

    def on_watchlist_invalid(self, message: WatchlistInvalid) -> None:
        """Keep the last good list and say what is wrong with the edit."""
        if message.seq != self._reload_seq:
            return
        self._show_banner(
            f"⚠ watchlist not reloaded, keeping the last good list: {message.error}", "watchlist"
        )

    # -- actions ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Refresh now, every post (published and failed ones too)."""
        self.start_poll(everything=True)

    def action_pause(self) -> None:
        """Pause or resume automatic refreshes."""
        self.paused = not self.paused
        if self.paused:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.next_at = None
        elif not self.polling:
            self._schedule()
        self.notify("refreshes paused" if self.paused else "refreshes resumed", markup=False)
        self.update_summary()

    def action_interval(self, step: int) -> None:
        """Step the refresh interval up or down."""
        current = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - self.interval))
        self.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, current + step))]
        if not self.polling and not self.paused:
            self._schedule()
        self.update_summary()

    def _resort(self, column: str, reverse: bool) -> None:
        self.board.set_sort(column, reverse)
        self.table.reconcile(full=True)
        self.query_one(TableHeader).refresh()
        self.update_summary()

    def action_sort_next(self) -> None:
        """Sort by the next column."""
        i = SORT_COLUMNS.index(self.board.sort_column)
        self._resort(SORT_COLUMNS[(i + 1) % len(SORT_COLUMNS)], self.board.reverse)

    def action_sort_reverse(self) -> None:
        """Reverse the order."""
        self._resort(self.board.sort_column, not self.board.reverse)

    @on(BoardTable.LayoutChanged)
    def _layout_changed(self) -> None:
        self.query_one(TableHeader).refresh()

    @on(TableHeader.SortClicked)
    def _header_clicked(self, message: TableHeader.SortClicked) -> None:
        reverse = not self.board.reverse if message.column == self.board.sort_column else False
        self._resort(message.column, reverse)

    def action_state_filter(self) -> None:
        """Cycle all, failed, processing, queued, published, unknown."""
        i = STATE_FILTERS.index(self.board.state_filter)
        self.board.set_state_filter(STATE_FILTERS[(i + 1) % len(STATE_FILTERS)])
        self.table.reconcile(full=True)
        self.update_summary()

    def action_filter(self) -> None:
        """Open the text filter."""
        box = self.query_one("#filter", Input)
        if len(self.screen_stack) > 1 or (
            isinstance(self.focused, Input) and self.focused is not box
        ):
            raise SkipAction()  # another screen or box: the key is typed there as a '/'
        if self.focused is box:
            box.insert_text_at_cursor("/")
            return
        box.display = True
        # Focus now, not after a refresh, so keys typed straight after '/' land in the box.
        self.set_focus(box, scroll_visible=False)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.board.set_text_filter(event.value)
        self.table.reconcile(full=True)
        self.update_summary()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#filter", Input).display = False
        self.set_focus(self.table, scroll_visible=False)

    def action_clear_filter(self) -> None:
        """Clear the text filter and hide its box."""
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.board.set_text_filter("")
        self.table.reconcile(full=True)
        self.table.focus()
        self.update_summary()

    def action_open_detail(self) -> None:
        """Open the selected post."""
        row = self.table.selected
        if row is not None:
            self.push_screen(DetailScreen(row))

    @on(BoardTable.Selected)
    def _row_selected(self, message: BoardTable.Selected) -> None:
        self.action_open_detail()

    def action_copy(self) -> None:
        """Copy the error of a failed post, the URL of a published one, else the publish ID."""
        row = self.table.selected
        if row is not None:
            self.copy_best(row)

    def copy_best(self, row: Row) -> None:
        """The error of a failed post, the URL of a published one, else the publish ID."""
        status = row.status
        if status is not None and status.state is State.FAILED and status.error:
            self.copy_field(row, "error")
        elif status is not None and status.public_url:
            self.copy_field(row, "url")
        else:
            self.copy_field(row, "id")

    def copy_field(self, row: Row, field: str) -> None:
        """Copy one field through OSC 52, which reaches the operator's clipboard over SSH."""
        status = row.status
        value = {
            "id": row.post.publish_id,
            "url": status.public_url if status else None,
            "error": status.error if status else None,
        }.get(field)
        names = {"id": "publish ID", "url": "URL", "error": "error"}
        if not value:
            self.notify(f"no {names.get(field, field)} to copy", severity="warning", markup=False)
            return
        self.copy_to_clipboard(clean(value, 10_000))
        self.notify(f"copied {names[field]} of {row.publish}", markup=False)

    def action_category_filter(self) -> None:
        """Cycle the failure-category filter: all, then each category."""
        i = CATEGORY_FILTERS.index(self.board.category_filter)
        self.board.set_category_filter(CATEGORY_FILTERS[(i + 1) % len(CATEGORY_FILTERS)])
        self.table.reconcile(full=True)
        self.update_summary()

    def action_ack(self) -> None:
        """Acknowledge the selected failed post (with a note), or take an acknowledgement back."""
        row = self.table.selected
        if row is None:
            return
        if row.state is not State.FAILED:
            self.notify("only failed posts are acknowledged", severity="warning", markup=False)
            return
        if row.acked:
            self.board.set_flags(row.key, acked=False, note="")
            self._persist_ack(row.key, None)
            self.notify(f"{row.publish} is unreviewed again", markup=False)
            self._after_review()
            return

        def done(note: str | None) -> None:
            if note is None:
                return
            self.board.set_flags(row.key, acked=True, note=note)
            self._persist_ack(row.key, note)
            self.notify(f"acknowledged {row.publish}", markup=False)
            self._after_review()

        self.push_screen(AckScreen(row), done)

    def _after_review(self) -> None:
        self.table.reconcile(full=True)
        self.update_summary()

    def _persist_ack(self, key: PostKey, note: str | None) -> None:
        # Queued at once, like a pass's write: an acknowledgement just before quit is kept.
        self.history.save_ack(key, note, self.clock())

    def action_events(self) -> None:
        """Open the event log."""
        self.push_screen(EventLogScreen(lambda: list(self.history.events), self.board))

    def action_export(self, fmt: str) -> None:
        """Write the current view (after filter and sort) to a CSV or JSON file."""
        rows = [self.board.rows[k] for k in self.board.keys_in_view()]
        try:
            path = write_export(rows, fmt, self.export_dir)
        except OSError as exc:
            self.notify(f"export failed: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.notify(f"exported {len(rows)} posts to {path}", timeout=15, markup=False)

    def trail(self, key: PostKey) -> None:
        """Load a post's trail for the detail screen."""
        self._trail(key)

    @work(exclusive=False, exit_on_error=False, group="history")
    async def _trail(self, key: PostKey) -> None:
        error: str | None = None
        try:
            trail = await self.history.trail(key)
        except StoreError as exc:
            trail, error = [], str(exc)
        screen = self.screen
        if isinstance(screen, DetailScreen) and screen.row.key == key:
            screen.show_trail(trail, error)

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every board action in the command palette, from the one key table."""
        yield from super().get_system_commands(screen)
        for key in KEYS:
            if key.action in ("quit", "help"):
                continue
            yield SystemCommand(key.label, key.help, self._palette_action(key.action))

    def _palette_action(self, action: str) -> Callable[[], object]:
        async def run() -> None:
            await self.run_action(action)

        return run
