"""The accounts aggregate (core, no Textual): counts, worst first, sorts, filter, incremental
updates from the board's changed rows, platforms, and inert hostile account ids."""

from __future__ import annotations

import random

import pytest

from wahdx_tui.core.board.accounts import (
    ACCOUNT_SORT_COLUMNS,
    AccountRow,
    Accounts,
    platform_from_name,
    platform_from_url,
)
from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.categories import Category
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.sim.faults import HOSTILE_PAYLOADS

NOW = 1_732_800_000.0


def status(
    key: PostKey, state: State, *, error: str | None = None, url: str | None = None
) -> PostStatus:
    return PostStatus(key, state, state.value, url, error, NOW)


def posts() -> list[WatchedPost]:
    return [
        *(WatchedPost("acc_tiktok_main", f"tt{i}") for i in range(4)),
        *(WatchedPost("acc_brand", f"ig{i}") for i in range(3)),
        *(WatchedPost("acc_threads_news", f"th{i}") for i in range(2)),
        WatchedPost("acc_quiet", "q0"),
    ]


def board_with_a_morning() -> Board:
    board = Board(posts())
    board.apply(
        [
            status(("acc_tiktok_main", "tt0"), State.FAILED, error="access token expired"),
            status(("acc_tiktok_main", "tt1"), State.FAILED, error="access token expired"),
            status(("acc_tiktok_main", "tt2"), State.FAILED, error="caption over 2200 characters"),
            status(
                ("acc_tiktok_main", "tt3"), State.PUBLISHED, url="https://www.tiktok.com/@m/v/3"
            ),
            status(
                ("acc_brand", "ig0"),
                State.FAILED,
                error="unsupported aspect ratio: must be between 4:5 and 1.91:1",
            ),
            status(("acc_brand", "ig1"), State.PUBLISHED, url="https://www.instagram.com/p/ig1/"),
            status(("acc_brand", "ig2"), State.PROCESSING),
            status(("acc_threads_news", "th0"), State.PROCESSING),
            status(("acc_threads_news", "th1"), State.QUEUED),
            status(("acc_quiet", "q0"), State.PUBLISHED),
        ],
        now=NOW,
    )
    board.set_flags(("acc_threads_news", "th0"), stuck=True)
    return board


def view(accounts: Accounts) -> list[str]:
    return [accounts.row_at(i).account_id for i in range(len(accounts))]


def snapshot(accounts: Accounts) -> list[tuple[object, ...]]:
    """Everything an account row shows, in view order."""
    out = []
    for i in range(len(accounts)):
        a = accounts.row_at(i)
        out.append(
            (
                a.account_id,
                a.account,
                a.platform,
                a.posts,
                dict(a.counts),
                a.unreviewed,
                a.stuck,
                a.category,
                a.reason,
                a.category_count,
                a.haystack,
            )
        )
    return out


def test_one_row_per_account_with_counts_reviews_stuck_and_the_top_reason() -> None:
    accounts = Accounts(board_with_a_morning().rows.values())
    tiktok = accounts.rows["acc_tiktok_main"]
    assert tiktok.posts == 4
    assert (tiktok.failed, tiktok.count(State.PUBLISHED)) == (3, 1)
    assert tiktok.unreviewed == 3
    assert tiktok.category is Category.ACCOUNT and tiktok.category_count == 2
    assert tiktok.reason == "access token expired"
    brand = accounts.rows["acc_brand"]
    assert brand.category is Category.MEDIA
    assert brand.reason.startswith("unsupported aspect ratio")
    threads = accounts.rows["acc_threads_news"]
    assert (threads.stuck, threads.failed, threads.category, threads.reason) == (1, 0, None, "")
    assert len(accounts) == 4


def test_worst_first_unreviewed_then_stuck_then_failed() -> None:
    board = board_with_a_morning()
    accounts = Accounts(board.rows.values())
    assert view(accounts) == ["acc_tiktok_main", "acc_brand", "acc_threads_news", "acc_quiet"]
    # acknowledge every tiktok failure: fewer unreviewed than the brand's one, and failed
    # counts only after unreviewed and stuck
    for i in range(3):
        row = board.set_flags(("acc_tiktok_main", f"tt{i}"), acked=True)
        assert row is not None
        accounts.update([row])
    assert accounts.rows["acc_tiktok_main"].unreviewed == 0
    assert view(accounts) == ["acc_brand", "acc_threads_news", "acc_tiktok_main", "acc_quiet"]


@pytest.mark.parametrize("column", ACCOUNT_SORT_COLUMNS)
def test_every_column_sorts_both_ways(column: str) -> None:
    accounts = Accounts(board_with_a_morning().rows.values())
    accounts.set_sort(column, reverse=False)
    forward = view(accounts)
    accounts.set_sort(column, reverse=True)
    assert view(accounts) == forward[::-1]
    assert sorted(forward) == sorted(accounts.rows)
    if column == "account":
        assert forward == sorted(forward)
    if column == "posts":
        assert forward[0] == "acc_tiktok_main"  # most posts first
    if column == "platform":  # by name, and an account of no known platform last
        shown = [accounts.rows[a].platform for a in forward]
        assert shown == ["instagram", "threads", "tiktok", ""]


def test_a_text_filter_matches_account_platform_and_reason() -> None:
    accounts = Accounts(board_with_a_morning().rows.values())
    accounts.set_text_filter("ASPECT")
    assert view(accounts) == ["acc_brand"]
    accounts.set_text_filter("threads")
    assert view(accounts) == ["acc_threads_news"]
    accounts.set_text_filter("token")  # the category's words too
    assert view(accounts) == ["acc_tiktok_main"]
    accounts.set_text_filter("no such thing")
    assert len(accounts) == 0
    assert accounts.index_of("acc_brand") is None
    accounts.set_text_filter("")
    assert len(accounts) == 4


