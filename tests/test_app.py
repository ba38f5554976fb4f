"""Pilot tests of the live board (issue 3): every key and behaviour, against a real SimServer.

Each test runs the board with `app.run_test()` against the simulated API on loopback. The
simulator's clock is a fake that never moves by itself, so every post's state is fixed by the
seed until a test calls `sim.advance()`. Polls are waited for by polling a condition between
short pilot pauses, never by sleeping for a fixed time. The default refresh interval here is
60 s, so the board's own timer never fires during a test; tests that need "the next tick"
call `app.fire_timer()` themselves after checking the timer is armed.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import textual._wait
from rich.cells import set_cell_size
from textual.color import Color
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from wahdx_tui.core.board import SORT_COLUMNS, STATE_FILTERS, Row
from wahdx_tui.core.client import ClientOptions, PassResult, WahdxClient
from wahdx_tui.core.engine import Engine
from wahdx_tui.core.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.sanitize import clean
from wahdx_tui.core.watchlist import (
    Watchlist,
    load_watchlist,
    parse_watchlist,
    sample_watchlist_path,
)
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.sim.faults import hostile_index, hostile_text
from wahdx_tui.sim.schedule import head_start_for, timeline_for
from wahdx_tui.ui.app import INTERVALS, BoardApp
from wahdx_tui.ui.columns import COLUMNS, GAP
from wahdx_tui.ui.keys import KEYS
from wahdx_tui.ui.run import terminal_gone
from wahdx_tui.ui.screens import DetailScreen, HelpScreen
from wahdx_tui.ui.summary import SummaryLine
from wahdx_tui.ui.table import BoardTable, TableHeader

SEED = 7


@pytest.fixture(autouse=True)
def quick_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pilot's idle check sample every 5 ms instead of 20 ms.

    Each press and pause ends with Textual's `wait_for_idle`, which sleeps in steps of this
    granularity; at the default every key costs ~70 ms. Effects of keys are still awaited
    through the pilot's message-queue wait, and everything asynchronous through `until`.
    """
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005)


# Sample watchlist, seed 7, sim time 0: 15 queued, 7 processing, 3 published, nothing failed.
# At sim time 40 "Doorbuster unboxing" (v_pub_7315) has failed; at 70 "Gift guide under $25"
# (v_pub_8812) too.
DOORBUSTER: PostKey = ("acc_tiktok_main", "v_pub_7315")


class FakeClock:
    """The simulator's clock: it moves only when a test says so (via sim.advance)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    """A running board, its simulator and its pilot."""

    app: BoardApp
    sim: SimServer
    pilot: Pilot[int]
    bells: list[int] = field(default_factory=list)

    @property
    def table(self) -> BoardTable:
        return self.app.table

    async def until(self, cond: Callable[[], object], what: str, tries: int = 600) -> None:
        """Pause in short steps until cond() holds; fail the test if it never does."""
        for _ in range(tries):
            if cond():
                return
            await self.pilot.pause(0.01)
        if cond():
            return
        pytest.fail(f"timed out waiting for: {what}")

    async def next_pass(self, after: int | None = None) -> None:
        """Wait until a pass beyond `after` (default: the current count) has been applied."""
        start = self.app.passes if after is None else after
        await self.until(lambda: self.app.passes > start, f"pass {start + 1}")
        await self.until(lambda: not self.app.polling, "the pass to end")

    async def filter_by(self, text: str) -> None:
        """Open the filter with / and put `text` in it (typing is tested on its own), then
        Enter, back to the table."""
        await self.pilot.press("slash")
        self.app.query_one("#filter", Input).value = text
        await self.pilot.press("enter")
        assert self.app.board.text_filter == text.strip().casefold()
        assert self.app.focused is self.table

    async def refresh(self) -> None:
        """Press r and wait for the pass it starts."""
        start = self.app.passes
        await self.pilot.press("r")
        await self.next_pass(start)

    def line(self, name: str) -> str:
        return self.app.query_one(f"#{name}", SummaryLine).plain

    def status(self) -> str:
        """The status row of the summary bar (updated, next, health), as one text."""
        pieces = self.app.query("#status-row SummaryLine").results(SummaryLine)
        return " · ".join(p.plain for p in pieces if p.id != "view")

    def shows_interval(self, seconds: float) -> bool:
        status = self.status()
        return f"/{seconds:g}s" in status or f"every {seconds:g}s" in status

    def banner(self) -> str | None:
        banner = self.app.query_one("#banner", Static)
        return str(banner.content) if banner.display else None

    def notes(self) -> list[str]:
        return [n.message for n in self.app._notifications]

    def toast_titles(self) -> list[str]:
        return [n.title for n in self.app._notifications]

    def truth_mismatches(self) -> list[tuple[PostKey, State, State | None]]:
        out = []
        for key, row in self.app.board.rows.items():
            truth = self.sim.truth(key)
            if row.state is not truth:
                out.append((key, row.state, truth))
        return out

    def index_of_state(self, state: State) -> int:
        board = self.app.board
        for i in range(len(board)):
            if board.row_at(i).state is state:
                return i
        raise AssertionError(f"no {state} row on the board")

    async def cursor_to(self, index: int) -> Row:
        """Move the cursor as j/k do (the keys themselves are tested on their own)."""
        self.table.move_cursor(index)
        await self.pilot.pause()
        assert self.table.cursor == index
        row = self.table.selected
        assert row is not None
        return row

    def table_lines(self) -> list[str]:
        return [
            "".join(s.text for s in self.table.render_line(y))
            for y in range(self.table.size.height)
        ]


def rendered(widget: Widget) -> str:
    """The text a widget draws, one line per row."""
    strips = widget.render_lines(widget.region.reset_offset)
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def squeezed(text: str) -> str:
    """Text without any whitespace (to compare text that may be wrapped)."""
    return "".join(text.split())


def rechecked(screen: DetailScreen) -> bool:
    """The detail screen's re-check came back (answered or failed)."""
    return screen.recheck_note.startswith(("re-checked at", "re-check at"))


def client_factory(sim: SimServer) -> Callable[..., WahdxClient]:
    def make(on_event: Callable[..., None]) -> WahdxClient:
        return WahdxClient(
            sim.base_url,
            sim.api_key,
            ClientOptions(backoff_base=0.01, max_attempts=2),
            on_event=on_event,
        )

    return make


@asynccontextmanager
async def running_board(
    *,
    watchlist: Watchlist | None = None,
    sim_posts: Sequence[WatchedPost] | None = None,
    advance: float = 0.0,
    interval: float = 60.0,
    bell: bool = True,
    watch_file: bool = False,
    size: tuple[int, int] = (120, 36),
    latency: float = 0.0,
    hostile: bool = False,
    tick: bool = True,
) -> AsyncIterator[Harness]:
    """The board on the sample watchlist (or `watchlist`) against a fresh simulator."""
    wl = watchlist or load_watchlist(sample_watchlist_path())
    sim = SimServer(
        SimConfig(
            posts=sim_posts if sim_posts is not None else wl.posts, seed=SEED, clock=FakeClock()
        )
    ).start()
    sim.advance(advance)
    sim.faults.latency = latency
    sim.faults.hostile = hostile
    engine = Engine(wl, client_factory(sim), interval=interval, watch_file=watch_file)
    app = BoardApp(engine, bell=bell)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    if not tick:
        # The once-a-second tick also reconciles the table; off where lines are counted.
        app.tick = lambda: None  # type: ignore[method-assign]
    try:
        async with app.run_test(size=size) as pilot:
            h = Harness(app, sim, pilot, bells)
            await h.until(lambda: app.passes >= 1, "the first pass")
            await h.until(lambda: not app.polling, "the first pass to end")
            await pilot.pause()
            yield h
    finally:
        sim.stop()


