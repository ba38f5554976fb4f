"""The engine in a team: one poller per API holds the lease; every other board follows the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import TypeVar

from wahdx_tui.core.api.client import ClientFactory
from wahdx_tui.core.board.state import Changes
from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.engine.outcomes import (
    PassOutcome,
    RecheckOutcome,
    ReloadOutcome,
    RestoreOutcome,
)
from wahdx_tui.core.engine.poller import DEFAULT_FINAL_EVERY, PollReport
from wahdx_tui.core.settings.operator import operator_name
from wahdx_tui.core.store.protocol import AddCounts, FeedPage, Origin, RefreshRequest, StoreError
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.team.lease import (
    BOARD_ALIVE,
    HEARTBEAT_EVERY,
    RENEW_EVERY,
    PollerWord,
    TeamLink,
)
from wahdx_tui.core.team.watchlist import ListNews, Retirement, TeamList
from wahdx_tui.core.watchlist.reader import Watchlist

_T = TypeVar("_T")
log = logging.getLogger("wahdx_tui.team")
MIN_WAIT = 0.05  # seconds a look at the store waits at least, when a chore is overdue
RECHECK_WAIT = 10.0  # seconds an attached board waits for the poller's re-check
REFRESH_KEYS_MAX = 50  # posts a poller re-checks one by one for a board's request
REQUEST_FRESH = 60.0  # seconds a board's request stays worth serving
LEAVE_WITHIN = 2.0  # seconds letting the lease go may take at a stop


@dataclass(frozen=True, slots=True)
class FollowOutcome:
    """One look at the store: what it changed on the board, and what the team asks of us.

    `took_lease` / `lost_lease`: this process started or stopped being the poller.
    `refresh`: the poller was asked for a pass of every post; `recheck`: of these posts.
    `poller_gone`: when the last poller's lease ran out (None while one is alive).
    """

    changes: Changes = field(default_factory=Changes)
    first: bool = False
    took_lease: bool = False
    lost_lease: bool = False
    refresh: bool = False
    recheck: list[WatchedPost] = field(default_factory=list)
    poller_gone: float | None = None
    store_error: str | None = None
    store_down_since: float | None = None
    listed: ListNews = field(default_factory=ListNews)
    """What the team's watchlist changed: posts new to this process, rows shown."""

    @property
    def quiet(self) -> bool:
        """Nothing for a face to show or do."""
        return not (
            self.changes.changed
            or self.first
            or self.took_lease
            or self.lost_lease
            or self.refresh
            or self.recheck
            or self.store_error
            or self.listed.new
            or self.listed.shown_changed
        )


@dataclass(frozen=True, slots=True)
class Source:
    """Where a team board's states come from, for its status line: this process polls for the
    team; or a poller on `host` does (`late`: seconds since its last complete pass, when
    overdue); or no poller is alive (`host` None; `gone_since`: when the last one's lease ran
    out, None when none was seen)."""

    polling: bool = False
    host: str | None = None
    gone_since: float | None = None
    late: float | None = None


def _targets(n: int) -> str:
    """'1 alert target', '2 alert targets'."""
    return f"{n} alert target{'s' if n != 1 else ''}"