def test_the_platform_comes_from_public_urls_else_from_the_account_name() -> None:
    accounts = Accounts(board_with_a_morning().rows.values())
    assert accounts.rows["acc_tiktok_main"].platform == "tiktok"
    assert accounts.rows["acc_brand"].platform == "instagram"  # only its URL says so
    assert accounts.rows["acc_threads_news"].platform == "threads"  # no URL: the name
    assert accounts.rows["acc_quiet"].platform == ""  # neither


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.tiktok.com/@shop/video/1", "tiktok"),
        ("https://vm.tiktok.com/x", "tiktok"),
        ("https://www.instagram.com/p/abc/", "instagram"),
        ("https://www.threads.net/@news/post/1", "threads"),
        ("https://m.facebook.com/store/posts/1", "facebook"),
        ("https://fb.watch/abc", "facebook"),
        ("https://tiktok.com.evil.example/x", None),
        ("https://eviltiktok.com/x", None),
        ("https://example.com/?u=https://www.tiktok.com/", None),
        ("https://[::1/", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_platform_from_url_reads_the_host_only(url: str | None, platform: str | None) -> None:
    assert platform_from_url(url) == platform


def test_platform_from_name() -> None:
    assert platform_from_name("acc_TikTok_main") == "tiktok"
    assert platform_from_name("ig_brand") == "instagram"
    assert platform_from_name("fb-store") == "facebook"
    assert platform_from_name("bigfoot") is None  # "ig" and "fb" only as words


def test_updates_are_incremental_and_agree_with_a_rebuild() -> None:
    """Random passes: after each, feeding only the changed rows gives what a rebuild gives,
    without sorting every account again, and touches only the accounts of those rows."""
    rng = random.Random(14)
    many = [WatchedPost(f"acc_{a:03d}", f"p{i}") for a in range(60) for i in range(5)]
    board = Board(many)
    accounts = Accounts(board.rows.values())
    sorts = accounts.stats.full_sorts
    errors = ["access token expired", "unsupported aspect ratio", "rate limited", "caption over"]
    for column in ("unreviewed", "failed", "reason", "platform", "published"):
        accounts.set_sort(column, reverse=rng.random() < 0.5)
        sorts = accounts.stats.full_sorts
        for _ in range(8):
            picked = rng.sample(many, 12)
            statuses = []
            for post in picked:
                state = rng.choice(list(State))
                url = (
                    f"https://www.instagram.com/p/{post.publish_id}/"
                    if rng.random() < 0.3
                    else None
                )
                statuses.append(
                    status(
                        post.key,
                        state,
                        error=rng.choice(errors) if state is State.FAILED else None,
                        url=url if state is State.PUBLISHED else None,
                    )
                )
            changes = board.apply(statuses, now=NOW)
            result = accounts.update(board.rows[k] for k in changes.changed)
            assert set(result.changed) <= {k[0] for k in changes.changed}
            flagged = rng.choice(many).key
            row = board.set_flags(flagged, acked=True, stuck=rng.random() < 0.5)
            assert row is not None
            accounts.update([row])
            fresh = Accounts(board.rows.values(), sort=column, reverse=accounts.reverse)
            assert snapshot(accounts) == snapshot(fresh)
        assert accounts.stats.full_sorts == sorts  # no pass sorted every account again


def test_unchanged_rows_touch_nothing() -> None:
    board = board_with_a_morning()
    accounts = Accounts(board.rows.values())
    changes = accounts.update(board.rows.values())
    assert changes.changed == [] and not changes.reordered


def test_a_filtered_view_follows_updates() -> None:
    board = board_with_a_morning()
    accounts = Accounts(board.rows.values())
    accounts.set_text_filter("aspect")
    assert view(accounts) == ["acc_brand"]
    # the brand's failure is re-published: its reason leaves it, and so does the filter match
    changes = board.apply([status(("acc_brand", "ig0"), State.PUBLISHED)], now=NOW)
    accounts.update(board.rows[k] for k in changes.changed)
    assert view(accounts) == []
    # the quiet account fails with that reason: it comes into the filtered view
    changes = board.apply(
        [status(("acc_quiet", "q0"), State.FAILED, error="unsupported aspect ratio: 9:16")],
        now=NOW,
    )
    accounts.update(board.rows[k] for k in changes.changed)
    assert view(accounts) == ["acc_quiet"]


def test_removed_posts_leave_and_an_empty_account_goes() -> None:
    board = board_with_a_morning()
    accounts = Accounts(board.rows.values())
    gone = [("acc_quiet", "q0"), ("acc_brand", "ig0")]
    changes = accounts.remove(gone)
    assert set(changes.changed) == {"acc_quiet", "acc_brand"}
    assert "acc_quiet" not in accounts.rows
    assert accounts.rows["acc_brand"].posts == 2
    assert accounts.rows["acc_brand"].category is None
    assert view(accounts) == ["acc_tiktok_main", "acc_threads_news", "acc_brand"]
    assert accounts.remove(gone).changed == []  # twice is harmless


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS)
def test_hostile_account_ids_are_inert(payload: str) -> None:
    account_id = f"acc_{payload}_x"
    board = Board([WatchedPost(account_id, "p1")])
    board.apply([status((account_id, "p1"), State.FAILED, error=f"token {payload}")], now=NOW)
    accounts = Accounts(board.rows.values())
    row: AccountRow = accounts.rows[account_id]  # the raw id, for an exact posts filter
    for text in (row.account, row.reason, row.haystack):
        assert text.isprintable() or "…" in text
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert len(row.account) <= 256