def sample_counts(h: Harness) -> dict[State, int]:
    counts: dict[State, int] = {}
    for row in h.app.board.rows.values():
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


# -- q, r ------------------------------------------------------------------------------------


async def test_q_quits() -> None:
    async with running_board() as h:
        assert h.app.is_running
        await h.pilot.press("q")
        await h.pilot.pause()
        assert not h.app.is_running
        assert h.app.return_code == 0


async def test_q_quits_while_a_poll_is_in_flight() -> None:
    async with running_board() as h:
        h.sim.faults.latency = 0.3
        await h.pilot.press("r")
        await h.until(lambda: h.sim.stats.in_flight > 0, "a request in flight")
        await h.pilot.press("q")
        await h.until(lambda: not h.app.is_running, "the app to exit")
        assert h.app.return_code == 0


async def test_first_pass_fills_the_board_with_the_truth() -> None:
    async with running_board() as h:
        board = h.app.board
        assert len(board) == len(board.rows) == 25
        assert all(row.status is not None for row in board.rows.values())
        assert h.truth_mismatches() == []
        assert "API ok" in h.status()
        assert "Σ 25 total" in h.line("counts")


async def test_r_refreshes_now() -> None:
    async with running_board() as h:
        before = h.sim.stats.batch_requests
        await h.refresh()
        assert h.sim.stats.batch_requests > before
        assert h.app.passes == 2


async def test_r_during_a_poll_is_coalesced_into_one_more_pass() -> None:
    async with running_board() as h:
        h.sim.stats.reset()
        h.sim.faults.latency = 0.5  # long enough for three more presses (~0.07 s each)
        passes = h.app.passes
        await h.pilot.press("r")
        assert h.app.polling
        await h.until(lambda: h.sim.stats.in_flight > 0, "the pass's request in flight")
        await h.pilot.press("r", "r", "r")
        assert h.app.passes == passes  # still the first pass
        assert h.app.polling
        assert h.app.engine.pass_wanted
        # the first pass ends, exactly one more follows, and then the board goes idle
        await h.until(lambda: h.app.passes >= passes + 1, "the running pass")
        await h.until(
            lambda: h.app.passes >= passes + 2 and not h.app.polling, "the coalesced pass"
        )
        await h.pilot.pause()
        assert h.app.passes == passes + 2
        assert not h.app.engine.pass_wanted
        assert h.sim.stats.batch_requests == 2  # 25 posts: one batch request per pass
        assert h.sim.stats.max_in_flight == 1  # never two passes in flight
        assert h.app.poll_timer is not None  # the next pass is scheduled after the last one


# -- p, +, - ---------------------------------------------------------------------------------


async def test_p_pauses_and_resumes() -> None:
    async with running_board() as h:
        assert h.app.poll_timer is not None
        assert "next 60s" in h.status() or "next 59s" in h.status()
        assert h.shows_interval(60)
        await h.pilot.press("p")
        assert h.app.paused
        assert h.app.poll_timer is None
        assert h.app.next_at is None
        assert "PAUSED" in h.status()
        assert "refreshes paused" in h.notes()
        requests = h.sim.stats.requests
        # a few simulated intervals: the once-a-second tick runs, no pass starts
        for _ in range(5):
            h.app.tick()
            await h.pilot.pause()
        assert h.sim.stats.requests == requests
        assert not h.app.polling
        assert h.app.poll_timer is None
        # r while paused refreshes once, and the board stays paused
        await h.refresh()
        assert h.app.paused
        assert h.app.poll_timer is None
        assert "PAUSED" in h.status()
        requests = h.sim.stats.requests
        # resume: the timer is armed again, and when it fires a pass runs
        await h.pilot.press("p")
        assert not h.app.paused
        assert "PAUSED" not in h.status()
        assert "refreshes resumed" in h.notes()
        assert h.app.poll_timer is not None
        assert h.app.next_at is not None
        passes = h.app.passes
        h.app.fire_timer()
        await h.next_pass(passes)
        assert h.sim.stats.requests > requests


async def test_p_during_a_poll_stops_the_next_one_being_scheduled() -> None:
    async with running_board() as h:
        h.sim.faults.latency = 0.2
        passes = h.app.passes
        await h.pilot.press("r")
        await h.pilot.press("p")
        await h.next_pass(passes)
        assert h.app.paused
        assert h.app.poll_timer is None
        assert "PAUSED" in h.status()


async def test_plus_and_minus_step_the_interval() -> None:
    async with running_board(interval=5) as h:
        await h.pilot.press("+")
        assert h.app.interval == 10
        assert h.shows_interval(10)
        assert h.app.poll_timer is not None  # rescheduled on the new interval
        await h.pilot.press("equals_sign")  # '=' is '+' without shift
        assert h.app.interval == 15
        await h.pilot.press("minus", "-")
        assert h.app.interval == 5
        await h.pilot.press("-", "-", "-")
        assert h.app.interval == INTERVALS[0] == 2
        assert h.shows_interval(2)
        for _ in range(len(INTERVALS) + 2):
            await h.pilot.press("+")
        assert h.app.interval == INTERVALS[-1]


# -- s, S, header clicks ------------------------------------------------------------------------


async def test_s_cycles_the_sort_column_and_S_reverses() -> None:
    async with running_board() as h:
        board = h.app.board
        assert board.sort_column == "state"
        seen = []
        for _ in SORT_COLUMNS:
            await h.pilot.press("s")
            seen.append(board.sort_column)
            assert f"sort: {board.sort_column} ▲" in h.line("view")
        assert seen == [*SORT_COLUMNS[1:], SORT_COLUMNS[0]]
        first = board.key_at(0)
        await h.pilot.press("S")
        assert board.reverse
        assert board.key_at(len(board) - 1) == first
        assert "sort: state ▼" in h.line("view")
        await h.pilot.press("S")
        assert not board.reverse
        assert board.key_at(0) == first


async def test_default_order_is_failed_processing_queued_unknown_published_then_label() -> None:
    async with running_board(advance=70) as h:
        board = h.app.board
        rank = {State.FAILED: 0, State.PROCESSING: 1, State.QUEUED: 2, State.UNKNOWN: 3}
        rows = [board.row_at(i) for i in range(len(board))]
        order = [(rank.get(r.state, 4), r.label.casefold()) for r in rows]
        assert order == sorted(order)
        assert rows[0].state is State.FAILED


def header_x(h: Harness, column: str) -> int:
    """The x offset (within the header widget) of the first letter of a column's title."""
    header = h.app.query_one(TableHeader)
    layout = h.table.column_layout
    x = header.styles.padding.left
    for col, width in zip(layout.columns, layout.widths, strict=True):
        if col.key == column:
            return x
        x += width + GAP
    raise AssertionError(f"column {column} not shown")


async def test_a_click_on_a_header_sorts_by_it_and_again_reverses() -> None:
    async with running_board() as h:
        board = h.app.board
        await h.pilot.click(TableHeader, offset=(header_x(h, "label") + 1, 0))
        assert board.sort_column == "label"
        assert not board.reverse
        labels = [board.row_at(i).label.casefold() for i in range(len(board))]
        assert labels == sorted(labels)
        await h.pilot.click(TableHeader, offset=(header_x(h, "label") + 1, 0))
        assert board.sort_column == "label"
        assert board.reverse
        await h.pilot.click(TableHeader, offset=(header_x(h, "publish") + 1, 0))
        assert board.sort_column == "publish"
        assert not board.reverse
        await h.pilot.click(TableHeader, offset=(header_x(h, "state") + 1, 0))
        assert board.sort_column == "state"
        await h.pilot.pause()
        assert "State ▲" in header_text(h)
        assert "sort: state ▲" in h.line("view")


