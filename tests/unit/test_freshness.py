"""Passes and re-checks answer out of order; the board keeps whichever was asked last."""

from __future__ import annotations

from wahdx_tui.core.api.normalise import NOT_RETURNED
from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.engine.freshness import Freshness

A: PostKey = ("acc", "a")
B: PostKey = ("acc", "b")


def st(key: PostKey, state: State) -> PostStatus:
    return PostStatus(key, state, state.value)


def left_out(key: PostKey) -> PostStatus:
    return PostStatus(key, State.UNKNOWN, None, None, NOT_RETURNED)


def test_a_pass_asked_before_a_recheck_loses_that_post_only() -> None:
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    assert f.recheck_answered(A, r) is True  # the board takes the re-check's answer
    answer = [st(A, State.PROCESSING), st(B, State.QUEUED)]
    assert f.pass_answered(p, answer, answer, []) == ([st(B, State.QUEUED)], [])
    assert f.tracked == 0  # nothing in flight: every later request is newer


def test_a_recheck_answering_after_a_later_pass_is_not_applied() -> None:
    f = Freshness()
    r = f.recheck_started(A)
    p = f.pass_started()
    answer = [st(A, State.PUBLISHED)]
    assert f.pass_answered(p, answer, answer, []) == (answer, [])
    assert f.recheck_answered(A, r) is False  # older than what the board now shows
    assert f.tracked == 0


def test_a_later_pass_that_did_not_answer_for_the_post_leaves_the_recheck_newest() -> None:
    f = Freshness()
    r = f.recheck_started(A)
    p = f.pass_started()
    answer = [st(B, State.QUEUED)]  # A was not due (final), or its batch failed
    assert f.pass_answered(p, answer, answer, []) == (answer, [])
    assert f.recheck_answered(A, r) is True


def test_a_later_pass_that_left_the_post_out_leaves_the_recheck_newest() -> None:
    f = Freshness()
    r = f.recheck_started(A)
    p = f.pass_started()
    answer = [left_out(A), st(B, State.QUEUED)]
    assert f.pass_answered(p, answer, [], [A]) == ([], [A])
    assert f.recheck_answered(A, r) is True


def test_a_post_answered_by_a_newer_recheck_is_not_marked_unanswered() -> None:
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    assert f.recheck_answered(A, r) is True
    assert f.pass_answered(p, [left_out(A)], [], [A]) == ([], [])


def test_an_unchanged_answer_still_counts_as_newer() -> None:
    """The pass's answer for A equalled the board, so it is not in `to_apply`, but it was
    still asked after the re-check: the re-check's answer is older."""
    f = Freshness()
    r = f.recheck_started(A)
    p = f.pass_started()
    assert f.pass_answered(p, [st(A, State.PUBLISHED)], [], []) == ([], [])
    assert f.recheck_answered(A, r) is False


def test_a_failed_recheck_lets_the_pass_answer_again() -> None:
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    f.recheck_failed(r)
    answer = [st(A, State.PROCESSING)]
    assert f.pass_answered(p, answer, answer, []) == (answer, [])


def test_two_rechecks_of_a_post_answering_in_either_order() -> None:
    f = Freshness()
    first = f.recheck_started(A)
    second = f.recheck_started(A)
    assert f.recheck_answered(A, first) is True  # the newest so far
    assert f.recheck_answered(A, second) is True  # newer still
    f = Freshness()
    first = f.recheck_started(A)
    second = f.recheck_started(A)
    assert f.recheck_answered(A, second) is True
    assert f.recheck_answered(A, first) is False
    f = Freshness()
    first = f.recheck_started(A)
    second = f.recheck_started(A)
    assert f.recheck_answered(A, first) is True
    f.recheck_failed(second)  # the first answer stands
    assert f.tracked == 0


def test_a_failed_pass_forgets_finished_rechecks() -> None:
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    assert f.recheck_answered(A, r) is True
    assert f.tracked == 1  # the pass asked before it may still answer
    assert f.pass_failed(p) == {A}  # answered after the pass was asked: not stale
    assert f.tracked == 0


def test_passes_without_rechecks_are_untouched() -> None:
    f = Freshness()
    answer = [st(A, State.QUEUED), st(B, State.FAILED)]
    for _ in range(3):
        p = f.pass_started()
        kept, unanswered = f.pass_answered(p, answer, answer, [B])
        assert kept is answer and unanswered == [B]
    assert f.tracked == 0


def test_a_pass_answering_while_a_later_recheck_is_in_flight_is_applied() -> None:
    """Nothing newer has been applied yet: the pass's answer stands until the re-check's
    (newer) answer replaces it, and stays if the re-check fails."""
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    answer = [st(A, State.PROCESSING)]
    assert f.pass_answered(p, answer, answer, []) == (answer, [])
    assert f.recheck_answered(A, r) is True
    f = Freshness()
    p = f.pass_started()
    r = f.recheck_started(A)
    assert f.pass_answered(p, answer, answer, []) == (answer, [])
    f.recheck_failed(r)
    assert f.tracked == 0
