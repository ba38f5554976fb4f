"""The store contract, run against SQLite and a real PostgreSQL server: same behaviour on both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer, pg_server
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, Transition
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import REFRESH_KEEP, LeaseHolder, Store, StoreError

__all__ = ["pg_server"]  # the session fixture, imported so pytest finds it here

SCOPE = "https://api.wahdx.com"
OTHER = "https://staging.wahdx.com"
K1: PostKey = ("acc_tiktok_main", "v_pub_1")
K2: PostKey = ("acc_ig_brand", "ig_pub_2")
K3: PostKey = ("acc_ig_brand", "ig_pub_3")
HOUR = 3600.0


@dataclass
class Backend:
    """One store to test: how to open more connections to it, and its server if any."""

    kind: str
    url: str
    server: PgServer | None = None
    opened: list[Store] = field(default_factory=list)

    def open(self, **kw: object) -> Store:
        store = open_store(self.url, **kw)  # type: ignore[arg-type]
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    server: PgServer | None = None
    if request.param == "sqlite":
        made = Backend("sqlite", str(tmp_path / "state" / "history.sqlite3"))
    else:
        server = request.getfixturevalue("pg_server")
        name = server.create_database()
        made = Backend("postgres", server.url(name), server)
    try:
        yield made
    finally:
        for store in made.opened:
            store.close()
        if server is not None:
            server.drop_database(name)


def st(key: PostKey, state: State, t: float, error: str | None = None) -> PostStatus:
    url = "https://example.com/p" if state is State.PUBLISHED else None
    return PostStatus(key, state, state.value.upper(), url, error, t, {"status": state.value})


def move(store: Store, key: PostKey, old: State | None, new: State, t: float) -> None:
    error = "token expired" if new is State.FAILED else None
    store.record(SCOPE, [st(key, new, t, error)], [Transition(key, old, new, t)])


def wait_until(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Wait for a condition, looking every 20 ms, failing after a generous bound."""
    deadline = time.monotonic() + limit
    pause = threading.Event()
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        pause.wait(0.02)


# -- the history, as today ------------------------------------------------------------------


def test_history_reads_back_what_was_written(backend: Backend) -> None:
    store = backend.open()
    store.record(
        SCOPE, [st(K1, State.FAILED, 100.0, "a")], [Transition(K1, None, State.FAILED, 90.0)]
    )
    store.record(SCOPE, [st(K1, State.FAILED, 130.0, "b")], [])  # payload only: since kept
    move(store, K2, None, State.QUEUED, 101.0)
    move(store, K2, State.QUEUED, State.PUBLISHED, 160.0)
    last = store.last_posts(SCOPE)
    assert (last[K1].error, last[K1].checked_at, last[K1].since) == ("b", 130.0, 90.0)
    assert last[K2].public_url == "https://example.com/p"
    assert last[K2].raw == {"status": "published"}
    assert [t.new for t in store.trail(SCOPE, K2)] == [State.QUEUED, State.PUBLISHED]
    assert [(t.key, t.at) for t in store.events(SCOPE)] == [(K2, 160.0), (K2, 101.0), (K1, 90.0)]
    assert store.last_posts(OTHER) == {} and store.events(OTHER) == []
    assert store.scopes() == [SCOPE]
    # a transition without a payload still moves since; odd text is stored
    store.record(SCOPE, [], [Transition(K2, State.PUBLISHED, State.FAILED, 200.0)])
    assert store.last_posts(SCOPE)[K2].since == 200.0
    odd = ("acc\ud800", "pub|\x1b[31m")
    store.record(
        SCOPE, [st(odd, State.FAILED, 5.0, "bad \udfff text\x00end")], []
    )  # NUL and a lone surrogate
    error = next(p.error for k, p in store.last_posts(SCOPE).items() if k[1] == odd[1])
    assert error is not None and error.startswith("bad ") and error.endswith("end")


def test_a_transition_written_twice_is_stored_once(backend: Backend) -> None:
    store = backend.open()
    for _ in range(2):  # as a retried write after an unclear commit would
        move(store, K1, None, State.QUEUED, 100.0)
    assert len(store.events(SCOPE)) == 1