def header_text(h: Harness) -> str:
    return "".join(s.text for s in h.app.query_one(TableHeader).render_line(0))


async def test_the_sort_columns_heading_shows_the_arrow_for_every_column() -> None:
    async with running_board() as h:
        missing = []
        shown = [c.key for c in h.table.column_layout.columns if c.key != "state"]
        assert len(shown) >= 5
        for column in shown:
            await h.pilot.click(TableHeader, offset=(header_x(h, column) + 1, 0))
            assert h.app.board.sort_column == column
            await h.pilot.pause()
            if "▲" not in header_text(h):
                missing.append(column)
        assert missing == []


# -- / and Esc -------------------------------------------------------------------------------


async def test_slash_filters_by_text_and_esc_clears() -> None:
    async with running_board() as h:
        board = h.app.board
        await h.pilot.press("slash")
        box = h.app.query_one("#filter", Input)
        assert box.display
        assert h.app.focused is box
        await h.pilot.press(*"TikTok")
        assert board.text_filter == "tiktok"
        expected = [r.key for r in board.rows.values() if "tiktok" in r.haystack]
        assert len(board) == len(expected) == 7
        assert {board.key_at(i) for i in range(len(board))} == set(expected)
        assert "text: 'tiktok'" in h.line("view")
        assert "7 shown" in h.line("view")
        await h.pilot.press("escape")
        assert board.text_filter == ""
        assert len(board) == 25
        assert not box.display
        assert h.app.focused is h.table


async def test_filter_matches_any_column_state_and_detail() -> None:
    async with running_board(advance=70) as h:
        board = h.app.board
        await h.pilot.press("slash")
        box = h.app.query_one("#filter", Input)

        async def shown_for(text: str) -> set[PostKey]:
            box.value = text  # as if typed: the box's Changed message filters
            await h.pilot.pause()
            return {board.key_at(i) for i in range(len(board))}

        failed = await shown_for("failed")  # the State column
        assert {board.rows[k].state for k in failed} == {State.FAILED}
        assert len(failed) == 2
        assert len(await shown_for("TH_PUB_55")) == 5  # the Publish ID column, any case
        assert await shown_for("access token") == {DOORBUSTER}  # the Detail column
        assert len(await shown_for("acc_facebook_community")) == 2  # the Account column
        assert len(await shown_for("  Gift guide ")) == 1  # the Label column, trimmed
        photos = await shown_for("photo")  # the Media column (and labels, URLs saying photo)
        assert photos == {
            r.key
            for r in board.rows.values()
            if r.post.media_type == "photo" or "photo" in f"{r.label} {r.detail}".casefold()
        }
        assert await shown_for("") == set(board.rows)


async def test_keys_typed_in_the_filter_box_are_text_not_commands() -> None:
    async with running_board() as h:
        board = h.app.board
        await h.pilot.press("slash", *"qsfprc?jkgG", "slash", "plus", "minus")
        assert h.app.is_running
        assert board.text_filter == "qsfprc?jkgg/+-"
        assert board.sort_column == "state"
        assert board.state_filter is None
        assert not h.app.paused
        assert h.app.interval == 60
        assert len(h.app.screen_stack) == 1
        assert len(board) == 0
        lines = h.table_lines()
        assert "no posts match" in lines[0]


async def test_enter_in_the_filter_box_keeps_the_filter_and_returns_to_the_table() -> None:
    async with running_board() as h:
        board = h.app.board
        await h.pilot.press("slash", *"threads", "enter")  # typed, then Enter
        assert board.text_filter == "threads"
        assert len(board) == 5
        assert h.app.focused is h.table
        assert not isinstance(h.app.screen, DetailScreen)
        assert h.app.query_one("#filter", Input).display  # still shows what filters
        # a refresh keeps the filter
        await h.refresh()
        assert len(board) == 5


# -- f ---------------------------------------------------------------------------------------


async def test_f_cycles_the_state_filter_through_all_six_values() -> None:
    async with running_board(advance=70) as h:
        board = h.app.board
        counts = sample_counts(h)
        seen = []
        for _ in STATE_FILTERS:
            await h.pilot.press("f")
            state = board.state_filter
            seen.append(state)
            if state is None:
                assert len(board) == 25
                assert "state:" not in h.line("view")
            else:
                assert len(board) == counts.get(state, 0)
                assert all(board.row_at(i).state is state for i in range(len(board)))
                assert f"state: {state.value}" in h.line("view")
        assert seen == [*STATE_FILTERS[1:], None]
        assert set(seen) == {None, *State}


# -- Enter, detail screen ----------------------------------------------------------------------


async def test_enter_opens_the_detail_screen_which_rechecks_the_post() -> None:
    async with running_board(advance=70) as h:
        singles = h.sim.stats.single_requests
        row = await h.cursor_to(0)
        assert row.key == DOORBUSTER
        await h.pilot.press("enter")
        assert isinstance(h.app.screen, DetailScreen)
        screen = h.app.screen
        assert screen.row.key == DOORBUSTER
        await h.until(lambda: screen.recheck_note.startswith("re-checked at"), "the re-check")
        assert h.sim.stats.single_requests == singles + 1
        assert screen.recheck_note.endswith(": failed")
        await h.pilot.pause()
        fields = rendered(screen.query_one("#detail-fields"))
        raw = rendered(screen.query_one("#detail-raw"))
        assert row.status is not None and row.status.error
        assert "✗ FAILED" in fields
        assert "Doorbuster unboxing" in fields
        assert squeezed(row.status.error) in squeezed(fields)  # the error in full
        assert f'"error": "{row.status.error}"' in raw  # the raw JSON of the last response
        assert '"publishId": "v_pub_7315"' in raw
        # r on the detail screen re-checks again
        await h.pilot.press("r")
        await h.until(lambda: h.sim.stats.single_requests == singles + 2, "a second re-check")
        await h.until(lambda: screen.recheck_note.startswith("re-checked at"), "the re-check")
        await h.pilot.press("escape")
        assert not isinstance(h.app.screen, DetailScreen)


async def test_detail_screen_shows_every_field_and_a_clickable_url() -> None:
    async with running_board(advance=70) as h:
        index = len(h.app.board) - 1  # published rows sort last
        await h.pilot.press("G")
        row = h.table.selected
        assert row is not None and row.state is State.PUBLISHED
        assert h.table.cursor == index
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        await h.pilot.pause()
        text = rendered(screen.query_one("#detail-fields"))
        for name in ("State", "Label", "Account", "Publish ID", "Media type", "In state"):
            assert name in text
        for name in ("Checked", "Raw status", "Public URL", "Error"):
            assert name in text
        assert row.publish in text
        assert "✓ PUBLISHED" in text
        assert row.status is not None and row.status.public_url
        links = {
            seg.style.link
            for strip in screen.query_one("#detail-fields").render_lines(
                screen.query_one("#detail-fields").region.reset_offset
            )
            for seg in strip
            if seg.style is not None and seg.style.link
        }
        assert links == {row.status.public_url}


async def test_detail_recheck_failure_is_reported_on_the_screen() -> None:
    async with running_board(advance=70) as h:
        h.sim.faults.down = True
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        await h.until(lambda: "failed:" in screen.recheck_note, "the failed re-check")
        assert screen.recheck_note.startswith("re-check at")
        assert h.app.board.row_at(0).state is State.FAILED  # nothing lost


