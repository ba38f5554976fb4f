"""The team's watchlist in the store, on SQLite and a real PostgreSQL server: the same on both."""

from __future__ import annotations

from tests.store.test_store_contract import HOUR, SCOPE, Backend, backend, move
from tests.support.pgserver import pg_server
from wahdx_tui.core.domain.model import PostKey, State, WatchedPost
from wahdx_tui.core.store.protocol import AddCounts, Origin, Store

__all__ = ["backend", "pg_server"]  # the fixtures, imported so pytest finds them here

A: PostKey = ("acc_tiktok_main", "v_pub_1")
B: PostKey = ("acc_ig_brand", "ig_pub_2")
C: PostKey = ("acc_ig_brand", "ig_pub_3")
FILE = "file host:/etc/wahdx/watch.yaml"


def post(key: PostKey, label: str = "", media: str | None = None) -> WatchedPost:
    return WatchedPost(key[0], key[1], media, label)


def listed(store: Store, *, retired: bool = False) -> dict[PostKey, tuple[str, str, str]]:
    """Each post on the list: (label, source, status)."""
    return {
        e.key: (e.post.label, e.source, e.status)
        for e in store.listed_posts(SCOPE, retired=retired)
    }


def test_add_is_idempotent_and_updates_labels(backend: Backend) -> None:
    store = backend.open()
    first = store.add_watched(
        SCOPE, [post(A, "Teaser", "video"), post(B)], Origin("add", "sam@h1"), 100.0
    )
    assert first == AddCounts(added=2)
    assert store.add_watched(
        SCOPE, [post(A, "Teaser"), post(B)], Origin("add", "kim@h2")
    ) == AddCounts(unchanged=2)
    again = store.add_watched(SCOPE, [post(A, "Teaser v2"), post(C)], Origin("board", "kim@h2"))
    assert again == AddCounts(added=1, updated=1)
    entries = {e.key: e for e in store.listed_posts(SCOPE)}
    assert list(entries) == [A, B, C]  # in the order added
    a = entries[A]
    assert (a.post.label, a.post.media_type) == ("Teaser v2", "video")  # media type kept
    assert (a.source, a.added_by, a.added_at) == ("add", "sam@h1", 100.0)  # where it came from
    assert (entries[C].source, entries[C].added_by) == ("board", "kim@h2")


def test_a_files_sync_touches_only_that_files_posts(backend: Backend) -> None:
    store = backend.open()
    store.add_watched(SCOPE, [post(A, "from add")], Origin("add", "sam@h1"))
    counts = store.sync_watched(SCOPE, [post(A, "in file"), post(B, "B")], Origin(FILE, "serve@h1"))
    assert counts == AddCounts(added=1, unchanged=1)
    assert listed(store) == {A: ("from add", "add", "listed"), B: ("B", FILE, "listed")}
    # The file drops A and B and lists C: only B (the file's own) leaves; A stays.
    counts = store.sync_watched(SCOPE, [post(C, "C")], Origin(FILE, "serve@h1"))
    assert counts == AddCounts(added=1, removed=1)
    assert listed(store) == {A: ("from add", "add", "listed"), C: ("C", FILE, "listed")}
    # The same file again changes nothing; a label edited in it is taken.
    assert store.sync_watched(SCOPE, [post(C, "C")], Origin(FILE, "serve@h1")) == AddCounts(
        unchanged=1
    )
    assert store.sync_watched(SCOPE, [post(C, "")], Origin(FILE, "x")) == AddCounts(updated=1)
    assert listed(store)[C] == ("", FILE, "listed")


def test_remove_and_retire_then_add_brings_a_post_back(backend: Backend) -> None:
    store = backend.open()
    store.add_watched(SCOPE, [post(A, "a"), post(B, "b"), post(C, "c")], Origin("add", "sam@h1"))
    assert store.remove_watched(SCOPE, [A, ("acc_x", "unknown")]) == 1
    assert store.remove_watched(SCOPE, [A]) == 0  # once only
    assert store.retire_watched(SCOPE, [B], "retired by kim@h2") == 1
    assert listed(store) == {C: ("c", "add", "listed")}
    assert listed(store, retired=True) == {
        B: ("b", "add", "retired"),
        C: ("c", "add", "listed"),
    }
    back = store.add_watched(SCOPE, [post(A), post(B)], Origin("board", "kim@h2"))
    assert back == AddCounts(added=2)
    entries = {e.key: e for e in store.listed_posts(SCOPE)}
    assert set(entries) == {A, B, C}
    assert (entries[B].post.label, entries[B].source) == ("", "board")


