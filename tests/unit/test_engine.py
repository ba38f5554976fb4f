"""The engine's rules with no screen: freshness races, stale rows, stuck posts, history queued
at once, coalesced passes, watchlist reloads, and the next pass put off by a rate limit.

Each test drives a real `Engine` against the simulator over loopback HTTP (`engine_on_sim`):
plain async code, no Textual. A slow network is played by `HeldClient`, a real client whose
request waits at a `Gate` before it asks or before it delivers what the simulator answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.fixtures import (
    DOORBUSTER,
    ENTRIES,
    EXTRA,
    QUICK,
    FakeClock,
    Gate,
    HeldClient,
    engine_on_sim,
    held_client,
    sample_watchlist,
    until,
    watchlist_text,
    write,
)
from wahdx_tui.core.api.client import ClientEvent, ClientOptions, WahdxClient
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.reports.checkresults import iso_time
from wahdx_tui.core.reports.export import export_record
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import (
    Watchlist,
    WatchlistSettings,
    load_watchlist,
    parse_watchlist,
    stuck_thresholds,
)
from wahdx_tui.sim import Faults, SimServer

SCOPE = "http://127.0.0.1:test"


def unanswered_rows(engine: Engine) -> set[PostKey]:
    """The posts the board shows stale (asked, and not answered since)."""
    return {k for k, r in engine.board.rows.items() if r.unanswered}


# -- freshness: an older answer never undoes a newer one -------------------------------------------


async def test_a_slow_pass_does_not_undo_a_recheck_asked_after_it() -> None:
    """The pass reads the API before the post fails, the re-check after; the pass answers
    last. The board keeps the re-check's FAILED."""
    async with engine_on_sim(held=True) as (engine, sim):
        await engine.run_pass()
        board = engine.board
        assert board.rows[DOORBUSTER].state is not State.FAILED
        client = held_client(engine)
        gate = client.after_pass = Gate()
        passing = asyncio.ensure_future(engine.run_pass(everything=True))
        await until(gate.reached.is_set, "the pass to have its (old) answer")
        sim.advance(40)  # the post fails now
        recheck = await engine.recheck(board.rows[DOORBUSTER].post)
        assert recheck.newest and recheck.status is not None
        assert recheck.status.state is State.FAILED
        assert board.rows[DOORBUSTER].state is State.FAILED
        gate.open()  # the pass's answer, read before the failure, arrives last
        outcome = await passing
        assert board.rows[DOORBUSTER].state is State.FAILED
        assert DOORBUSTER not in outcome.changes.changed
        assert all(t.key != DOORBUSTER for t in outcome.changes.transitions)
        client.after_pass = None
        await engine.run_pass(everything=True)  # newer than the re-check, and agrees
        assert board.rows[DOORBUSTER].state is State.FAILED
        assert engine.freshness.tracked == 0


class ForgetfulRechecks(HeldClient):
    """Passes ask the board's simulator; re-checks ask another that knows no post, so each
    finds nothing (HTTP 404), as a lagging single-status endpoint might."""

    def __init__(
        self, sim: SimServer, nobody: SimServer, on_event: Callable[[ClientEvent], None]
    ) -> None:
        super().__init__(sim.base_url, sim.api_key, QUICK, on_event=on_event)
        self.singles = WahdxClient(nobody.base_url, nobody.api_key, QUICK)

    async def check_one(self, post: WatchedPost) -> PostStatus:
        return await self.singles.check_one(post)

    async def aclose(self) -> None:
        try:
            await self.singles.aclose()
        finally:
            await super().aclose()