async def test_a_slow_pass_does_not_undo_a_recheck_asked_after_it() -> None:
    """The pass reads the API before the post fails, the re-check after; the pass answers
    last. The board must keep the re-check's FAILED, not flip back for an interval."""
    async with running_board(advance=0) as h:
        app = h.app
        assert app.board.rows[DOORBUSTER].state is not State.FAILED
        client = app.engine.client
        assert client is not None
        original = client.check_posts
        gate = asyncio.Event()
        answered = asyncio.Event()

        async def slow_pass(posts: Sequence[WatchedPost]) -> PassResult:
            result = await original(posts)  # the API's answer before the failure...
            answered.set()
            await gate.wait()  # ... delivered only after the re-check's
            return result

        client.check_posts = slow_pass  # type: ignore[method-assign]
        passes = app.passes
        app.start_poll(everything=True)
        await h.until(answered.is_set, "the pass to have its (old) answer")
        h.sim.advance(40)  # the post fails now
        board = app.board
        await h.cursor_to(next(i for i in range(len(board)) if board.row_at(i).key == DOORBUSTER))
        await h.pilot.press("enter")  # the detail screen re-checks the selected post
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.row.key == DOORBUSTER
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        gate.set()
        await h.next_pass(passes)
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        assert "FAILED" in rendered(screen.query_one("#detail-fields"))
        client.check_posts = original  # type: ignore[method-assign]
        await h.pilot.press("escape")
        await h.refresh()  # the next pass is newer than the re-check, and agrees
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        assert app.engine.freshness.tracked == 0


async def test_a_recheck_that_finds_nothing_does_not_hide_a_slow_passs_real_answer() -> None:
    async with running_board(advance=0) as h:
        app = h.app
        client = app.engine.client
        assert client is not None
        original = client.check_posts
        gate = asyncio.Event()

        async def slow_pass(posts: Sequence[WatchedPost]) -> PassResult:
            h.sim.advance(40)  # the post fails before this pass reads the API...
            result = await original(posts)
            await gate.wait()  # ... and the answer arrives after the re-check's
            return result

        async def not_found(post: WatchedPost) -> PostStatus:
            return PostStatus(post.key, State.UNKNOWN, None, None, "HTTP 404: not found", 1.0)

        client.check_posts = slow_pass  # type: ignore[method-assign]
        client.check_one = not_found  # type: ignore[method-assign]
        passes = app.passes
        app.start_poll(everything=True)
        recheck = asyncio.ensure_future(app.engine.recheck(app.board.rows[DOORBUSTER].post))
        assert not recheck.done()
        await h.until(
            lambda: app.engine.freshness.tracked == 1 and not app.engine.freshness._rechecks,
            "the re-check to have answered while the pass is held",
        )
        gate.set()
        await h.next_pass(passes)
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        assert not app.board.rows[DOORBUSTER].unanswered


# -- c ---------------------------------------------------------------------------------------


async def test_c_copies_the_error_url_or_publish_id_of_the_selected_post() -> None:
    # sim time 30: one failed, two queued, fourteen processing, eight published
    async with running_board(advance=30) as h:
        row = await h.cursor_to(h.index_of_state(State.FAILED))
        await h.pilot.press("c")
        assert row.status is not None and row.status.error
        assert h.app.clipboard == row.status.error
        assert f"copied error of {row.publish}" in h.notes()

        row = await h.cursor_to(h.index_of_state(State.PUBLISHED))
        await h.pilot.press("c")
        assert row.status is not None and row.status.public_url
        assert h.app.clipboard == row.status.public_url
        assert h.app.clipboard.startswith("https://")
        assert f"copied URL of {row.publish}" in h.notes()

        for state in (State.QUEUED, State.PROCESSING):
            row = await h.cursor_to(h.index_of_state(state))
            await h.pilot.press("c")
            assert h.app.clipboard == row.post.publish_id
            assert f"copied publish ID of {row.publish}" in h.notes()


async def test_detail_screen_copy_keys_copy_the_shown_post() -> None:
    async with running_board(advance=70) as h:
        row = await h.cursor_to(h.index_of_state(State.PUBLISHED))
        await h.pilot.press("enter")
        assert isinstance(h.app.screen, DetailScreen)
        await h.pilot.press("i")
        assert h.app.clipboard == row.post.publish_id
        await h.pilot.press("u")
        assert row.status is not None
        assert h.app.clipboard == row.status.public_url
        await h.pilot.press("e")
        assert "no error to copy" in h.notes()
        await h.pilot.press("c")
        assert h.app.clipboard == row.status.public_url


async def test_c_on_the_detail_screen_copies_the_shown_post_after_a_refresh() -> None:
    async with running_board() as h:
        # nothing has failed yet: the top row is the first processing post
        shown = h.table.selected
        assert shown is not None and shown.state is State.PROCESSING
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.row.key == shown.key
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        # a post fails; the board's timer refreshes while the detail screen is open
        h.sim.advance(40)
        passes = h.app.passes
        h.app.start_poll()
        await h.next_pass(passes)
        assert h.app.board.key_at(0) == DOORBUSTER
        assert h.app.screen is screen
        await h.pilot.press("c")
        assert h.app.clipboard == shown.post.publish_id  # actual: Doorbuster's error


# -- j, k, g, G --------------------------------------------------------------------------------


async def test_j_k_g_G_move_the_cursor() -> None:
    async with running_board() as h:
        table, board = h.table, h.app.board
        assert table.cursor == 0
        await h.pilot.press("j", "j", "j")
        assert table.cursor == 3
        assert table.cursor_key == board.key_at(3)
        await h.pilot.press("k")
        assert table.cursor == 2
        assert table.selected is board.row_at(2)
        await h.pilot.press("G")
        assert table.cursor == len(board) - 1
        assert table.cursor_key == board.key_at(len(board) - 1)
        await h.pilot.press("j")  # clamped at the bottom
        assert table.cursor == len(board) - 1
        await h.pilot.press("g")
        assert table.cursor == 0
        await h.pilot.press("k")  # clamped at the top
        assert table.cursor == 0
        await h.pilot.press("down", "down", "up")
        assert table.cursor == 1
        await h.pilot.press("end")
        assert table.cursor == len(board) - 1
        await h.pilot.press("home")
        assert table.cursor == 0


# -- ?, Ctrl+P, footer -------------------------------------------------------------------------


async def test_question_mark_opens_the_help_screen() -> None:
    async with running_board() as h:
        await h.pilot.press("question_mark")
        assert isinstance(h.app.screen, HelpScreen)
        await h.pilot.pause()
        body = h.app.screen.query_one("#help-body Static", Static)
        lines = [
            "".join(s.text for s in strip) for strip in body.render_lines(body.region.reset_offset)
        ]
        text = "\n".join(lines)
        for key in KEYS:
            assert key.help in text
        for words in ("Move down", "Move up", "First row", "Last row", "Ctrl+P"):
            assert words in text
        await h.pilot.press("question_mark")
        assert not isinstance(h.app.screen, HelpScreen)
        await h.pilot.press("question_mark", "escape")
        assert not isinstance(h.app.screen, HelpScreen)


async def test_command_palette_lists_the_boards_commands_and_runs_them() -> None:
    async with running_board() as h:
        titles = [c.title for c in h.app.get_system_commands(h.app.screen)]
        for key in KEYS:
            if key.action not in ("quit", "help"):
                assert key.label in titles
        assert "Quit" in titles
        await h.pilot.press("ctrl+p")
        await h.until(lambda: isinstance(h.app.screen, CommandPalette), "the palette")
        await h.pilot.press(*"paus")
        await h.pilot.pause(0.1)  # the palette searches in the background
        await h.pilot.press("enter")
        await h.until(lambda: h.app.paused, "pause through the palette")
        assert "PAUSED" in h.status()


async def test_the_footer_shows_the_keys() -> None:
    async with running_board() as h:
        footer = screen_text(h).splitlines()[-1]
        for key in KEYS:
            if key.show:
                assert key.label in footer


