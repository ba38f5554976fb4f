"""The board's cursor stays on its post across refreshes, sorts and filters, and follows the
worst news on the top row until the operator moves it."""

from __future__ import annotations

import pytest

from tests.support.fixtures import DOORBUSTER, running_board
from wahdx_tui.core.board.state import SORT_COLUMNS
from wahdx_tui.core.domain.model import State

pytestmark = pytest.mark.usefixtures("quick_pilot")


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