async def test_a_recheck_that_finds_nothing_does_not_hide_a_slow_passs_real_answer(
    sims: Callable[..., SimServer],
) -> None:
    wl = sample_watchlist()
    sim, nobody = sims(wl.posts), sims([])

    def clients(on_event: Callable[[ClientEvent], None]) -> WahdxClient:
        return ForgetfulRechecks(sim, nobody, on_event)

    engine = Engine(wl, clients)
    try:
        await engine.run_pass()
        board = engine.board
        client = held_client(engine)
        gate = client.after_pass = Gate()
        sim.advance(40)  # the post fails before this pass reads the API...
        passing = asyncio.ensure_future(engine.run_pass(everything=True))
        await until(gate.reached.is_set, "the pass to have its answer")
        recheck = await engine.recheck(board.rows[DOORBUSTER].post)  # asked after the pass
        assert recheck.status is not None and recheck.status.state is State.UNKNOWN
        assert recheck.error is None and "not found" in (recheck.status.error or "")
        assert engine.freshness.tracked == 1  # the pass is still held
        gate.open()  # ... and the answer arrives after the re-check's
        await passing
        assert board.rows[DOORBUSTER].state is State.FAILED
        assert not board.rows[DOORBUSTER].unanswered
    finally:
        await engine.aclose()


async def test_an_overtaken_recheck_does_not_undo_a_pass() -> None:
    """The re-check reads the API before the post fails, a pass asked after it reads it after;
    the re-check answers last. The board keeps the pass's FAILED."""
    async with engine_on_sim(held=True) as (engine, sim):
        await engine.run_pass()
        board = engine.board
        client = held_client(engine)
        gate = client.after_recheck = Gate()
        rechecking = asyncio.ensure_future(engine.recheck(board.rows[DOORBUSTER].post))
        await until(gate.reached.is_set, "the re-check to have its (old) answer")
        sim.advance(40)  # the post fails now
        outcome = await engine.run_pass(everything=True)
        assert DOORBUSTER in outcome.changes.new_failures
        assert board.rows[DOORBUSTER].state is State.FAILED
        gate.open()
        late = await rechecking
        assert late.status is not None and late.status.state is not State.FAILED
        assert not late.newest
        assert late.changes.changed == [] and late.changes.transitions == []
        assert board.rows[DOORBUSTER].state is State.FAILED
        assert engine.freshness.tracked == 0


# -- stale rows: what a pass did not answer --------------------------------------------------------


async def test_posts_an_answer_left_out_keep_their_state_and_are_marked_unanswered() -> None:
    async with engine_on_sim(advance=40) as (engine, sim):
        await engine.run_pass()
        before = engine.board.states()
        sim.faults.missing_rate = 0.4
        outcome = await engine.run_pass(everything=True)
        assert outcome.kind == "left_out" and outcome.ran
        assert 0 < outcome.left_out == len(outcome.unanswered) < len(before)
        assert engine.board.states() == before  # left out is not UNKNOWN
        assert unanswered_rows(engine) == set(outcome.unanswered)
        assert engine.board.unanswered == len(outcome.unanswered)
        sim.faults.missing_rate = 0.0
        clean = await engine.run_pass()  # the rows left out are due again
        assert clean.kind == "ok" and clean.unanswered == []
        assert engine.board.unanswered == 0 and unanswered_rows(engine) == set()


async def test_the_posts_of_a_failed_batch_are_marked_unanswered() -> None:
    # Batches of five asked one at a time, one try each: the seeded 500s fail some of them.
    options = ClientOptions(batch_size=5, concurrency=1, max_attempts=1, backoff_base=0.01)
    async with engine_on_sim(options=options, advance=40) as (engine, sim):
        await engine.run_pass()
        before = engine.board.states()
        sim.faults.error_rate = 0.5
        outcome = await engine.run_pass(everything=True)
        assert outcome.kind == "partial" and outcome.error is not None
        assert 0 < outcome.not_checked == len(outcome.unanswered) < len(before)
        assert outcome.answered == len(before) - outcome.not_checked
        keys = [p.key for p in engine.watchlist.posts]
        batches = [set(keys[i : i + 5]) for i in range(0, len(keys), 5)]
        assert set(outcome.unanswered) == set().union(
            *(b for b in batches if b & set(outcome.unanswered))
        )  # whole batches, the ones that failed
        assert unanswered_rows(engine) == set(outcome.unanswered)
        assert engine.board.unanswered == outcome.not_checked
        assert engine.board.states() == before
        sim.faults.error_rate = 0.0
        await engine.run_pass()
        assert engine.board.unanswered == 0 and unanswered_rows(engine) == set()