@pytest.mark.parametrize("width", [60, 80, 100])
async def test_a_narrow_footer_shows_whole_keys_in_order_and_offers_help(width: int) -> None:
    async with running_board(size=(width, 24)) as h:
        footer = screen_text(h).splitlines()[-1].rstrip()
        assert "? Help" in footer
        shown = [k for k in KEYS if k.show and f" {k.label}" in f" {footer}"]
        assert shown == [k for k in KEYS if k.show][: len(shown)]  # the most used, whole
        assert footer.endswith(shown[-1].label)  # no key cut in half
        assert len(shown) < len([k for k in KEYS if k.show])
        # wider again: every key comes back
        await h.pilot.resize_terminal(160, 24)
        await h.until(
            lambda: all(k.label in screen_text(h).splitlines()[-1] for k in KEYS if k.show),
            "every key in a wide footer",
        )


# -- behaviour: the cursor ---------------------------------------------------------------------


async def test_cursor_stays_on_its_post_across_refreshes_sorts_and_filters() -> None:
    async with running_board() as h:
        table, board = h.table, h.app.board
        # Doorbuster is queued at first, far down the board
        start = board.index_of(DOORBUSTER)
        assert start is not None and start > 5
        await h.cursor_to(start)
        # a refresh where many posts changed state and moved, Doorbuster to the top (failed)
        h.sim.advance(40)
        await h.refresh()
        assert h.truth_mismatches() == []
        assert board.rows[DOORBUSTER].state is State.FAILED
        assert table.cursor_key == DOORBUSTER
        assert table.cursor == 0
        # every sort column, both directions
        for _ in SORT_COLUMNS:
            await h.pilot.press("s")
            assert board.key_at(table.cursor) == DOORBUSTER
            await h.pilot.press("S")
            assert board.key_at(table.cursor) == DOORBUSTER
        await h.pilot.press("S")
        # a text filter that keeps the post
        await h.filter_by("tiktok")
        assert len(board) == 7
        assert board.key_at(table.cursor) == DOORBUSTER
        await h.pilot.press("escape")
        assert board.key_at(table.cursor) == DOORBUSTER
        # the state filter on its state
        await h.pilot.press("f")
        assert board.state_filter is State.FAILED
        assert board.key_at(table.cursor) == DOORBUSTER
        # and a refresh under the filter
        await h.refresh()
        assert board.key_at(table.cursor) == DOORBUSTER
        # the highlighted line is the one drawn with the cursor
        line = h.table_lines()[table.cursor - table.scroll_offset.y]
        assert "Doorbuster unboxing" in line


async def test_cursor_comes_back_to_its_post_when_f_reaches_its_state() -> None:
    async with running_board(advance=70) as h:
        table, board = h.table, h.app.board
        row = await h.cursor_to(h.index_of_state(State.PROCESSING) + 2)
        assert row.state is State.PROCESSING
        await h.pilot.press("f")  # failed: hides it
        assert [board.state_filter] == [State.FAILED]
        await h.pilot.press("f")  # processing: shows it again
        assert [board.state_filter] == [State.PROCESSING]
        assert board.key_at(table.cursor) == row.key


async def test_cursor_on_the_top_row_follows_the_worst_news_until_moved() -> None:
    async with running_board() as h:
        assert h.table.cursor_key is None
        h.sim.advance(40)
        await h.refresh()
        assert h.table.cursor == 0
        selected = h.table.selected
        assert selected is not None and selected.key == DOORBUSTER


async def test_enter_and_c_do_nothing_when_the_filter_hides_every_row() -> None:
    async with running_board(advance=70) as h:
        await h.cursor_to(3)
        await h.filter_by("no such post")
        assert len(h.app.board) == 0
        clipboard = h.app.clipboard
        await h.pilot.press("c")
        await h.pilot.press("enter")
        assert h.app.clipboard == clipboard
        assert not isinstance(h.app.screen, DetailScreen)


# -- behaviour: failures, bell, title -----------------------------------------------------------


async def test_a_post_turning_failed_toasts_rings_once_and_titles() -> None:
    async with running_board() as h:
        assert h.app.title == "wahdx-tui: no failures"
        assert h.bells == []
        h.app.clear_notifications()
        h.sim.advance(40)
        await h.refresh()
        assert h.app.board.rows[DOORBUSTER].state is State.FAILED
        assert h.bells == [1]
        assert "✗ FAILED · acc_tiktok_main" in h.toast_titles()
        error = h.app.board.rows[DOORBUSTER].status.error  # type: ignore[union-attr]
        assert f"Doorbuster unboxing: {error}" in h.notes()
        assert h.app.title == "wahdx-tui: 1 failed"
        assert "✗ 1 FAILED" in h.line("counts")
        # a refresh where it is still failed: no new toast, no new bell
        h.app.clear_notifications()
        await h.refresh()
        assert h.bells == [1]
        assert h.notes() == []
        # a second post fails
        h.sim.advance(30)
        await h.refresh()
        assert h.bells == [1, 1]
        assert h.app.title == "wahdx-tui: 2 failed"


async def test_no_bell_with_bell_off_but_still_a_toast() -> None:
    async with running_board(bell=False) as h:
        h.app.clear_notifications()
        h.sim.advance(40)
        await h.refresh()
        assert h.bells == []
        assert any(n.startswith("Doorbuster unboxing:") for n in h.notes())
        assert h.app.title == "wahdx-tui: 1 failed"


async def test_failures_found_by_the_first_pass_ring_one_bell() -> None:
    async with running_board(advance=70) as h:
        assert h.bells == [1]
        assert h.app.title == "wahdx-tui: 2 failed"
        assert sum(1 for t in h.toast_titles() if t and t.startswith("✗ FAILED")) == 2


async def test_failed_rows_are_styled_as_whole_error_rows() -> None:
    async with running_board(advance=70) as h:
        await h.pilot.press("j")  # cursor off the first failed row
        strip = h.table.render_line(0)
        failed = h.table.get_component_rich_style("board-table--failed")
        colours = {seg.style.bgcolor if seg.style else None for seg in strip}
        assert colours == {(h.table.rich_style + failed).bgcolor}
        text = "".join(s.text for s in strip)
        assert text.startswith("✗ FAILED")


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def filtered_colours(
    h: Harness, strip: Strip
) -> list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]:
    """(text, foreground, background) of each segment as the terminal gets it: after the
    app's line filters (with NO_COLOR, Textual's Monochrome filter turns colours to greys)."""
    for line_filter in h.app.get_line_filters():
        strip = strip.apply_filter(line_filter, Color(0, 0, 0))
    out = []
    for seg in strip:
        style = seg.style
        if not seg.text.strip():
            continue  # blank cells: only their background shows
        assert style is not None and style.color is not None and style.bgcolor is not None
        fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
        if style.reverse:
            fg, bg = bg, fg
        out.append((seg.text, (fg.red, fg.green, fg.blue), (bg.red, bg.green, bg.blue)))
    return out


async def test_failed_rows_stand_out_with_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # Textual reads (and removes) it when the App is built
    async with running_board(advance=70) as h:
        assert h.app.no_color
        await h.pilot.press("G")  # cursor on a published row, away from the failed ones
        rows = [filtered_colours(h, h.table.render_line(y)) for y in range(3)]
        failed_bg = {bg for _, _, bg in rows[0]}
        processing_bg = {bg for _, _, bg in rows[2]}
        assert rows[0][0][0].startswith("✗ FAILED")
        assert failed_bg != processing_bg  # the whole row is highlighted, in grey
        for text, fg, bg in rows[0] + rows[1]:
            assert contrast(fg, bg) >= 4.5, text


