"""The board's keys on a running board: q, r, p, + and -, s and S (and heading clicks), /, f,
j k g G, ? and Ctrl+P; and the board's end when its terminal goes away."""

from __future__ import annotations

import math
import os
import time

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Static

from tests.support.fixtures import (
    DOORBUSTER,
    FakeClock,
    Harness,
    header_text,
    running_board,
    sample_counts,
)
from wahdx_tui.core.board.state import SORT_COLUMNS, STATE_FILTERS
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.tty import terminal_gone
from wahdx_tui.ui.app import AGE_STEP, INTERVALS
from wahdx_tui.ui.keys import KEYS
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.screens.help import HelpScreen
from wahdx_tui.ui.widgets.columns import GAP
from wahdx_tui.ui.widgets.summary import SummaryLine
from wahdx_tui.ui.widgets.table import TableHeader

pytestmark = pytest.mark.usefixtures("quick_pilot")


# -- q, r ------------------------------------------------------------------------------------------


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


async def test_r_refreshes_now() -> None:
    async with running_board() as h:
        before = h.sim.stats.batch_requests
        await h.refresh()
        assert h.sim.stats.batch_requests > before
        assert h.app.engine.passes == 2


# -- p, +, - ---------------------------------------------------------------------------------------


async def test_p_pauses_and_resumes() -> None:
    async with running_board() as h:
        assert h.app.poll_timer is not None
        # The next pass's time of day, one interval after the first pass ended
        assert h.app.next_at is not None and 0 < h.app.next_at - time.time() <= 60
        assert f"next {time.strftime('%H:%M:%S', time.localtime(h.app.next_at))}" in h.status()
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
        assert not h.app.engine.polling
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
        passes = h.app.engine.passes
        h.app.fire_timer()
        await h.next_pass(passes)
        assert h.sim.stats.requests > requests


async def test_p_during_a_poll_stops_the_next_one_being_scheduled() -> None:
    async with running_board() as h:
        h.sim.faults.latency = 0.2
        passes = h.app.engine.passes
        await h.pilot.press("r")
        await h.pilot.press("p")
        await h.next_pass(passes)
        assert h.app.paused
        assert h.app.poll_timer is None
        assert "PAUSED" in h.status()


async def test_plus_and_minus_step_the_interval() -> None:
    async with running_board(interval=5) as h:
        await h.pilot.press("+")
        assert h.app.engine.interval == 10
        assert h.shows_interval(10)
        assert h.app.poll_timer is not None  # rescheduled on the new interval
        await h.pilot.press("equals_sign")  # '=' is '+' without shift
        assert h.app.engine.interval == 15
        await h.pilot.press("minus", "-")
        assert h.app.engine.interval == 5
        await h.pilot.press("-", "-", "-")
        assert h.app.engine.interval == INTERVALS[0] == 2
        assert h.shows_interval(2)
        for _ in range(len(INTERVALS) + 2):
            await h.pilot.press("+")
        assert h.app.engine.interval == INTERVALS[-1]


# -- s, S, header clicks ---------------------------------------------------------------------------


async def test_s_cycles_the_sort_column_and_S_reverses() -> None:
    async with running_board() as h:
        board = h.app.board
        assert board.sort_column == "state"
        shown = [c.key for c in h.table.column_layout.columns]
        in_order = [c for c in SORT_COLUMNS if c in shown]  # the columns on screen
        seen = []
        for _ in in_order:
            await h.pilot.press("s")
            seen.append(board.sort_column)
            assert f"sort: {board.sort_column} ▲" in h.line("view")
        assert seen == [*in_order[1:], in_order[0]]
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


# -- / and Esc -------------------------------------------------------------------------------------


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
        assert h.app.engine.interval == 60
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


# -- f ---------------------------------------------------------------------------------------------


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


# -- j, k, g, G ------------------------------------------------------------------------------------


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


# -- ?, Ctrl+P -------------------------------------------------------------------------------------


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
        assert "every 60s (+ and - change it)" in text  # the interval, now the bar shows a time
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


# -- terminal_gone ---------------------------------------------------------------------------------


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


async def test_an_idle_board_redraws_nothing_from_second_to_second() -> None:
    """Between passes the summary shows the next pass's time, not a countdown: the seconds
    up to the next age mark leave every summary piece and table line as drawn."""
    clock = FakeClock()
    async with running_board(interval=60, clock=clock) as h:
        wall = (math.floor(time.time() / AGE_STEP) + 1) * AGE_STEP + 0.5
        h.app.table.now = lambda: wall  # the ages' clock, on a mark: the first tick draws them
        h.app.tick()
        await h.pilot.pause()
        pieces = list(h.app.query("SummaryLine").results(SummaryLine))
        shown = [piece._shown for piece in pieces]
        status, lines = h.status(), h.app.table.lines_refreshed
        for _ in range(int(AGE_STEP) - 1):  # up to the next mark
            clock.now += 1
            wall += 1
            h.app.tick()
            await h.pilot.pause()
        assert h.status() == status and "next " in status
        # not even given the same text again: no piece was updated
        assert all(p._shown is was for p, was in zip(pieces, shown, strict=True))
        assert h.app.table.lines_refreshed == lines


async def test_ages_turn_together_on_the_ten_second_marks() -> None:
    """Ages read in minutes; the once-a-second tick redraws them on the wall clock's
    ten-second marks only, so the lines that turned a minute share one frame."""
    async with running_board() as h:
        wall = (math.floor(time.time() / AGE_STEP) + 1) * AGE_STEP + 0.5  # past the next mark
        h.app.table.now = lambda: wall
        h.app.tick()
        await h.pilot.pause()
        before = h.table_lines()
        redrawn_at: list[float] = []
        for _ in range(130):  # past two minutes, a second at a time
            wall += 1
            lines = h.app.table.lines_refreshed
            h.app.tick()
            await h.pilot.pause()
            if h.app.table.lines_refreshed != lines:
                redrawn_at.append(wall)
        assert redrawn_at, "the ages never moved on"
        assert all(math.floor(t) % AGE_STEP == 0 for t in redrawn_at), redrawn_at
        after = h.table_lines()
        assert after != before and " 2m " in "\n".join(after)  # two minutes on, as shown


async def test_a_tick_while_the_summary_is_taken_down_does_not_crash_the_board() -> None:
    """At quit Textual removes the summary's pieces before the bar; the once-a-second tick
    can run in between (it crashed a benchmark's board and a team test's): it draws nothing,
    and the board goes on until it is quit."""
    async with running_board() as h:
        await h.app.query_one("#counts").remove()
        h.app.tick()
        await h.pilot.pause()
        assert h.app.is_running and h.app.return_code is None
        await h.app.table.remove()  # the table goes too: the ages are not drawn either
        h.app.tick()
        h.app.check_stuck()
        await h.pilot.pause()
        assert h.app.is_running and h.app.return_code is None
        await h.pilot.press("q")
    assert h.app.return_code == 0
