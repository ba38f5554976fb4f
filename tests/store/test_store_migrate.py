"""A history file written by wahdx-tui before team use (schema v1) opens, migrates, keeps its data."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, Transition
from wahdx_tui.core.store.protocol import AddCounts, Origin
from wahdx_tui.core.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.tables import statements

SCOPE = "https://api.wahdx.com"
K1 = ("acc_tiktok_main", "v_pub_1")
K2 = ("acc_ig_brand", "ig_pub_2")

# The schema exactly as the single-board history wrote it (wahdx_tui/core/store.py, schema 1).
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS scopes (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS posts (
    scope INTEGER NOT NULL,
    account TEXT NOT NULL,
    publish TEXT NOT NULL,
    state TEXT NOT NULL,
    raw_status TEXT,
    public_url TEXT,
    error TEXT,
    checked_at REAL NOT NULL,
    since REAL NOT NULL,
    raw TEXT,
    PRIMARY KEY (scope, account, publish)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    scope INTEGER NOT NULL,
    account TEXT NOT NULL,
    publish TEXT NOT NULL,
    old TEXT,
    new TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (scope, at);
CREATE INDEX IF NOT EXISTS events_by_post ON events (scope, account, publish, at);
CREATE TABLE IF NOT EXISTS acks (
    scope INTEGER NOT NULL,
    account TEXT NOT NULL,
    publish TEXT NOT NULL,
    note TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (scope, account, publish)
) WITHOUT ROWID;
"""


def make_v1_file(path: Path) -> None:
    """A v1 history as an old board left it: WAL, mode 600, posts, events (one doubled), an ack."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_SCHEMA)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO scopes (url) VALUES (?)", (SCOPE,))
    conn.executemany(
        "INSERT INTO posts VALUES (1, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
        [
            (*K1, "failed", "FAILED", "token expired", 150.0, 140.0, '{"status":"FAILED"}'),
            (*K2, "queued", "QUEUED", None, 120.0, 120.0, None),
        ],
    )
    conn.executemany(
        "INSERT INTO events (scope, account, publish, old, new, at) VALUES (1, ?, ?, ?, ?, ?)",
        [
            (*K1, None, "queued", 100.0),
            (*K1, "queued", "failed", 140.0),
            (*K1, "queued", "failed", 140.0),  # the same transition twice
            (*K2, None, "queued", 120.0),
        ],
    )
    conn.execute("INSERT INTO acks VALUES (1, ?, ?, 'asked Sam', 145.0)", K1)
    conn.close()


def test_a_v1_file_is_migrated_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state" / "history.sqlite3"
    make_v1_file(path)
    with SqliteStore(path) as store:
        last = store.last_posts(SCOPE)
        assert last[K1].state is State.FAILED and last[K1].raw == {"status": "FAILED"}
        assert (last[K1].since, last[K2].since) == (140.0, 120.0)
        assert [(t.old, t.new) for t in store.trail(SCOPE, K1)] == [
            (None, State.QUEUED),
            (State.QUEUED, State.FAILED),
        ]
        assert store.acks(SCOPE)[K1].note == "asked Sam"
        everything = store.changes_since(SCOPE, 0)  # old rows are in the feed from zero
        assert set(everything.posts) == {K1, K2} and len(everything.transitions) == 3
        assert everything.acks[K1] is not None
        store.record(
            SCOPE,
            [PostStatus(K2, State.PUBLISHED, "PUBLISHED", "https://x", None, 200.0)],
            [Transition(K2, State.QUEUED, State.PUBLISHED, 200.0)],
        )
        later = store.changes_since(SCOPE, everything.cursor)
        assert set(later.posts) == {K2} and later.cursor > everything.cursor
        assert store.failures_per_hour(SCOPE, 0.0, 3600.0) == [1]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with SqliteStore(path) as again:  # opening a file of this version changes nothing
        assert len(again.events(SCOPE)) == 4


def test_a_v1_file_opened_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    make_v1_file(path)
    with SqliteStore(path, readonly=True) as ro:  # `report` reads, and must not change the file
        assert ro.last_posts(SCOPE)[K1].error == "token expired"
        assert ro.acks(SCOPE)[K1].note == "asked Sam"
        assert ro.scopes() == [SCOPE]
        assert ro.changes_since(SCOPE, 0).empty and ro.lease_info("x") is None
        assert ro.watched_posts(SCOPE, 60.0) == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


def make_v2_file(path: Path) -> None:
    """A v2 (team) history as wahdx-tui left it before acknowledgements named who wrote them
    and before the team's watchlist: the v1 file migrated one step."""
    make_v1_file(path)
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements(MIGRATIONS[2]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.close()


def test_a_v2_store_keeps_its_acks_and_then_says_who_wrote_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "team.sqlite3"
    make_v2_file(path)
    with SqliteStore(path, readonly=True) as ro:  # `report` on a store not yet upgraded
        assert ro.acks(SCOPE) == {K1: Ack(K1, "asked Sam", 145.0, "")}
        assert ro.changes_since(SCOPE, 0).acks == {K1: Ack(K1, "asked Sam", 145.0, "")}
    with SqliteStore(path) as store:
        assert store.acks(SCOPE, [K1]) == {K1: Ack(K1, "asked Sam", 145.0, "")}  # by nobody known
        store.set_ack(SCOPE, K1, "Sam reconnected it", 160.0, by="ana@host-a")
        assert store.acks(SCOPE)[K1] == Ack(K1, "Sam reconnected it", 160.0, "ana@host-a")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_v2_team_file_gets_the_teams_watchlist_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    make_v2_file(path)
    with SqliteStore(path, readonly=True) as ro:  # `report` on a file not yet migrated
        assert ro.listed_posts(SCOPE) == [] and ro.changes_since(SCOPE, 0).listed == {}
        assert ro.retire_finished(SCOPE, 1e12, 1e12) == []
    with SqliteStore(path) as store:
        assert store.last_posts(SCOPE)[K1].state is State.FAILED
        assert store.acks(SCOPE)[K1].note == "asked Sam"
        assert store.listed_posts(SCOPE) == []  # a file's posts come in when it is next read
        added = store.add_watched(SCOPE, [WatchedPost(*K1)], Origin("add", "sam@h1"))
        assert added == AddCounts(added=1)
        assert [e.key for e in store.changes_since(SCOPE, 0).listed.values()] == [K1]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
