"""The engine: one pass from asking the API to board, history and health, for every face."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence

from wahdx_tui.core import heap
from wahdx_tui.core.alerts.hook import AlertHook
from wahdx_tui.core.api.client import ClientEvent, ClientFactory, WahdxClient
from wahdx_tui.core.board.state import Board, Row, carries_state
from wahdx_tui.core.board.stuckwatch import Blind
from wahdx_tui.core.domain.errors import ApiError, AuthError, Trouble
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, Transition
from wahdx_tui.core.engine.freshness import Freshness
from wahdx_tui.core.engine.health import Health
from wahdx_tui.core.engine.outcomes import (
    PassOutcome,
    RecheckOutcome,
    ReloadOutcome,
    RestoreOutcome,
)
from wahdx_tui.core.engine.poller import DEFAULT_FINAL_EVERY, Poller, PollReport
from wahdx_tui.core.settings.operator import operator_name
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import (
    Watchlist,
    WatchlistError,
    WatchlistSettings,
    load_watchlist,
    stuck_thresholds,
)
from wahdx_tui.core.watchlist.watchfile import WatchedFile

log = logging.getLogger("wahdx_tui.engine")
DIFF_SLICE = 2000  # statuses compared per slice before yielding to the event loop
STOP_WITHIN = 4.0
"""Seconds a stop (serve's SIGTERM, the board's `q`) gives the last writes and alerts: within
the 5 s the README's systemd unit and most supervisors wait before they kill."""
GIVE_UP_WITHIN = 1.0
"""Seconds after that deadline for writes waiting on a lock to give up and say so."""


