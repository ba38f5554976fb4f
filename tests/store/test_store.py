"""The SQLite history: transitions, restart, acks, scopes, two writers, kill -9, bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.protocol import MAX_RAW_BYTES, StoreError, scope_for
from wahdx_tui.core.store.sqlite.schema import SCHEMA_VERSION
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.url import default_store_path

SCOPE = "https://api.wahdx.com"
K1: PostKey = ("acc_tiktok_main", "v_pub_1")
K2: PostKey = ("acc_ig_brand", "ig_pub_2")
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def st(
    key: PostKey, state: State, t: float, error: str | None = None, raw: object = None
) -> PostStatus:
    url = "https://example.com/p" if state is State.PUBLISHED else None
    return PostStatus(key, state, state.value.upper(), url, error, t, raw)


def move(
    store: SqliteStore, key: PostKey, old: State | None, new: State, t: float, **kw: object
) -> None:
    error = kw.get("error")
    store.record(
        SCOPE,
        [st(key, new, t, error if isinstance(error, str) else None, kw.get("raw"))],
        [Transition(key, old, new, t)],
    )


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite3"


# -- basics ---------------------------------------------------------------------------------


def test_transitions_are_recorded_and_read_back_in_order(path: Path) -> None:
    with SqliteStore(path) as store:
        move(store, K1, None, State.QUEUED, 100.0)
        move(store, K2, None, State.QUEUED, 101.0)
        move(store, K1, State.QUEUED, State.PROCESSING, 160.0)
        move(store, K1, State.PROCESSING, State.FAILED, 220.0, error="token expired")
        trail = store.trail(SCOPE, K1)
        assert [(t.old, t.new, t.at) for t in trail] == [
            (None, State.QUEUED, 100.0),
            (State.QUEUED, State.PROCESSING, 160.0),
            (State.PROCESSING, State.FAILED, 220.0),
        ]
        assert all(t.key == K1 for t in trail)
        assert [t.new for t in store.trail(SCOPE, K1, limit=2)] == [State.PROCESSING, State.FAILED]
        events = store.events(SCOPE)
        assert [(t.key, t.at) for t in events] == [
            (K1, 220.0),
            (K1, 160.0),
            (K2, 101.0),
            (K1, 100.0),
        ]
        assert len(store.events(SCOPE, limit=3)) == 3
        assert store.trail(SCOPE, ("nobody", "nothing")) == []


def test_last_posts_survive_a_restart(path: Path) -> None:
    raw = {"publishId": "v_pub_1", "status": "FAILED", "nested": {"n": [1, 2.5, None, "é"]}}
    with SqliteStore(path) as store:
        move(store, K1, None, State.QUEUED, 100.0)
        move(store, K1, State.QUEUED, State.FAILED, 150.0, error="caption over 2200", raw=raw)
        move(store, K2, None, State.PUBLISHED, 120.0)
    with SqliteStore(path) as store:
        last = store.last_posts(SCOPE)
        assert set(last) == {K1, K2}
        p = last[K1]
        assert (p.state, p.raw_status, p.error, p.checked_at, p.since) == (
            State.FAILED,
            "FAILED",
            "caption over 2200",
            150.0,
            150.0,
        )
        assert p.raw == raw
        assert last[K2].public_url == "https://example.com/p"
        assert len(store.events(SCOPE)) == 3


def test_since_is_the_latest_transition_and_survives_payload_only_changes(path: Path) -> None:
    with SqliteStore(path) as store:
        # the API said the post failed at 90 although we saw it at 100
        store.record(
            SCOPE, [st(K1, State.FAILED, 100.0, "a")], [Transition(K1, None, State.FAILED, 90.0)]
        )
        assert store.last_posts(SCOPE)[K1].since == 90.0
        # a new error text, same state: no transition, since is kept
        store.record(SCOPE, [st(K1, State.FAILED, 130.0, "b")], [])
        p = store.last_posts(SCOPE)[K1]
        assert (p.error, p.checked_at, p.since) == ("b", 130.0, 90.0)
        # several transitions of one post in one pass: the last one counts
        store.record(
            SCOPE,
            [st(K2, State.PROCESSING, 200.0)],
            [
                Transition(K2, None, State.QUEUED, 180.0),
                Transition(K2, State.QUEUED, State.PROCESSING, 195.0),
            ],
        )
        assert store.last_posts(SCOPE)[K2].since == 195.0
        # a post seen first without a transition starts at its check time
        k3 = ("acc", "p3")
        store.record(SCOPE, [st(k3, State.QUEUED, 300.0)], [])
        assert store.last_posts(SCOPE)[k3].since == 300.0
        # a transition without a payload still moves since
        store.record(SCOPE, [], [Transition(k3, State.QUEUED, State.PROCESSING, 310.0)])
        assert store.last_posts(SCOPE)[k3].since == 310.0
        store.record(SCOPE, [], [])  # nothing to do


def test_raw_payloads_odd_unencodable_and_oversized(path: Path) -> None:
    circular: list[object] = []
    circular.append(circular)
    big = {"x": "y" * (MAX_RAW_BYTES + 1)}
    keys = [("a", str(i)) for i in range(5)]
    raws: list[object] = [circular, big, {"when": object()}, "\ud800lone", None]
    with SqliteStore(path) as store:
        store.record(
            SCOPE, [st(k, State.QUEUED, 1.0, raw=r) for k, r in zip(keys, raws, strict=True)], []
        )
        last = store.last_posts(SCOPE)
    assert last[keys[0]].raw is None
    assert last[keys[1]].raw is None
    when = last[keys[2]].raw
    assert isinstance(when, dict) and str(when["when"]).startswith("<object object")
    assert last[keys[3]].raw == "\ud800lone"
    assert last[keys[4]].raw is None


def test_odd_texts_are_stored(path: Path) -> None:
    key = ("acc\ud800", "pub|\x1b[31m")
    with SqliteStore(path) as store:
        move(store, key, None, State.FAILED, 5.0, error="bad \udfff text\x00end")
        last = store.last_posts(SCOPE)
    (only,) = last.values()
    assert only.error is not None and only.error.startswith("bad ") and "end" in only.error


# -- acknowledgements -----------------------------------------------------------------------


def test_ack_set_cleared_and_dropped_by_a_new_failure(path: Path) -> None:
    with SqliteStore(path) as store:
        move(store, K1, None, State.FAILED, 100.0, error="token expired")
        store.set_ack(SCOPE, K1, "reconnecting the account", 120.0)
        ack = store.acks(SCOPE)[K1]
        assert (ack.key, ack.note, ack.at) == (K1, "reconnecting the account", 120.0)
        store.set_ack(SCOPE, K1, "asked Sam", 130.0)
        assert store.acks(SCOPE)[K1].note == "asked Sam"
    with SqliteStore(path) as store:  # acks persist
        assert store.acks(SCOPE)[K1].note == "asked Sam"
        # a payload-only change keeps the ack
        store.record(SCOPE, [st(K1, State.FAILED, 140.0, "token expired (again)")], [])
        assert K1 in store.acks(SCOPE)
        # re-published: queued, then fails again -> unreviewed again
        move(store, K1, State.FAILED, State.QUEUED, 200.0)
        assert K1 in store.acks(SCOPE)
        move(store, K1, State.QUEUED, State.FAILED, 260.0, error="token expired")
        assert K1 not in store.acks(SCOPE)
        store.set_ack(SCOPE, K1, "", 300.0)
        assert store.acks(SCOPE)[K1].note == ""
        store.clear_ack(SCOPE, K1)
        assert store.acks(SCOPE) == {}
        store.clear_ack(SCOPE, K1)  # clearing twice is fine
        store.clear_ack("https://elsewhere.example", K1)


# -- scopes ---------------------------------------------------------------------------------


def test_scopes_never_mix(path: Path) -> None:
    other = scope_for("https://staging.wahdx.com/")
    with SqliteStore(path) as store:
        move(store, K1, None, State.FAILED, 100.0)
        store.set_ack(SCOPE, K1, "mine", 101.0)
        store.record(
            other, [st(K1, State.PUBLISHED, 102.0)], [Transition(K1, None, State.PUBLISHED, 102.0)]
        )
        assert store.last_posts(SCOPE)[K1].state is State.FAILED
        assert store.last_posts(other)[K1].state is State.PUBLISHED
        assert [t.new for t in store.events(other)] == [State.PUBLISHED]
        assert store.acks(other) == {}
        assert store.trail(other, K1)[0].new is State.PUBLISHED
        assert store.last_posts("https://never.seen") == {}
        assert store.events("https://never.seen") == []


def test_scope_for_normalises_the_base_url() -> None:
    assert scope_for("HTTPS://API.Wahdx.COM/") == "https://api.wahdx.com"
    assert scope_for("https://api.wahdx.com:443") == "https://api.wahdx.com"
    assert scope_for("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1"
    assert scope_for("http://[::1]:9000") == "http://[::1]:9000"
    assert scope_for(" https://x.example/Path/ ") == "https://x.example/Path"
    assert scope_for("https://api.wahdx.com") != scope_for("https://staging.wahdx.com")
    # A URL urlsplit cannot read (a bad port, an open bracket) is kept as written, trimmed.
    assert scope_for(" https://api.wahdx.com:99999/ ") == "https://api.wahdx.com:99999"
    assert scope_for("https://[::1/") == "https://[::1"


def test_default_path_respects_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_store_path() == tmp_path / "xdg" / "wahdx-tui" / "history.sqlite3"
    assert default_store_path().name == "history.sqlite3"


def test_files_are_private_and_wal_is_on(path: Path) -> None:
    with SqliteStore(path) as store:
        move(store, K1, None, State.QUEUED, 1.0)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        finally:
            conn.close()


# -- prune ----------------------------------------------------------------------------------


def test_prune_drops_the_oldest_events_of_the_scope_only(path: Path) -> None:
    other = "https://other.example"
    with SqliteStore(path) as store:
        for i in range(50):
            state = State.QUEUED if i % 2 else State.PROCESSING
            store.record(SCOPE, [st(K1, state, float(i))], [Transition(K1, None, state, float(i))])
        store.record(other, [st(K2, State.QUEUED, 1.0)], [Transition(K2, None, State.QUEUED, 1.0)])
        assert store.prune(SCOPE, keep_events=20) == 30
        events = store.events(SCOPE)
        assert len(events) == 20 and events[-1].at == 30.0 and events[0].at == 49.0
        assert store.prune(SCOPE, keep_events=20) == 0
        assert len(store.events(other)) == 1
        assert store.last_posts(SCOPE)[K1].since == 49.0
        assert store.prune("https://never.seen") == 0
        assert store.prune(SCOPE, keep_events=0) == 20
        assert store.events(SCOPE) == []


# -- speed ----------------------------------------------------------------------------------


def _pass(n: int, state: State, t: float) -> tuple[list[PostStatus], list[Transition]]:
    changed = [
        PostStatus(
            (f"acc_{i % 9}", f"pub_{i:06d}"),
            state,
            state.value.upper(),
            None,
            None,
            t,
            {"publishId": f"pub_{i:06d}", "status": state.value.upper(), "attempt": 1},
        )
        for i in range(n)
    ]
    return changed, [Transition(c.key, None, state, t) for c in changed]


def test_record_is_fast(path: Path) -> None:
    with SqliteStore(path) as store:
        changed, trs = _pass(10_000, State.QUEUED, 1.0)
        t0 = time.perf_counter()
        store.record(SCOPE, changed, trs)
        first = time.perf_counter() - t0
        best = 1.0
        for k in range(10):
            changed, trs = _pass(100, State.PROCESSING if k % 2 else State.QUEUED, 2.0 + k)
            t0 = time.perf_counter()
            store.record(SCOPE, changed, trs)
            best = min(best, time.perf_counter() - t0)
    assert first < 1.0, f"first pass of 10,000 took {first * 1000:.0f} ms"
    assert best < 0.010, f"a pass of 100 took {best * 1000:.1f} ms"


# -- concurrency ----------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from wahdx_tui.core.domain.model import PostStatus, State
    from wahdx_tui.core.domain.records import Transition
    from wahdx_tui.core.store.sqlite.store import SqliteStore

    path, name, count, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = SqliteStore(path)
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


def _writer(path: Path, name: str, count: int, per: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), name, str(count), str(per)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count_by_account(path: Path) -> dict[str, int]:
    with SqliteStore(path) as store:
        events = store.events(SCOPE, limit=1_000_000)
    counts: dict[str, int] = {}
    for e in events:
        counts[e.key[0]] = counts.get(e.key[0], 0) + 1
    return counts


def test_two_stores_in_two_threads_write_concurrently(path: Path) -> None:
    SqliteStore(path).close()
    errors: list[BaseException] = []
    count, per = 300, 3

    def work(name: str) -> None:
        try:
            with SqliteStore(path) as store:
                for i in range(count):
                    keys = [(name, f"p{i}_{j}") for j in range(per)]
                    store.record(
                        SCOPE,
                        [st(k, State.QUEUED, float(i)) for k in keys],
                        [Transition(k, None, State.QUEUED, float(i)) for k in keys],
                    )
                    if i % 50 == 0:
                        store.events(SCOPE, limit=10)
                        store.set_ack(SCOPE, keys[0], name, float(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _count_by_account(path) == {"alpha": count * per, "beta": count * per}
    assert integrity(path) == "ok"


def test_one_store_shared_by_threads(path: Path) -> None:
    errors: list[BaseException] = []
    with SqliteStore(path) as store:

        def work(name: str) -> None:
            try:
                for i in range(200):
                    move(store, (name, f"p{i}"), None, State.QUEUED, float(i))
                    if i % 20 == 0:
                        store.last_posts(SCOPE)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert len(store.last_posts(SCOPE)) == 800
    assert integrity(path) == "ok"


def test_two_processes_write_concurrently(path: Path) -> None:
    # The file exists first, as when a second board starts beside a running one. (Two writers
    # in tight loops can keep a brand-new file's schema lock from a third for over the 5 s
    # busy timeout on a loaded machine; boards write once a pass, not in loops.)
    SqliteStore(path).close()
    count, per = 300, 4
    procs = [_writer(path, name, count, per) for name in ("left", "right")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.split() == [str(i) for i in range(count)]
    assert _count_by_account(path) == {"left": count * per, "right": count * per}
    assert integrity(path) == "ok"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_loses_nothing_committed(path: Path) -> None:
    SqliteStore(path).close()
    proc = _writer(path, "victim", 100_000, 5)
    assert proc.stdout is not None
    reported = -1
    for line in proc.stdout:
        reported = int(line)
        if reported >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    # a commit may have finished after the last line we read: at least everything reported
    assert integrity(path) == "ok"
    with SqliteStore(path) as store:
        events = store.events(SCOPE, limit=1_000_000)
        last = store.last_posts(SCOPE)
    committed = {int(e.key[1].split("_")[0][1:]) for e in events}
    assert set(range(reported + 1)) <= committed
    assert committed == set(range(max(committed) + 1))  # whole transactions, no gaps
    per_txn: dict[str, int] = {}
    for e in events:
        txn = e.key[1].split("_")[0]
        per_txn[txn] = per_txn.get(txn, 0) + 1
    assert set(per_txn.values()) == {5}
    assert len(last) == len(events)
    # and the store is still writable
    with SqliteStore(path) as store:
        move(store, K1, None, State.QUEUED, 1.0)


# -- bad files ------------------------------------------------------------------------------


def test_garbage_file_is_a_clear_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "history.sqlite3"
    bad.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(StoreError) as info:
        SqliteStore(bad)
    message = str(info.value)
    assert "\n" not in message
    assert str(bad) in message and "not a SQLite database" in message
    assert "--history FILE" in message  # what serve, watch and demo all take
    with pytest.raises(StoreError, match="not a SQLite database"):
        SqliteStore(bad, readonly=True)


def test_path_through_a_file_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"cannot open history at .*file/sub/h.sqlite3: "):
        SqliteStore(blocker / "sub" / "h.sqlite3")


def test_a_directory_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open history"):
        SqliteStore(tmp_path)


@pytest.mark.skipif(ROOT, reason="root ignores directory permissions")
def test_read_only_directory_is_a_clear_store_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match=r"cannot open history at .*--history FILE"):
            SqliteStore(locked / "history.sqlite3")
    finally:
        locked.chmod(0o700)


def test_newer_schema_is_refused(path: Path) -> None:
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer wahdx-tui"):
            SqliteStore(path, readonly=readonly)


def test_full_disk_on_write_is_a_store_error_and_the_store_recovers(path: Path) -> None:
    with SqliteStore(path) as store:
        move(store, K1, None, State.QUEUED, 1.0)
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        changed, trs = _pass(5_000, State.FAILED, 2.0)
        with pytest.raises(StoreError, match="the disk is full"):
            store.record(SCOPE, changed, trs)
        # rolled back as a whole, and usable afterwards
        assert len(store.events(SCOPE)) == 1
        move(store, K1, State.QUEUED, State.PROCESSING, 3.0)
        assert len(store.events(SCOPE)) == 2


def test_closed_store_raises_store_error(path: Path) -> None:
    store = SqliteStore(path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.events(SCOPE)


# -- read-only ------------------------------------------------------------------------------


def test_read_only_store_reads_and_refuses_writes(path: Path) -> None:
    with SqliteStore(path) as store:
        move(store, K1, None, State.FAILED, 1.0, error="x")
        store.set_ack(SCOPE, K1, "seen", 2.0)
    with SqliteStore(path, readonly=True) as ro:
        assert ro.last_posts(SCOPE)[K1].state is State.FAILED
        assert ro.acks(SCOPE)[K1].note == "seen"
        assert ro.last_posts("https://never.seen") == {}
        with pytest.raises(StoreError, match="read-only"):
            move(ro, K2, None, State.QUEUED, 3.0)


def test_read_only_store_never_creates_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "history.sqlite3"
    with pytest.raises(StoreError, match="no history"):
        SqliteStore(missing, readonly=True)
    assert not (tmp_path / "nothing").exists()


def test_read_only_store_on_an_empty_file_reads_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "history.sqlite3"
    empty.write_bytes(b"")
    with SqliteStore(empty, readonly=True) as ro:
        assert ro.last_posts(SCOPE) == {}
        assert ro.events(SCOPE) == []
        assert ro.acks(SCOPE) == {}
        assert ro.trail(SCOPE, K1) == []
