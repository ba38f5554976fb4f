"""The SQLite store's schema, one migration per version, recorded in PRAGMA user_version."""

from __future__ import annotations

from wahdx_tui.core.store.tables import TEAM_TABLES, WATCHLIST_TABLE, render

SCHEMA_VERSION = 4
_WORDS = {
    "p": "",
    "bigint": "INTEGER",
    "int": "INTEGER",
    "real": "REAL",
    "text": "TEXT",
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "rowid": " WITHOUT ROWID",
    "order_column": "",
}
"""The shared tables' words in SQLite (core/store/tables.py)."""

# Version 1: the single-board history (wahdx-tui before team use). Kept as it was written,
# so a new file is made the way an old one was and then migrated like it.
_V1 = """
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

# Version 2: team use. A revision per write for the change feed (existing rows get 1, so a
# cursor of 0 still reads them), withdrawn acknowledgements kept as tombstones for the feed,
# each transition stored once (so a copy or a retried write cannot double it; events_by_post
# stays, as it alone gives a post's trail in order without a sort), an index for
# failures per hour, and the poller lease, refresh requests and boards' watched posts.
_V2 = """
ALTER TABLE scopes ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
ALTER TABLE posts ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
ALTER TABLE acks ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
CREATE INDEX posts_by_rev ON posts (scope, rev);
CREATE INDEX events_by_rev ON events (scope, rev);
CREATE INDEX acks_by_rev ON acks (scope, rev);
CREATE INDEX events_failed ON events (scope, at) WHERE new = 'failed';
DELETE FROM events WHERE id NOT IN (
    SELECT min(id) FROM events GROUP BY scope, account, publish, at, new, coalesce(old, '')
);
CREATE UNIQUE INDEX events_once ON events (scope, account, publish, at, new, coalesce(old, ''));
"""
_V2 += render(TEAM_TABLES, _WORDS)  # tombstones, lease, refresh requests, boards (tables.py)

# Version 3: who acknowledged a post (their user@host), kept beside the note and its time, so
# every board says who wrote the note it shows ("" for acknowledgements written before).
_V3 = """
ALTER TABLE acks ADD COLUMN author TEXT NOT NULL DEFAULT '';
"""

# Version 4: the team's watchlist, one row per post of a scope, with when, by whom and from
# where it was added, and whether it is listed, retired or removed (kept, with its revision,
# so the change feed carries removals too). Nothing to carry over: a file's posts are synced
# in when a board or `serve` next reads that file.
_V4 = render(WATCHLIST_TABLE, _WORDS)

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4}
"""Statements that take a file from version N-1 to N."""