class TeamEngine(Engine):
    """An engine whose pass runs only while this process holds the team's poller lease.

    While it does not, its board follows what the poller writes to the store (`follow`),
    its acknowledgements go to the store for every board, and `r` or a re-check is a
    request the poller serves. A board that may poll (it has a key) takes over when the
    lease runs out.
    """

    def __init__(
        self,
        watchlist: Watchlist,
        client_factory: ClientFactory,
        *,
        team: TeamLink,
        interval: float = 15.0,
        final_every: int = DEFAULT_FINAL_EVERY,
        history: StoreWriter,
        fixed_settings: frozenset[str] = frozenset(),
        watch_file: bool = False,
        operator: str | None = None,
    ) -> None:
        super().__init__(
            watchlist,
            client_factory,
            interval=interval,
            final_every=final_every,
            history=history,
            fixed_settings=fixed_settings,
            watch_file=watch_file,
            operator=operator,
        )
        self.team = team
        self.cursor = 0  # the change feed, read up to here
        self.word = PollerWord()  # what the poller last said (as read from its lease)
        self._followed = False
        self._last_upkeep = -RENEW_EVERY
        self._last_heartbeat = time.monotonic()
        self._served = 0  # the last refresh request id this poller took
        self._gone_since: float | None = None
        self._store_down_since: float | None = None
        self._rechecks: dict[PostKey, asyncio.Future[PostStatus]] = {}
        self._held = False  # whether the faces were last told this process polls
        self._unseen = False  # posts gained whose stored states are still to be looked up
        self._resync = False  # a reload's sync and registration the store refused, to redo
        self._said_pass: float | None = None  # the last complete pass the lease last carried
        self.team_list = TeamList(watchlist.path)  # the team's watchlist, as followed here
        self.team_list.file_posts = watchlist.posts
        self.retirement = Retirement()
        self._reopened = False  # the store was opened anew since the faces were told
        self._retire_looked = -math.inf  # monotonic: the poller's last look
        # The live boards' registrations as last read, the posts they registered, and what
        # the union of the others was last made from (registrations, own rows, the list).
        self._registrations_seen: tuple[object, ...] | None = None
        self._registered: list[WatchedPost] = []
        self._others_seen: tuple[object, ...] | None = None
        self._store_problem: str | None = None  # the store's file deleted or replaced
        self._rewrite = False  # the store was opened anew: write every state on taking the lease

    # -- what the faces read ------------------------------------------------------------------

    @property
    def polls_api(self) -> bool:
        """Whether this process is the team's poller now."""
        return self.team.holding

    @property
    def follows_store(self) -> bool:
        """A team engine follows the store, polling or not."""
        return True

    @property
    def via(self) -> str:
        """Where the board's states come from, in words for the summary."""
        if self.team.holding:
            return "polling for the team"
        lease = self.team.lease
        if lease is None or lease.expired:
            since = self._gone_since
            stamp = time.strftime("%H:%M", time.localtime(since)) if since else "start"
            return f"no poller since {stamp}"
        return f"via poller on {clean(lease.host, 60)}"

    @property
    def source(self) -> Source:
        """Where the board's states come from, as a value for the status line."""
        if self.team.holding:
            return Source(polling=True)
        lease = self.team.lease
        if lease is None or lease.expired:
            return Source(gone_since=self._gone_since)
        return Source(host=clean(lease.host, 60), late=self.word.late())

    @property
    def poller_gone_since(self) -> float | None:
        """When the last poller's lease ran out, while no poller is alive (else None)."""
        return None if self.team.holding else self._gone_since

    @property
    def store_down_since(self) -> float | None:
        """Since when the store has not answered (None while it does)."""
        return self._store_down_since

    async def _store(self, fn: Callable[[], _T]) -> _T:
        """A store call on the history thread, in order with its writes."""
        return await self.history.call(fn)

    # -- life ---------------------------------------------------------------------------------

    def _own_posts(self) -> list[WatchedPost]:
        """What this process registers: its file's posts (the team's list is polled anyway)."""
        return list(self.board.posts) if self.team_list.own_file else []

    async def join(self) -> None:
        """Sync this process's watchlist file into the team's list and read the list,
        register what it watches, and take the lease if it is free (raises StoreError when
        the store cannot be reached)."""
        team, listed = self.team, self.team_list
        await self._store(self._sync_file)
        entries = await self._store(lambda: team.store.listed_posts(team.scope, retired=True))
        listed.take(entries)
        self.board.set_posts(listed.shown())
        posts = self._own_posts()
        await self._store(lambda: team.register(posts))
        await self._upkeep()
        self._held = team.holding  # a lease taken here is started by the face, not announced

    async def aclose(self, deadline: float | None = None) -> None:
        """Let the lease go (a standby takes over at once) before the usual close, all of it
        within `deadline` seconds when given."""
        team, started = self.team, time.monotonic()
        holding = team.holding
        # Bounded: a store that hangs must not hold up quitting (the lease then runs out).
        try:
            within = LEAVE_WITHIN if deadline is None else min(LEAVE_WITHIN, deadline)
            await asyncio.wait_for(asyncio.to_thread(team.leave), timeout=within)
        except (StoreError, TimeoutError) as exc:
            if holding:
                log.warning(
                    "poller lease not let go (%s): a standby takes over when it runs out",
                    str(exc) or "the store did not answer in time",
                )
        left = None if deadline is None else max(0.0, deadline - (time.monotonic() - started))
        await super().aclose(left)

    async def _upkeep(self) -> None:
        """Renew or take the lease, on a thread of its own: never queued behind the history's
        writes; first, make sure the store is still the one opened (raises StoreError)."""
        self._last_upkeep = time.monotonic()
        await self._store_in_place()
        word = PollerWord.of(self.health, self.interval, time.time(), self._alerting())
        await asyncio.to_thread(self.team.upkeep, word)
        self._said_pass = word.last_pass
        if self._rewrite and self.team.holding:
            # The poller of a store opened anew: it holds none of the states yet, and passes
            # write only what changed.
            self._rewrite = False
            rows = [*self.board.rows.values(), *self.others.rows.values()]
            self.history.save([r.status for r in rows if r.status is not None], [])

    async def _store_in_place(self) -> None:
        """When the store's file was deleted or replaced under this process, say so once and
        stop polling at once (another poller may start on a file made anew at that path: a
        lease in the old one binds nobody), then open the file at the path again, making it
        if need be, and join the team there (StoreError while that fails)."""
        store = self.team.store
        problem = await asyncio.to_thread(store.replaced)
        if problem is None:
            return
        if self.team.holding or problem != self._store_problem:
            log.warning(
                "store %s %s: polling stops until it is open again", store.location, problem
            )
        self._store_problem = problem
        self.team.held_until = 0.0
        self._reopened = True
        await self._store(store.reopen)
        self._store_problem = None
        self.cursor, self._served, self._followed = 0, 0, False
        self._rewrite = True  # a poller on it writes every state it knows, not only news
        posts, team = self._own_posts(), self.team
        await self._store(lambda: team.register(posts))
        log.info("store %s open again: the lease is taken there if it is free", store.location)

    def _alerting(self) -> tuple[int, float | None]:
        """How many targets this process's alerts go to, and when it last sent one."""
        if self.alerts is None:
            return 0, None
        status = self.alerts.alerter.status()
        return status.targets, status.last_sent_at

    def alert_word(self) -> str:
        """Where the team's alerts go, for the help of a board that follows the poller: the
        poller sends them (how many targets, when it last sent), never this board."""
        source = self.source
        own = ""
        if self.alerts is not None:
            targets = self.alerts.alerter.status().targets
            own = f"; this board's own {_targets(targets)} take over if it polls for the team"
        if source.host is None:
            return "none while no poller runs (the team's poller sends them)" + own
        word, host = self.word, source.host
        if word.alert_targets is None:
            return f"sent by the team's poller on {host} (it does not say where)" + own
        if word.alert_targets == 0:
            return f"none: the team's poller on {host} has no alert targets set" + own
        if word.alert_age is None:
            last = "none sent yet"
        else:
            at = time.time() - word.alert_age  # its age, as of the renewal just read
            last = "last alert " + time.strftime("%H:%M", time.localtime(at))
        return f"sent by the team's poller on {host}: {_targets(word.alert_targets)} · {last}" + own

    def _lease_news(self) -> tuple[bool, bool]:
        """(took, lost) since the faces were last told: the lease is a deadline, so it can
        also run out between two looks."""
        holding = self.team.holding
        # The store opened anew (its file was deleted or replaced) took the lease with it: a
        # lease taken again in the same look is news too, or serve's passes would wait for good.
        took = holding and (not self._held or self._reopened)
        lost = self._held and not holding
        self._held, self._reopened = holding, False
        if took:
            log.info("poller lease taken: this process polls for the team")
        if lost:
            log.warning("poller lease lost: polling stops until it is taken again")
        return took, lost

    # -- passes (the holder) ------------------------------------------------------------------

    async def run_pass(
        self, everything: bool = False, only: Collection[PostKey] | None = None
    ) -> PassOutcome:
        """A pass of this board's posts, the team's list and every live board's, while
        holding the lease (of the posts `only`, when given); then finished posts retire."""
        if not self.team.holding:
            self.polling = False
            return PassOutcome(number=self.passes, ran=False, error="not the poller")
        with contextlib.suppress(StoreError):  # poll what they watched last time
            await self._take_others()
        outcome = await super().run_pass(everything, only)
        if self._said_pass is None and self.health.last_success is not None:
            # The first complete pass since the lease was taken: the boards, showing STALE
            # since the last poller went, hear of it at the next look, not a renewal later.
            self._last_upkeep = -RENEW_EVERY
        await self._retire_finished()
        return outcome

    async def _retire_finished(self) -> None:
        """Now and then, the poller retires the posts published, or failed and acknowledged,
        long enough ago: the change feed takes them off every board."""
        since = time.monotonic() - self._retire_looked
        if not self.team.holding or since < self.retirement.look_every():
            return
        self._retire_looked = time.monotonic()
        team, retirement = self.team, self.retirement

        def retire() -> list[PostKey]:
            now = team.store.now()
            published, failed = retirement.cutoffs(now)
            if published is None and failed is None:
                return []
            return team.store.retire_finished(team.scope, published, failed, now=now)

        try:
            retired = await self._store(retire)
        except StoreError as exc:
            log.warning("finished posts not retired: %s", exc)
            return
        if retired:
            count = len(retired)
            log.info(
                "retired %d finished post%s (published, or failed and acknowledged)",
                count,
                "s"[: count != 1],
            )

    def _sync_file(self) -> None:
        """Put this process's watchlist file into the team's list, as that file's source (on
        the history thread; raises StoreError)."""
        listed, team = self.team_list, self.team
        if listed.source is None:
            return
        counts = team.store.sync_watched(
            team.scope, listed.file_posts, Origin(listed.source, operator_name())
        )
        if counts.added or counts.updated or counts.removed:
            log.info("%s synced into the team's watchlist: %s", listed.path, counts)

    async def _take_others(self) -> None:
        """Poll the team's watchlist and the posts the live boards registered too (raises
        StoreError). The registrations are read again only when the live boards or their
        registrations changed, and the union made again only when those, the team's list or
        this board's posts did: at 100,000 posts reading them took 0.6 s of CPU, every pass."""
        team = self.team
        store = team.store
        boards = await self._store(lambda: store.boards(team.scope, BOARD_ALIVE))
        # A registration stamps its time, so a board that registered other posts reads anew
        # (the boards are read every pass: counting their posts took 20 ms at 100,000).
        registrations = tuple((b.board_id, b.registered_at) for b in boards)
        if registrations != self._registrations_seen:
            self._registered = await self._store(
                lambda: store.watched_posts(team.scope, BOARD_ALIVE)
            )
            self._registrations_seen = registrations
        seen = (registrations, self.board.generation, self.team_list.version)
        if seen == self._others_seen:
            return
        wanted = {p.key: p for p in (*self.team_list.polled(), *self._registered)}
        own, retired = self.board.rows, self.team_list.retired_keys()  # a file board's, before
        added, _ = self.others.set_posts(
            [p for k, p in wanted.items() if k not in own and k not in retired]
        )
        self._others_seen = seen
        if added:
            # Their last states and acks first: a new poller must not see them as new
            # (a "first seen" failure would drop an ack and alert again).
            await self._restore_unseen(self.others, last_run=True)

    def apply_pass(
        self, seq: int, report: PollReport, changed: list[PostStatus], left_out: list[PostKey]
    ) -> PassOutcome:
        """As the engine does, unless the lease ran out while the pass ran: then another
        poller may be writing, and this answer is dropped."""
        if not self.team.holding:
            self.freshness.pass_failed(seq)
            return PassOutcome(number=self.passes, ran=False, error="not the poller")
        return super().apply_pass(seq, report, changed, left_out)

    async def _serve_requests(
        self, requests: list[RefreshRequest]
    ) -> tuple[bool, list[WatchedPost]]:
        posts = {p.key: p for p in (*self.board.posts, *self.others.posts)}
        everything = False
        keys: dict[PostKey, WatchedPost] = {}
        # Asked before this poller could serve them (the store's clock, as `at` is).
        stale = await self._store(self.team.store.now) - REQUEST_FRESH
        for request in requests:
            self._served = max(self._served, request.id)
            if request.at < stale:
                continue
            if request.keys is None:
                everything = True
            else:
                keys.update((k, posts[k]) for k in request.keys if k in posts)
        return everything, list(keys.values())[:REFRESH_KEYS_MAX]

    # -- following the store (every board) ----------------------------------------------------

    async def follow(self) -> FollowOutcome:
        """Wait briefly for a write elsewhere, keep the lease and registration, and take in
        what changed. Never raises: a store that cannot be reached is said in the outcome."""
        try:
            return await self._follow()
        except Exception as exc:  # a bug must not stop the following for good
            log.exception("internal error while following the store")
            await asyncio.sleep(1.0)
            return FollowOutcome(store_error=f"internal error: {exc.__class__.__name__}: {exc}")

    async def _follow(self) -> FollowOutcome:
        team = self.team
        try:
            changed = await asyncio.to_thread(team.store.wait_for_change, self._chores_due_in())
            if time.monotonic() - self._last_upkeep >= RENEW_EVERY:
                try:
                    await self._upkeep()
                finally:
                    took, lost = self._lease_news()
            else:
                took, lost = self._lease_news()
            if time.monotonic() - self._last_heartbeat >= HEARTBEAT_EVERY:
                self._last_heartbeat = time.monotonic()
                if not await self._store(team.heartbeat):  # the store forgot this board
                    posts = self._own_posts()  # (listed only then: 100,000 took 14 ms)
                    await self._store(lambda: team.register(posts))
            changes, first = Changes(), not self._followed
            # While the store is unreachable every look asks it (the link's backoff keeps that
            # cheap), so "reachable again" is said only once it has really answered.
            probe = self._store_down_since is not None
            news = ListNews()
            if changed or first or took or lost or probe:
                feed = await self._read_feed()
                # The list first: a post gained and its first answer can come in one page,
                # and an answer for a row not there yet would be dropped.
                news = await self._take_list(feed)
                changes = await self._take_in(feed)
                changes.changed += news.restored  # gained with a known state: drawn, counted
            if self._resync:  # a reload's sync failed: the store answers again
                await self._sync_and_register()
            if self._unseen:  # the look-up at a reload failed: the store answers again
                changes.changed += await self.restore_unseen()
            refresh, recheck = False, list[WatchedPost]()
            if team.holding and (changed or first or took):  # a board's request is a write
                after = self._served
                requests = await self._store(
                    lambda: team.store.take_refresh_requests(team.scope, after)
                )
                if requests:
                    refresh, recheck = await self._serve_requests(requests)
        except StoreError as exc:
            took, lost = self._lease_news()
            now = time.time()
            if self._store_down_since is None:
                self._store_down_since = now
                log.warning("store unreachable: %s", exc)
            return FollowOutcome(
                took_lease=took,
                lost_lease=lost,
                store_error=str(exc),
                store_down_since=self._store_down_since,
            )
        if self._store_down_since is not None:
            log.info("store reachable again")
            self._store_down_since = None
        if self.history.error is not None:
            # Writes the store refused (an ack on a board that never writes passes) go now.
            self.history.save([], [])
        return FollowOutcome(
            changes,
            first,
            took,
            lost,
            refresh,
            recheck,
            poller_gone=self._poller_state(),
            listed=news,
        )

    def _chores_due_in(self) -> float:
        """Seconds a look may wait for a write elsewhere: until the lease or the heartbeat is
        due (a write wakes it at once: the store says when)."""
        now = time.monotonic()
        due = min(self._last_upkeep + RENEW_EVERY, self._last_heartbeat + HEARTBEAT_EVERY)
        if self.team.holding:  # a lease that cannot be renewed is said lost when it runs out
            due = min(due, self.team.held_until)
        return min(RENEW_EVERY, max(MIN_WAIT, due - now))

    async def _read_feed(self) -> FeedPage:
        team, cursor = self.team, self.cursor
        feed = await self._store(lambda: team.store.changes_since(team.scope, cursor))
        self.cursor = feed.cursor
        return feed

    async def _take_in(self, feed: FeedPage) -> Changes:
        """Apply the feed: the poller's answers (unless we are the poller), acks from any board,
        and the transitions for the event log."""
        self._followed = True
        holding = self.team.holding
        boards = (self.board, self.others)
        if feed.reset:  # another store's history (a replaced file): start from what it says
            for board in boards:
                for key in [k for k, r in board.rows.items() if r.acked]:
                    board.set_ack(key, None)
            self.history.events.clear()
        statuses = [p.status() for p in feed.posts.values()]
        if not holding and statuses:
            # Updated when the poller last wrote an answer: what a board shows from the store
            # before (or without) a live poller's word is that old, not "never".
            newest = max(s.checked_at for s in statuses)
            health = self.health
            health.last_success = max(newest, health.last_success or 0.0)
        if holding:
            # Its own writes come back; only another process's newer answers are news (the
            # last pass of the poller before it, read in the look that took the lease).
            mine, theirs = self.board.rows, self.others.rows
            statuses = [
                s
                for s in statuses
                if (row := mine.get(s.key) or theirs.get(s.key)) is not None
                and s.checked_at > (row.checked_at or 0)
            ]
        changes = self.board.apply(statuses) if statuses else Changes()
        if statuses:
            self.others.apply(statuses)
        for status in statuses:
            waiting = self._rechecks.pop(status.key, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(status)
        if not holding or feed.reset:
            own = self.board.rows
            shown = [t for t in feed.transitions if t.key in own]
            self.history.events.extendleft(sorted(shown, key=lambda t: t.at))
        # Whoever wrote it last: a note changed on another board replaces the one shown here.
        for key, ack in feed.acks.items():
            for board in boards:
                if board.take_ack(key, ack) and board is self.board:
                    changes.changed.append(key)
        return changes

    async def _take_list(self, feed: FeedPage) -> ListNews:
        """Take in what the feed says of the team's watchlist: rows shown come and go, a
        poller polls new posts too, and a post the store already knows starts from its
        known state and acknowledgement (so its poller does not see it fail anew)."""
        listed = self.team_list
        if feed.reset:
            listed.clear()
        if not listed.take(feed.listed.values()) and not feed.reset:
            return ListNews()
        known = set(self.board.rows) | set(self.others.rows)
        self.board.set_posts(listed.shown())
        if self.team.holding:
            shown = self.board.rows
            extra = [p for p in listed.polled() if p.key not in shown]
            if extra:
                self.others.set_posts({p.key: p for p in (*self.others.posts, *extra)}.values())
        new = [p for p in listed.polled() if p.key not in known]
        # Every row gained without a state starts from what the store knows of it (its state
        # and acknowledgement), whether new to this process or polled before for another
        # board: a poller must not see it fail anew (that would drop its ack and alert again).
        holding = self.team.holding
        restored = await self._restore_unseen(self.board, last_run=holding)
        if holding:
            await self._restore_unseen(self.others, last_run=True)
        return ListNews(tuple(new), shown_changed=True, restored=tuple(restored))

    def _poller_state(self) -> float | None:
        """Read the poller's word from its lease: mark rows stale while none is alive, or while
        it says the API is down; return since when no poller is alive."""
        if self.team.holding:
            self._gone_since = None
            return None
        lease = self.team.lease
        if lease is None or lease.expired:
            if self._gone_since is None:
                self._gone_since = lease.expires_at if lease is not None else time.time()
                log.warning(
                    "no poller since %s", time.strftime("%H:%M", time.localtime(self._gone_since))
                )
            self.board.mark_unanswered()
            self.health.stale = True
            self.blind.begin(self.clock())  # nobody asks the API: no post is seen to move
            return self._gone_since
        if self._gone_since is not None:
            log.info("a poller is back, on %s", clean(lease.host, 60))
        self._gone_since = None
        word = PollerWord.decode(lease.status)
        self.word = word
        health = self.health
        if word.api != "starting":
            health.state = word.api
        health.down_since, health.last_error = word.down_since, word.error
        health.last_success = max(word.last_pass or 0.0, health.last_success or 0.0) or None
        if word.api == "down" or word.late() is not None:  # down, or not passing (paused)
            self.board.mark_unanswered()
            health.stale = True
            self.blind.begin(self.clock())
        elif word.api == "ok":
            self.board.mark_answered()
            health.stale = False
            self.blind.end(self.clock())
        return None

    # -- one post, and `r`, from a board that is not the poller -------------------------------

    async def request_refresh(self) -> None:
        """Ask the poller for a pass of every post (an attached board's `r`); posts shown
        without a state are looked up in the store again (an answer that repeats the last is
        never written again, so the feed would not bring it)."""
        team = self.team
        await self._store(lambda: team.store.request_refresh(team.scope, None, team.board_id))
        self._unseen = True

    async def recheck(self, post: WatchedPost) -> RecheckOutcome:
        """The poller re-checks; an attached board asks it and waits for its answer."""
        if self.team.holding:
            return await super().recheck(post)
        team = self.team
        loop = asyncio.get_running_loop()
        waiting = self._rechecks.setdefault(post.key, loop.create_future())
        try:
            await self._store(
                lambda: team.store.request_refresh(team.scope, [post.key], team.board_id)
            )
            status = await asyncio.wait_for(asyncio.shield(waiting), RECHECK_WAIT)
        except StoreError as exc:
            return RecheckOutcome(post.key, None, str(exc))
        except TimeoutError:
            return RecheckOutcome(
                post.key, None, f"no answer from the poller within {RECHECK_WAIT:g} s"
            )
        finally:
            if self._rechecks.get(post.key) is waiting and waiting.done():
                del self._rechecks[post.key]
        return RecheckOutcome(post.key, status)

    async def restore_unseen(self) -> list[PostKey]:
        """As the engine does; on a board that follows the poller they are the poller's latest
        answers (not the last run's). A look-up that fails is made again at the next look at
        the store: the change feed carries only new writes, never a post's older state."""
        self._unseen = True
        restored = await self._restore_unseen(self.board, last_run=self.team.holding)
        self._unseen = False
        return restored

    async def reload_file(self, seq: int) -> ReloadOutcome | None:
        """As the engine does; the file is synced into the team's list, and the poller is
        told what this board now watches."""
        outcome = await super().reload_file(seq)
        if outcome is not None and outcome.error is None:
            self._resync = False  # this reload's sync stands for any still to redo
            await self._sync_and_register()
        return outcome

    async def _sync_and_register(self) -> None:
        """After a reload: the file into the team's list, and this board's posts registered
        again. When the store refuses, each look at the store tries again until it takes
        them (`_resync`): till then the poller does not know the posts added, and they
        would stay unchecked on this board."""
        posts, team = self._own_posts(), self.team
        try:
            await self._store(self._sync_file)
            await self._store(lambda: team.register(posts))
        except StoreError as exc:
            if not self._resync:
                log.warning(
                    "watchlist not synced into the store (%s): tried again at each look", exc
                )
            self._resync = True
            return
        except Exception:
            self._resync = False  # a bug, not the store: said once by the caller, not each look
            raise
        if self._resync:
            log.info("watchlist synced into the store")
        self._resync = False

    def reload(self, watchlist: Watchlist) -> ReloadOutcome:
        """As the engine does, but for the file's posts that are retired (and of accounts
        not shown)."""
        self.team_list.file_posts = watchlist.posts
        outcome = super().reload(replace(watchlist, posts=tuple(self.team_list.shown())))
        self.watchlist = watchlist  # the whole file: a post brought back is shown again
        return outcome

    # -- the team's watchlist, from a board ---------------------------------------------------

    async def add_posts(self, posts: list[WatchedPost]) -> AddCounts:
        """Put posts on the team's watchlist (a board's `n`); every board hears of it through
        the change feed. Raises StoreError."""
        team, origin = self.team, Origin("board", operator_name())
        return await self._store(lambda: team.store.add_watched(team.scope, posts, origin))

    async def retire_post(self, key: PostKey) -> bool:
        """Retire a post from the team's watchlist (a board's `d`); False when it was not
        listed. Raises StoreError."""
        team, why = self.team, f"retired by {operator_name()}"
        return bool(await self._store(lambda: team.store.retire_watched(team.scope, [key], why)))

    async def restore(self) -> RestoreOutcome:
        """The poller starts from the last run's states; a board that follows it starts from
        everything in the store (its first look at the feed)."""
        if not self.team.holding:
            return RestoreOutcome()
        team = self.team
        try:
            self.cursor = await self._store(lambda: team.store.cursor(team.scope))
        except StoreError as exc:
            return RestoreOutcome(error=str(exc))
        self._followed = True
        return await super().restore()