def test_finished_posts_retire_but_unacknowledged_failures_stay(backend: Backend) -> None:
    store = backend.open()
    d = 86400.0
    posts = [post(A), post(B), post(C), post(("acc", "late"))]
    store.add_watched(SCOPE, posts, Origin("add", "s"), now=d)  # listed on the first day
    move(store, A, None, State.PUBLISHED, 10 * d)  # published long ago
    move(store, ("acc", "late"), None, State.PUBLISHED, 18 * d - HOUR)  # published an hour ago
    move(store, B, None, State.FAILED, 10 * d)
    move(store, C, None, State.FAILED, 10 * d)
    store.set_ack(SCOPE, B, "re-posted by hand", 10 * d + HOUR)  # C nobody acknowledged
    now = 18 * d  # the acknowledgement is 8 days less an hour old
    retired = store.retire_finished(SCOPE, now - d, now - 7 * d, now=now)
    assert sorted(retired) == sorted([A, B])
    assert set(listed(store)) == {C, ("acc", "late")}
    why = {e.key: e.why for e in store.listed_posts(SCOPE, retired=True)}
    assert (why[A], why[B]) == ("published", "acknowledged failure")
    assert store.retire_finished(SCOPE, now - d, now - 7 * d, now=now) == []
    assert store.retire_finished(SCOPE, None, None, now=100 * d) == []  # both turned off
    # Retired posts keep their history, and `add` brings them back.
    assert store.last_posts(SCOPE)[A].state is State.PUBLISHED
    assert store.add_watched(SCOPE, [post(A)], Origin("add", "s"), now=now) == AddCounts(added=1)
    # Brought back, it stays for retire_published_after from then, not until the next look.
    assert store.retire_finished(SCOPE, now - d, now - 7 * d, now=now + HOUR) == []
    assert sorted(store.retire_finished(SCOPE, now + HOUR, None, now=now + d + HOUR)) == sorted(
        [A, ("acc", "late")]
    )


def test_the_change_feed_carries_the_list(backend: Backend) -> None:
    writer, reader = backend.open(), backend.open()
    reader.wait_for_change(0)  # the first call
    cursor = reader.cursor(SCOPE)
    writer.add_watched(SCOPE, [post(A, "a"), post(B, "b")], Origin("add", "sam@h1"))
    assert reader.wait_for_change(10.0)
    feed = reader.changes_since(SCOPE, cursor)
    assert {k: e.status for k, e in feed.listed.items()} == {A: "listed", B: "listed"}
    writer.retire_watched(SCOPE, [A], "by sam")
    writer.remove_watched(SCOPE, [B])
    feed = reader.changes_since(SCOPE, feed.cursor)
    assert {k: e.status for k, e in feed.listed.items()} == {A: "retired", B: "removed"}
    unchanged = reader.cursor(SCOPE)
    writer.add_watched(SCOPE, [post(("acc_x", "x"))], Origin("add", "s"))
    writer.remove_watched(SCOPE, [("acc_nope", "nope")])  # nothing: no revision taken
    writer.add_watched(SCOPE, [post(("acc_x", "x"))], Origin("add", "s"))
    assert reader.cursor(SCOPE) == unchanged + 1


def test_prune_forgets_by_age_too(backend: Backend) -> None:
    store = backend.open()
    for i in range(5):
        move(store, (f"acc_{i}", "p"), None, State.QUEUED, 1000.0 + i * HOUR)
    store.add_watched(SCOPE, [post(A), post(B)], Origin("add", "s"), now=0.0)
    store.remove_watched(SCOPE, [A], now=500.0)
    store.remove_watched(SCOPE, [B], now=1000.0 + 4 * HOUR)
    assert store.prune(SCOPE, keep_events=100, older_than=1000.0 + 2 * HOUR) == 2
    assert len(store.events(SCOPE)) == 3
    feed = store.changes_since(SCOPE, 0)
    assert set(feed.listed) == {B}  # A was removed before the cut, and is forgotten


def test_ten_thousand_posts_are_one_add(backend: Backend) -> None:
    store = backend.open()
    posts = [WatchedPost(f"acc_{i % 40}", f"pub_{i}", "video", f"Post {i}") for i in range(10_000)]
    before = store.cursor(SCOPE)
    assert store.add_watched(SCOPE, posts, Origin("add --from", "s")) == AddCounts(added=10_000)
    assert store.cursor(SCOPE) == before + 1
    assert store.add_watched(SCOPE, posts, Origin("add --from", "s")) == AddCounts(unchanged=10_000)
    assert len(store.listed_posts(SCOPE)) == 10_000


def test_last_posts_of_some_posts_only(backend: Backend) -> None:
    store = backend.open()
    for i, key in enumerate((A, B, C)):
        move(store, key, None, State.QUEUED, 100.0 + i)
    assert set(store.last_posts(SCOPE, [A, C, ("acc_nope", "x")])) == {A, C}
    assert store.last_posts(SCOPE, []) == {}
    assert set(store.last_posts(SCOPE)) == {A, B, C}
