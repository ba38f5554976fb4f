"""The wall's model and its deltas on a real team engine's board: capped lists whatever the
board's size, the worst first, and only what changed sent to pages."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.teamprocs import engine_on
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.watchlist.reader import Watchlist, WatchlistSettings
from wahdx_tui.serve.web.sse import View
from wahdx_tui.serve.web.wall import ROWS_SHOWN, WallFilter, WallModel

N = 5_000


def engine_with(tmp_path: Path, n: int) -> TeamEngine:
    posts = [WatchedPost(f"acc_{i % 7}", f"p{i:05d}", "video", f"Post {i}") for i in range(n)]
    watchlist = Watchlist(str(tmp_path / "w.yaml"), tuple(posts), WatchlistSettings(), ())
    return engine_on(
        str(tmp_path / "t.sqlite3"), "http://127.0.0.1:9", key=None, watchlist=watchlist
    )


def status(post: WatchedPost, state: State, at: float) -> PostStatus:
    error = "access token expired" if state is State.FAILED else None
    return PostStatus(post.key, state, state.value.upper(), None, error, at)


def test_thousands_of_failures_make_a_capped_list_and_a_count_of_the_rest(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, N)
    now = time.time()
    posts = engine.board.posts
    engine.board.apply(
        [
            status(p, State.FAILED if i % 2 else State.PUBLISHED, now - i)
            for i, p in enumerate(posts)
        ]
    )
    wall = WallModel(engine)
    listed, more = wall.listed(WallFilter())
    assert len(listed) == ROWS_SHOWN and more == N // 2 - ROWS_SHOWN
    assert [r["publish"] for r in listed[:2]] == ["p00001", "p00003"]  # the newest failures first
    everything, rest = wall.listed(WallFilter(state="all"))
    assert len(everything) == ROWS_SHOWN and rest == N - ROWS_SHOWN
    one, none_more = wall.listed(WallFilter(state="all", account="acc_3", text="post 10"))
    assert {r["account"] for r in one} == {"acc_3"} and none_more == 0
    assert wall.counts()["failed"] == N // 2 and len(wall.worst_accounts()) == 7


def test_a_page_is_sent_only_what_changed(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, 50)
    now = time.time()
    posts = engine.board.posts
    engine.board.apply([status(p, State.QUEUED, now) for p in posts])
    wall = WallModel(engine)
    view = View(WallFilter())
    view.take(wall.common(), *wall.listed(view.wanted))
    assert view.take(wall.common(), *wall.listed(view.wanted)) == {}  # nothing moved
    changes = engine.board.apply([status(posts[7], State.FAILED, now + 1)])
    wall.update(changes.changed)
    delta = view.take(wall.common(), *wall.listed(view.wanted))
    assert [r["publish"] for r in delta["upsert"]] == ["p00007"]
    failed_id = delta["upsert"][0]["id"]
    assert delta["order"] == [failed_id]
    assert delta["counts"]["failed"] == 1 and delta["counts"]["queued"] == 49
    assert "remove" not in delta and "banners" not in delta
    engine.board.set_flags(posts[7].key, acked=True, note="on it")
    wall.update([posts[7].key])
    delta = view.take(wall.common(), *wall.listed(view.wanted))
    assert delta["upsert"][0]["acked"] is True and delta["upsert"][0]["note"] == "on it"
    changes = engine.board.apply([status(posts[7], State.PUBLISHED, now + 2)])
    wall.update(changes.changed)
    delta = view.take(wall.common(), *wall.listed(view.wanted))
    assert delta["remove"] == [failed_id]  # published: off the failed-and-stuck list
    assert delta["order"] == [] and "upsert" not in delta


def test_the_model_follows_the_board_even_when_a_change_was_not_named(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, 20)
    now = time.time()
    posts = engine.board.posts
    engine.board.apply([status(p, State.QUEUED, now) for p in posts])
    wall = WallModel(engine)
    engine.board.apply([status(posts[3], State.FAILED, now + 1)])  # nobody told the wall
    wall.update([])  # the next change of anything: the totals disagree, so it rescans
    assert wall.rescans == 2
    assert wall.counts()["failed"] == 1 and posts[3].key in wall.attention


def test_a_post_the_api_does_not_know_is_listed_after_stuck_ones_and_counted(
    tmp_path: Path,
) -> None:
    engine = engine_with(tmp_path, 12)
    now = time.time()
    posts = engine.board.posts
    engine.board.apply([status(p, State.QUEUED, now - 600) for p in posts if p is not posts[3]])
    engine.board.apply(
        [
            status(posts[1], State.FAILED, now - 30),
            status(posts[2], State.FAILED, now - 20),
            # Never known, then not found: the API does not know this one (a typo in its ID?).
            PostStatus(posts[3].key, State.UNKNOWN, None, None, "post not found", now - 10),
            # A status word nobody understood.
            PostStatus(posts[4].key, State.UNKNOWN, "ARCHIVED", None, None, now - 5),
        ]
    )
    engine.board.set_flags(posts[2].key, acked=True, note="re-sent")
    engine.board.set_flags(posts[5].key, stuck=True)
    wall = WallModel(engine)
    listed, more = wall.listed(WallFilter())
    # Unreviewed failure, stuck, the two unknown longest first, then the reviewed failure.
    assert [r["publish"] for r in listed] == ["p00001", "p00005", "p00003", "p00004", "p00002"]
    assert listed[2]["state"] == "unknown" and listed[2]["detail"] == "post not found"
    assert [r["not_known"] for r in listed] == [False, False, True, True, False]
    assert more == 0 and wall.agrees()
    counts = wall.counts()
    assert counts["not_known"] == 2 and counts["unknown"] == 2
    # Found again (the ID was fixed at the API's end): off the list.
    wall.update(engine.board.apply([status(posts[3], State.PUBLISHED, now)]).changed)
    assert posts[3].key not in wall.attention and wall.counts()["not_known"] == 1
    assert wall.rescans == 1  # followed change by change, never rescanned
