"""A board of 1,000 posts stays usable: navigation, filters, and one change redraws one line."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import pytest

from tests.support.fixtures import SEED, entry, running_board
from wahdx_tui.core.domain.model import PostKey, State, WatchedPost
from wahdx_tui.core.watchlist.reader import Watchlist, parse_watchlist
from wahdx_tui.sim.schedule import head_start_for, timeline_for

pytestmark = pytest.mark.usefixtures("quick_pilot")


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