async def test_the_failed_count_is_legible_with_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with running_board(advance=70) as h:
        counts = h.app.query_one("#counts")
        strip = counts.render_lines(counts.region.reset_offset)[0]
        pieces = {text.strip(): (fg, bg) for text, fg, bg in filtered_colours(h, strip)}
        fg, bg = pieces["✗ 2 FAILED"]
        assert contrast(fg, bg) >= 4.5  # actual: about 1.5


# -- behaviour: failed polls and recovery ------------------------------------------------------


def states_of(h: Harness) -> dict[PostKey, State]:
    return {k: r.state for k, r in h.app.board.rows.items()}


@pytest.mark.parametrize("outage", ["down", "stopped"])
async def test_a_failed_poll_keeps_the_board_marks_it_stale_and_recovers(outage: str) -> None:
    async with running_board(advance=40) as h:
        before = states_of(h)
        shown = [h.app.board.key_at(i) for i in range(len(h.app.board))]
        if outage == "down":
            h.sim.faults.down = True
        else:
            h.sim.stop()
        await h.refresh()
        # nothing blanked: same rows, same states, same order
        assert states_of(h) == before
        assert [h.app.board.key_at(i) for i in range(len(h.app.board))] == shown
        assert all(r.status is not None for r in h.app.board.rows.values())
        assert "STALE" in h.status()
        assert "DOWN since" in h.status()
        assert h.app.title.endswith("(stale)")
        banner = h.banner()
        assert banner is not None and banner.startswith("⚠")
        assert "last known" in banner
        lines = [line for line in h.table_lines() if line.strip()]
        assert lines and all("⚠ <1m" in line for line in lines)  # stale in words, not only colour
        # the API moves on while down; the next scheduled pass catches up by itself
        h.sim.advance(40)
        if outage == "down":
            h.sim.faults.down = False
        else:
            h.sim.restart()
        assert h.app.poll_timer is not None  # a retry is scheduled
        passes = h.app.passes
        h.app.fire_timer()
        await h.next_pass(passes)
        assert h.truth_mismatches() == []
        assert "STALE" not in h.status()
        assert "API ok" in h.status()
        assert h.banner() is None
        assert not h.table.stale
        assert not any("⚠" in line for line in h.table_lines())
        assert not h.app.title.endswith("(stale)")


async def test_only_the_rows_an_answer_left_out_are_marked_stale() -> None:
    async with running_board(advance=40) as h:
        before = states_of(h)
        h.sim.faults.missing_rate = 0.4
        await h.refresh()
        assert states_of(h) == before  # left out is not UNKNOWN: the last known state stays
        banner = h.banner()
        assert banner is not None and "left out" in banner and "of 25 posts" in banner
        lines = [line for line in h.table_lines() if line.strip()]
        marked = [line for line in lines if "⚠ <1m" in line]
        assert 0 < len(marked) < len(lines)
        h.sim.faults.missing_rate = 0.0
        await h.refresh()
        assert not any("⚠ <1m" in line for line in h.table_lines())
        assert h.banner() is None


async def test_a_bug_while_taking_in_an_answer_does_not_stop_the_refreshes() -> None:
    async with running_board() as h:
        board = h.app.board
        original = board.absorb_unchanged
        calls: list[int] = []

        def broken_once(*args: object, **kwargs: object) -> object:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")
            return original(*args, **kwargs)  # type: ignore[arg-type]

        board.absorb_unchanged = broken_once  # type: ignore[method-assign]
        await h.pilot.press("r")
        await h.until(
            lambda: h.app.engine.failed_passes == 1 and not h.app.polling, "the failed pass"
        )
        banner = h.banner()
        assert banner is not None and "internal error: RuntimeError: boom" in banner
        assert h.app.poll_timer is not None  # the next refresh is scheduled all the same
        await h.refresh()
        assert h.banner() is None
        assert h.truth_mismatches() == []


async def test_the_board_recovers_from_an_outage_on_its_own_timer() -> None:
    async with running_board(interval=2) as h:
        h.sim.faults.down = True
        await h.refresh()
        assert "STALE" in h.status()
        h.sim.faults.down = False
        passes = h.app.passes
        # no key pressed: the 2 s timer brings the next pass
        await h.until(lambda: h.app.passes > passes, "the timer's pass", tries=1000)
        await h.until(lambda: "STALE" not in h.status(), "fresh data")
        assert h.banner() is None
        assert h.truth_mismatches() == []


# -- behaviour: hot reload ---------------------------------------------------------------------

WATCHLIST_HEAD = "posts:\n"


def entry(account: str, publish: str, label: str) -> str:
    return f"  - {{accountId: {account}, publishId: {publish}, label: {label}}}\n"


ENTRIES = [
    ("acc_tiktok_main", "v_pub_7301", "Black Friday teaser"),
    ("acc_tiktok_main", "v_pub_7302", "Black Friday countdown"),
    ("acc_tiktok_main", "v_pub_7315", "Doorbuster unboxing"),
    ("acc_threads_news", "th_pub_5501", "Store hours"),
    ("acc_threads_news", "th_pub_5502", "Doors open at 7am"),
    ("acc_facebook_store", "fb_pub_9001", "Event announcement"),
]
EXTRA = [
    ("acc_instagram_brand", "ig_pub_3102", "Lookbook"),
    ("acc_facebook_store", "fb_pub_9020", "Customer reviews"),
]