def test_acks_are_kept_until_a_new_failure(backend: Backend) -> None:
    store = backend.open()
    move(store, K1, None, State.FAILED, 100.0)
    store.set_ack(SCOPE, K1, "reconnecting the account", 120.0)
    assert store.acks(SCOPE)[K1] == Ack(K1, "reconnecting the account", 120.0)
    move(store, K1, State.FAILED, State.QUEUED, 200.0)
    assert K1 in store.acks(SCOPE)
    move(store, K1, State.QUEUED, State.FAILED, 260.0)
    assert K1 not in store.acks(SCOPE)
    store.set_ack(SCOPE, K1, "", 300.0)
    store.clear_ack(SCOPE, K1)
    store.clear_ack(SCOPE, K1)
    store.clear_ack(OTHER, K1)
    assert store.acks(SCOPE) == {}


def test_an_ack_keeps_who_wrote_it_and_the_last_write_wins(backend: Backend) -> None:
    store = backend.open()
    board = backend.open()  # another board, on a connection of its own
    move(store, K1, None, State.FAILED, 100.0)
    store.set_ack(SCOPE, K1, "page token: Sam on it", 120.0, since=100.0, by="ana@host-a")
    seen = board.changes_since(SCOPE, 0)
    assert seen.acks[K1] == Ack(K1, "page token: Sam on it", 120.0, "ana@host-a")
    board.set_ack(SCOPE, K1, "Ben: calling the client", 130.0, since=100.0, by="ben@host-b")
    # one acknowledgement per post, the last one written: the feed carries the new note
    assert store.acks(SCOPE) == {K1: Ack(K1, "Ben: calling the client", 130.0, "ben@host-b")}
    later = store.changes_since(SCOPE, seen.cursor)
    assert later.acks == {K1: Ack(K1, "Ben: calling the client", 130.0, "ben@host-b")}


def test_posts_and_acks_are_read_for_the_keys_asked(backend: Backend) -> None:
    store = backend.open()
    move(store, K1, None, State.FAILED, 100.0)
    move(store, K2, None, State.QUEUED, 101.0)
    move(store, K3, None, State.FAILED, 102.0)
    store.set_ack(SCOPE, K1, "on it", 110.0, by="ana@host-a")
    store.set_ack(SCOPE, K3, "also", 111.0)
    never = ("acc_never", "seen")
    some = store.last_posts(SCOPE, [K1, K2, never])
    assert set(some) == {K1, K2} and some[K1].state is State.FAILED
    assert some[K2] == store.last_posts(SCOPE)[K2]
    assert store.acks(SCOPE, [K1, K2, never]) == {K1: Ack(K1, "on it", 110.0, "ana@host-a")}
    assert store.last_posts(SCOPE, []) == {} and store.acks(SCOPE, []) == {}
    assert store.last_posts(OTHER, [K1]) == {} and store.acks(OTHER, [K1]) == {}
    odd = ("acc\ud800", "pub|\x1b[31m")  # keys stored cleaned are found by the same keys
    store.record(SCOPE, [st(odd, State.QUEUED, 5.0)], [])
    assert len(store.last_posts(SCOPE, [odd])) == 1


def test_prune_keeps_the_newest_events_of_the_scope(backend: Backend) -> None:
    store = backend.open()
    for i in range(30):
        state = State.QUEUED if i % 2 else State.PROCESSING
        store.record(SCOPE, [st(K1, state, float(i))], [Transition(K1, None, state, float(i))])
    move(store, K2, None, State.QUEUED, 1.0)
    assert store.prune(SCOPE, keep_events=10) == 21
    assert [t.at for t in store.events(SCOPE)][-1] == 20.0
    assert store.prune("https://never.seen") == 0


# -- the change feed ------------------------------------------------------------------------


def test_change_feed_gives_everything_after_a_cursor(backend: Backend) -> None:
    store = backend.open()
    assert store.changes_since(SCOPE, 0).cursor == 0
    move(store, K1, None, State.FAILED, 100.0)
    move(store, K2, None, State.QUEUED, 101.0)
    store.set_ack(SCOPE, K1, "on it", 110.0)
    everything = store.changes_since(SCOPE, 0)
    assert set(everything.posts) == {K1, K2}
    assert everything.acks == {K1: Ack(K1, "on it", 110.0)}
    assert [(t.key, t.new) for t in everything.transitions] == [
        (K1, State.FAILED),
        (K2, State.QUEUED),
    ]
    cursor = everything.cursor
    assert cursor == store.cursor(SCOPE) > 0
    nothing = store.changes_since(SCOPE, cursor)
    assert nothing.empty and nothing.cursor == cursor and not nothing.reset

    move(store, K2, State.QUEUED, State.PUBLISHED, 150.0)
    later = store.changes_since(SCOPE, cursor)
    assert set(later.posts) == {K2} and later.posts[K2].state is State.PUBLISHED
    assert [t.new for t in later.transitions] == [State.PUBLISHED]
    assert later.acks == {} and later.cursor > cursor

    store.clear_ack(SCOPE, K1)
    cleared = store.changes_since(SCOPE, later.cursor)
    assert cleared.acks == {K1: None} and cleared.posts == {}
    store.set_ack(SCOPE, K1, "again", 160.0)
    move(store, K1, State.FAILED, State.QUEUED, 170.0)
    move(store, K1, State.QUEUED, State.FAILED, 180.0)  # a new failure withdraws the ack
    reopened = store.changes_since(SCOPE, cleared.cursor)
    assert reopened.acks == {K1: None}
    assert [t.new for t in reopened.transitions] == [State.QUEUED, State.FAILED]
    assert store.changes_since(OTHER, 0).empty


