"""What a board shows of the team's watchlist, what its poller polls, and how many retired."""

from __future__ import annotations

from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.store.protocol import ListedPost, ListStatus
from wahdx_tui.core.team.watchlist import Retirement, TeamList

A = WatchedPost("acc_a", "p1", None, "A")
B = WatchedPost("acc_b", "p2", None, "B")
C = WatchedPost("acc_a", "p3", None, "C")


def entry(post: WatchedPost, status: ListStatus = "listed") -> ListedPost:
    return ListedPost(post, 1.0, "sam@h1", "add", status)


def test_a_board_without_a_file_shows_the_list_of_its_accounts() -> None:
    listed = TeamList("", accounts=["acc_a"])
    assert listed.take([entry(A), entry(B), entry(C, "retired")])
    assert listed.shown() == [A]
    assert listed.polled() == [A, B]  # the poller asks for every account's
    assert listed.retired() == 1 and listed.retired_keys() == {C.key}
    assert not listed.take([entry(A)])  # nothing new
    assert listed.take([entry(C), entry(B, "removed")])  # C back, B off the list
    assert listed.shown() == [A, C] and listed.polled() == [A, C]
    assert listed.retired() == 0 and listed.retired_keys() == set()


def test_a_board_with_a_file_shows_its_posts_but_retired_ones() -> None:
    listed = TeamList("/srv/team.yaml")
    listed.file_posts = (A, B)
    listed.take([entry(A, "retired"), entry(C)])
    assert listed.shown() == [B]  # B is not on the list yet: the file says it is watched
    assert listed.retired() == 1
    listed.file_posts = (B,)  # the file no longer lists A: not counted here
    assert listed.retired() == 0
    assert listed.source is not None and listed.source.endswith(":/srv/team.yaml")


def test_retirement_cutoffs_with_zero_for_never() -> None:
    assert Retirement().cutoffs(10 * 86400.0) == (9 * 86400.0, 3 * 86400.0)
    assert Retirement(0.0, 60.0).cutoffs(100.0) == (None, 40.0)
    assert Retirement(60.0, 0.0).cutoffs(100.0) == (40.0, None)
