"""Reading the table at a glance: each state its own colour on the State cell, failed rows
styled whole, and no state colours under NO_COLOR (the glyph and word say it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style
from textual.app import App, ComposeResult

import wahdx_tui.ui
from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.ui.widgets.table import BoardTable

STATES = (State.FAILED, State.PROCESSING, State.QUEUED, State.UNKNOWN, State.PUBLISHED)


class TableApp(App[None]):
    CSS_PATH = Path(wahdx_tui.ui.__file__).parent / "board.tcss"

    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board

    def compose(self) -> ComposeResult:
        yield BoardTable(self.board)


def one_of_each() -> Board:
    posts = [WatchedPost("acc_a", s.value, label=f"a {s.value} post") for s in STATES]
    board = Board(posts)
    board.apply(
        [
            PostStatus(
                ("acc_a", s.value), s, "?!" if s is State.UNKNOWN else s.value, None, None, 1.0
            )
            for s in STATES
        ]
    )
    return board


def cell_styles(table: BoardTable, y: int) -> tuple[str, Style | None, Style | None]:
    """The line's text, the State cell's style and the style of the rest of the line."""
    strip = table.render_line(y)
    segments = list(strip)
    text = "".join(s.text for s in segments)
    return text, segments[0].style, segments[-1].style


async def test_each_state_has_its_own_colour_and_failed_rows_stay_whole() -> None:
    app = TableApp(one_of_each())
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(BoardTable)
        table.move_cursor(len(STATES) - 1)  # the cursor on the last row, out of the way
        await pilot.pause()
        colours: dict[State, object] = {}
        for y, state in enumerate(STATES[:-1]):
            text, first, rest = cell_styles(table, y)
            assert text.startswith(f"{'✗◐…?'[y]} {state.value.upper()}")
            assert first is not None and rest is not None
            colours[state] = first.color
            if state is State.FAILED:
                assert first == rest  # the whole row in the failed style, the loudest
                assert rest.bold and rest.bgcolor is not None
            else:
                assert first.color != rest.color  # the state cell stands out from its row
                assert first.bgcolor == rest.bgcolor
        assert len(set(colours.values())) == len(colours)  # four states, four colours


async def test_no_state_colours_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp(one_of_each())
    async with app.run_test(size=(120, 10)) as pilot:
        assert app.no_color
        table = app.query_one(BoardTable)
        table.move_cursor(len(STATES) - 1)
        await pilot.pause()
        for y in range(1, len(STATES) - 1):
            strip = table.render_line(y)
            assert len({seg.style for seg in strip}) == 1  # one style: words, not colours
