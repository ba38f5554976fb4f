"""The accounts view (ui/accounts.py) on the demo's first pass: snapshots at 120x36, 80x24 and
NO_COLOR, worst first, sorting, the filter, Enter posting AccountChosen, incremental redraws,
the failure trend from transitions, and the detail screen's trend for one account.

The board is filled by real passes of the client against the simulator playing the demo
scenario; the simulator's clock is fixed and the wall clock pinned, so every picture is
deterministic. Regenerate after an intended change of the view with:
    .venv/bin/pytest tests/test_accounts_view.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Sparkline

import wahdx_tui.ui
from tests.support.fixtures import FIXED_NOW, running_demo
from wahdx_tui.core.api.client import ClientOptions, WahdxClient, client_factory
from wahdx_tui.core.board.accounts import ACCOUNT_SORT_COLUMNS, Accounts
from wahdx_tui.core.board.state import Board, Row
from wahdx_tui.core.board.trend import failures_per_hour
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.watchlist.reader import (
    Watchlist,
    WatchlistSettings,
    load_watchlist,
    sample_watchlist_path,
)
from wahdx_tui.sim import SimServer
from wahdx_tui.sim.faults import HOSTILE_PAYLOADS
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.widgets.accounts import AccountChosen, AccountsHeader, AccountsTable, AccountsView
from wahdx_tui.ui.widgets.trend import FailureTrend

SnapCompare = Callable[..., bool]
CSS = Path(wahdx_tui.ui.__file__).parent / "board.tcss"
EXPIRED = "acc_tiktok_creator"  # seed 7: the account whose token expired


@dataclass
class Morning:
    """The demo's board after its first pass, and what it saw change."""

    sim: SimServer
    posts: list[WatchedPost]
    board: Board
    accounts: Accounts
    transitions: list[Transition]

    async def next_pass(self) -> list[Row]:
        """One more real pass; the rows it changed."""
        async with WahdxClient(self.sim.base_url, self.sim.api_key, ClientOptions()) as client:
            result = await client.check_posts(self.posts)
        changes = self.board.apply(result.statuses, now=time.time())
        rows = self.board.rows
        self.transitions += changes.transitions
        # the board's stuck rule, as the app runs it (15 min processing, 30 queued)
        stuck = self.board.find_stuck(time.time(), {State.PROCESSING: 900, State.QUEUED: 1800})
        return [rows[k] for k in dict.fromkeys([*changes.changed, *stuck])]

    def trend(self, account: str | None = None) -> list[int]:
        return failures_per_hour(self.transitions, FIXED_NOW, account=account)


@pytest.fixture
def morning(pinned_time: None) -> Iterator[Morning]:
    posts = list(load_watchlist(sample_watchlist_path()).posts)
    with running_demo(posts) as sim:
        m = Morning(sim, posts, Board(posts), Accounts(), [])
        asyncio.run(m.next_pass())
        m.accounts.reset(m.board.rows.values())
        yield m


class AccountsApp(App[None]):
    """The accounts view alone, as the board will show it after `v`."""

    CSS_PATH = CSS

    def __init__(self, morning: Morning) -> None:
        super().__init__()
        self.morning = morning
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield AccountsView(self.morning.accounts)

    def on_mount(self) -> None:
        view = self.query_one(AccountsView)
        view.show_trend(self.morning.trend())
        view.focus_table()

    def on_account_chosen(self, message: AccountChosen) -> None:
        self.chosen.append(message.account_id)


def lines(app: App[None]) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strip) for strip in strips]


def table_lines(table: AccountsTable) -> list[str]:
    return ["".join(s.text for s in table.render_line(y)) for y in range(len(table.accounts))]


# -- snapshots -----------------------------------------------------------------------------------


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()


def test_accounts_view_120x36(snap_compare: SnapCompare, morning: Morning) -> None:
    assert snap_compare(AccountsApp(morning), terminal_size=(120, 36), run_before=settle)


def test_accounts_view_80x24(snap_compare: SnapCompare, morning: Morning) -> None:
    assert snap_compare(AccountsApp(morning), terminal_size=(80, 24), run_before=settle)