def test_change_feed_catches_up_after_a_reconnect(backend: Backend) -> None:
    writer = backend.open()
    board = backend.open()
    move(writer, K1, None, State.QUEUED, 100.0)
    seen = board.changes_since(SCOPE, 0)
    board.close()  # the board's connection goes away; the poller keeps writing
    move(writer, K1, State.QUEUED, State.FAILED, 120.0)
    writer.set_ack(SCOPE, K1, "while you were away", 125.0)
    move(writer, K2, None, State.PUBLISHED, 130.0)
    board = backend.open()
    caught = board.changes_since(SCOPE, seen.cursor)
    assert set(caught.posts) == {K1, K2}
    assert caught.posts[K1].state is State.FAILED
    assert caught.acks[K1] == Ack(K1, "while you were away", 125.0)
    assert [t.at for t in caught.transitions] == [120.0, 130.0]
    # a cursor from another history (a replaced store) reads as a reset: everything
    reset = board.changes_since(SCOPE, caught.cursor + 1000)
    assert reset.reset and set(reset.posts) == {K1, K2}


def test_a_reader_never_sees_half_a_pass(backend: Backend) -> None:
    writer = backend.open()
    reader = backend.open()
    sizes: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        cursor = 0
        while not stop.is_set():
            changes = reader.changes_since(SCOPE, cursor)
            if not changes.empty:
                sizes.add(len(changes.posts))
                cursor = changes.cursor

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        for n in range(3):
            changed = [st(("acc", f"p{i}"), State.QUEUED, float(n)) for i in range(2000)]
            writer.record(
                SCOPE, changed, [Transition(c.key, None, State.QUEUED, n) for c in changed]
            )
    finally:
        stop.set()
        thread.join(30)
    assert sizes <= {2000}


def test_wait_for_change_hears_another_connection(backend: Backend) -> None:
    writer = backend.open()
    board = backend.open()
    assert board.wait_for_change(0.0)  # the first call: nothing is known yet
    assert not board.wait_for_change(0.3)  # nothing written
    heard = threading.Event()

    def listen() -> None:
        if board.wait_for_change(30.0):
            heard.set()

    thread = threading.Thread(target=listen)
    thread.start()
    writer.set_ack(SCOPE, K1, "seen by the other board", 10.0)
    thread.join(40)
    assert heard.is_set()
    assert board.changes_since(SCOPE, 0).acks[K1] is not None
    board.close()
    with pytest.raises(StoreError, match="closed"):
        board.wait_for_change(0.1)


# -- the poller lease -----------------------------------------------------------------------


