"""The tables both SQL backends make alike (the team's), written once in neutral words.

Each backend's migrations render them with its own words (`render`): `{p}` before a table
or index name, `{bigint}`, `{int}`, `{real}` and `{text}` for the column types, `{serial}`
for an id the database numbers, `{rowid}` after a table kept by its primary key (SQLite's
WITHOUT ROWID), and `{order_column}` for the watchlist's column that keeps the order posts
were added (PostgreSQL's `seq`; SQLite has its rowid). The history before the team tables
(SQLite's version 1) stays in the SQLite backend as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping

# The team's tables: withdrawn acknowledgements kept as tombstones for the change feed, the
# poller lease, refresh requests, and the boards with the posts each watches (SQLite
# version 2, PostgreSQL version 1).
TEAM_TABLES = """
CREATE TABLE {p}ack_clears (
    scope {bigint} NOT NULL,
    account {text} NOT NULL,
    publish {text} NOT NULL,
    rev {bigint} NOT NULL,
    PRIMARY KEY (scope, account, publish)
){rowid};
CREATE INDEX {p}ack_clears_by_rev ON {p}ack_clears (scope, rev);
CREATE TABLE {p}leases (
    name {text} PRIMARY KEY,
    holder_id {text} NOT NULL,
    host {text} NOT NULL,
    pid {int} NOT NULL,
    renewed_at {real} NOT NULL,
    expires_at {real} NOT NULL,
    status {text} NOT NULL DEFAULT ''
){rowid};
CREATE TABLE {p}refresh_requests (
    id {serial},
    scope {bigint} NOT NULL,
    keys {text},
    requester {text} NOT NULL,
    at {real} NOT NULL
);
CREATE INDEX {p}refresh_by_scope ON {p}refresh_requests (scope, id);
CREATE TABLE {p}boards (
    board_id {text} PRIMARY KEY,
    scope {bigint} NOT NULL,
    host {text} NOT NULL,
    registered_at {real} NOT NULL,
    seen_at {real} NOT NULL
){rowid};
CREATE INDEX {p}boards_by_scope ON {p}boards (scope, seen_at);
CREATE TABLE {p}board_posts (
    board_id {text} NOT NULL,
    account {text} NOT NULL,
    publish {text} NOT NULL,
    media_type {text},
    label {text} NOT NULL,
    position {int} NOT NULL,
    PRIMARY KEY (board_id, account, publish)
){rowid};
"""

# The team's watchlist: one row per post of a scope, with when, by whom and from where it
# was added, and whether it is listed, retired or removed (kept, with its revision, so the
# change feed carries removals too). SQLite version 4, PostgreSQL version 3.
WATCHLIST_TABLE = """
CREATE TABLE {p}watchlist (
    scope {bigint} NOT NULL,
    account {text} NOT NULL,
    publish {text} NOT NULL,
    media_type {text},
    label {text} NOT NULL,
    added_at {real} NOT NULL,
    added_by {text} NOT NULL,
    source {text} NOT NULL,
    status {text} NOT NULL,
    status_at {real},
    why {text} NOT NULL,
    rev {bigint} NOT NULL,{order_column}
    PRIMARY KEY (scope, account, publish)
);
CREATE INDEX {p}watchlist_by_rev ON {p}watchlist (scope, rev);
CREATE INDEX {p}watchlist_by_source ON {p}watchlist (scope, source);
"""


def render(template: str, words: Mapping[str, str]) -> str:
    """A template in one backend's words."""
    return template.format_map(words)


def statements(script: str) -> list[str]:
    """The statements of a migration script, one by one."""
    return [s.strip() for s in script.split(";") if s.strip()]