def test_accounts_view_no_color(
    snap_compare: SnapCompare, morning: Morning, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = AccountsApp(morning)
    assert app.no_color
    assert snap_compare(app, terminal_size=(120, 36), run_before=settle)


# -- what the operator reads ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_worst_first_and_readable(morning: Morning, size: tuple[int, int]) -> None:
    app = AccountsApp(morning)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = lines(app)
        assert "failures/h, 24 h" in screen[0]
        assert "4 in 24 h" in screen[0]
        header = screen[1]
        for title in ("Account", "Platform", "Failed", "Unrev", "Stuck", "Top reason"):
            assert title in header
        rows = screen[2 : 2 + len(morning.accounts)]
        # the expired token first (both its posts unreviewed), glyph and count in words
        assert rows[0].lstrip().startswith(f"✗ {EXPIRED}")
        assert "tiktok" in rows[0] and "account ×2" in rows[0]
        # every account on screen, whole
        for account in morning.accounts.rows:
            assert any(account in line for line in rows), account
        # the stuck one says so without colour
        (stuck,) = [a for a in morning.accounts.rows.values() if a.stuck]
        assert any(line.lstrip().startswith(f"⚠ {stuck.account}") for line in rows)


async def test_s_and_S_sort_and_a_heading_click_sorts(morning: Morning) -> None:
    app = AccountsApp(morning)
    async with app.run_test(size=(120, 36)) as pilot:
        accounts = morning.accounts
        seen = []
        for _ in ACCOUNT_SORT_COLUMNS:
            await pilot.press("s")
            seen.append(accounts.sort_column)
        assert seen == [*ACCOUNT_SORT_COLUMNS[1:], ACCOUNT_SORT_COLUMNS[0]]
        await pilot.press("s")  # by account id
        table = app.query_one(AccountsTable)

        def shown() -> list[str]:
            ids = [accounts.row_at(i).account_id for i in range(len(accounts))]
            assert all(a in line for a, line in zip(ids, table_lines(table), strict=True))
            return ids

        ids = shown()
        assert ids == sorted(ids)
        await pilot.press("S")
        assert accounts.reverse
        assert shown() == ids[::-1]
        header = app.query_one(AccountsHeader)
        assert "Account ▼" in "".join(s.text for s in header.render_line(0))
        # a click on "Failed" sorts by it, worst first; a second click reverses
        x = header.styles.padding.left + 1
        for col, width in zip(table.column_layout.columns, table.column_layout.widths, strict=True):
            if col.key == "failed":
                break
            x += width + 1
        await pilot.click(AccountsHeader, offset=(x, 0))
        assert (accounts.sort_column, accounts.reverse) == ("failed", False)
        assert accounts.row_at(0).account_id == EXPIRED
        await pilot.click(AccountsHeader, offset=(x, 0))
        assert accounts.reverse


async def test_slash_filters_and_esc_clears(morning: Morning) -> None:
    app = AccountsApp(morning)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash")
        box = app.query_one("#accounts-filter", Input)
        assert box.display and app.focused is box
        await pilot.press(*"instagram")
        assert [morning.accounts.row_at(i).platform for i in range(len(morning.accounts))] == [
            "instagram",
            "instagram",
        ]
        await pilot.press("enter")
        assert isinstance(app.focused, AccountsTable)
        await pilot.press("escape")
        assert len(morning.accounts) == len(morning.accounts.rows)
        assert not box.display


async def test_enter_on_an_account_posts_account_chosen(morning: Morning) -> None:
    app = AccountsApp(morning)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await pilot.press("j", "enter")
        await pilot.pause()
        second = morning.accounts.row_at(1).account_id
        assert app.chosen == [EXPIRED, second]


async def test_a_pass_redraws_only_the_accounts_it_changed(morning: Morning) -> None:
    app = AccountsApp(morning)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.query_one(AccountsView)
        table = view.table
        await pilot.pause()
        before = table_lines(table)
        sorts = morning.accounts.stats.full_sorts
        morning.sim.advance(20)  # some queued posts start processing
        changed = await morning.next_pass()
        assert changed
        result = morning.accounts.update(changed)
        redrawn = view.reconcile()
        await pilot.pause()
        after = table_lines(table)
        moved = sum(1 for a, b in zip(before, after, strict=True) if a != b)
        assert 0 < redrawn == moved < len(after)
        assert set(result.changed) == {r.post.account_id for r in changed}
        assert morning.accounts.stats.full_sorts == sorts
        # a minute on, one of them has failed: its account climbs, and the trend shows it
        morning.sim.advance(40)
        morning.accounts.update(await morning.next_pass())
        view.reconcile()
        view.show_trend(morning.trend())
        await pilot.pause()
        assert app.query_one(FailureTrend).summary.startswith("5 in 24 h")
        assert table_lines(table) != after


def test_the_trend_sparkline_draws_failures_per_hour(morning: Morning) -> None:
    counts = morning.trend()
    assert len(counts) == 24 and sum(counts) == 4  # the four failures seen at the first pass

    async def run() -> None:
        app = AccountsApp(morning)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            trend = app.query_one(FailureTrend)
            spark = trend.query_one(Sparkline)
            assert list(spark.data or []) == counts
            bars = "".join(s.text for s in spark.render_line(0))
            assert set(bars) <= set("▁▂▃▄▅▆▇█") and "█" in bars
            peak = counts.index(max(counts))
            # the tallest bar sits where its hour is: the sparkline is oldest hour first
            assert bars.index("█") // (len(bars) / 24) == pytest.approx(peak, abs=1)

    asyncio.run(run())


async def test_hostile_account_ids_are_inert_in_the_view(pinned_time: None) -> None:
    posts = [WatchedPost(f"acc_{p}", f"p{i}") for i, p in enumerate(HOSTILE_PAYLOADS)]
    with running_demo(posts) as sim:
        m = Morning(sim, posts, Board(posts), Accounts(), [])
        await m.next_pass()
        m.accounts.reset(m.board.rows.values())
        app = AccountsApp(m)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            for line in table_lines(app.query_one(AccountsTable)):
                assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
                assert line.isprintable()


class DetailApp(App[None]):
    CSS_PATH = CSS

    def __init__(self, row: Row, counts: list[int], source: Engine) -> None:
        super().__init__()
        self.row, self.counts, self.source = row, counts, source

    def on_mount(self) -> None:
        screen = DetailScreen(self.row, self.source)  # re-checks through a real engine
        screen.show_trend(self.counts)  # before it is shown, as the app does
        self.push_screen(screen)


async def test_the_detail_screen_shows_its_accounts_trend(morning: Morning) -> None:
    row = morning.board.rows[(EXPIRED, "v_pub_8810")]
    counts = morning.trend(account=EXPIRED)
    assert sum(counts) == 2
    m = morning
    watchlist = Watchlist("<morning>", tuple(m.posts), WatchlistSettings(), ())
    engine = Engine(watchlist, client_factory(m.sim.base_url, m.sim.api_key, ClientOptions()))
    app = DetailApp(row, counts, engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        trend = screen.query_one("#detail-trend", FailureTrend)
        assert trend.display and trend.summary.startswith("2 in 24 h")
        assert "account's failures/h" in "\n".join(lines(app))
        screen.show_trend([0] * 23 + [3])  # and it follows a later count
        await pilot.pause()
        assert trend.summary.startswith("3 in 24 h")