async def test_a_pass_that_fails_entirely_marks_every_row_until_a_clean_pass() -> None:
    async with engine_on_sim(advance=40) as (engine, sim):
        await engine.run_pass()
        before = engine.board.states()
        sim.faults.revoked = True  # the key rejected: the pass cannot run at all
        outcome = await engine.run_pass()
        assert not outcome.ran and outcome.kind == "failed"
        assert outcome.error is not None and "API key rejected" in outcome.error
        assert set(outcome.unanswered) == set(before) == unanswered_rows(engine)
        assert engine.board.unanswered == len(before)
        assert engine.board.states() == before  # every last-known state kept
        assert (engine.passes, engine.failed_passes) == (1, 1)
        assert engine.health.stale
        sim.faults.revoked = False
        clean = await engine.run_pass()
        assert clean.ran and clean.kind == "ok"
        assert engine.board.unanswered == 0 and unanswered_rows(engine) == set()
        assert not engine.health.stale


async def test_a_failed_pass_does_not_mark_a_post_a_newer_recheck_answered() -> None:
    async with engine_on_sim(held=True, advance=40) as (engine, sim):
        await engine.run_pass()
        client = held_client(engine)
        gate = client.before_pass = Gate()
        passing = asyncio.ensure_future(engine.run_pass())
        await until(gate.reached.is_set, "the pass to have started")
        recheck = await engine.recheck(engine.board.rows[DOORBUSTER].post)  # asked after it
        assert recheck.newest and recheck.error is None
        sim.faults.revoked = True
        gate.open()  # the pass asks now, and is refused
        outcome = await passing
        assert not outcome.ran
        rows = set(engine.board.rows)
        assert set(outcome.unanswered) == rows - {DOORBUSTER} == unanswered_rows(engine)
        assert engine.board.unanswered == len(rows) - 1


# -- stuck posts -----------------------------------------------------------------------------------


def with_settings(watchlist: Watchlist, settings_yaml: str) -> Watchlist:
    """The watchlist with the settings of a file whose `settings:` block is `settings_yaml`."""
    parsed = parse_watchlist(f"settings: {settings_yaml}\nposts: [{{accountId: a, publishId: b}}]")
    return dataclasses.replace(watchlist, settings=parsed.settings)


def test_the_default_stuck_limits_are_thirty_minutes_queued_and_fifteen_processing() -> None:
    no_settings = dataclasses.replace(sample_watchlist(), settings=WatchlistSettings())
    assert stuck_thresholds(no_settings) == {State.QUEUED: 1800, State.PROCESSING: 900}


async def test_stuck_limits_come_from_the_watchlist_and_each_post_is_announced_once() -> None:
    wl = with_settings(sample_watchlist(), "{stuck_processing_minutes: 2, stuck_queued_minutes: 5}")
    clock = FakeClock(time.time())  # the engine's clock; the simulator's stays still
    async with engine_on_sim(wl, clock=clock) as (engine, _sim):
        first = await engine.run_pass()
        assert first.stuck == []  # at sim time 0 every post entered its state seconds ago
        rows = engine.board.rows
        processing = {k for k, r in rows.items() if r.state is State.PROCESSING}
        queued = {k for k, r in rows.items() if r.state is State.QUEUED}
        assert processing and queued
        clock.now += 150  # past 2 minutes processing, not 5 queued (15 and 30 by default)
        assert set(engine.check_stuck()) == processing
        assert engine.check_stuck() == []  # newly stuck: said once
        assert engine.board.stuck == len(processing)
        assert all(rows[k].stuck for k in processing) and not any(rows[k].stuck for k in queued)
        clock.now += 200  # past 5 minutes queued too: a pass reports the newly stuck
        outcome = await engine.run_pass()
        assert set(outcome.stuck) == queued
        assert (await engine.run_pass()).stuck == []
        assert engine.board.stuck == len(processing) + len(queued)


