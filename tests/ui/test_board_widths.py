"""What a narrow board cuts and what it keeps: IDs cut from the middle so they stay told apart,
the sort arrow always on a heading, and the summary's and banner's alarms never cut."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.fixtures import (
    demo_board,
    header_text,
    running_board,
    running_demo,
    screen_text,
    until,
)
from wahdx_tui.core.board.state import SORT_COLUMNS
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.team.engine import FollowOutcome
from wahdx_tui.ui.widgets.accounts import AccountsHeader, AccountsView
from wahdx_tui.ui.widgets.banner import team_banner
from wahdx_tui.ui.widgets.summary import SummaryLine

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


# -- the summary and the banner: alarms never cut ----------------------------------------------

# What libpq says when "localhost" refuses on both of its addresses (as the issue saw it).
PG_REFUSED = "\n".join(
    f'connection to server at "localhost" ({addr}), port 5432 failed: Connection refused\n\t'
    "Is the server running on that host and accepting TCP/IP connections?"
    for addr in ("::1", "127.0.0.1")
)


def words_whole(shown: str, whole: str) -> list[str]:
    """The words of `shown` that are not words of `whole` (a word cut in two), but '…'."""
    known = set(whole.split())
    return [w for w in shown.split() if w != "…" and w not in known]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_banner_cuts_a_long_error_from_the_middle_at_whole_words(
    size: tuple[int, int],
) -> None:
    async with running_board(advance=70, size=size) as h:
        down_since = time.time()
        said = team_banner(FollowOutcome(store_error=PG_REFUSED, store_down_since=down_since))
        h.app.banner.say("store", said)
        await h.pilot.pause()
        banner = h.app.banner
        top = banner.region.y
        lines = screen_text(h).split("\n")[top : top + banner.region.height]
        shown = " ".join(line.strip() for line in lines)
        since = time.strftime("%H:%M", time.localtime(down_since))
        assert shown.startswith(f"⚠ store unreachable since {since}: connection to server"), lines
        assert shown.endswith("showing the last known states; reconnecting"), lines
        words = f"{PG_REFUSED} ⚠ store unreachable since {since}: — showing the last known"
        words += " states; reconnecting"
        assert words_whole(shown, words) == [], shown  # the error's words whole, or none


async def test_a_long_error_and_a_filter_keep_their_words_at_120_columns() -> None:
    async with running_board(advance=70, size=(120, 36)) as h:
        h.sim.faults.down = True
        await h.pilot.press("f", "f")  # state: processing
        await h.refresh()
        row = screen_text(h).split("\n")[1]
        assert "STALE" in row
        assert re.search(r"API DOWN since \d\d:\d\d", row), row
        assert "state: processing" in row and "8 shown" in row, row
        whole = " ".join(p.plain for p in h.app.query(SummaryLine).results(SummaryLine))
        assert words_whole(row, whole) == [], row  # nothing cut mid-word


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_at_80x24_the_failed_and_stuck_counts_stay_whole(size: tuple[int, int]) -> None:
    with running_demo() as sim:
        app = demo_board(sim)
        async with app.run_test(size=size) as pilot:
            await until(
                lambda: app.engine.passes >= 1 and app.board.stuck > 0, "stuck", pilot=pilot
            )
            await pilot.pause()
            counts = screen_text(app).split("\n")[0]
            assert f"✗ {app.board.counts()[State.FAILED]} FAILED" in counts, counts
            assert f"⚠ {app.board.stuck} STUCK" in counts, counts
            assert "…" not in counts.replace("… ", ""), counts  # no piece cut at its end
