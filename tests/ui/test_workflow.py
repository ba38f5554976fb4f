"""The operator workflow on the board: history across runs, review, stuck, events, export."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

import wahdx_tui.ui.app as app_module
from tests.support.fixtures import (
    FakeClock,
    board_on,
    running_board,
    sample_watchlist,
    screen_text,
    sim_clients,
    start_sim,
    toasts,
    until,
)
from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import Watchlist
from wahdx_tui.sim import SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.messages import PassDone
from wahdx_tui.ui.screens.ack import AckScreen
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.screens.eventlog import EventLogScreen

pytestmark = pytest.mark.usefixtures("quick_pilot")

SCOPE = "http://127.0.0.1:test"


def make_sim(watchlist: Watchlist, advance: float = 200.0) -> SimServer:
    """A simulator whose clock moves only when told: by `advance`, most posts are final."""
    return start_sim(watchlist.posts, advance=advance)


def make_app(
    sim: SimServer, watchlist: Watchlist, history: StoreWriter, tmp_path: Path
) -> BoardApp:
    return board_on(sim, watchlist, interval=3600, history=history, bell=False, export_dir=tmp_path)


@asynccontextmanager
async def board_after_a_pass(
    tmp_path: Path,
    history: StoreWriter,
    *,
    advance: float = 200.0,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[tuple[BoardApp, Pilot[int], SimServer]]:
    """The sample board with `history`, after its first pass; the simulator stops at the end."""
    board = running_board(
        history=history,
        advance=advance,
        interval=3600,
        bell=False,
        export_dir=tmp_path,
        clock=clock,
    )
    async with board as h:
        yield h.app, h.pilot, h.sim


def first_failed_key(app: BoardApp) -> tuple[str, str]:
    return next(k for k, r in app.board.rows.items() if r.state is State.FAILED)


async def test_the_last_runs_states_show_at_start_and_stay_stale_when_the_api_is_down(
    tmp_path: Path,
) -> None:
    wl = sample_watchlist()
    db = tmp_path / "history.sqlite3"
    sim = make_sim(wl)
    try:
        app = make_app(sim, wl, StoreWriter(SqliteStore(db), SCOPE), tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: app.engine.passes >= 1, "first pass", pilot=pilot)
            first_run = {k: r.state for k, r in app.board.rows.items()}
    finally:
        sim.stop()  # the API is gone for the second run
    assert SqliteStore(db).last_posts(SCOPE), "the first run wrote nothing"

    app2 = make_app(sim, wl, StoreWriter(SqliteStore(db), SCOPE), tmp_path)
    async with app2.run_test(size=(120, 36)) as pilot:
        await until(
            lambda: app2.board.rows[next(iter(first_run))].from_last_run, "restore", pilot=pilot
        )
        assert {k: r.state for k, r in app2.board.rows.items()} == first_run
        await until(lambda: app2.engine.health.state == "down", "the refresh to fail", pilot=pilot)
        assert {k: r.state for k, r in app2.board.rows.items()} == first_run
        assert app2.engine.health.stale and app2.table.stale


async def test_acknowledge_with_a_note_persists_and_a_new_failure_is_unreviewed_again(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.sqlite3"
    async with board_after_a_pass(tmp_path, StoreWriter(SqliteStore(db), SCOPE)) as (
        app,
        pilot,
        _sim,
    ):
        failed = app.board.counts()[State.FAILED]
        assert failed >= 2, "the seed should give failures"
        key = app.table.selected.key  # type: ignore[union-attr]
        assert app.board.rows[key].state is State.FAILED  # failed posts sort first
        await pilot.press("a")
        assert isinstance(app.screen, AckScreen)
        await until(lambda: isinstance(app.focused, Input), "the note box's focus", pilot=pilot)
        for ch in "called the client":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("enter")
        row = app.board.rows[key]
        assert row.acked and row.note == "called the client"
        assert app.board.unreviewed == failed - 1
        assert "unreviewed" in app.query_one("#counts").plain  # type: ignore[attr-defined]
        # It now sorts after the unreviewed failures.
        assert app.board.index_of(key) == failed - 1
        await until(lambda: key in SqliteStore(db).acks(SCOPE), "the ack to be saved", pilot=pilot)

        # The post fails again later (a new transition): unreviewed again, ack dropped.
        now = time.time()
        app.board.apply([PostStatus(key, State.QUEUED, "Queued", None, None, now)])
        changes = app.board.apply([PostStatus(key, State.FAILED, "Failed", None, "x", now)])
        app.engine.history.save([], changes.transitions)
        assert not app.board.rows[key].acked
        await until(
            lambda: key not in SqliteStore(db).acks(SCOPE), "the ack to be dropped", pilot=pilot
        )


async def test_escape_in_the_ack_dialog_leaves_the_post_unreviewed(tmp_path: Path) -> None:
    async with board_after_a_pass(tmp_path, StoreWriter(None, SCOPE)) as (app, pilot, _sim):
        key = app.table.selected.key  # type: ignore[union-attr]
        await pilot.press("a")
        await pilot.press("escape")
        assert not app.board.rows[key].acked
        assert not isinstance(app.screen, AckScreen)


async def test_the_event_log_lists_transitions_newest_first_and_filters(tmp_path: Path) -> None:
    async with board_after_a_pass(tmp_path, StoreWriter(None, SCOPE)) as (app, pilot, _sim):
        wl = app.engine.watchlist
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, EventLogScreen)
        assert screen.shown == len(wl.posts)  # one first sighting each
        times = [t.at for t in app.engine.history.events]
        assert times == sorted(times, reverse=True)
        for ch in "fb_pub":
            await pilot.press(ch)
        fb = sum(1 for p in wl.posts if p.publish_id.startswith("fb_pub"))
        assert screen.shown == fb
        await pilot.press("escape")
        assert not isinstance(app.screen, EventLogScreen)


async def test_export_writes_the_current_view_in_order(tmp_path: Path) -> None:
    async with board_after_a_pass(tmp_path, StoreWriter(None, SCOPE)) as (app, pilot, _sim):
        await pilot.press("f")  # failed only
        await pilot.press("x")
        await pilot.press("f")  # processing
        await pilot.press("X")
        files = sorted(tmp_path.glob("wahdx-export-*"))
        assert [f.suffix for f in files] == [".csv", ".json"]
        with files[0].open() as fh:
            rows = list(csv.DictReader(fh))
        assert rows and all(r["state"] == "failed" for r in rows)
        assert [r["publishId"] for r in rows] == [
            app.board.rows[k].post.publish_id
            for k in sorted(
                (k for k, r in app.board.rows.items() if r.state is State.FAILED),
                key=lambda k: app.board.rows[k].label.casefold(),
            )
        ]
        records = json.loads(files[1].read_text())
        assert all(r["state"] == "processing" for r in records)


async def test_a_post_too_long_in_processing_is_flagged_stuck_and_announced(
    tmp_path: Path,
) -> None:
    clock = FakeClock(time.time())  # the board's (and its engine's) clock
    async with board_after_a_pass(tmp_path, StoreWriter(None, SCOPE), advance=0, clock=clock) as (
        app,
        pilot,
        _sim,
    ):
        active = [k for k, r in app.board.rows.items() if r.state is State.PROCESSING]
        assert active
        clock.now += 16 * 60  # past the 15 min default
        app.check_stuck()
        assert app.board.stuck == len(active)
        assert all(app.board.rows[k].stuck for k in active)
        assert "STUCK" in app.query_one("#counts").plain  # type: ignore[attr-defined]
        await until(
            lambda: any("STUCK" in title for title, _ in toasts(app)), "a toast", pilot=pilot
        )
        # Stuck posts sort first within their state.
        assert app.board.row_at(app.board.index_of(active[0]) or 0).stuck
        await pilot.pause()
        assert "⚠ PROCESSING" in screen_text(app)
        # A longer limit (a watchlist edit) clears the flags: the lines say so at that check,
        # not on the next ten-second mark of the ages.
        wl = app.engine.watchlist
        settings = dataclasses.replace(wl.settings, stuck_processing_minutes=60)
        app.engine.watchlist = dataclasses.replace(wl, settings=settings)
        app.check_stuck()
        await pilot.pause()
        assert app.board.stuck == 0
        assert "⚠ PROCESSING" not in screen_text(app)
        assert "STUCK" not in app.query_one("#counts").plain  # type: ignore[attr-defined]


async def test_the_reason_filter_and_the_detail_trail(tmp_path: Path) -> None:
    async with board_after_a_pass(
        tmp_path, StoreWriter(SqliteStore(tmp_path / "h.sqlite3"), SCOPE)
    ) as (
        app,
        pilot,
        _sim,
    ):
        categories = {r.category for r in app.board.rows.values() if r.category}
        assert categories
        await pilot.press("F")
        shown = {app.board.row_at(i).category for i in range(len(app.board))}
        assert len(shown) <= 1
        key = first_failed_key(app)
        app.table.move_cursor(app.board.index_of(key) or 0)
        await pilot.press("F", "F", "F", "F", "F", "F")  # back to all
        assert app.board.category_filter is None
        app.table.move_cursor(app.board.index_of(key) or 0)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)

        def trail_text() -> str:
            return str(screen.query_one("#detail-trail").render())

        await until(lambda: "FAILED" in trail_text(), "the trail", pilot=pilot)
        await asyncio.sleep(0)


async def test_a_slash_can_be_typed_in_the_acknowledgement_note(tmp_path: Path) -> None:
    async with board_after_a_pass(tmp_path, StoreWriter(None, "x")) as (app, pilot, _sim):
        key = app.table.selected.key  # type: ignore[union-attr]
        await pilot.press("a")
        assert isinstance(app.screen, AckScreen)
        await until(lambda: isinstance(app.focused, Input), "the note box's focus", pilot=pilot)
        await pilot.press("O", "P", "S", "slash", "1", "enter")
        assert app.board.rows[key].note == "OPS/1"


async def test_opening_the_history_prunes_old_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wahdx_tui.core.domain.records import Transition
    from wahdx_tui.core.store import writer as history_module

    store = SqliteStore(tmp_path / "h.sqlite3")
    key = ("acc", "p")
    for i in range(12):
        store.record(SCOPE, [], [Transition(key, State.QUEUED, State.PROCESSING, 1000.0 + i)])
    monkeypatch.setattr(history_module, "EVENTS_ON_DISK", 5)
    history = StoreWriter(store, SCOPE)
    await history.load()
    assert len(store.events(SCOPE)) == 5
    assert [t.at for t in history.events] == [1011.0, 1010.0, 1009.0, 1008.0, 1007.0]
    history.close()


class RefusingStore(SqliteStore):
    """A store whose disk refuses writes while `refusing` is set (full, read-only, locked)."""

    refusing = False

    def record(self, *args: object, **kwargs: object) -> None:
        if self.refusing:
            raise StoreError("history database: disk I/O error")
        super().record(*args, **kwargs)  # type: ignore[arg-type]

    def set_ack(self, *args: object, **kwargs: object) -> None:
        if self.refusing:
            raise StoreError("history database: disk I/O error")
        super().set_ack(*args, **kwargs)  # type: ignore[arg-type]


def banner_text(app: BoardApp) -> str:
    banner = app.query_one("#banner")
    return str(banner.render()) if banner.display else ""


@asynccontextmanager
async def board_on_a_refusing_store(
    tmp_path: Path, *, refusing: bool = True, advance: float = 200.0
) -> AsyncIterator[tuple[BoardApp, Pilot[int], RefusingStore, SimServer]]:
    """The sample board, its history on a store that refuses writes (until told otherwise),
    after its first pass; the simulator stops when the block ends."""
    store = RefusingStore(tmp_path / "h.sqlite3")
    store.refusing = refusing
    async with board_after_a_pass(tmp_path, StoreWriter(store, SCOPE), advance=advance) as (
        app,
        pilot,
        sim,
    ):
        yield app, pilot, store, sim


async def test_history_the_store_refused_is_kept_and_written_once_it_takes_writes_again(
    tmp_path: Path,
) -> None:
    async with board_on_a_refusing_store(tmp_path, advance=0.0) as (app, pilot, store, sim):
        await until(lambda: "history not saved" in banner_text(app), "the warning", pilot=pilot)
        assert "disk I/O error" in banner_text(app)
        assert "changes kept" in banner_text(app)
        first = {k: r.state for k, r in app.board.rows.items()}
        sim.advance(200.0)  # most posts move on: a second pass, refused too
        app.start_poll()
        await until(
            lambda: app.engine.passes >= 2 and not app.engine.polling, "second pass", pilot=pilot
        )
        await until(
            lambda: app.engine.history.unsaved > len(first), "both passes kept", pilot=pilot
        )
        store.refusing = False
        sim.advance(100.0)
        app.start_poll()
        await until(lambda: "history not saved" not in banner_text(app), "recovery", pilot=pilot)
        shown = {k: r.state for k, r in app.board.rows.items()}
        in_memory = len(app.engine.history.events)
    reread = SqliteStore(tmp_path / "h.sqlite3")
    assert {k: p.state for k, p in reread.last_posts(SCOPE).items()} == shown
    # Every transition of the refused passes reached the disk, the first pass's included.
    assert len(reread.events(SCOPE, limit=10_000)) == in_memory
    assert {t.key for t in reread.events(SCOPE, limit=10_000) if t.old is None} == set(first)


async def test_history_still_refused_at_quit_is_tried_once_more_on_the_way_out(
    tmp_path: Path,
) -> None:
    async with board_on_a_refusing_store(tmp_path) as (app, pilot, store, _sim):
        await until(lambda: "history not saved" in banner_text(app), "the warning", pilot=pilot)
        shown = {k: r.state for k, r in app.board.rows.items()}
        store.refusing = False  # e.g. the disk was freed; no pass has written since
        await pilot.press("q")
    stored = SqliteStore(tmp_path / "h.sqlite3").last_posts(SCOPE)
    assert {k: p.state for k, p in stored.items()} == shown


async def test_a_pass_that_ends_as_the_board_quits_is_on_disk(tmp_path: Path) -> None:
    class QuitsAsAPassEnds(BoardApp):
        CSS_PATH = str(Path(app_module.__file__).with_name("board.tcss"))

        def on_pass_done(self, message: PassDone) -> None:
            self.exit()  # BoardApp's own handler runs right after this one, in the same turn

    wl = sample_watchlist()
    db = tmp_path / "h.sqlite3"
    sim = make_sim(wl)
    try:
        engine = Engine(
            wl, sim_clients(sim), interval=3600, history=StoreWriter(SqliteStore(db), SCOPE)
        )
        app = QuitsAsAPassEnds(engine, bell=False)
        async with app.run_test(size=(120, 36)):
            await until(lambda: app.engine.passes, "the first pass")
        assert app.engine.passes == 1
        shown = {k: r.state for k, r in app.board.rows.items()}
    finally:
        sim.stop()
    assert {k: p.state for k, p in SqliteStore(db).last_posts(SCOPE).items()} == shown


async def test_an_acknowledgement_the_store_refused_is_written_once_it_can_be(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite3"
    async with board_on_a_refusing_store(tmp_path, refusing=False) as (app, pilot, store, _sim):
        key = first_failed_key(app)
        app.table.move_cursor(app.board.index_of(key) or 0)
        store.refusing = True
        await pilot.press("a")
        assert isinstance(app.screen, AckScreen)
        await until(lambda: isinstance(app.focused, Input), "the note box's focus", pilot=pilot)
        await pilot.press("o", "k", "enter")
        await until(lambda: "history not saved" in banner_text(app), "the warning", pilot=pilot)
        store.refusing = False
        app.start_poll()  # the next pass's write carries the acknowledgement
        await until(lambda: "history not saved" not in banner_text(app), "recovery", pilot=pilot)
        assert SqliteStore(db).acks(SCOPE)[key].note == "ok"
        # taken back (the dialog asks first) and quit at once: the removal is on disk too
        await pilot.press("a", "tab", "enter")
        await until(lambda: not app.board.rows[key].acked, "the ack taken back", pilot=pilot)
        await pilot.press("q")
    assert key not in SqliteStore(db).acks(SCOPE)
