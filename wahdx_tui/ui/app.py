"""The board app: draws what the engine reports, on a timer set again when each pass ends."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer

from wahdx_tui.core.board.accounts import Accounts
from wahdx_tui.core.board.state import Board, Changes
from wahdx_tui.core.board.trend import failures_per_hour
from wahdx_tui.core.domain.model import PostKey, State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.engine import STOP_WITHIN, Engine
from wahdx_tui.core.reports.export import write_accounts_export, write_export
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.ui.announce import announce_failures, announce_stuck
from wahdx_tui.ui.clipboard import copy_account, copy_best
from wahdx_tui.ui.keys import bindings, palette_commands
from wahdx_tui.ui.messages import (
    HistoryRestored,
    HistorySaved,
    PassDone,
    PostRechecked,
    TeamFollowed,
    WatchlistReloaded,
)
from wahdx_tui.ui.screens.ack import AckScreen, UnackScreen
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.screens.eventlog import EventLogScreen
from wahdx_tui.ui.screens.help import HelpScreen
from wahdx_tui.ui.screens.listedit import AddPostScreen, RetireScreen
from wahdx_tui.ui.themes import install_themes
from wahdx_tui.ui.viewkeys import BoardViews
from wahdx_tui.ui.widgets.accounts import AccountsView
from wahdx_tui.ui.widgets.banner import Banner, history_banner, pass_banner, team_banner
from wahdx_tui.ui.widgets.filterbox import FilterBox
from wahdx_tui.ui.widgets.fit import Said
from wahdx_tui.ui.widgets.follower import TeamFollower
from wahdx_tui.ui.widgets.footer import FittingFooter
from wahdx_tui.ui.widgets.summary import Status, SummaryBar, summary_key, title_text
from wahdx_tui.ui.widgets.table import BoardTable, TableHeader

INTERVALS = (2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
STUCK_CHECK_EVERY = 5  # seconds (ticks of the one clock)
FILE_CHECK_EVERY = 2  # seconds (ticks of the one clock)
AGE_STEP = 10.0
"""Seconds between redraws of the ages, on the wall clock's ten-second marks: they read in
minutes, so every line that turned a minute in the last ten seconds is redrawn in one frame,
not each in its own (one frame a line was most of an idle board's CPU)."""


class BoardApp(BoardViews):
    """The live board of watched posts."""

    CSS_PATH = "board.tcss"
    TITLE = "wahdx-tui"
    BINDINGS = [*bindings(), Binding("escape", "clear_filter", "Clear filter", show=False)]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        engine: Engine,
        *,
        bell: bool = True,
        subtitle: str = "",
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.export_dir = export_dir
        self.ring_bell = bell
        self.sub_title = subtitle
        self.paused = False
        self.next_at: float | None = None  # wall-clock time of the next pass, once scheduled
        self.clock = engine.clock
        self.poll_timer: Timer | None = None  # armed between passes
        self.accounts = Accounts()  # kept current while the accounts view is shown
        self._title_shown = ""
        self._summary_said: tuple[object, ...] | None = None  # what the summary was drawn from
        self._seconds = 0  # ticks of the board's one clock (`second`)
        self._age_slot = -1  # the AGE_STEP the ages were last redrawn in

    @property
    def board(self) -> Board:
        """The rows, sorted and filtered: the engine's board, which the view keys work on."""
        return self.engine.board

    @property
    def team(self) -> TeamEngine | None:
        """The engine's team side, when the engine says it follows a shared store."""
        return cast(TeamEngine, self.engine) if self.engine.follows_store else None

    @property
    def follows_poller(self) -> bool:
        """A team board showing what another process's poller writes (it polls nothing)."""
        return self.engine.follows_store and not self.engine.polls_api

    @property
    def polls_for_team(self) -> bool:
        """This board holds the team's lease: every other board shows what it polls."""
        return self.engine.follows_store and self.engine.polls_api

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Summary, banner, headings, table, filter box, footer."""
        table = BoardTable(self.board, id="table")
        yield SummaryBar(id="summary")
        yield Banner(id="banner")
        yield TableHeader(table, id="header")
        yield table
        yield AccountsView(self.accounts, id="accounts")
        yield FilterBox(self.board, id="filter")
        # Compact, and without the palette hint (Ctrl+P is in the help): the keys fit 120 columns.
        yield FittingFooter(compact=True, show_command_palette=False)

    @property
    def banner(self) -> Banner:
        """The banner under the summary."""
        return self.query_one(Banner)

    def on_mount(self) -> None:
        """Draw, start the clocks, and start the first pass (the engine makes its client then)."""
        install_themes(self)  # the palette's themes, and the one chosen last time
        self.engine.history.on_saved = self._history_saved
        self.engine.on_client_event = lambda _event: self.update_summary()
        self.query_one(FilterBox).display = False
        self.query_one(AccountsView).display = False
        self.banner.display = False
        self.table.focus()
        self.update_summary()
        # Each clock has its own timer: ages and alerts, stuck posts, the watchlist file.
        self.set_interval(1.0, self.second)  # one clock: each timer of its own woke the board
        if (team := self.team) is not None:
            self.mount(TeamFollower(team))  # restores, then starts the first pass
        else:
            self._restore()
            self.start_poll()

    async def on_unmount(self) -> None:
        """Close the connection pool and finish writing history, within the stop's deadline
        (a store locked by another process is then said on exit, not waited out)."""
        await self.engine.aclose(deadline=STOP_WITHIN)

    def events(self) -> list[Transition]:
        """The newest state changes, newest first."""
        return self.engine.events()

    def board_changed(self, *, full: bool = True) -> None:
        """The one path after anything that changes the board: table, headings, summary."""
        self.table.reconcile(full=full)
        self.query_one(TableHeader).refresh()
        view = self.query_one(AccountsView)
        if view.display:
            self.accounts.reset(self.board.rows.values())
            view.reconcile(full=True)
        self.update_summary()

    def _show_changes(self, changes: Changes, *, first: bool = False) -> None:
        """Redraw the rows an answer changed (all, when many moved) and announce failures."""
        self.table.reconcile(full=changes.reordered and len(changes.changed) > 50)
        rows = self.board.rows
        view = self.query_one(AccountsView)
        if view.display and changes.changed:  # only the accounts of the changed posts
            self.accounts.update(rows[k] for k in changes.changed if k in rows)
            view.reconcile()
            view.show_trend(failures_per_hour(self.events(), self.clock()))
        failed = [rows[k] for k in changes.new_failures if k in rows]
        announce_failures(self, failed, first=first, bell=self.ring_bell)

    # -- history ------------------------------------------------------------------------------

    @work(exclusive=False, exit_on_error=False, group="history")
    async def _restore(self) -> None:
        self.post_message(HistoryRestored(await self.engine.restore()))

    def on_history_restored(self, message: HistoryRestored) -> None:
        """Show the last run's states until the first refresh (or why they are not shown)."""
        outcome = message.outcome
        if self.polls_for_team and not self.engine.passes:
            self.start_poll()  # the lease was free at start: this board polls for the team
        if outcome.error is not None:
            self.banner.say("history-error", history_banner(outcome.error))
        elif outcome.restored:
            self.board_changed()
            if self.engine.passes == 0:
                self.banner.show_message(
                    f"showing the last run's states for {outcome.restored} posts until the "
                    "first refresh",
                    "history",
                    error=False,
                )

    def _history_saved(self, error: str | None) -> None:
        """Called on the history thread when a write ends."""
        history = self.engine.history
        with contextlib.suppress(RuntimeError):  # the app's loop has already closed
            self.post_message(HistorySaved(error, history.unsaved, history.dropped))

    def on_history_saved(self, message: HistorySaved) -> None:
        """Say when history is not being saved, and stop saying so once a write succeeds."""
        said = history_banner(message.error, message.waiting, message.dropped)
        self.banner.say("history-error", said)

    # -- the team store -------------------------------------------------------------------------

    def on_team_followed(self, message: TeamFollowed) -> None:
        """Draw what the store brought, say what is missing, and do what the team asks."""
        outcome = message.outcome
        self.banner.say("store", team_banner(outcome))
        if outcome.listed.shown_changed:
            self.table.posts_changed()  # the team's watchlist gained or lost posts
            self.board_changed()  # every view drawn again: the accounts, the headings
        self._show_changes(outcome.changes, first=outcome.first)
        if self.board.any_unanswered() or self.table.stale:
            self.table.mark_stale(self.board.any_unanswered())
        if outcome.took_lease:
            self.notify("no other poller: this board now polls the API for the team", markup=False)
            self.start_poll()
        if outcome.lost_lease:
            self._stop_timer()
            self.next_at = None
        if outcome.refresh:
            self.start_poll(everything=True)
        elif outcome.listed.new and self.engine.polls_api and not self.paused:
            self.start_poll(only={post.key for post in outcome.listed.new})
        for post in outcome.recheck:
            self.query_one(TeamFollower).recheck(post)
        self.update_summary()

    # -- passes -------------------------------------------------------------------------------

    def start_poll(self, everything: bool = False, only: set[PostKey] | None = None) -> None:
        """Begin a pass (of the posts `only`, when given) unless one is running; a request
        during a pass is coalesced. A board following a team's poller asks the poller
        instead. A pass of new posts keeps the next pass's time."""
        if only is None:
            self._stop_timer()
        engine = self.engine
        if not engine.polls_api:
            if everything and engine.follows_store:
                self.query_one(TeamFollower).ask_for_refresh()
            return
        if not engine.begin_pass():
            return
        if only is None:
            self.next_at = None
            self.update_summary()
        self._poll(everything, only)

    @work(exclusive=False, exit_on_error=False, group="poll")
    async def _poll(self, everything: bool, only: set[PostKey] | None = None) -> None:
        self.post_message(PassDone(await self.engine.run_pass(everything, only)))

    def on_pass_done(self, message: PassDone) -> None:
        """Redraw what the pass changed, say what it could not do, and set the next one."""
        outcome = message.outcome
        if not self.engine.polls_api and not outcome.ran:
            return  # the lease went while the pass ran: the team's poller carries on
        if outcome.ran:
            self._show_changes(outcome.changes, first=outcome.first)
            self.banner.hide_message("history")
        if outcome.unanswered or self.table.stale:
            # Rows this pass did not answer are marked stale, in words as well as in colour.
            self.table.mark_stale(self.board.any_unanswered())
        self.banner.say("poll", pass_banner(outcome))
        self._announce_stuck(outcome.stuck)
        if self.engine.take_again():
            self.start_poll()
            return
        if self.poll_timer is None:  # else a pass of new posts ran: the next keeps its time
            self._schedule()
        self.update_summary()

    def _stop_timer(self) -> None:
        if self.poll_timer is not None:
            self.poll_timer.stop()
            self.poll_timer = None

    def _schedule(self) -> None:
        """Set the next pass one interval (or a rate limit's wait) after the last ended."""
        self._stop_timer()
        if self.paused or self.engine.polling or not self.engine.polls_api:
            self.next_at = None
            return
        delay = self.engine.next_delay()
        self.next_at = time.time() + delay  # as the summary shows it (the timer is Textual's)
        self.poll_timer = self.set_timer(delay, self.fire_timer)

    def fire_timer(self) -> None:
        """The refresh timer ran out: start the pass."""
        self.poll_timer = None
        self.start_poll()

    def on_post_rechecked(self, message: PostRechecked) -> None:
        """A re-check folded an answer in: redraw and announce it."""
        self._show_changes(message.outcome.changes)
        self.update_summary()

    # -- clocks -------------------------------------------------------------------------------

    def second(self) -> None:
        """The board's one clock: each second the summary and the ages; every
        FILE_CHECK_EVERY the watchlist file's saves, every STUCK_CHECK_EVERY the stuck posts."""
        self._seconds += 1
        self.tick()
        if self.engine.watched is not None and not self._seconds % FILE_CHECK_EVERY:
            self.check_watchlist_file()
        if not self._seconds % STUCK_CHECK_EVERY:
            self.check_stuck()

    def tick(self) -> None:
        """Once a second: the summary and whether alerts are getting through (each drawn only
        when its text changed), and the coarse ages on each AGE_STEP mark."""
        try:
            self.update_summary()
            if self.engine.alerts is not None:
                self.banner.say("alerts", self.engine.alerts.banner())
            slot = int(self.table.now() // AGE_STEP)
            if slot != self._age_slot and not isinstance(self.screen, DetailScreen | HelpScreen):
                self._age_slot = slot
                self.table.reconcile()
        except NoMatches:
            return  # the board's widgets are being taken down (at quit): nothing to draw on

    def check_stuck(self) -> None:
        """Flag posts too long queued or processing; announce the newly stuck like failures."""
        flagged = self.board.stuck
        stuck = self.engine.check_stuck()
        try:
            if not stuck and self.board.stuck != flagged:
                # A flag cleared: its line says so now, not on the next age mark.
                self.table.reconcile()
                self.update_summary()
            self._announce_stuck(stuck)
        except NoMatches:
            return  # at quit: the flags are kept, only the drawing is skipped

    def _announce_stuck(self, keys: list[PostKey]) -> None:
        if not keys:
            return
        self.table.reconcile()
        self.update_summary()
        rows = [self.board.rows[k] for k in keys if k in self.board.rows]
        announce_stuck(self, rows, self.clock(), bell=self.ring_bell)

    def check_watchlist_file(self) -> None:
        """Re-read the watchlist when its file was saved."""
        seq = self.engine.file_saved()
        if seq is not None:
            self._reload(seq)

    @work(exclusive=False, exit_on_error=False, group="reload")
    async def _reload(self, seq: int) -> None:
        outcome = await self.engine.reload_file(seq)
        if outcome is not None:  # None: a newer save is being read
            self.post_message(WatchlistReloaded(outcome))

    def on_watchlist_reloaded(self, message: WatchlistReloaded) -> None:
        """New posts swapped in (keeping sort, filter, cursor), or the bad edit said."""
        outcome = message.outcome
        if outcome.error is not None:
            said = Said("⚠ watchlist not reloaded, keeping the last good list: ", outcome.error)
            self.banner.show_message(said, "watchlist")
            return
        self.table.posts_changed()
        self.banner.hide_message("watchlist")
        if outcome.interval_changed and not self.engine.polling and not self.paused:
            self._schedule()
        note = f"watchlist reloaded: +{outcome.added} / -{outcome.removed} posts"
        self.notify("; ".join([note, *outcome.said]), markup=False)
        self.update_summary()
        if outcome.added:
            self.start_poll()

    # -- the summary and the title --------------------------------------------------------------

    def update_summary(self) -> None:
        """Redraw the summary lines (each only if its text changed) and the terminal title,
        unless nothing they are made of changed since they were last drawn."""
        engine, board = self.engine, self.board
        team = self.team
        retired = team.team_list.retired() if team is not None else 0
        status = Status(engine.health, self.next_at, self.paused, team.source if team else None)
        counts = board.counts()
        try:
            shown = [c.key for c in self.table.column_layout.columns]
            sort_shown = board.sort_column in shown
            said = summary_key(
                board, counts, status, sort_shown=sort_shown, retired=retired, mono=self.no_color
            )
            if said == self._summary_said:
                return
            bar = self.query_one(SummaryBar)
            bar.show_board(board, counts, status, sort_shown=sort_shown, retired=retired)
        except NoMatches:
            return  # its pieces are not mounted yet, or taken down already (at quit)
        self._summary_said = said
        self._set_terminal_title(title_text(counts, engine.health))

    def _set_terminal_title(self, title: str) -> None:
        if title == self._title_shown or self._driver is None:
            return
        self._title_shown = title
        self.title = title
        if not self.is_headless:
            self._driver.write(f"\x1b]2;{clean(title, 80)}\x07")

    # -- actions ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Refresh now, every post (published and failed ones too)."""
        self.start_poll(everything=True)

    def action_pause(self) -> None:
        """Pause or resume automatic refreshes; a board that follows the team's poller has
        none of its own to pause, and says so."""
        if self.follows_poller and not self.paused:
            self.notify(
                "nothing to pause: the team's poller refreshes this board, and keeps its own "
                "pace (pause it where it runs)",
                severity="warning",
                markup=False,
            )
            return
        self.paused = not self.paused
        if self.paused:
            self._stop_timer()
            self.next_at = None
        elif not self.engine.polling:
            self._schedule()
        said = "refreshes paused" if self.paused else "refreshes resumed"
        if self.paused and self.polls_for_team:
            said += ": this board polls for the team, whose boards go stale until you resume"
        self.notify(said, markup=False)
        self.update_summary()

    def action_interval(self, step: int) -> None:
        """Step the refresh interval up or down."""
        now = self.engine.interval
        current = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - now))
        self.engine.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, current + step))]
        if not self.engine.polling and not self.paused:
            self._schedule()
        said = f"refresh every {self.engine.interval:g}s"
        if self.follows_poller:
            said += " when this board polls (the team's poller keeps its own pace)"
        self.notify(said, markup=False)
        self.update_summary()

    def action_open_detail(self) -> None:
        """Open the selected post, with its account's failures per hour (in the accounts
        view: show the selected account's posts, as Enter there does)."""
        if self.accounts_shown:
            self.query_one(AccountsView).action_choose()
            return
        row = self.table.selected
        if row is not None:
            screen = DetailScreen(row, self.engine)
            account = row.post.account_id
            screen.show_trend(failures_per_hour(self.events(), self.clock(), account=account))
            self.push_screen(screen)

    @on(BoardTable.Selected)
    def _row_selected(self, message: BoardTable.Selected) -> None:
        self.action_open_detail()

    def action_copy(self) -> None:
        """Copy the error of a failed post, the URL of a published one, else the publish ID;
        in the accounts view, the selected account's ID."""
        if self.accounts_shown:
            account = self.query_one(AccountsView).table.selected
            if account is not None:
                copy_account(self, account)
            return
        row = self.table.selected
        if row is not None:
            copy_best(self, row)

    def action_ack(self) -> None:
        """Acknowledge the selected failed post (with a note), or, asked first, take an
        acknowledgement back."""
        if self.posts_only("a acknowledges a failed post", "Enter shows this account's posts"):
            return
        row = self.table.selected
        if row is None:
            return
        if row.state is not State.FAILED:
            self.notify("only failed posts are acknowledged", severity="warning", markup=False)
            return
        if row.acked:

            def take_back(sure: bool | None) -> None:
                if sure and self.board.rows.get(row.key) is row and row.acked:
                    self.engine.unacknowledge(row.key)
                    self.notify(f"{row.publish} is unreviewed again", markup=False)
                    self.board_changed()

            self.push_screen(UnackScreen(row), take_back)
            return

        def done(note: str | None) -> None:
            if note is not None:
                self.engine.acknowledge(row.key, note)
                self.notify(f"acknowledged {row.publish}", markup=False)
                self.board_changed()

        self.push_screen(AckScreen(row), done)

    def action_add_post(self) -> None:
        """Add a post to the team's watchlist, through a small form."""
        team = self.team
        if team is None:
            self.notify(
                "this board keeps no store (--no-history): add the post to its watchlist file",
                severity="warning",
                markup=False,
            )
            return
        if team.team_list.own_file:
            self.notify(
                f"this board shows {clean(team.team_list.path, 200)}: add the post there, or"
                " open wahdx-tui watch without a file to edit the team's watchlist",
                severity="warning",
                markup=False,
            )
            return
        row = self.table.selected
        account = row.post.account_id if row is not None else ""

        def done(post: WatchedPost | None) -> None:
            if post is not None:
                self._add_post(post)

        self.push_screen(AddPostScreen(account), done)

    @work(exclusive=False, exit_on_error=False, group="team-list")
    async def _add_post(self, post: WatchedPost) -> None:
        team = self.team
        assert team is not None  # only a team board's `n` comes here
        try:
            counts = await team.add_posts([post])
        except StoreError as exc:
            self.notify(f"not added: {exc}", severity="error", markup=False)
            return
        said = "added" if counts.added else "updated" if counts.updated else "already listed:"
        shown = f"{post.label or post.publish_id} ({post.account_id})"
        accounts = team.team_list.accounts
        if accounts and post.account_id not in accounts:
            shown += ", an account this board does not show"
        self.notify(f"{said} {clean(shown, 200)}", markup=False)

    def action_retire_post(self) -> None:
        """Retire the selected post from the team's watchlist, once confirmed."""
        row = self.table.selected
        if row is None:
            return
        if self.team is None:
            self.notify(
                "this board keeps no store (--no-history): take the post out of its file",
                severity="warning",
                markup=False,
            )
            return

        def done(retire: bool | None) -> None:
            if retire:
                self._retire_post(row.key, row.publish)

        self.push_screen(RetireScreen(row), done)

    @work(exclusive=False, exit_on_error=False, group="team-list")
    async def _retire_post(self, key: PostKey, shown: str) -> None:
        team = self.team
        assert team is not None  # only a team board's `d` comes here
        try:
            retired = await team.retire_post(key)
        except StoreError as exc:
            self.notify(f"not retired: {exc}", severity="error", markup=False)
            return
        if retired:
            self.notify(f"retired {shown}: `wahdx-tui add` brings it back", markup=False)
        else:
            self.notify(f"{shown} is not on the team's watchlist", markup=False)

    def action_events(self) -> None:
        """Open the event log."""
        self.push_screen(EventLogScreen(self.engine.events, self.board))

    def action_export(self, fmt: str) -> None:
        """Write the current view (after filter and sort) to a CSV or JSON file: the posts,
        or in the accounts view the accounts."""
        try:
            if self.accounts_shown:
                accounts = self.accounts
                chosen = [accounts.rows[a] for a in accounts.keys_in_view()]
                path = write_accounts_export(chosen, fmt, self.export_dir, self.clock())
                what = f"{len(chosen)} accounts"
            else:
                rows = [self.board.rows[k] for k in self.board.keys_in_view()]
                path = write_export(rows, fmt, self.export_dir, self.clock())
                what = f"{len(rows)} posts"
        except OSError as exc:
            self.notify(f"export failed: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.notify(f"exported {what} to {clean(str(path), 300)}", timeout=15, markup=False)

    def action_help(self) -> None:
        """Show every key, how often the board refreshes, and where alerts go."""
        alerts = self.engine.alerts
        if self.follows_poller:
            refresh = "live, as the team's poller writes"
        else:
            refresh = f"every {self.engine.interval:g}s (+ and - change it)"
        said = alerts.summary() if alerts else "no alert targets set"
        if self.follows_poller and (team := self.team) is not None:
            said = team.alert_word()  # the team's poller sends them, never this board
        self.push_screen(HelpScreen(said, refresh))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands, then every board action, from the one key table."""
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)
