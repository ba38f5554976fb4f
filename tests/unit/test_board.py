"""The board state: incremental ordering, filters, counts, transitions, hot reload."""

from __future__ import annotations

import random

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost


def posts(n: int) -> list[WatchedPost]:
    return [WatchedPost(f"acc_{i % 7}", f"pub_{i:05d}", "video", f"post {i:05d}") for i in range(n)]


def status(p: WatchedPost, state: State, t: float = 100.0, error: str | None = None) -> PostStatus:
    return PostStatus(p.key, state, state.value, None, error, t)


def expected_order(board: Board) -> list[tuple[str, str]]:
    rows = sorted(board.rows.values(), key=board._tuple)
    keys = [r.key for r in rows if board._matches(r)]
    return keys[::-1] if board.reverse else keys


def test_default_order_is_failed_processing_queued_unknown_published_then_label() -> None:
    ps = posts(5)
    board = Board(ps)
    states = [State.PUBLISHED, State.QUEUED, State.FAILED, State.UNKNOWN, State.PROCESSING]
    board.apply([status(p, s) for p, s in zip(ps, states, strict=True)])
    shown = [board.row_at(i).state for i in range(len(board))]
    assert shown == [State.FAILED, State.PROCESSING, State.QUEUED, State.UNKNOWN, State.PUBLISHED]


def test_one_changed_post_moves_one_row_without_a_full_sort() -> None:
    ps = posts(1000)
    board = Board(ps)
    board.apply([status(p, State.QUEUED) for p in ps])
    sorts = board.stats.full_sorts
    moved = board.stats.moved_rows
    changes = board.apply(
        [status(ps[500], State.FAILED, 200.0, "token expired")]
        + [status(p, State.QUEUED, 200.0) for p in ps if p is not ps[500]]
    )
    assert changes.changed == [ps[500].key]
    assert changes.new_failures == [ps[500].key]
    assert board.stats.full_sorts == sorts
    assert board.stats.moved_rows == moved + 1
    assert board.key_at(0) == ps[500].key


def test_incremental_updates_keep_the_same_order_as_a_fresh_sort() -> None:
    rng = random.Random(3)
    ps = posts(400)
    board = Board(ps)
    for sort in ("state", "label", "since", "detail", "account"):
        board.set_sort(sort, reverse=rng.random() < 0.5)
        board.set_state_filter(rng.choice([None, State.FAILED, State.QUEUED]))
        board.set_text_filter(rng.choice(["", "acc_3", "post 00"]))
        for t in range(5):
            batch = [
                status(p, rng.choice(list(State)), 100.0 + t, rng.choice([None, "boom"]))
                for p in rng.sample(ps, 20)
            ]
            board.apply(batch)
            assert [board.key_at(i) for i in range(len(board))] == expected_order(board)


def test_counts_and_transitions() -> None:
    ps = posts(3)
    board = Board(ps)
    board.apply([status(ps[0], State.QUEUED), status(ps[1], State.FAILED)])
    counts = board.counts()
    assert counts[State.QUEUED] == 1 and counts[State.FAILED] == 1 and counts[State.UNKNOWN] == 1
    changes = board.apply([status(ps[0], State.PROCESSING, 150.0)])
    assert [(t.key, t.old, t.new) for t in changes.transitions] == [
        (ps[0].key, State.QUEUED, State.PROCESSING)
    ]
    assert board.rows[ps[0].key].since == 150.0


def test_index_of_follows_the_post_through_sort_and_filter() -> None:
    ps = posts(50)
    board = Board(ps)
    board.apply([status(p, State.QUEUED) for p in ps])
    key = ps[17].key
    board.set_sort("label", reverse=True)
    assert board.key_at(board.index_of(key) or 0) == key
    board.set_text_filter("post 00017")
    assert len(board) == 1 and board.index_of(key) == 0
    board.set_text_filter("nothing matches this")
    assert board.index_of(key) is None and len(board) == 0


def test_set_posts_keeps_known_state_and_reports_added_and_removed() -> None:
    ps = posts(10)
    board = Board(ps)
    board.apply([status(p, State.PUBLISHED) for p in ps])
    new = [*ps[2:], WatchedPost("acc_new", "pub_new", None, "new one")]
    added, removed = board.set_posts(new)
    assert (added, removed) == (1, 2)
    assert board.rows[ps[5].key].state is State.PUBLISHED
    assert board.rows[("acc_new", "pub_new")].state is State.UNKNOWN
    assert board.counts()[State.PUBLISHED] == 8


def test_in_state_since_uses_the_apis_change_time_when_it_gives_one() -> None:
    from wahdx_tui.core.api.normalise import parse_batch

    ps = posts(2)
    body = [
        {
            "accountId": ps[0].account_id,
            "publishId": ps[0].publish_id,
            "status": "processing",
            "updatedAt": "2026-11-28T10:00:00Z",
        },
        {
            "accountId": ps[1].account_id,
            "publishId": ps[1].publish_id,
            "status": "queued",
            "updatedAt": "2999-01-01T00:00:00Z",
        },
    ]
    statuses = parse_batch(body, ps, checked_at=1_800_000_000.0)
    board = Board(ps)
    board.apply(statuses)
    assert board.rows[ps[0].key].since == 1_795_860_000.0  # 2026-11-28T10:00:00Z
    # A change time in the future is not believed: the board's own first sight is used.
    assert board.rows[ps[1].key].since == 1_800_000_000.0