# -- history: queued at once -----------------------------------------------------------------------


async def test_a_passs_transitions_and_an_ack_are_queued_for_the_store_at_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.sqlite3"
    async with engine_on_sim(advance=70, history=StoreWriter(SqliteStore(db), SCOPE)) as (
        engine,
        _sim,
    ):
        first = await engine.run_pass()
        assert len(first.changes.transitions) == len(engine.board.rows)  # first sightings
        assert all(t.old is None for t in first.changes.transitions)
        events = engine.events()  # the event log, newest first
        assert set(events) == set(first.changes.transitions)
        assert [t.at for t in events] == sorted((t.at for t in events), reverse=True)
        trail, error = await engine.trail(DOORBUSTER)
        assert error is None and [(t.old, t.new) for t in trail] == [(None, State.FAILED)]
        failed = first.changes.new_failures
        assert DOORBUSTER in failed
        assert engine.acknowledge(DOORBUSTER, "called the client") is not None
        assert engine.board.unreviewed == len(failed) - 1
        shown = engine.board.states()
    # Closed as soon as the pass and the ack returned: nothing queued them later.
    stored = SqliteStore(db)
    assert {k: p.state for k, p in stored.last_posts(SCOPE).items()} == shown
    assert len(stored.events(SCOPE, limit=10_000)) == len(shown)
    assert stored.acks(SCOPE)[DOORBUSTER].note == "called the client"
    stored.close()