def test_lease_taken_refused_renewed_and_taken_over_after_expiry(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    alpha = LeaseHolder("alpha-1", "host-a", 111)
    beta = LeaseHolder("beta-2", "host-b", 222)
    assert first.lease_info("poller") is None
    assert first.try_lease("poller", alpha, ttl=1.0)
    assert not second.try_lease("poller", beta, ttl=1.0)
    assert first.try_lease("poller", alpha, ttl=1.0)  # renewed
    info = second.lease_info("poller")
    assert info is not None and (info.holder_id, info.host, info.pid) == ("alpha-1", "host-a", 111)
    assert not info.expired and info.expires_at > info.renewed_at
    assert second.try_lease("other-watchlist", beta, ttl=30.0)  # leases are per name
    # alpha stops renewing (its host died): beta takes over once it has expired
    wait_until(lambda: second.try_lease("poller", beta, ttl=30.0), "the lease to expire")
    assert not first.try_lease("poller", alpha, ttl=30.0)
    taken = first.lease_info("poller")
    assert taken is not None and taken.holder_id == "beta-2" and not taken.expired
    first.release_lease("poller", "alpha-1")  # not alpha's any more: nothing happens
    assert not second.lease_info("poller").expired  # type: ignore[union-attr]
    second.release_lease("poller", "beta-2")
    released = first.lease_info("poller")
    assert released is not None and released.expired
    assert first.try_lease("poller", alpha, ttl=30.0)  # free again at once


def test_a_lease_renew_that_cannot_reach_the_store_raises(backend: Backend) -> None:
    store = backend.open()
    holder = LeaseHolder("h", "host", 1)
    assert store.try_lease("poller", holder, ttl=30.0)
    if backend.server is None:
        store.close()
        with pytest.raises(StoreError):
            store.try_lease("poller", holder, ttl=30.0)
        return
    backend.server.stop()
    try:
        with pytest.raises(StoreError):
            store.try_lease("poller", holder, ttl=30.0)
    finally:
        backend.server.start()


# -- refresh requests -----------------------------------------------------------------------


def test_refresh_requests_reach_the_poller_in_order_and_stay_bounded(backend: Backend) -> None:
    board, poller = backend.open(), backend.open()
    assert poller.take_refresh_requests(SCOPE, 0) == []
    everything = board.request_refresh(SCOPE, None, "board-1")
    some = board.request_refresh(SCOPE, [K1, K2], "board-2")
    board.request_refresh(OTHER, None, "board-3")
    taken = poller.take_refresh_requests(SCOPE, 0)
    assert [(r.id, r.keys, r.requester) for r in taken] == [
        (everything, None, "board-1"),
        (some, (K1, K2), "board-2"),
    ]
    assert some > everything and taken[0].at > 0
    assert poller.take_refresh_requests(SCOPE, some) == []
    for i in range(REFRESH_KEEP + 5):
        last = board.request_refresh(SCOPE, [("acc", f"p{i}")], "busy board")
    kept = poller.take_refresh_requests(SCOPE, 0)
    assert len(kept) <= REFRESH_KEEP and kept[-1].id == last
    assert board.request_refresh(SCOPE, None, "board-1") > last  # ids never go back


# -- boards and the posts they watch ----------------------------------------------------------


def test_the_poller_polls_the_union_of_live_boards_posts(backend: Backend) -> None:
    store = backend.open()
    a = [WatchedPost(*K1, "video", "Launch teaser"), WatchedPost(*K2, "photo", "Brand shot")]
    b = [WatchedPost(*K2, "photo", "Brand shot"), WatchedPost(*K3, None, "Story")]
    store.register_board(SCOPE, "board-a", "jump-1", a, now=1000.0)
    store.register_board(SCOPE, "board-b", "laptop-2", b, now=1001.0)
    union = store.watched_posts(SCOPE, alive_within=30.0, now=1010.0)
    assert [(p.key, p.media_type, p.label) for p in union] == [
        (K1, "video", "Launch teaser"),
        (K2, "photo", "Brand shot"),
        (K3, None, "Story"),
    ]
    infos = store.boards(SCOPE, alive_within=30.0, now=1010.0)
    assert [(i.board_id, i.host, i.registered_at) for i in infos] == [
        ("board-a", "jump-1", 1000.0),
        ("board-b", "laptop-2", 1001.0),
    ]
    # board-a stops its heartbeat; board-b keeps going
    assert store.heartbeat_board("board-b", now=1040.0)
    assert [p.key for p in store.watched_posts(SCOPE, 30.0, now=1045.0)] == [K2, K3]
    assert [i.board_id for i in store.boards(SCOPE, 30.0, now=1045.0)] == ["board-b"]
    # a board re-registering replaces its set; unregistering forgets it
    store.register_board(SCOPE, "board-b", "laptop-2", [WatchedPost(*K3)], now=1050.0)
    assert [p.key for p in store.watched_posts(SCOPE, 30.0, now=1051.0)] == [K3]
    store.unregister_board("board-b")
    assert store.watched_posts(SCOPE, 30.0, now=1051.0) == []
    assert not store.heartbeat_board("board-b", now=1052.0)
    assert store.watched_posts(OTHER, 30.0) == []
    # the store's own clock when none is given
    store.register_board(SCOPE, "board-c", "wall", a)
    assert [p.key for p in store.watched_posts(SCOPE, 60.0)] == [K1, K2]


# -- failures per hour ----------------------------------------------------------------------


def test_failures_per_hour(backend: Backend) -> None:
    store = backend.open()
    t0 = 1_700_000_000.0
    fails = [(K1, t0 + 10), (K2, t0 + 20), (K1, t0 + HOUR + 5), (K3, t0 + 3 * HOUR + 1)]
    for i, (key, at) in enumerate(fails):
        store.record(SCOPE, [], [Transition(key, State.PROCESSING, State.FAILED, at)])
        store.record(SCOPE, [], [Transition(key, State.FAILED, State.QUEUED, at + 1 + i)])
    store.record(OTHER, [], [Transition(K1, None, State.FAILED, t0 + 30)])
    assert store.failures_per_hour(SCOPE, t0, t0 + 4 * HOUR) == [2, 1, 0, 1]
    assert store.failures_per_hour(SCOPE, t0, t0 + 4 * HOUR, account=K1[0]) == [1, 1, 0, 0]
    assert store.failures_per_hour(SCOPE, t0 + HOUR, t0 + 2.5 * HOUR) == [1, 0]
    assert store.failures_per_hour("https://never.seen", t0, t0 + HOUR) == [0]
    assert store.failures_per_hour(SCOPE, t0, t0) == []


# -- bulk writes ----------------------------------------------------------------------------


def test_ten_thousand_changes_are_one_transaction(backend: Backend) -> None:
    store, reader = backend.open(), backend.open()
    before = reader.cursor(SCOPE)
    changed = [
        PostStatus(("acc", f"pub_{i:05d}"), State.FAILED, "FAILED", None, "boom", 5.0, {"i": i})
        for i in range(10_000)
    ]
    transitions = [Transition(c.key, State.PROCESSING, State.FAILED, 5.0) for c in changed]
    store.record(SCOPE, changed, transitions)
    changes = reader.changes_since(SCOPE, before)
    assert changes.cursor == before + 1  # one revision: one transaction
    assert len(changes.posts) == 10_000 and len(changes.transitions) == 10_000
    assert reader.failures_per_hour(SCOPE, 0.0, HOUR) == [10_000]


# -- processes: two writers, and kill -9 ------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from wahdx_tui.core.domain.model import PostStatus, State
    from wahdx_tui.core.store.protocol import Transition
    from wahdx_tui.core.store.backend import open_store

    url, name, count, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = open_store(url)
    for i in range(count):
        keys = [(name, f"p{i}_{j}") for j in range(per)]
        store.record(
            "https://api.wahdx.com",
            [PostStatus(k, State.QUEUED, "QUEUED", None, None, float(i)) for k in keys],
            [Transition(k, None, State.QUEUED, float(i)) for k in keys],
        )
        print(i, flush=True)
    store.close()
    """
)


def _writer(url: str, name: str, count: int, per: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, name, str(count), str(per)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_writer_processes_and_a_reader(backend: Backend) -> None:
    backend.open().close()  # the schema exists first, as when a second board starts
    count, per = 100, 3
    procs = [_writer(backend.url, name, count, per) for name in ("left", "right")]
    reader = backend.open()
    cursor = 0
    seen: dict[PostKey, State] = {}
    while any(p.poll() is None for p in procs):
        changes = reader.changes_since(SCOPE, cursor)
        seen.update({k: p.state for k, p in changes.posts.items()})
        cursor = changes.cursor
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.split() == [str(i) for i in range(count)]
    changes = reader.changes_since(SCOPE, cursor)
    seen.update({k: p.state for k, p in changes.posts.items()})
    assert len(seen) == 2 * count * per  # the feed missed nothing while both wrote
    events = reader.events(SCOPE, limit=1_000_000)
    counts = {name: sum(1 for e in events if e.key[0] == name) for name in ("left", "right")}
    assert counts == {"left": count * per, "right": count * per}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_of_a_writer_loses_nothing_committed(backend: Backend) -> None:
    backend.open().close()
    proc = _writer(backend.url, "victim", 100_000, 5)
    assert proc.stdout is not None
    reported = -1
    for line in proc.stdout:
        reported = int(line)
        if reported >= 150:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    store = backend.open()
    events = store.events(SCOPE, limit=1_000_000)
    committed = {int(e.key[1].split("_")[0][1:]) for e in events}
    assert set(range(reported + 1)) <= committed
    assert committed == set(range(max(committed) + 1))  # whole transactions, no gaps
    per_txn: dict[str, int] = {}
    for e in events:
        txn = e.key[1].split("_")[0]
        per_txn[txn] = per_txn.get(txn, 0) + 1
    assert set(per_txn.values()) == {5}
    feed = store.changes_since(SCOPE, 0)
    assert len(feed.posts) == len(events) == len(feed.transitions)
    move(store, K1, None, State.QUEUED, 1.0)  # and the store still takes writes