def test_a_post_left_out_is_reported_unanswered_and_stays_so_until_an_answer() -> None:
    from wahdx_tui.core.api.normalise import NOT_RETURNED

    ps = posts(3)
    board = Board(ps)
    board.apply([status(p, State.QUEUED) for p in ps])
    assert not board.any_unanswered()
    answer = [
        PostStatus(ps[0].key, State.UNKNOWN, None, None, NOT_RETURNED, 200.0),
        status(ps[1], State.QUEUED, 200.0),
        status(ps[2], State.PROCESSING, 200.0),
    ]
    left_out: list[tuple[str, str]] = []
    changed = board.absorb_unchanged(answer, left_out)
    assert left_out == [ps[0].key]
    assert changed == [answer[2]]
    board.mark_unanswered(left_out)
    assert [board.rows[p.key].unanswered for p in ps] == [True, False, False]
    board.apply([status(ps[0], State.QUEUED, 300.0)])  # the same state, answered: not stale
    assert not board.any_unanswered()
    board.mark_unanswered()  # a pass that got no answer at all
    assert all(r.unanswered for r in board.rows.values())
    assert board.absorb_unchanged([status(p, State.QUEUED, 400.0) for p in ps[:2]]) == []
    assert [board.rows[p.key].unanswered for p in ps] == [False, False, True]


def test_a_post_left_out_of_a_response_keeps_its_last_known_state() -> None:
    from wahdx_tui.core.api.normalise import NOT_RETURNED

    ps = posts(2)
    board = Board(ps)
    board.apply([status(ps[0], State.FAILED, 100.0, "token expired"), status(ps[1], State.QUEUED)])
    board.set_flags(ps[0].key, acked=True, note="on it")
    missing = [PostStatus(p.key, State.UNKNOWN, None, None, NOT_RETURNED, 200.0) for p in ps]
    assert board.absorb_unchanged(missing) == []
    changes = board.apply(missing)
    assert changes.transitions == [] and changes.new_failures == []
    row = board.rows[ps[0].key]
    assert row.state is State.FAILED and row.acked and row.checked_at == 100.0
    # A post never seen before has nothing to keep: it reads UNKNOWN, not returned.
    fresh = WatchedPost("acc_x", "new", None, "")
    board.set_posts([*ps, fresh])
    board.apply([PostStatus(fresh.key, State.UNKNOWN, None, None, NOT_RETURNED, 300.0)])
    assert board.rows[fresh.key].detail == NOT_RETURNED


def test_an_answer_kept_from_before_sets_the_checked_time_to_when_the_pass_ended() -> None:
    """A pass hands back a post's own status when the API repeated itself: the row shows
    the pass's time as checked; an equal but older status (kept before a re-check that
    agreed with it) never moves the checked time back."""
    ps = posts(2)
    board = Board(ps)
    kept = status(ps[0], State.QUEUED, 100.0)
    board.apply([kept, status(ps[1], State.QUEUED, 100.0)])
    assert board.absorb_unchanged([kept], [], 250.0) == []
    assert board.rows[ps[0].key].checked_at == 250.0
    recheck = status(ps[1], State.QUEUED, 300.0)
    board.apply([recheck])
    older = status(ps[1], State.QUEUED, 200.0)  # the pass's answer, read before the re-check
    assert board.absorb_unchanged([older], [], 320.0) == []
    assert board.rows[ps[1].key].checked_at == 300.0


def test_answers_beside_the_rows_asked_skip_the_lookup_only_for_a_rows_own_status() -> None:
    """A pass answered every post it asked: a status that is the row's own marks it checked;
    one beside another row, or for a row shown stale, is handed on to absorb_unchanged."""
    ps = posts(3)
    board = Board(ps)
    own = [status(p, State.QUEUED, 100.0) for p in ps]
    board.apply(own)
    board.mark_unanswered([ps[2].key])
    rows = [board.rows[p.key] for p in ps]
    rest = Board.absorb_kept(rows, [own[0], own[0], own[2]], 250.0)
    assert rest == [own[0], own[2]]
    assert [r.checked_at for r in rows] == [250.0, 100.0, 100.0]
    assert board.absorb_unchanged(rest, [], 250.0) == []
    assert rows[2].checked_at == 250.0 and not rows[2].unanswered


def test_a_kept_status_that_a_re_check_overtook_comes_back_with_the_passs_time() -> None:
    """The pass kept a post's status (its answer repeated itself), but a re-check that
    disagrees was applied while the pass ran: if the pass's answer is applied, it is as of
    the pass's end, not of when that status was first read, so no time moves back."""
    ps = posts(1)
    board = Board(ps)
    kept = PostStatus(ps[0].key, State.QUEUED, "queued", None, None, 100.0, read_from_raw=True)
    board.apply([kept])
    board.apply([status(ps[0], State.PROCESSING, 300.0)])  # the re-check
    changed = board.absorb_unchanged([kept], [], 400.0, asked_at=200.0)
    assert [(s.state, s.checked_at) for s in changed] == [(State.QUEUED, 400.0)]
    board.apply(changed)
    row = board.rows[ps[0].key]
    assert row.checked_at == 400.0 and row.since == 400.0
