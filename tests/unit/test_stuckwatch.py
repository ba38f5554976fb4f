"""Stuck posts are found by looking only at rows whose time came or that changed: whatever
happened in between, the flags are those a scan of every row would set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.board.stuckwatch import is_stuck
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost

POSTS = [WatchedPost("acc", f"p{i}", None, f"post {i}") for i in range(12)]
STATES = [State.QUEUED, State.PROCESSING, State.PUBLISHED, State.FAILED]
LIMITS = [{State.QUEUED: 60.0, State.PROCESSING: 120.0}, {State.QUEUED: 30.0}]

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("answer"),
            st.lists(st.tuples(st.integers(0, 11), st.sampled_from(STATES)), max_size=6),
        ),
        st.tuples(st.just("look"), st.floats(0, 400), st.integers(0, 3)),
        st.tuples(st.just("reload"), st.integers(6, 12)),
    ),
    max_size=25,
)


@settings(max_examples=400, deadline=None)
@given(steps=steps)
def test_stuck_flags_are_what_a_full_scan_says(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    board = Board(POSTS)
    now = 1000.0
    for step in steps:
        if step[0] == "answer":
            statuses = [
                PostStatus(POSTS[i].key, state, state.value, None, None, now)
                for i, state in step[1]
            ]
            board.apply(statuses, now)
        elif step[0] == "reload":
            board.set_posts(POSTS[: step[1]])
        else:
            now += step[1] - 50  # mostly forward, sometimes back
            limits = LIMITS[step[2] // 3]  # mostly the same limits as last time
            before = {k for k, r in board.rows.items() if r.stuck}
            newly = board.find_stuck(now, limits)
            after = {k for k, r in board.rows.items() if r.stuck}
            assert after == {k for k, r in board.rows.items() if is_stuck(r, now, limits)}
            assert set(newly) == after - before
            assert len(newly) == len(set(newly))
            assert board.stuck == len(after)


def test_a_row_is_flagged_once_its_time_comes_without_a_change() -> None:
    board = Board(POSTS[:2])
    board.apply([PostStatus(p.key, State.QUEUED, "queued", None, None, 1000.0) for p in POSTS[:2]])
    limits = {State.QUEUED: 60.0}
    assert board.find_stuck(1030.0, limits) == []
    assert board.find_stuck(1060.0, limits) == []  # not past it yet
    assert set(board.find_stuck(1060.5, limits)) == {p.key for p in POSTS[:2]}
    assert board.find_stuck(2000.0, limits) == []  # newly stuck: said once
