"""What a narrow board cuts and what it keeps: IDs cut from the middle so they stay told apart,
the sort arrow always on a heading, and the summary's and banner's alarms never cut."""

from __future__ import annotations

import pytest
from conftest import header_text, running_board

from wahdx_tui.core.board import SORT_COLUMNS
from wahdx_tui.ui.accounts import AccountsHeader, AccountsView

pytestmark = pytest.mark.usefixtures("quick_pilot")


# -- IDs in narrow columns ---------------------------------------------------------------------


async def test_accounts_with_one_prefix_read_apart_at_80x24() -> None:
    async with running_board(advance=70, size=(80, 24)) as h:
        layout = h.table.column_layout
        keys = [c.key for c in layout.columns]
        assert "account" in keys
        at = keys.index("account")
        width = layout.widths[at]
        assert width < len("acc_tiktok_creator")  # the column is narrower than the IDs
        start = sum(layout.widths[:at]) + at  # one cell between columns
        board = h.app.board
        cells: dict[str, set[str]] = {}
        for y in range(len(board)):
            if y >= h.table.size.height:
                break
            line = "".join(s.text for s in h.table.render_line(y))
            account = board.row_at(y).post.account_id
            cells.setdefault(account, set()).add(line[start : start + width].rstrip())
        shown = {account: cell.pop() for account, cell in cells.items() if len(cell) == 1}
        assert "acc_tiktok_main" in shown and "acc_tiktok_creator" in shown, cells
        # each account reads one way, and no two accounts read the same
        assert len(set(shown.values())) == len(shown), shown
        assert shown["acc_tiktok_main"].endswith("main")
        assert shown["acc_tiktok_creator"].startswith("acc_")


# -- the sort arrow ----------------------------------------------------------------------------


async def test_s_sorts_only_by_columns_on_screen_at_80x24() -> None:
    async with running_board(advance=70, size=(80, 24)) as h:
        shown = [c.key for c in h.table.column_layout.columns]
        assert len(shown) < len(SORT_COLUMNS)  # some columns are off screen at this width
        seen = []
        for _ in range(len(SORT_COLUMNS) + 1):
            await h.pilot.press("s")
            column = h.app.board.sort_column
            seen.append(column)
            assert column in shown, f"s sorted by {column}, which is not on screen"
            assert "▲" in header_text(h) or "▼" in header_text(h)
        assert set(seen) == set(shown)  # and every column on screen gets its turn


async def test_s_in_the_accounts_view_sorts_only_by_columns_on_screen() -> None:
    async with running_board(advance=70, size=(80, 24)) as h:
        await h.pilot.press("v")
        view = h.app.query_one(AccountsView)
        shown = [c.key for c in view.table.column_layout.columns]
        header = view.query_one(AccountsHeader)
        for _ in range(12):
            await h.pilot.press("s")
            assert view.accounts.sort_column in shown
            line = "".join(s.text for s in header.render_line(0))
            assert "▲" in line or "▼" in line