async def test_an_ack_taken_back_is_removed_from_the_store_at_once(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    async with engine_on_sim(advance=70, history=StoreWriter(SqliteStore(db), SCOPE)) as (
        engine,
        _sim,
    ):
        await engine.run_pass()
        engine.acknowledge(DOORBUSTER, "ok")
        row = engine.unacknowledge(DOORBUSTER)
        assert row is not None and not row.acked and row.unreviewed_failure
        assert engine.acknowledge(("acc_nobody", "p0"), "not on the board") is None
    stored = SqliteStore(db)
    assert DOORBUSTER not in stored.acks(SCOPE)
    stored.close()


# -- coalescing ------------------------------------------------------------------------------------


async def test_passes_asked_for_while_one_runs_are_coalesced_into_one_more() -> None:
    async with engine_on_sim(held=True) as (engine, _sim):
        client = held_client(engine)
        gate = client.before_pass = Gate()
        assert engine.begin_pass()
        passing = asyncio.ensure_future(engine.run_pass())
        await until(gate.reached.is_set, "the pass to be running")
        assert engine.polling
        assert not engine.begin_pass()
        assert not engine.begin_pass()  # asked twice: still one more pass
        assert engine.pass_wanted
        gate.open()
        await passing
        assert not engine.polling
        assert engine.take_again()
        assert not engine.take_again()  # taken: forgotten
        assert not engine.pass_wanted
        assert engine.begin_pass()  # nothing runs: the next pass may start


# -- watchlist reloads -----------------------------------------------------------------------------


async def test_a_bad_edit_keeps_the_last_good_list_and_returns_the_error(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    wl = load_watchlist(path)
    every = parse_watchlist(watchlist_text(ENTRIES + EXTRA)).posts
    async with engine_on_sim(wl, sim_posts=every, advance=70, watch_file=True) as (engine, _):
        await engine.run_pass()
        before = engine.board.states()
        assert engine.file_saved() is None  # not saved since the start
        write(path, watchlist_text(ENTRIES[:2]) + "  - {accountId: acc_tiktok_main, label: x}\n")
        seq = engine.file_saved()
        assert seq is not None and engine.file_saved() is None
        refused = await engine.reload_file(seq)
        assert refused is not None and refused.error is not None
        assert f"{path}:4" in refused.error  # line 4: the entry without its publishId
        assert engine.watchlist is wl
        assert engine.board.states() == before
        write(path, watchlist_text(ENTRIES[1:] + EXTRA))
        seq = engine.file_saved()
        assert seq is not None
        taken = await engine.reload_file(seq)
        assert taken is not None and taken.error is None
        assert (taken.added, taken.removed) == (2, 1)
        rows = engine.board.rows
        assert len(rows) == len(ENTRIES) - 1 + len(EXTRA)
        assert all(rows[k].state is before[k] for k in before if k in rows)  # known kept


async def test_a_post_the_store_knows_shows_its_state_and_ack_at_once_and_stays_reviewed(
    tmp_path: Path,
) -> None:
    """A board (the poller, or an operator alone) whose list gains a post another list had:
    it shows the stored state, note and who at once, and its next pass finds nothing new (a
    'first seen' failure would alert again and drop the acknowledgement)."""
    db = tmp_path / "history.sqlite3"
    async with engine_on_sim(advance=70, history=StoreWriter(SqliteStore(db), SCOPE)) as (
        first,
        _sim,
    ):
        await first.run_pass()
        first.acknowledge(DOORBUSTER, "called the client")
    path = tmp_path / "watch.yaml"
    others = [e for e in ENTRIES if e[1] != DOORBUSTER[1]]
    write(path, watchlist_text(others))
    history = StoreWriter(SqliteStore(db), SCOPE)
    every = sample_watchlist().posts
    async with engine_on_sim(
        load_watchlist(path), sim_posts=every, advance=70, history=history, watch_file=True
    ) as (engine, _sim):
        await engine.run_pass()
        write(path, watchlist_text(ENTRIES))
        seq = engine.file_saved()
        assert seq is not None
        await engine.reload_file(seq)
        row = engine.board.rows[DOORBUSTER]
        assert row.state is State.FAILED and row.detail != "not checked yet"
        assert row.acked and row.note == "called the client" and row.acked_by == first.operator
        later = await engine.run_pass()
        assert DOORBUSTER not in later.changes.new_failures
        assert DOORBUSTER not in {t.key for t in later.changes.transitions}
        assert engine.board.rows[DOORBUSTER].acked
    stored = SqliteStore(db)
    try:
        assert stored.acks(SCOPE)[DOORBUSTER].note == "called the client"
        assert [t.old for t in stored.trail(SCOPE, DOORBUSTER)] == [None]  # seen once
    finally:
        stored.close()


async def test_only_the_newest_save_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    every = parse_watchlist(watchlist_text(ENTRIES + EXTRA)).posts
    wl = load_watchlist(path)
    async with engine_on_sim(wl, sim_posts=every, watch_file=True) as (engine, _sim):
        write(path, watchlist_text(ENTRIES[:3]))
        older = engine.file_saved()
        write(path, watchlist_text(ENTRIES + EXTRA))
        newer = engine.file_saved()
        assert older is not None and newer is not None and older < newer
        applied = await engine.reload_file(newer)
        assert applied is not None and (applied.added, applied.removed) == (2, 0)
        assert await engine.reload_file(older) is None  # its read ended last: not applied
        assert len(engine.board.rows) == len(ENTRIES) + len(EXTRA)


async def test_edited_settings_apply_at_once_unless_the_command_line_gave_them() -> None:
    wl = dataclasses.replace(sample_watchlist(), settings=WatchlistSettings())
    edited = with_settings(wl, "{interval: 30, final_every: 3, concurrency: 2}")
    async with engine_on_sim(wl, interval=60) as (engine, _sim):
        await engine.run_pass()
        outcome = engine.reload(edited)
        assert outcome.interval_changed and engine.interval == 30
        assert engine.poller is not None and engine.poller.final_every == 3
        assert outcome.said == [
            "refresh every 30s",
            "final posts re-checked every 3 passes",
            "concurrency take effect at the next start",
        ]
        kept = engine.reload(wl)  # the settings taken out of the file keep their values
        assert not kept.interval_changed and engine.interval == 30
        assert engine.poller.final_every == 3
    async with engine_on_sim(wl, interval=60, fixed_settings=frozenset({"interval"})) as (
        engine,
        _sim,
    ):
        outcome = engine.reload(edited)
        assert not outcome.interval_changed and engine.interval == 60
        assert "refresh every 30s" not in outcome.said


# -- the next pass under a rate limit --------------------------------------------------------------


async def test_the_next_pass_waits_out_a_rate_limit_longer_than_the_client_waits() -> None:
    # As `wahdx-tui sim --burst-429-every 1 --retry-after 120`: every request is refused
    # for two minutes, longer than this client will wait within a pass (5 s).
    faults = Faults(burst_429_every=1, retry_after=120)
    options = dataclasses.replace(QUICK, max_retry_after=5)
    clock = FakeClock(time.time())  # the engine's clock, still while the pass runs
    async with engine_on_sim(faults=faults, options=options, interval=2, clock=clock) as (
        engine,
        sim,
    ):
        assert engine.next_delay() == 2
        outcome = await engine.run_pass()
        assert outcome.kind == "down" and outcome.answered == 0
        assert outcome.error is not None and "rate limited" in outcome.error
        assert sim.stats.status_counts == {429: 1}  # given up at once, not waited out
        # Put off as the API asked, but never past max_retry_after (nor sooner than the 2 s
        # interval): an ask of a year once stopped the polling for good.
        assert 5 <= engine.next_delay() < 120
        clock.now += 3600
        assert engine.next_delay() == 2  # once the wait is over: the interval again


async def test_a_pass_that_finds_nothing_new_keeps_the_rows_and_moves_their_checked_time() -> None:
    """The second pass's answer repeats the first: each row keeps its status (nothing is read
    twice), its Checked time and the export move to the second pass, and a post that then
    changes is taken in as ever."""
    async with engine_on_sim(advance=40) as (engine, sim):
        await engine.run_pass()
        rows = engine.board.rows
        before = {k: (r.status, r.checked_at) for k, r in rows.items()}
        await engine.run_pass(everything=True)
        for key, (status, checked) in before.items():
            row = rows[key]
            assert row.status is status
            assert row.checked_at is not None and checked is not None
            assert row.checked_at > checked
            assert export_record(row)["checkedAt"] == iso_time(row.checked_at)
        sim.advance(600)
        outcome = await engine.run_pass(everything=True)
        assert outcome.changes.changed  # the sample's posts move on in ten minutes
        for key in outcome.changes.changed:
            assert rows[key].status is not before[key][0]
            assert rows[key].state is sim.truth(key)


async def test_a_post_removed_and_added_back_during_a_pass_gets_that_passs_answer() -> None:
    """An undo while a pass runs: the post is gone from the watchlist and back, on a new row.
    The pass's answer (the same as before, so kept by the parser) lands on the row shown."""
    async with engine_on_sim(held=True, advance=40) as (engine, _sim):
        await engine.run_pass()
        wl = engine.watchlist
        key = wl.posts[0].key
        gate = held_client(engine).after_pass = Gate()
        passing = asyncio.ensure_future(engine.run_pass(everything=True))
        await until(gate.reached.is_set, "the pass answered")
        engine.reload(dataclasses.replace(wl, posts=wl.posts[1:]))
        engine.reload(wl)
        shown = engine.board.rows[key]
        assert shown.status is None
        gate.open()
        await passing
        assert shown.status is not None and shown.checked_at is not None


async def test_a_post_this_board_takes_from_the_teams_during_a_pass_gets_that_passs_answer() -> (
    None
):
    """Another board of the team watched the post; this one adds it while a pass runs. The
    answer lands on this board's new row, not only on the team's row it came from."""
    async with engine_on_sim(held=True, advance=40) as (engine, _sim):
        wl = engine.watchlist
        post = wl.posts[0]
        engine.reload(dataclasses.replace(wl, posts=wl.posts[1:]))
        engine.others.set_posts([post])
        await engine.run_pass()
        gate = held_client(engine).after_pass = Gate()
        passing = asyncio.ensure_future(engine.run_pass(everything=True))
        await until(gate.reached.is_set, "the pass answered")
        engine.reload(wl)
        shown = engine.board.rows[post.key]
        gate.open()
        await passing
        assert shown.status is not None and shown.state is not State.UNKNOWN
