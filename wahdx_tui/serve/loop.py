"""The headless poller behind `serve`: the team engine on a timer, one log line per notable event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Protocol

from wahdx_tui.core.board.state import Changes
from wahdx_tui.core.domain.errors import trouble_advice
from wahdx_tui.core.domain.model import PostKey
from wahdx_tui.core.engine.engine import STOP_WITHIN
from wahdx_tui.core.engine.outcomes import PassOutcome, RecheckOutcome
from wahdx_tui.core.team.engine import FollowOutcome, TeamEngine
from wahdx_tui.core.tty import terminal_gone

log = logging.getLogger("wahdx_tui.serve")
STUCK_CHECK_EVERY = 5.0
FILE_CHECK_EVERY = 2.0


def pass_line(outcome: PassOutcome) -> str | None:
    """A pass in one line, when there is something to say (None for a quiet pass)."""
    changes = outcome.changes
    kind = outcome.kind
    if kind == "ok" and not changes.transitions and not outcome.stuck:
        return None
    parts = [f"pass {outcome.number}: {outcome.asked} asked"]
    if changes.transitions:
        moved: dict[str, int] = {}
        for tr in changes.transitions:
            moved[tr.new.value] = moved.get(tr.new.value, 0) + 1
        parts.append(", ".join(f"{n} now {state}" for state, n in sorted(moved.items())))
    if changes.new_failures:
        parts.append(f"{len(changes.new_failures)} newly FAILED")
    if outcome.stuck:
        parts.append(f"{len(outcome.stuck)} newly stuck")
    if kind == "left_out":
        parts.append(f"{outcome.left_out} left out of the answer")
    elif kind == "partial":
        parts.append(f"{outcome.not_checked} not checked: {outcome.error}")
    elif kind in ("down", "failed"):
        parts.append(f"no answer: {outcome.error}")
    return "; ".join(parts)


class ServeListener(Protocol):
    """What else runs in serve's loop (its HTTP side, wahdx_tui/serve/web): started once the team is
    joined, stopped first at the end, and told of every change to the board as it happens."""

    async def start(self) -> None:
        """Start serving; raise a WahdxError (one line) when it cannot."""
        ...

    async def stop(self) -> None:
        """Stop serving (bounded: serve is quitting)."""
        ...

    def pass_ended(self, outcome: PassOutcome, seconds: float) -> None:
        """A pass of this poller ended after `seconds`, its changes applied to the board."""
        ...

    def followed(self, outcome: FollowOutcome) -> None:
        """One look at the store: the board took in `outcome.changes` (and the lease or the
        store may have come or gone)."""
        ...

    def board_changed(self, changes: Changes, *, full: bool = False) -> None:
        """Rows changed outside a pass or a look (stuck flags, a re-check); `full`: any row may
        have (a restore, a reload)."""
        ...


class Server:
    """Runs the engine until told to stop: passes while it holds the lease, standby otherwise."""

    def __init__(
        self, engine: TeamEngine, watchlist_name: str, listener: ServeListener | None = None
    ) -> None:
        self.engine = engine
        self.name = watchlist_name
        self.listener = listener
        self.stop = asyncio.Event()
        self._wake = asyncio.Event()  # a pass is due now (a board's `r`, a taken lease)
        self._everything = False
        self._new: set[PostKey] = set()  # posts new to the list, asked at once
        self._reload_asked = False
        self._pass: asyncio.Task[PassOutcome] | None = None
        self._next_pass = 0.0
        self._api_down = False
        self._from_terminal = sys.stdin is not None and sys.stdin.isatty()
        self._rechecks: set[asyncio.Task[object]] = set()

    def install_signals(self) -> None:
        """SIGTERM and SIGINT stop; SIGHUP re-reads the watchlist."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._ask_reload)

    def _ask_reload(self) -> None:
        if self._from_terminal and terminal_gone():
            # Started from a terminal that has now closed: this hang-up is its end, not a
            # request to re-read (under systemd there is no terminal, and SIGHUP re-reads).
            log.info("the terminal closed: stopping")
            self.stop.set()
            return
        self._reload_asked = True
        self._wake.set()

    async def run(self) -> int:
        """Serve until stopped; the exit code (0 after a clean stop)."""
        engine = self.engine
        await engine.join()  # a store that cannot be reached at start: StoreError, exit 2
        listener = self.listener
        if listener is not None:
            try:
                await listener.start()  # a port taken: one error line, exit 2
            except BaseException:
                await engine.aclose(deadline=STOP_WITHIN)
                raise
        role = "polling" if engine.polls_api else f"standby ({engine.via})"
        log.info(
            "started: %d posts of %s, %s; store %s",
            len(engine.board.posts),
            self.name,
            role,
            engine.team.store.location,
        )
        restored = await engine.restore()
        if restored.error:
            log.warning("history not read: %s", restored.error)
        if listener is not None:
            listener.board_changed(Changes(), full=True)
        follower = asyncio.create_task(self._follow())
        checks = asyncio.create_task(self._clocks())
        try:
            await self._passes()
        finally:
            if listener is not None:
                await listener.stop()
            for task in (follower, checks):
                task.cancel()
            if self._pass is not None:
                self._pass.cancel()
            tasks: list[asyncio.Future[object]] = [follower, checks]  # type: ignore[list-item]
            if self._pass is not None:
                tasks.append(self._pass)  # type: ignore[arg-type]
            for ending in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ending
            await engine.aclose(deadline=STOP_WITHIN)  # writes what is queued, lets the lease go
            for warning in engine.unsaved_warnings():
                log.warning(warning)
            log.info("stopped")
        return 0

    async def _passes(self) -> None:
        """The live-refresh loop: the next pass is set one interval after the last ends."""
        engine = self.engine
        while not self.stop.is_set():
            wait = max(0.0, self._next_pass - time.monotonic()) if engine.polls_api else None
            stopper = asyncio.ensure_future(self.stop.wait())
            waker = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait([stopper, waker], timeout=wait, return_when="FIRST_COMPLETED")
            for fut in (stopper, waker):
                fut.cancel()
            if self.stop.is_set():
                return
            self._wake.clear()
            if self._reload_asked:
                self._reload_asked = False
                await self._reload(engine.watched.saved() if engine.watched else None, force=True)
            if not engine.polls_api:
                continue
            due = time.monotonic() >= self._next_pass or self._everything
            new, self._new = self._new, set()
            if not due:
                polled = engine.board.rows.keys() | engine.others.rows.keys()
                new &= polled
                if not new:
                    continue
            everything, self._everything = self._everything, False
            engine.polling = True
            began = time.monotonic()
            only = None if due else new  # a new post does not wait for the next pass
            self._pass = running = asyncio.create_task(engine.run_pass(everything, only))
            stopper = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait([running, stopper], return_when="FIRST_COMPLETED")
            stopper.cancel()
            if not running.done():
                return  # stopped mid-pass: run() cancels it, and what was written stays
            self._pass = None
            self._said(running.result())
            if self.listener is not None:
                self.listener.pass_ended(running.result(), time.monotonic() - began)
            if due:
                self._next_pass = time.monotonic() + engine.next_delay()

    def _said(self, outcome: PassOutcome) -> None:
        line = pass_line(outcome)
        down = outcome.kind in ("down", "failed")
        if down and not self._api_down:
            # What happened, and what to do about it (a rejected key's line says so itself).
            advice = "" if outcome.key_rejected else f"; {trouble_advice(outcome.trouble)}"
            log.warning("API down: %s%s", outcome.error, advice)
        elif not down and self._api_down:
            log.info("API back")
        self._api_down = down
        if line is not None and not down:
            log.info(line)

    async def _follow(self) -> None:
        """Keep the lease, serve the boards' requests, and say what changed in the team."""
        engine = self.engine
        while True:
            outcome: FollowOutcome = await engine.follow()  # it logs the store's ups and downs
            if self.listener is not None:
                self.listener.followed(outcome)
            if outcome.took_lease:
                self._next_pass = 0.0
                self._wake.set()
            if outcome.lost_lease:
                log.warning("lease lost: standing by")
            if outcome.refresh:
                log.info("a board asked for a refresh of every post")
                self._everything = True
                self._wake.set()
            if outcome.recheck:
                log.info("a board asked to re-check %d posts", len(outcome.recheck))
            if outcome.listed.new:
                count = len(outcome.listed.new)
                log.info("%d post%s new to the team's watchlist", count, "s"[: count != 1])
                self._new.update(post.key for post in outcome.listed.new)
                self._wake.set()
            for post in outcome.recheck:  # each on its own: the lease is kept meanwhile
                task = asyncio.create_task(engine.recheck(post))
                self._rechecks.add(task)
                task.add_done_callback(self._rechecks.discard)
                task.add_done_callback(self._rechecked)

    def _rechecked(self, task: asyncio.Task[RecheckOutcome]) -> None:
        """A board's re-check served: its change is the listener's news too."""
        if self.listener is not None and not task.cancelled() and task.exception() is None:
            changes = task.result().changes
            if changes.changed:
                self.listener.board_changed(changes)

    async def _clocks(self) -> None:
        """Stuck posts every few seconds, and the watchlist file's saves."""
        engine = self.engine
        last_stuck = 0.0
        while True:
            await asyncio.sleep(FILE_CHECK_EVERY)
            seq = engine.file_saved()
            if seq is not None:
                await self._reload(seq)
            # A standby flags stuck posts too when a page shows its board (as a board does).
            shown = engine.polls_api or self.listener is not None
            if shown and time.monotonic() - last_stuck >= STUCK_CHECK_EVERY:
                last_stuck = time.monotonic()
                flagged = engine.board.stuck
                stuck = engine.check_stuck()
                if stuck and engine.polls_api:
                    log.info("%d posts newly stuck", len(stuck))
                if self.listener is not None and (stuck or engine.board.stuck != flagged):
                    # A flag that cleared without a change of state: any row may be it.
                    self.listener.board_changed(Changes(changed=stuck), full=not stuck)

    async def _reload(self, seq: int | None, *, force: bool = False) -> None:
        """Re-read the watchlist; keep the last good one when the edit does not load."""
        engine = self.engine
        if seq is None:
            if not force or engine.watched is None:
                return
            engine.watched.seq += 1
            seq = engine.watched.seq
        outcome = await engine.reload_file(seq)
        if outcome is None:
            return
        if outcome.error:
            log.warning("watchlist not reloaded, keeping the last good list: %s", outcome.error)
            return
        said = "; ".join(outcome.said)
        if self.listener is not None:
            self.listener.board_changed(Changes(), full=True)
        log.info(
            "watchlist reloaded: +%d / -%d posts%s",
            outcome.added,
            outcome.removed,
            f"; {said}" if said else "",
        )
        if outcome.added:
            self._everything = True
            self._wake.set()
