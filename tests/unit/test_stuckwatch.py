"""Stuck posts are found by looking only at rows whose time came or that changed: whatever
happened in between, the flags are those a scan of every row would set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.board.stuckwatch import Blind, is_stuck
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


blind_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("answer"),
            st.lists(st.tuples(st.integers(0, 11), st.sampled_from(STATES)), max_size=6),
        ),
        st.tuples(st.just("look"), st.floats(0, 200)),
        st.tuples(st.just("blind"), st.booleans()),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(steps=blind_steps)
def test_time_nobody_could_see_the_posts_never_counts_toward_stuck(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    board, blind = Board(POSTS), Blind()
    limits = LIMITS[0]
    now = 1000.0
    for step in steps:
        if step[0] == "answer":
            if blind.open:
                continue  # no answer while nobody sees the posts
            statuses = [
                PostStatus(POSTS[i].key, state, state.value, None, None, now)
                for i, state in step[1]
            ]
            board.apply(statuses, now)
        elif step[0] == "blind" and step[1]:
            blind.begin(now)
        elif step[0] == "blind":
            blind.end(now)
        else:
            now += step[1]
            before = {k for k, r in board.rows.items() if r.stuck}
            newly = board.find_stuck(now, limits, blind)
            after = {k for k, r in board.rows.items() if r.stuck}
            if blind.open:
                assert newly == [] and after == before  # none turns stuck out of sight
                continue
            assert after == {k for k, r in board.rows.items() if is_stuck(r, now, limits, blind)}
            assert set(newly) == after - before


def test_a_row_queued_through_an_outage_is_stuck_only_for_the_time_it_was_seen() -> None:
    board, blind = Board(POSTS[:1]), Blind()
    board.apply([PostStatus(POSTS[0].key, State.QUEUED, "queued", None, None, 1000.0)], 1000.0)
    limits = {State.QUEUED: 60.0}
    assert board.find_stuck(1030.0, limits, blind) == []
    blind.begin(1040.0)  # the API stops answering
    assert board.find_stuck(1200.0, limits, blind) == []  # 200 s on, but out of sight
    blind.end(1300.0)  # 260 s out of sight
    assert board.find_stuck(1310.0, limits, blind) == []  # seen for 50 s
    assert board.find_stuck(1320.5, limits, blind) == [POSTS[0].key]  # seen for over 60 s


def test_a_row_is_flagged_once_its_time_comes_without_a_change() -> None:
    board = Board(POSTS[:2])
    board.apply([PostStatus(p.key, State.QUEUED, "queued", None, None, 1000.0) for p in POSTS[:2]])
    limits = {State.QUEUED: 60.0}
    assert board.find_stuck(1030.0, limits) == []
    assert board.find_stuck(1060.0, limits) == []  # not past it yet
    assert set(board.find_stuck(1060.5, limits)) == {p.key for p in POSTS[:2]}
    assert board.find_stuck(2000.0, limits) == []  # newly stuck: said once