def write(path: Path, text: str) -> None:
    """Write the file and make sure its stamp (mtime, size) changes."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 1_000_000_000, old + 1_000_000_000))


def watchlist_text(entries: Sequence[tuple[str, str, str]]) -> str:
    return WATCHLIST_HEAD + "".join(entry(*e) for e in entries)


async def test_hot_reload_adds_and_removes_posts_keeping_sort_filter_and_cursor(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    all_posts = parse_watchlist(watchlist_text(ENTRIES + EXTRA)).posts
    async with running_board(
        watchlist=load_watchlist(path), sim_posts=all_posts, watch_file=True, advance=70
    ) as h:
        board, table = h.app.board, h.table
        await h.pilot.press("s")  # sort by label
        await h.filter_by("acc_")  # a text filter matching every post
        row = await h.cursor_to(2)
        key = row.key
        h.app.clear_notifications()
        # an unchanged file is not reloaded
        h.app.check_watchlist_file()
        await h.pilot.pause()
        assert not any("reloaded" in n for n in h.notes())
        # remove one post (not the selected one), add two
        removed = next(e for e in ENTRIES if (e[0], e[1]) != key)
        kept = [e for e in ENTRIES if e is not removed]
        write(path, watchlist_text(kept + EXTRA))
        passes = h.app.passes
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +2 / -1 posts" in h.notes(), "the reload")
        assert len(board.rows) == len(ENTRIES) - 1 + 2
        assert (removed[0], removed[1]) not in board.rows
        assert board.sort_column == "label"
        assert board.text_filter == "acc_"
        assert table.cursor_key == key
        assert board.key_at(table.cursor) == key
        # the added posts are checked at once
        await h.next_pass(passes)
        assert all(r.status is not None for r in board.rows.values())
        assert h.truth_mismatches() == []
        assert board.sort_column == "label"
        assert board.key_at(table.cursor) == key


async def test_hot_reload_of_an_invalid_edit_keeps_the_last_good_list(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True, advance=70) as h:
        before = states_of(h)
        # line 4 is broken: an entry without its publishId
        bad = watchlist_text(ENTRIES[:2]) + "  - {accountId: acc_tiktok_main, label: x}\n"
        write(path, bad)
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() is not None, "the banner")
        banner = h.banner()
        assert banner is not None
        assert "watchlist not reloaded, keeping the last good list" in banner
        assert f"{path}:4" in banner
        assert states_of(h) == before
        # a refresh does not hide the watchlist's banner
        await h.refresh()
        assert h.banner() == banner
        # YAML that does not parse at all
        write(path, watchlist_text(ENTRIES) + "  - {accountId: [unclosed\n")
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() != banner, "the new error")
        assert f"{path}:" in (h.banner() or "")
        assert states_of(h) == before
        # fixing the file reloads it and clears the banner
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +0 / -0 posts" in h.notes(), "the reload")
        assert h.banner() is None


async def test_two_quick_saves_apply_the_newer_list_even_when_the_older_read_ends_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wahdx_tui.core.engine as engine_module

    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    real_load = engine_module.load_watchlist
    release = threading.Event()
    loads: list[int] = []
    ended: list[int] = []

    def slow_first_load(p: str) -> Watchlist:
        loads.append(1)
        mine = len(loads)
        result = real_load(p)
        if mine == 1:
            release.wait(10)  # the first read is held until the second has been applied
        ended.append(mine)
        return result

    monkeypatch.setattr(engine_module, "load_watchlist", slow_first_load)
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES[:3]))  # first save: 3 posts
        h.app.check_watchlist_file()
        await h.until(lambda: len(loads) == 1, "the first read")
        write(path, watchlist_text(ENTRIES + EXTRA))  # second save: all posts
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +2 / -0 posts" in h.notes(), "the second")
        release.set()
        await h.until(lambda: ended == [2, 1], "the first read to end")
        await h.pilot.pause()
        await h.pilot.pause()
        assert len(h.app.board.rows) == len(ENTRIES) + len(EXTRA)
        assert [n for n in h.notes() if "reloaded" in n] == ["watchlist reloaded: +2 / -0 posts"]


async def test_an_edited_interval_in_the_watchlist_applies_at_once(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        assert h.shows_interval(60)
        write(path, "settings: {interval: 30}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("refresh every 30s" in n for n in h.notes()), "the reload")
        assert h.app.interval == 30
        assert h.shows_interval(30)
        assert h.app.next_at is not None and h.app.next_at - time.time() <= 30
        # + changes it on the board; an edit that leaves the file's interval alone keeps that
        await h.pilot.press("plus")
        assert h.app.interval == 60
        h.app.clear_notifications()
        write(path, "settings: {interval: 30}\n" + watchlist_text(ENTRIES[:4]))
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the second reload")
        assert h.app.interval == 60
        assert h.notes() == [f"watchlist reloaded: +0 / -{len(ENTRIES) - 4} posts"]


async def test_an_edited_final_every_applies_and_a_removed_setting_keeps_its_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        poller = h.app.engine.poller
        assert poller is not None
        write(path, "settings: {interval: 30, final_every: 3}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("every 3 passes" in n for n in h.notes()), "the reload")
        assert poller.final_every == 3 and h.app.interval == 30
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES[:4]))  # the settings taken out again
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the second reload")
        assert poller.final_every == 3 and h.app.interval == 30


async def test_an_interval_given_on_the_command_line_wins_over_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        h.app.engine.fixed_settings = frozenset({"interval"})
        write(path, "settings: {interval: 30, concurrency: 2}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the reload")
        assert h.app.interval == 60
        assert any("concurrency take effect at the next start" in n for n in h.notes())


async def test_the_watchlist_error_outlives_an_api_outage(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        write(path, watchlist_text(ENTRIES[:2]) + "  - {accountId: acc_tiktok_main}\n")
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() is not None, "the watchlist error")
        h.sim.faults.down = True
        await h.refresh()
        h.sim.faults.down = False
        await h.refresh()
        assert "STALE" not in h.status()
        banner = h.banner()
        assert banner is not None and "watchlist not reloaded" in banner  # actual: no banner


# -- behaviour: hostile strings ----------------------------------------------------------------


HOSTILE_ACCOUNT = "acc_tiktok_hostile"


def hostile_posts() -> list[WatchedPost]:
    """One post for each of the first nine hostile payload indexes, each ending failed or
    published (the simulator wraps its error or URL in payloads idx and idx + 1, and for
    idx % 3 == 0 also appends a payload to its status word)."""
    chosen: dict[int, WatchedPost] = {}
    for i in range(20_000):
        pid = f"h{i:05d}"
        idx = hostile_index(HOSTILE_ACCOUNT, pid)
        if idx >= 9 or idx in chosen:
            continue
        tl = timeline_for(SEED, (HOSTILE_ACCOUNT, pid), "video")
        if tl.outcome not in (State.FAILED, State.PUBLISHED):
            continue
        chosen[idx] = WatchedPost(HOSTILE_ACCOUNT, pid, "video", f"payload {idx}")
        if len(chosen) == 9:
            break
    assert len(chosen) == 9
    return [chosen[i] for i in sorted(chosen)]


HOSTILE_LABELS = (
    "[b red]markup[/]",
    "[link=https://e.x/]x",
    "\u202eevil\u202c bidi label",
    "zero\u200bwidth\ufeff label",
)


def hostile_watchlist(labels: Sequence[str] = HOSTILE_LABELS) -> Watchlist:
    lines = ["posts:\n"]
    for post in hostile_posts():
        lines.append(entry(post.account_id, post.publish_id, post.label))
    for i, label in enumerate(labels):
        quoted = label.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        lines.append(
            f'  - {{accountId: acc_tiktok_main, publishId: "lbl{i}", label: "{quoted}"}}\n'
        )
    return parse_watchlist("".join(lines))


def assert_inert(text: str) -> None:
    bad = [c for c in text if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F]
    assert not bad, f"control characters reached the screen: {bad!r} in {text!r}"
    for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff":
        assert c not in text, f"invisible/bidi character {c!r} reached the screen"


def screen_text(h: Harness) -> str:
    """The whole screen as text, one line per screen row."""
    strips = h.app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def test_hostile_strings_are_shown_as_plain_inert_text() -> None:
    wl = hostile_watchlist()
    async with running_board(watchlist=wl, hostile=True, advance=1000) as h:
        board = h.app.board
        await h.pilot.press("s")  # by label
        await h.pilot.pause()
        # every drawn line: no escape or control character, no hyperlink, no control segment
        lines = h.table_lines()
        for y in range(h.table.size.height):
            for seg in h.table.render_line(y):
                assert seg.control is None
                assert seg.style is None or seg.style.link is None
            assert_inert(lines[y])
        # what the API sent is shown cleaned, as plain text
        for post in hostile_posts():
            row = board.rows[post.key]
            idx = hostile_index(*post.key)
            tl = timeline_for(SEED, post.key, "video")
            assert_inert(row.detail)
            if idx % 3 == 0:  # the status word itself carries a payload: not a known state
                assert row.state is State.UNKNOWN
                assert row.detail.startswith("unrecognised status")
            else:
                assert row.state is tl.outcome
                text = tl.error if tl.outcome is State.FAILED else tl.public_url
                assert row.detail == clean(hostile_text(text or "", idx), 500)
        one = next(ln for ln in lines if "payload 1 " in ln)
        assert "[link=https://evil.example/]" in one
        for post in hostile_posts():
            detail = board.rows[post.key].detail
            assert "pwned" not in detail  # an OSC title sequence is removed whole
            assert "cm0gLXJmIH4K" not in detail  # and so is an OSC 52 clipboard write
            assert "evil.example/\\innocent" not in detail  # and an OSC 8 link
        # labels from the watchlist: markup shown as text, bidi and zero-width removed
        shown = screen_text(h)
        assert "[b red]markup[/]" in shown
        assert "[link=https://e.x/]x" in shown
        assert "bidi label" in shown
        assert "width" in shown
        assert_inert(shown.replace("\n", " "))
        # the toasts of the failures are plain text too
        assert len(h.app._notifications) > 0
        for note in h.app._notifications:
            assert_inert(note.message)
            assert_inert(note.title)
        assert h.app.title == f"wahdx-tui: {board.counts()[State.FAILED]} failed"


async def test_hostile_texts_on_the_detail_screen_are_inert() -> None:
    wl = hostile_watchlist()
    async with running_board(watchlist=wl, hostile=True, advance=1000) as h:
        board = h.app.board
        # the posts whose error or URL carries payloads, and one with a markup label
        keys = [p.key for p in hostile_posts() if hostile_index(*p.key) in (1, 2, 5)] + [
            ("acc_tiktok_main", "lbl0")
        ]
        for key in keys:
            index = board.index_of(key)
            assert index is not None
            await h.cursor_to(index)
            await h.pilot.press("enter")
            screen = h.app.screen
            assert isinstance(screen, DetailScreen)
            await h.until(functools.partial(rechecked, screen), "the re-check")
            await h.pilot.pause()
            text = []
            for widget_id in ("#detail-fields", "#detail-raw", "#detail-recheck"):
                widget = screen.query_one(widget_id)
                for strip in widget.render_lines(widget.region.reset_offset):
                    for seg in strip:
                        assert seg.control is None
                        assert seg.style is None or seg.style.link is None
                    line = "".join(seg.text for seg in strip)
                    assert_inert(line)
                    text.append(line)
            if key[1] == "lbl0":
                assert "[b red]markup[/]" in "\n".join(text)
            await h.pilot.press("c")
            assert_inert(h.app.clipboard)
            await h.pilot.press("escape")


async def test_escape_sequences_in_watchlist_labels_are_removed_whole() -> None:
    wl = hostile_watchlist(["\x1b[31mred label", "\x1b]0;pwned\x07title label"])
    async with running_board(watchlist=wl) as h:
        labels = {r.label for r in h.app.board.rows.values()}
        assert_inert(" ".join(labels))
        assert "red label" in labels
        assert "title label" in labels


# -- behaviour: 1,000 posts --------------------------------------------------------------------

BIG_ACCOUNTS = ("acc_tiktok_a", "acc_instagram_b", "acc_threads_c", "acc_facebook_d")


def big_watchlist(n: int = 1000) -> Watchlist:
    lines = ["posts:\n"]
    for i in range(n):
        account = BIG_ACCOUNTS[i % len(BIG_ACCOUNTS)]
        lines.append(entry(account, f"p{i:04d}", f"Post {i:04d}"))
    return parse_watchlist("".join(lines), "big.yaml")


def next_lone_transition(posts: Sequence[WatchedPost], after: float) -> tuple[PostKey, float]:
    """The next post to change state after sim time `after`, and a time just past it, such
    that no other post changes in between."""
    times: list[tuple[float, PostKey]] = []
    for post in posts:
        tl = timeline_for(SEED, post.key, post.media_type)
        start = -head_start_for(SEED, post.key)
        if tl.outcome is not State.QUEUED:
            times.append((start + tl.queued_for, post.key))
        if tl.outcome not in (State.QUEUED, State.PROCESSING):
            times.append((start + tl.queued_for + tl.processing_for, post.key))
    times = sorted(t for t in times if t[0] > after + 0.01)
    for (t1, key), (t2, _) in itertools.pairwise(times):
        if t2 - t1 > 0.02:
            return key, t1 + 0.01
    raise AssertionError("no lone transition")


async def test_a_thousand_posts_stay_usable_and_one_change_redraws_one_line() -> None:
    wl = big_watchlist()
    async with running_board(watchlist=wl, tick=False) as h:
        board, table = h.app.board, h.table
        # ages shown are coarse (minutes), but a minute boundary passing mid-test would
        # legitimately redraw lines: hold the table's clock still while lines are counted
        frozen = time.time()
        table.now = lambda: frozen
        assert len(board) == 1000
        assert all(r.status is not None for r in board.rows.values())
        assert h.truth_mismatches() == []
        # navigation over the whole board
        await h.pilot.press("G")
        assert table.cursor == 999
        assert table.scroll_offset.y > 0
        await h.pilot.press("g")
        assert table.cursor == 0
        # sort by publish ID (a state change does not move rows) and put the cursor on the
        # one post that will change next
        for _ in range(3):
            await h.pilot.press("s")
        assert board.sort_column == "publish"
        key, when = next_lone_transition(wl.posts, h.sim.sim_now())
        table.move_cursor(board.index_of(key) or 0)
        assert table.cursor_key == key
        await h.pilot.pause()
        await h.pilot.pause()
        # a refresh where nothing changed redraws nothing
        base = table.lines_refreshed
        await h.refresh()
        await h.pilot.pause()
        assert table.lines_refreshed == base
        old_state = board.rows[key].state
        h.sim.advance(when - h.sim.sim_now())
        assert h.sim.truth(key) is not old_state
        await h.refresh()
        assert board.rows[key].state is h.sim.truth(key)
        assert table.lines_refreshed == base + 1
        assert h.truth_mismatches() == []
        assert board.key_at(table.cursor) == key
        text = "".join(s.text for s in table.render_line(table.cursor - table.scroll_offset.y))
        assert key[1] in text


async def test_a_thousand_posts_filter_and_state_filter() -> None:
    async with running_board(watchlist=big_watchlist(), advance=1000) as h:
        board = h.app.board
        await h.filter_by("post 09")
        assert len(board) == 100
        await h.pilot.press("escape", "f")
        assert board.state_filter is State.FAILED
        assert len(board) == sum(1 for r in board.rows.values() if r.state is State.FAILED) > 0


# -- behaviour: narrow terminals -------------------------------------------------------------------


async def test_a_resize_to_80x24_drops_low_value_columns_and_keeps_the_header_in_step() -> None:
    async with running_board(advance=70) as h:
        wide = {c.key for c in h.table.column_layout.columns}
        await h.pilot.resize_terminal(80, 24)
        await h.pilot.pause()
        layout = h.table.column_layout
        narrow = [c.key for c in layout.columns]
        assert set(narrow) < wide
        # the essentials stay, in order; the columns that went are the least useful ones
        assert narrow[:2] == ["state", "label"]
        assert {"publish", "detail"} <= set(narrow)
        dropped = [c for c in COLUMNS if c.key not in narrow]
        assert max(c.keep for c in dropped) < min(c.keep for c in layout.columns)
        room = h.table.scrollable_content_region.width
        assert sum(layout.widths) + GAP * (len(layout.widths) - 1) <= room
        # the header follows the new columns
        header = header_text(h)
        for col in layout.columns:
            assert col.title in header
        for col in dropped:
            assert col.title not in header
        # every line still starts with the state, glyph and word
        assert h.table_lines()[0].startswith(set_cell_size("✗ FAILED", layout.widths[0]))
        assert h.app.board.row_at(0).state is State.FAILED


# -- terminal_gone ------------------------------------------------------------------------------


def test_terminal_gone_is_true_for_a_pipe_whose_writer_closed() -> None:
    read, write_end = os.pipe()
    try:
        os.close(write_end)
        assert terminal_gone(read)
    finally:
        os.close(read)


def test_terminal_gone_is_false_for_an_open_pipe_with_no_data() -> None:
    read, write_end = os.pipe()
    try:
        assert not terminal_gone(read)
    finally:
        os.close(read)
        os.close(write_end)


def test_terminal_gone_is_true_for_a_closed_descriptor() -> None:
    read, write_end = os.pipe()
    os.close(read)
    os.close(write_end)
    assert terminal_gone(read)