class Engine:
    """Owns the client, poller, freshness rules, board, health and history of one watchlist.

    Faces (the board, `check`, `serve`) call `run_pass`, `recheck`, `acknowledge` and friends,
    and draw or print the outcome values they return; nothing here knows how it is shown.
    """

    def __init__(
        self,
        watchlist: Watchlist,
        client_factory: ClientFactory,
        *,
        interval: float = 15.0,
        final_every: int = DEFAULT_FINAL_EVERY,
        history: StoreWriter | None = None,
        clock: Callable[[], float] = time.time,
        fixed_settings: frozenset[str] = frozenset(),
        watch_file: bool = False,
        operator: str | None = None,
    ) -> None:
        self.watchlist = watchlist
        self.operator = operator or operator_name()  # who acknowledges here (user@host)
        self.watched = WatchedFile(watchlist.path) if watch_file else None
        self.board = Board(watchlist.posts)
        # Posts polled for the other boards of a team (see core/teamengine.py), not shown.
        self.others = Board()
        self.health = Health()
        self.blind = Blind()  # when nobody could see the posts: not counted toward stuck
        self.history = history or StoreWriter(None, "")
        self.interval = interval
        self.final_every = final_every
        self.clock = clock
        # Settings given on the command line: an edit of the watchlist does not override them.
        self.fixed_settings = fixed_settings
        self.passes = 0  # passes that got a report (complete or not)
        self.failed_passes = 0  # passes that could not run at all
        self.polling = False
        self.on_client_event: Callable[[ClientEvent], None] | None = None
        self.alerts: AlertHook | None = None  # told by the team's poller only
        self._client_factory = client_factory
        self.client: WahdxClient | None = None
        self.poller: Poller | None = None
        self.freshness = Freshness()
        self.pass_wanted = False  # a pass was asked for while one ran

    @property
    def polls_api(self) -> bool:
        """Whether this engine asks the API itself (a board following a team's poller does not)."""
        return True

    @property
    def follows_store(self) -> bool:
        """Whether this engine takes in what other processes write to a shared store."""
        return False

    @property
    def via(self) -> str | None:
        """Where the board's states come from, in words for the summary (None: this board)."""
        return None

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        """Create the client inside the running loop (idempotent)."""
        if self.client is None:
            self.client = self._client_factory(self._client_event)
            self.poller = Poller(self.client, self.final_every)

    async def aclose(self, deadline: float | None = None) -> None:
        """Close the connection pool, then finish writing history (even if the first fails).

        With `deadline` (seconds: STOP_WITHIN for serve's SIGTERM and the board's `q`), alerts
        in flight and the history's last writes get that long together. Then the store stops
        waiting for a lock another process holds, so a write stuck behind one gives up at
        once; what is still unwritten is said by `unsaved_warnings`. Without it, the history
        finishes however long it takes.
        """
        until = None if deadline is None else time.monotonic() + deadline
        try:
            if self.client is not None:
                await self.client.aclose()
        finally:
            closing: list[Callable[[], object]] = [self.history.close]
            if self.alerts is not None:  # messages in flight: 5 s at most
                closing.append(self.alerts.close)
            await self._finish_by([_in_daemon_thread(fn) for fn in closing], until)

    async def _finish_by(self, closing: list[asyncio.Future[None]], until: float | None) -> None:
        """Wait for the closing threads until `until` (monotonic; None: for good); then tell
        the store to stop waiting for locks, and give them a moment to say they gave up."""
        if until is None:
            await asyncio.gather(*closing)
            return
        _, pending = await asyncio.wait(closing, timeout=max(0.0, until - time.monotonic()))
        if pending:
            self.stop_waiting()
            await asyncio.wait(pending, timeout=GIVE_UP_WITHIN)

    def stop_waiting(self) -> None:
        """The stop's deadline has come: calls waiting on the store's locks give up now."""
        if self.history.store is not None:
            self.history.store.stop_waiting()

    def unsaved_warnings(self) -> list[str]:
        """After `aclose`: what history could not write even at quit, in words."""
        history = self.history
        said: list[str] = []
        if history.error is not None:
            said.append(
                f"history not saved: {history.error}; {history.unsaved:,} state changes "
                f"and {history.unsaved_acks:,} acknowledgements were not written"
            )
        if history.dropped:
            said.append(
                f"history: {history.dropped:,} of the oldest state changes were dropped "
                "while the history file refused writes"
            )
        return said

    def _client_event(self, event: ClientEvent) -> None:
        self.health.on_event(event)
        if self.on_client_event is not None:
            self.on_client_event(event)

    # -- passes ---------------------------------------------------------------------------

    def begin_pass(self) -> bool:
        """Claim the next pass; False (and remembered) when one is running already."""
        if self.polling:
            self.pass_wanted = True
            return False
        self.polling = True
        return True

    def take_again(self) -> bool:
        """Whether a pass was asked for while the last one ran (and forget that it was)."""
        again, self.pass_wanted = self.pass_wanted, False
        return again

    def next_delay(self) -> float:
        """Seconds until the next pass: the interval, or longer while rate limited."""
        delay = self.interval
        if self.health.rate_limited_until:
            delay = max(delay, self.health.rate_limited_until - self.clock())
        return delay

    async def run_pass(
        self, everything: bool = False, only: Collection[PostKey] | None = None
    ) -> PassOutcome:
        """Ask the API for the due posts (every post when `everything`; the posts `only`,
        when given: posts new to the list, asked at once) and apply the answer.

        Never raises: a pass that cannot run, or a bug while taking its answer in, comes back
        as an outcome with `ran` False and the reason, and the board keeps what it knew.
        """
        self.start()
        self.polling = True
        seq = self.freshness.pass_started()
        try:
            outcome = await self._run_pass(seq, everything, only)
        except ApiError as exc:  # the key rejected too: polling goes on, so a new key recovers
            outcome = self._pass_failed(
                seq, str(exc), key_rejected=isinstance(exc, AuthError), trouble=exc.trouble
            )
        except Exception as exc:  # a bug must not take the face down, nor stop its refreshes
            outcome = self._pass_failed(seq, f"internal error: {exc.__class__.__name__}: {exc}")
        finally:
            self.polling = False
        if self.alerts is not None and self.polls_api:
            failed = [*outcome.changes.new_failures, *outcome.team_failures]
            self.alerts.after_pass(
                outcome.api_state, self._rows(failed), self.clock(), outcome.published
            )
        return outcome

    def _rows(self, keys: Iterable[PostKey]) -> list[Row]:
        """The rows of `keys`, on this board or polled for another."""
        mine, theirs = self.board.rows, self.others.rows
        return [row for k in keys if (row := mine.get(k) or theirs.get(k)) is not None]

    async def _run_pass(
        self, seq: int, everything: bool, only: Collection[PostKey] | None
    ) -> PassOutcome:
        assert self.poller is not None
        rows = [*self.board.rows.values(), *self.others.rows.values()]
        if only is not None:
            rows, everything = [row for row in rows if row.key in only], True
        generations = self._generations()
        report = await self.poller.poll(rows, everything=everything, keep=True)
        left_out: list[PostKey] = []
        changed = await self.absorb_unchanged(
            report.result.statuses,
            left_out,
            report.finished,
            report.started,
            report.rows,
            generations,
        )
        return self.apply_pass(seq, report, changed, left_out)

    async def absorb_unchanged(
        self,
        statuses: list[PostStatus],
        unanswered: list[PostKey],
        checked_at: float,
        asked_at: float | None = None,
        rows: Sequence[Row] = (),
        generations: tuple[int, int] | None = None,
    ) -> list[PostStatus]:
        """A pass's first half: the O(n) diff, in slices with yields between them, so a face
        never waits on it; returns the statuses that changed. A status the answer kept as
        the row's own was checked at `checked_at` (when the pass ended; the pass began at
        `asked_at`). `rows`, the rows asked in the order asked (taken when both boards were
        at `generations`), lets an answer for every one of them skip the lookup of each row
        while no reload has added or removed rows since."""
        changed: list[PostStatus] = []
        beside = len(rows) == len(statuses)  # every post answered: statuses[i] is for rows[i]
        for start in range(0, len(statuses), DIFF_SLICE):
            chunk = statuses[start : start + DIFF_SLICE]
            if beside and generations == self._generations():
                chunk = Board.absorb_kept(rows[start : start + DIFF_SLICE], chunk, checked_at)
            changed += self.board.absorb_unchanged(chunk, unanswered, checked_at, asked_at)
            if self.others.rows:
                changed += self.others.absorb_unchanged(chunk, unanswered, checked_at, asked_at)
            await asyncio.sleep(0)
        return changed

    def _generations(self) -> tuple[int, int]:
        return self.board.generation, self.others.generation

    def apply_pass(
        self, seq: int, report: PollReport, changed: list[PostStatus], left_out: list[PostKey]
    ) -> PassOutcome:
        """A pass's second half: apply what changed (unless a newer re-check answered), queue
        it for the store, mark what went unanswered, and flag the newly stuck."""
        self.passes += 1
        self.health.on_report(report)
        result = report.result
        if result.statuses:
            self.blind.end(self.clock())  # the API answers: the posts are in sight again
        else:
            self.blind.begin(self.clock())
        # A re-check asked while this pass ran is newer than its answer for that post.
        to_apply, not_answered = self.freshness.pass_answered(
            seq, result.statuses, changed, [*left_out, *(p.key for p in result.failed)]
        )
        changes = self.board.apply(to_apply)
        transitions, team_failures = changes.transitions, list[PostKey]()
        if self.others.rows:
            theirs = self.others.apply(to_apply)
            transitions = [*transitions, *theirs.transitions]
            team_failures = theirs.new_failures
        # Queued at once, in order: a quit right after a pass still writes it. The event log
        # shows this board's own posts only.
        self.history.save(to_apply, transitions, shown=changes.transitions)
        if not_answered:
            self.board.mark_unanswered(not_answered)
            self.others.mark_unanswered(not_answered)
        if self.passes == 1:
            heap.settle()  # the long-lived rows are all made now
        return PassOutcome(
            number=self.passes,
            changes=changes,
            unanswered=not_answered,
            stuck=self.check_stuck(),
            asked=report.asked,
            answered=len(result.statuses),
            left_out=len(left_out),
            not_checked=len(result.failed),
            error=None if result.complete else (result.errors or ["incomplete pass"])[0],
            trouble=(result.troubles or ["other"])[0],
            team_failures=team_failures,
            published=_published(transitions),
        )

    def _pass_failed(
        self, seq: int, error: str, *, key_rejected: bool = False, trouble: Trouble = "other"
    ) -> PassOutcome:
        """Nothing was answered: keep every last-known state and mark it stale."""
        self.failed_passes += 1
        answered_since = self.freshness.pass_failed(seq)
        self.health.on_failure(error)
        self.blind.begin(self.clock())  # no answer: nobody sees the posts move from now
        rows = self.board.rows
        # Every row is as old as it was, but for those a newer re-check answered.
        stale = [k for k in rows if k not in answered_since] if answered_since else None
        self.board.mark_unanswered(stale)
        self.others.mark_unanswered()
        return PassOutcome(
            number=self.passes,
            unanswered=list(rows) if stale is None else stale,
            error=error,
            trouble=trouble,
            ran=False,
            key_rejected=key_rejected,
        )

    # -- one post -------------------------------------------------------------------------

    async def recheck(self, post: WatchedPost) -> RecheckOutcome:
        """Re-check one post through the single-status endpoint and fold in the answer,
        unless a newer one is on the board already. Never raises."""
        self.start()
        assert self.client is not None
        seq = self.freshness.recheck_started(post.key)
        status: PostStatus | None = None
        error: str | None = None
        try:
            status = await self.client.check_one(post)
        except ApiError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"internal error: {exc.__class__.__name__}"
        except BaseException:  # cancelled (the screen that asked closed): nothing in flight
            self.freshness.recheck_failed(seq)
            raise
        if status is not None and carries_state(status):
            newest = self.freshness.recheck_answered(post.key, seq)
        else:
            # No answer, or one without a state (not found): a pass's answer stays welcome,
            # and the board keeps a known state either way (Board.apply).
            self.freshness.recheck_failed(seq)
            newest = True
        if status is None or not newest:
            return RecheckOutcome(post.key, status, error, newest)
        changes = self.board.apply([status])
        transitions = [*changes.transitions, *self.others.apply([status]).transitions]
        self.history.save([status], transitions)
        if self.alerts is not None and self.polls_api:
            self.alerts.published(_published(transitions), self.clock())
        return RecheckOutcome(post.key, status, error, newest, changes)

    def acknowledge(self, key: PostKey, note: str) -> Row | None:
        """Acknowledge a failed post with a note, signed by this board's operator; stored at
        once (kept even if quit follows), replacing whatever note the post had."""
        at = self.clock()
        row = self.board.set_ack(key, Ack(key, note, at, self.operator))
        if row is not None:
            self.history.save_ack(key, note, at, row.since, self.operator)
        return row

    def unacknowledge(self, key: PostKey) -> Row | None:
        """Take an acknowledgement back: the post is an unreviewed failure again."""
        row = self.board.set_ack(key, None)
        if row is not None:
            self.history.save_ack(key, None, self.clock())
        return row

    async def trail(self, key: PostKey) -> tuple[list[Transition], str | None]:
        """A post's recorded states, oldest first, or why they cannot be read."""
        try:
            return await self.history.trail(key), None
        except StoreError as exc:
            return [], str(exc)

    def events(self) -> list[Transition]:
        """The newest state changes across all posts, newest first."""
        return list(self.history.events)

    def check_stuck(self) -> list[PostKey]:
        """Flag posts too long queued or processing, not counting the time the API gave no
        answer (`blind`); return the newly stuck (of this board).

        Faces call it every few seconds: it is also the alerts' clock."""
        now, limits = self.clock(), stuck_thresholds(self.watchlist)
        newly = self.board.find_stuck(now, limits, self.blind)
        theirs = self.others.find_stuck(now, limits, self.blind) if self.others.rows else []
        if self.alerts is not None and self.polls_api:
            self.alerts.stuck(self._rows([*newly, *theirs]), now)
            unreviewed = (
                row
                for board in (self.board, self.others)
                for row in board.rows.values()
                if row.unreviewed_failure
            )
            self.alerts.tick(unreviewed, now)
        return newly

    # -- history and the watchlist ----------------------------------------------------------

    async def restore(self) -> RestoreOutcome:
        """Show the last run's states and acknowledgements until the first pass answers."""
        try:
            stored, acks = await self.history.load()
        except StoreError as exc:
            return RestoreOutcome(error=str(exc))
        return RestoreOutcome(self.board.restore(stored, acks))

    async def restore_unseen(self) -> list[PostKey]:
        """Show what the store knows of the posts this board has no answer for yet (posts just
        added to its list, which a poller or an earlier run may have answered), so none says
        "not checked yet" while its state is known; returns them (raises StoreError)."""
        return await self._restore_unseen(self.board, last_run=True)

    async def _restore_unseen(self, board: Board, *, last_run: bool) -> list[PostKey]:
        """`restore_unseen` for one board (this one, or the posts polled for others)."""
        unseen = [key for key, row in board.rows.items() if row.status is None]
        if not unseen:
            return []
        stored, acks = await self.history.known(unseen)
        board.restore(stored, acks, last_run=last_run)
        return [key for key in unseen if key in stored]

    def file_saved(self) -> int | None:
        """The number of a new save of the watchlist file since the last look, else None."""
        return self.watched.saved() if self.watched is not None else None

    async def reload_file(self, seq: int) -> ReloadOutcome | None:
        """Re-read the watchlist file (save `seq`) on a thread and take it in; a bad edit keeps
        the last good list. None when a newer save overtook this read."""
        path = self.watchlist.path
        error: str | None = None
        try:
            watchlist = await asyncio.to_thread(load_watchlist, path)
        except WatchlistError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"{path}: {exc.__class__.__name__}: {exc}"
        if self.watched is not None and not self.watched.is_newest(seq):
            return None  # a later save is loading (or has loaded): this read is older
        if error is not None:
            return ReloadOutcome(error=error)
        outcome = self.reload(watchlist)
        if outcome.added:
            with contextlib.suppress(StoreError):  # a pass answers them (a team: a later look)
                await self.restore_unseen()
        return outcome

    def reload(self, watchlist: Watchlist) -> ReloadOutcome:
        """Take in an edited watchlist, keeping what is known of posts that stay."""
        old = self.watchlist.settings
        self.watchlist = watchlist
        added, removed = self.board.set_posts(watchlist.posts)
        said, interval_changed = self._apply_settings(old, watchlist.settings)
        return ReloadOutcome(added, removed, said, interval_changed)

    def _apply_settings(
        self, old: WatchlistSettings, new: WatchlistSettings
    ) -> tuple[list[str], bool]:
        """Settings edited in the file take effect now, unless the command line gave them."""
        said: list[str] = []
        fixed = self.fixed_settings
        interval_changed = False
        if new.interval is not None and new.interval != old.interval and "interval" not in fixed:
            self.interval = new.interval
            interval_changed = True
            said.append(f"refresh every {new.interval:g}s")
        # A setting taken out of the file keeps its current value, as with `interval`.
        changed = new.final_every != old.final_every
        if new.final_every is not None and changed and "final_every" not in fixed:
            self.final_every = new.final_every
            if self.poller is not None:
                self.poller.final_every = max(1, self.final_every)
            said.append(f"final posts re-checked every {self.final_every} passes")
        later = [
            name.replace("_", " ")
            for name in ("batch_size", "concurrency")
            if getattr(new, name) != getattr(old, name)
        ]
        if later:
            said.append(f"{' and '.join(later)} take effect at the next start")
        return said, interval_changed


def _published(transitions: Iterable[Transition]) -> list[PostKey]:
    """The posts these transitions moved to published (from another state)."""
    return [t.key for t in transitions if t.new is State.PUBLISHED and t.old is not None]


def _in_daemon_thread(fn: Callable[[], object]) -> asyncio.Future[None]:
    """Run `fn` on a daemon thread (one that never holds up the process's exit); the future
    ends when it does."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not future.done():
            future.set_result(None)

    def run() -> None:
        try:
            fn()
        except Exception:  # said in the log; the face's last words come from unsaved_warnings
            log.exception("closing failed")
        finally:
            with contextlib.suppress(RuntimeError):  # the loop has gone: nobody waits
                loop.call_soon_threadsafe(finish)

    threading.Thread(target=run, name="wahdx-close", daemon=True).start()
    return future
