"""The SQLite store's schema, one migration per version, recorded in PRAGMA user_version."""

from __future__ import annotations

SCHEMA_VERSION = 2

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
CREATE TABLE ack_clears (
    scope INTEGER NOT NULL,
    account TEXT NOT NULL,
    publish TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (scope, account, publish)
) WITHOUT ROWID;
CREATE INDEX ack_clears_by_rev ON ack_clears (scope, rev);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder_id TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    renewed_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE refresh_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope INTEGER NOT NULL,
    keys TEXT,
    requester TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX refresh_by_scope ON refresh_requests (scope, id);
CREATE TABLE boards (
    board_id TEXT PRIMARY KEY,
    scope INTEGER NOT NULL,
    host TEXT NOT NULL,
    registered_at REAL NOT NULL,
    seen_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX boards_by_scope ON boards (scope, seen_at);
CREATE TABLE board_posts (
    board_id TEXT NOT NULL,
    account TEXT NOT NULL,
    publish TEXT NOT NULL,
    media_type TEXT,
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (board_id, account, publish)
) WITHOUT ROWID;
"""

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2}
"""Statements that take a file from version N-1 to N."""


def statements(script: str) -> list[str]:
    """The statements of a migration script, one by one."""
    return [s.strip() for s in script.split(";") if s.strip()]
