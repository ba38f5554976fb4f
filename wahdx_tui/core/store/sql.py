"""What both SQL backends do, written once: the statements, the dialect differences, the calls.

The two backends differ in how they connect, lock, notify and migrate; everything they ask
of the database is the same. Each statement below is written once, with `?` for a
parameter, `{p}` before a table name and `{now}`, `{nolimit}` or `{hour}` where the
dialects really differ; `Dialect.render` applies the differences in one place.
`SqlStore` implements the store protocol on top of a few primitives (a write transaction,
a read, a consistent snapshot, the scope's next revision, a notification) that each
backend provides in its own way.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.store import codec
from wahdx_tui.core.store.listcodec import (
    LIST_COLUMNS,
    ListPlan,
    listed_of,
    removal_rows,
    status_rows,
    unique_keys,
    upsert_rows,
)
from wahdx_tui.core.store.protocol import (
    ACK_SINCE_SLACK,
    BOARD_FORGET_AFTER,
    KEEP_EVENTS,
    REFRESH_KEEP,
    REFRESH_MAX_AGE,
    AddCounts,
    BoardInfo,
    FeedPage,
    HistoryRows,
    LeaseHolder,
    LeaseInfo,
    ListedPost,
    Origin,
    RefreshRequest,
    Store,
)

_T = TypeVar("_T")
Db = Any
"""A DB-API connection or cursor: `execute` returns something with fetchone/fetchall/rowcount."""
Text = Callable[[str | None], str | None]
Step = tuple[str, tuple[object, ...]]  # a statement and its parameters
_SECONDS = "CAST(? AS DOUBLE PRECISION)"  # a float parameter that may be NULL, on both


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the two SQL dialects, as the statements use it."""

    prefix: str  # before every table name: PostgreSQL's tables share a database
    param: str  # the parameter marker
    now: str  # the database's clock, epoch seconds
    nolimit: str  # LIMIT that takes every row (before an OFFSET)
    hour: str  # the hour bucket of `at` counted from a parameter
    lock: str  # after a SELECT: lock its rows until commit (SQLite's write lock is the file's)
    order_added: str  # the watchlist's column that keeps the order posts were added
    text: Text  # a string made storable

    def render(self, template: str) -> str:
        """The statement in this dialect."""
        return (
            template.replace("{p}", self.prefix)
            .replace("{now}", self.now)
            .replace("{nolimit}", self.nolimit)
            .replace("{hour}", self.hour)
            .replace("{lock}", self.lock)
            .replace("{order_added}", self.order_added)
            .replace("?", self.param)
        )


SQLITE = Dialect(
    prefix="",
    param="?",
    now="((julianday('now') - 2440587.5) * 86400.0)",
    nolimit="-1",
    hour="CAST((at - ?) / 3600 AS INTEGER)",  # at >= the parameter: truncation is floor
    lock="",
    order_added="rowid",
    text=codec.clean_text,
)
POSTGRES = Dialect(
    prefix="wahdx_",
    param="%s",
    now="extract(epoch from clock_timestamp())::float8",
    nolimit="ALL",
    hour="floor((at - ?) / 3600)::int",
    lock=" FOR UPDATE",
    order_added="seq",
    text=codec.pg_text,
)

POST_COLUMNS = "account, publish, state, raw_status, public_url, error, checked_at, since, raw"
ACK_COLUMNS = "account, publish, note, at, author"
ONE_POST = " AND account = ? AND publish = ?"


@dataclass(frozen=True, slots=True)
class Statements:
    """Every statement the backends share, as a template; `render` gives one dialect's."""

    bump: str = (
        "INSERT INTO {p}scopes (url, rev) VALUES (?, 1) ON CONFLICT (url)"
        " DO UPDATE SET rev = {p}scopes.rev + 1 RETURNING id, rev"
    )
    add_scope: str = "INSERT INTO {p}scopes (url, rev) VALUES (?, 0) ON CONFLICT DO NOTHING"
    scope_id: str = "SELECT id FROM {p}scopes WHERE url = ?"
    scope_rev: str = "SELECT id, rev FROM {p}scopes WHERE url = ?"
    scope_urls: str = "SELECT url FROM {p}scopes ORDER BY id"
    upsert_post: str = f"""
INSERT INTO {{p}}posts AS p (scope, account, publish, state, raw_status, public_url, error,
                           checked_at, since, raw, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, coalesce({_SECONDS}, ?), ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state,
    raw_status = excluded.raw_status,
    public_url = excluded.public_url,
    error = excluded.error,
    checked_at = excluded.checked_at,
    since = coalesce({_SECONDS}, p.since),
    raw = excluded.raw,
    rev = excluded.rev
"""
    copy_post: str = """
INSERT INTO {p}posts (scope, account, publish, state, raw_status, public_url, error,
                      checked_at, since, raw, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state, raw_status = excluded.raw_status, public_url = excluded.public_url,
    error = excluded.error, checked_at = excluded.checked_at, since = excluded.since,
    raw = excluded.raw, rev = excluded.rev
"""
    insert_event: str = (
        "INSERT INTO {p}events (scope, account, publish, old, new, at, rev)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    )
    set_since: str = (
        "UPDATE {p}posts SET since = ?, rev = ? WHERE scope = ? AND account = ? AND publish = ?"
    )
    post_since: str = "SELECT since FROM {p}posts WHERE scope = ? AND account = ? AND publish = ?"
    tombstone: str = """
INSERT INTO {p}ack_clears (scope, account, publish, rev)
SELECT scope, account, publish, ? FROM {p}acks WHERE scope = ? AND account = ? AND publish = ?
ON CONFLICT (scope, account, publish) DO UPDATE SET rev = excluded.rev
"""
    drop_ack: str = "DELETE FROM {p}acks WHERE scope = ? AND account = ? AND publish = ?"
    set_ack: str = """
INSERT INTO {p}acks (scope, account, publish, note, at, rev, author) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    note = excluded.note, at = excluded.at, rev = excluded.rev, author = excluded.author
"""
    untomb: str = "DELETE FROM {p}ack_clears WHERE scope = ? AND account = ? AND publish = ?"
    has_ack: str = "SELECT 1 FROM {p}acks WHERE scope = ? AND account = ? AND publish = ?"
    prune: str = (
        "DELETE FROM {p}events WHERE id IN (SELECT id FROM {p}events WHERE scope = ?"
        " ORDER BY at DESC, id DESC LIMIT {nolimit} OFFSET ?)"
    )
    last_posts: str = f"SELECT {POST_COLUMNS} FROM {{p}}posts WHERE scope = ?"
    trail: str = (
        "SELECT old, new, at FROM {p}events WHERE scope = ? AND account = ? AND publish = ?"
        " ORDER BY at DESC, id DESC LIMIT ?"
    )
    events: str = (
        "SELECT account, publish, old, new, at FROM {p}events WHERE scope = ?"
        " ORDER BY at DESC, id DESC LIMIT ?"
    )
    acks: str = f"SELECT {ACK_COLUMNS} FROM {{p}}acks WHERE scope = ?"
    # The literal 'failed' lets SQLite use the partial index events_failed.
    failures_per_hour: str = (
        "SELECT {hour}, count(*) FROM {p}events"
        " WHERE scope = ? AND new = 'failed' AND at >= ? AND at < ?"
    )
    feed_posts: str = f"SELECT {POST_COLUMNS} FROM {{p}}posts WHERE scope = ? AND rev > ?"
    feed_events: str = (
        "SELECT account, publish, old, new, at FROM {p}events WHERE scope = ? AND rev > ?"
        " ORDER BY rev, at, id"
    )
    feed_acks: str = f"SELECT {ACK_COLUMNS} FROM {{p}}acks WHERE scope = ? AND rev > ?"
    feed_clears: str = "SELECT account, publish FROM {p}ack_clears WHERE scope = ? AND rev > ?"
    take_lease: str = (
        "INSERT INTO {p}leases AS l (name, holder_id, host, pid, renewed_at, expires_at, status)"
        f" VALUES (?, ?, ?, ?, {{now}}, {{now}} + {_SECONDS}, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder_id = excluded.holder_id,"
        " host = excluded.host, pid = excluded.pid, renewed_at = excluded.renewed_at,"
        " expires_at = excluded.expires_at, status = excluded.status"
        " WHERE l.holder_id = excluded.holder_id OR l.expires_at <= {now}"
        " RETURNING 1"
    )
    release_lease: str = "UPDATE {p}leases SET expires_at = {now} WHERE name = ? AND holder_id = ?"
    lease_info: str = (
        "SELECT holder_id, host, pid, renewed_at, expires_at, expires_at <= {now}, status"
        " FROM {p}leases WHERE name = ?"
    )
    add_refresh: str = (
        "INSERT INTO {p}refresh_requests (scope, keys, requester, at)"
        " VALUES (?, ?, ?, {now}) RETURNING id, at"
    )
    trim_refresh: str = "DELETE FROM {p}refresh_requests WHERE scope = ? AND (id <= ? OR at < ?)"
    refresh_after: str = (
        "SELECT id, keys, requester, at FROM {p}refresh_requests"
        " WHERE scope = ? AND id > ? ORDER BY id"
    )
    now_or: str = f"SELECT coalesce({_SECONDS}, {{now}})"
    forget_board_posts: str = (
        "DELETE FROM {p}board_posts WHERE board_id IN"
        " (SELECT board_id FROM {p}boards WHERE seen_at < ?)"
    )
    forget_boards: str = "DELETE FROM {p}boards WHERE seen_at < ?"
    put_board: str = (
        "INSERT INTO {p}boards (board_id, scope, host, registered_at, seen_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (board_id) DO UPDATE SET"
        " scope = excluded.scope, host = excluded.host,"
        " registered_at = excluded.registered_at, seen_at = excluded.seen_at"
    )
    drop_board_posts: str = "DELETE FROM {p}board_posts WHERE board_id = ?"
    drop_board: str = "DELETE FROM {p}boards WHERE board_id = ?"
    put_board_post: str = (
        "INSERT INTO {p}board_posts (board_id, account, publish, media_type, label, position)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    )
    heartbeat: str = (
        f"UPDATE {{p}}boards SET seen_at = coalesce({_SECONDS}, {{now}}) WHERE board_id = ?"
    )
    watched: str = (
        "SELECT p.account, p.publish, p.media_type, p.label"
        " FROM {p}board_posts p JOIN {p}boards b ON b.board_id = p.board_id"
        f" WHERE b.scope = ? AND b.seen_at >= coalesce({_SECONDS}, {{now}}) - ?"
        " ORDER BY b.registered_at, b.board_id, p.position"
    )
    boards: str = (
        "SELECT b.board_id, b.host, b.registered_at, b.seen_at FROM {p}boards b"
        f" WHERE b.scope = ? AND b.seen_at >= coalesce({_SECONDS}, {{now}}) - ?"
        " ORDER BY b.registered_at, b.board_id"
    )

    prune_before: str = "DELETE FROM {p}events WHERE scope = ? AND at < ?"
    forget_removed: str = (
        "DELETE FROM {p}watchlist WHERE scope = ? AND status = 'removed' AND status_at < ?"
    )
    # -- the team's watchlist
    lock_scope: str = "SELECT id, rev FROM {p}scopes WHERE url = ?{lock}"
    set_rev: str = "UPDATE {p}scopes SET rev = ? WHERE id = ?"
    upsert_listed: str = """
INSERT INTO {p}watchlist (scope, account, publish, media_type, label, added_at, added_by,
                          source, status, status_at, why, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    media_type = excluded.media_type, label = excluded.label, added_at = excluded.added_at,
    added_by = excluded.added_by, source = excluded.source, status = excluded.status,
    status_at = excluded.status_at, why = excluded.why, rev = excluded.rev
"""
    remove_listed: str = (
        "UPDATE {p}watchlist SET status = ?, status_at = ?, why = ?, rev = ?"
        " WHERE scope = ? AND account = ? AND publish = ?"
        " AND status != 'removed' AND source = coalesce(?, source) RETURNING account, publish"
    )
    retire_listed: str = (
        "UPDATE {p}watchlist SET status = ?, status_at = ?, why = ?, rev = ?"
        " WHERE scope = ? AND account = ? AND publish = ?"
        " AND status = 'listed' RETURNING account, publish"
    )
    retire_published: str = """
UPDATE {p}watchlist SET status = 'retired', status_at = ?, why = 'published', rev = ?
WHERE scope = ? AND status = 'listed' AND coalesce(status_at, added_at) < ? AND (account, publish) IN (
    SELECT account, publish FROM {p}posts WHERE scope = ? AND state = 'published' AND since < ?
) RETURNING account, publish
"""
    retire_acked: str = """
UPDATE {p}watchlist SET status = 'retired', status_at = ?, why = 'acknowledged failure', rev = ?
WHERE scope = ? AND status = 'listed' AND coalesce(status_at, added_at) < ? AND (account, publish) IN (
    SELECT p.account, p.publish FROM {p}posts p JOIN {p}acks a
        ON a.scope = p.scope AND a.account = p.account AND a.publish = p.publish
    WHERE p.scope = ? AND p.state = 'failed' AND a.at < ?
) RETURNING account, publish
"""
    listed_of_scope: str = f"SELECT {LIST_COLUMNS} FROM {{p}}watchlist WHERE scope = ?"
    listed_of_source: str = (
        f"SELECT {LIST_COLUMNS} FROM {{p}}watchlist WHERE scope = ? AND source = ?"
    )
    listed_in_order: str = (
        f"SELECT {LIST_COLUMNS} FROM {{p}}watchlist WHERE scope = ?"
        " AND status IN ('listed', ?) ORDER BY {order_added}"
    )
    feed_listed: str = f"SELECT {LIST_COLUMNS} FROM {{p}}watchlist WHERE scope = ? AND rev > ?"

    def render(self, dialect: Dialect) -> Statements:
        """Every statement in `dialect`."""
        return replace(
            self, **{f.name: dialect.render(getattr(self, f.name)) for f in fields(self)}
        )


class SqlStore(Store):
    """The store protocol over SQL, once for both backends; each provides the primitives."""

    dialect: Dialect
    sql: Statements
    _scopes: dict[str, int]  # scope ids known committed
    _pending: dict[str, int]  # scope ids made by the transaction in progress
    _version: int  # the schema version found (0: nothing was ever written here)

    # -- what each backend provides -----------------------------------------------------------

    @abstractmethod
    def _write(self, action: str, work: Callable[[Db], _T]) -> _T:
        """Run `work` in one write transaction; scope ids it made are cached once it commits."""

    @abstractmethod
    def _read(self, work: Callable[[Db], _T], empty: _T) -> _T:
        """Run `work` to read; `empty` when the store has never been written."""

    @abstractmethod
    def _snapshot(self, work: Callable[[Db], _T], empty: _T) -> _T:
        """Run several reads that see one committed state."""

    def _notify(self, db: Db, scope: str) -> None:
        """Tell other processes that `scope` changed (a file needs no word: they look)."""

    def _team(self) -> bool:
        """Whether the store has the team's tables (an old file opened read-only may not)."""
        return True

    def _has_list(self) -> bool:
        """Whether the store has the team's watchlist (an old file opened read-only may not)."""
        return True

    def _rows_of(self, db: Db, statement: str, sid: int, keys: Collection[PostKey]) -> list[Any]:
        """`statement` (about scope `sid`) for only these posts: one primary-key lookup each."""
        one = statement + self.dialect.render(ONE_POST)
        found = (
            db.execute(one, row).fetchone() for row in codec.key_rows(sid, keys, self.dialect.text)
        )
        return [row for row in found if row is not None]

    def _ack_statements(self) -> tuple[str, str]:
        """(every ack of a scope, acks after a revision): a file may predate `author`."""
        return self.sql.acks, self.sql.feed_acks

    @abstractmethod
    def _count_inserted(self, db: Db, statement: str, rows: Sequence[tuple[object, ...]]) -> int:
        """Insert the rows; how many were new (the others were there already)."""

    # -- scopes and revisions ---------------------------------------------------------------

    def _bump(self, db: Db, scope: str) -> tuple[int, int]:
        """(scope id, next revision); the scope's row stays locked until commit, so
        revisions commit in order and a reader's cursor never skips one."""
        sid, rev = db.execute(self.sql.bump, (scope,)).fetchone()
        if scope not in self._scopes:
            self._pending[scope] = int(sid)
        return int(sid), int(rev)

    def _sid(self, db: Db, scope: str, *, create: bool) -> int | None:
        """The scope's id (made when `create`), or None when it has none."""
        found = self._scopes.get(scope) or self._pending.get(scope)
        if found is not None:
            return found
        if create:
            db.execute(self.sql.add_scope, (scope,))
        row = db.execute(self.sql.scope_id, (scope,)).fetchone()
        if row is None:
            return None
        sid = int(row[0])
        (self._pending if create else self._scopes)[scope] = sid
        return sid

    def _key(self, sid: int, key: PostKey) -> tuple[int, str | None, str | None]:
        text = self.dialect.text
        return sid, text(key[0]), text(key[1])

    # -- writing --------------------------------------------------------------------------

    def record(
        self, scope: str, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """Store one pass in one transaction of batched statements."""
        if not changed and not transitions:
            return
        moves = codec.last_moves(transitions)
        posts = {st.key: st for st in changed}  # one row per post: the last word wins
        text = self.dialect.text

        def work(db: Db) -> None:
            sid, rev = self._bump(db, scope)
            if posts:
                rows = []
                for st in posts.values():  # each ? takes one value: `moved` is given twice
                    moved = moves.get(st.key)
                    values = codec.post_values(st, text)
                    rows.append(
                        (sid, *values, moved, st.checked_at, codec.raw_json(st.raw), rev, moved)
                    )
                db.executemany(self.sql.upsert_post, rows)
            if transitions:
                db.executemany(self.sql.insert_event, codec.event_rows(sid, rev, transitions, text))
                orphans = codec.since_rows(sid, rev, moves, posts, text)
                if orphans:
                    db.executemany(self.sql.set_since, orphans)
                failed = codec.failed_keys(transitions)
                if failed:
                    self._drop_acks(db, sid, rev, failed)
            self._notify(db, scope)

        self._write("write", work)

    def _drop_acks(self, db: Db, sid: int, rev: int, keys: set[PostKey]) -> None:
        rows = codec.key_rows(sid, keys, self.dialect.text)
        db.executemany(self.sql.tombstone, [(rev, *row) for row in rows])
        db.executemany(self.sql.drop_ack, rows)

    def _put_ack(self, db: Db, sid: int, rev: int, ack: Ack) -> None:
        row = codec.ack_row(sid, rev, ack, self.dialect.text)
        db.execute(self.sql.set_ack, row)
        db.execute(self.sql.untomb, row[:3])

    def set_ack(
        self,
        scope: str,
        key: PostKey,
        note: str,
        at: float,
        since: float | None = None,
        by: str = "",
    ) -> None:
        def work(db: Db) -> None:
            sid, rev = self._bump(db, scope)
            if since is not None:
                row = db.execute(self.sql.post_since, self._key(sid, key)).fetchone()
                if row is not None and row[0] > since + ACK_SINCE_SLACK:
                    return  # a newer state than the one acknowledged
            self._put_ack(db, sid, rev, Ack(key, note, at, by))
            self._notify(db, scope)

        self._write("write", work)

    def clear_ack(self, scope: str, key: PostKey) -> None:
        def work(db: Db) -> None:
            sid = self._sid(db, scope, create=False)
            if sid is None:
                return
            if db.execute(self.sql.has_ack, self._key(sid, key)).fetchone():
                _, rev = self._bump(db, scope)
                self._drop_acks(db, sid, rev, {key})
                self._notify(db, scope)

        self._write("write", work)

    def prune(
        self, scope: str, keep_events: int = KEEP_EVENTS, older_than: float | None = None
    ) -> int:
        def work(db: Db) -> int:
            sid = self._sid(db, scope, create=False)
            if sid is None:
                return 0
            gone = max(0, int(db.execute(self.sql.prune, (sid, max(0, keep_events))).rowcount))
            if older_than is not None:
                gone += max(0, int(db.execute(self.sql.prune_before, (sid, older_than)).rowcount))
                db.execute(self.sql.forget_removed, (sid, older_than))
            return gone

        return self._write("prune", work)

    def import_history(self, scope: str, rows: HistoryRows) -> int:
        """Write rows exactly as given (a copy); a transition already there is skipped."""
        text = self.dialect.text

        def work(db: Db) -> int:
            sid, rev = self._bump(db, scope)
            if rows.posts:
                unique = {p.key: p for p in rows.posts}.values()
                db.executemany(self.sql.copy_post, codec.copy_rows(sid, rev, unique, text))
            added = 0
            if rows.transitions:
                events = codec.event_rows(sid, rev, rows.transitions, text)
                added = self._count_inserted(db, self.sql.insert_event, events)
            for ack in rows.acks:
                self._put_ack(db, sid, rev, ack)
            self._notify(db, scope)
            return added

        return self._write("write", work)

    # -- reading --------------------------------------------------------------------------

    def _rows(
        self, scope: str, statement: str, *args: object, keys: Collection[PostKey] | None = None
    ) -> list[Any]:
        """The rows of a read about one scope (none when the scope was never written); with
        `keys`, only those posts' rows, read in one snapshot."""

        def work(db: Db) -> list[Any]:
            sid = self._sid(db, scope, create=False)
            if sid is None:
                return []
            if keys is not None:
                return self._rows_of(db, statement, sid, keys)
            return list(db.execute(statement, (sid, *args)).fetchall())

        return self._read(work, []) if keys is None else self._snapshot(work, [])

    def last_posts(
        self, scope: str, keys: Collection[PostKey] | None = None
    ) -> dict[PostKey, StoredPost]:
        rows = self._rows(scope, self.sql.last_posts, keys=keys)
        return {p.key: p for p in map(codec.post_of, rows)}

    def trail(self, scope: str, key: PostKey, limit: int = 50) -> list[Transition]:
        text = self.dialect.text
        rows = self._rows(scope, self.sql.trail, text(key[0]), text(key[1]), max(0, limit))
        return [codec.transition_of(*key, old, new, at) for old, new, at in reversed(rows)]

    def events(self, scope: str, limit: int = 1000) -> list[Transition]:
        rows = self._rows(scope, self.sql.events, max(0, limit))
        return [codec.transition_of(*row) for row in rows]

    def acks(self, scope: str, keys: Collection[PostKey] | None = None) -> dict[PostKey, Ack]:
        rows = self._rows(scope, self._ack_statements()[0], keys=keys)
        return {ack.key: ack for ack in (codec.ack_of(*row) for row in rows)}

    def failures_per_hour(
        self, scope: str, since: float, until: float, account: str | None = None
    ) -> list[int]:
        def work(db: Db) -> list[Any]:
            sid = self._sid(db, scope, create=False)
            if sid is None:
                return []
            query = self.sql.failures_per_hour
            args: tuple[object, ...] = (since, sid, since, until)
            if account is not None:
                query += self.dialect.render(" AND account = ?")
                args += (self.dialect.text(account),)
            return list(db.execute(query + " GROUP BY 1", args).fetchall())

        return codec.hour_buckets(self._read(work, []), since, until)

    def scopes(self) -> list[str]:
        rows: list[Any] = self._read(lambda db: db.execute(self.sql.scope_urls).fetchall(), [])
        return [str(r[0]) for r in rows]

    # -- the change feed --------------------------------------------------------------------

    def cursor(self, scope: str) -> int:
        if not self._team():
            return 0
        row = self._read(lambda db: db.execute(self.sql.scope_rev, (scope,)).fetchone(), None)
        return int(row[1]) if row else 0

    def changes_since(self, scope: str, cursor: int) -> FeedPage:
        """Everything written after `cursor` (0: everything); one query when nothing changed."""
        nothing = FeedPage(cursor=0, reset=cursor > 0)
        if not self._team():
            return nothing
        found = self._read(lambda db: db.execute(self.sql.scope_rev, (scope,)).fetchone(), None)
        if found is None:
            return nothing
        if int(found[1]) == cursor:
            return FeedPage(cursor=cursor)

        def work(db: Db) -> FeedPage:
            row = db.execute(self.sql.scope_rev, (scope,)).fetchone()
            if row is None:
                return nothing
            sid, rev = int(row[0]), int(row[1])
            reset = cursor > rev
            after = 0 if reset else cursor
            sql = self.sql
            posts = db.execute(sql.feed_posts, (sid, after)).fetchall()
            events = db.execute(sql.feed_events, (sid, after)).fetchall()
            acks = db.execute(self._ack_statements()[1], (sid, after)).fetchall()
            clears = db.execute(sql.feed_clears, (sid, after)).fetchall()
            listed = (
                db.execute(sql.feed_listed, (sid, after)).fetchall() if self._has_list() else []
            )
            page = codec.changes_of(posts, events, acks, clears, rev, reset)
            return replace(page, listed={e.key: e for e in map(listed_of, listed)})

        return self._snapshot(work, nothing)

    # -- the poller lease -----------------------------------------------------------------

    def try_lease(self, name: str, holder: LeaseHolder, ttl: float, status: str = "") -> bool:
        """Take the lease when free or expired, renew it when ours; judged by the store's clock."""
        text = self.dialect.text
        args = (text(name), text(holder.id), text(holder.host), holder.pid, ttl, text(status))
        return self._write(
            "write", lambda db: db.execute(self.sql.take_lease, args).fetchone() is not None
        )

    def release_lease(self, name: str, holder_id: str) -> None:
        """Let the lease go at once if `holder_id` holds it (it then reads as expired)."""
        text = self.dialect.text
        self._write(
            "write", lambda db: db.execute(self.sql.release_lease, (text(name), text(holder_id)))
        )

    def lease_info(self, name: str) -> LeaseInfo | None:
        if not self._team():
            return None
        args = (self.dialect.text(name),)
        row = self._read(lambda db: db.execute(self.sql.lease_info, args).fetchone(), None)
        if row is None:
            return None
        holder_id, host, pid, renewed, expires, expired, status = row
        return LeaseInfo(holder_id, host, int(pid), renewed, expires, bool(expired), status)

    # -- refresh requests ---------------------------------------------------------------------

    def request_refresh(self, scope: str, keys: Sequence[PostKey] | None, requester: str) -> int:
        def work(db: Db) -> int:
            sid = self._sid(db, scope, create=True)
            args = (sid, codec.keys_json(keys), self.dialect.text(requester) or "")
            rid, at = db.execute(self.sql.add_refresh, args).fetchone()
            trim = (sid, int(rid) - REFRESH_KEEP, float(at) - REFRESH_MAX_AGE)
            db.execute(self.sql.trim_refresh, trim)
            self._notify(db, scope)
            return int(rid)

        return self._write("write", work)

    def take_refresh_requests(self, scope: str, after: int) -> list[RefreshRequest]:
        if not self._team():
            return []
        rows = self._rows(scope, self.sql.refresh_after, after)
        return [RefreshRequest(int(i), codec.keys_value(k), r, at) for i, k, r, at in rows]

    # -- boards and what they watch -------------------------------------------------------------

    def register_board(
        self,
        scope: str,
        board_id: str,
        host: str,
        posts: Sequence[WatchedPost],
        now: float | None = None,
    ) -> None:
        text = self.dialect.text

        def work(db: Db) -> None:
            sid = self._sid(db, scope, create=True)
            at = float(db.execute(self.sql.now_or, (now,)).fetchone()[0])
            db.execute(self.sql.forget_board_posts, (at - BOARD_FORGET_AFTER,))
            db.execute(self.sql.forget_boards, (at - BOARD_FORGET_AFTER,))
            board = text(board_id)
            db.execute(self.sql.put_board, (board, sid, text(host) or "", at, at))
            db.execute(self.sql.drop_board_posts, (board,))
            if posts:
                rows = codec.board_post_rows(board, posts, text)
                db.executemany(self.sql.put_board_post, rows)
            self._notify(db, scope)

        self._write("write", work)

    def heartbeat_board(self, board_id: str, now: float | None = None) -> bool:
        args = (now, self.dialect.text(board_id))
        return self._write("write", lambda db: bool(db.execute(self.sql.heartbeat, args).rowcount))

    def unregister_board(self, board_id: str) -> None:
        board = self.dialect.text(board_id)

        def work(db: Db) -> None:
            db.execute(self.sql.drop_board_posts, (board,))
            db.execute(self.sql.drop_board, (board,))

        self._write("write", work)

    def watched_posts(
        self, scope: str, alive_within: float, now: float | None = None
    ) -> list[WatchedPost]:
        if not self._team():
            return []
        return codec.union_posts(self._rows(scope, self.sql.watched, now, alive_within))

    def boards(self, scope: str, alive_within: float, now: float | None = None) -> list[BoardInfo]:
        if not self._team():
            return []
        rows = self._rows(scope, self.sql.boards, now, alive_within)
        return [BoardInfo(i, h, r, s) for i, h, r, s in rows]

    # -- the team's watchlist -------------------------------------------------------------------

    def _lock_scope(self, db: Db, scope: str) -> tuple[int, int]:
        """(scope id, its next revision), the scope's row locked until commit: writers of the
        list take turns, and the revision is taken only by one that writes (`_claim`)."""
        db.execute(self.sql.add_scope, (scope,))
        sid, rev = db.execute(self.sql.lock_scope, (scope,)).fetchone()
        if scope not in self._scopes:
            self._pending[scope] = int(sid)
        return int(sid), int(rev) + 1

    def _claim(self, db: Db, scope: str, sid: int, rev: int) -> None:
        """Take revision `rev` for what this transaction wrote, and tell the listeners."""
        db.execute(self.sql.set_rev, (rev, sid))
        self._notify(db, scope)

    def _list_rows(
        self, db: Db, sid: int, keys: Collection[PostKey], source: str | None
    ) -> dict[PostKey, ListedPost]:
        """The list's rows of `keys`, and of `source` when given."""
        rows = self._rows_of(db, self.sql.listed_of_scope, sid, keys)
        if source is not None:
            rows += db.execute(
                self.sql.listed_of_source, (sid, self.dialect.text(source))
            ).fetchall()
        return {e.key: e for e in map(listed_of, rows)}

    def _write_list(
        self,
        scope: str,
        posts: Sequence[WatchedPost],
        origin: Origin,
        now: float | None,
        *,
        sync: bool,
    ) -> AddCounts:
        """Add `posts` to the list, or (`sync`) make them the origin's source's whole part of it."""
        text = self.dialect.text
        only = origin.source if sync else None  # the source whose other posts leave the list

        def work(db: Db) -> AddCounts:
            sid, rev = self._lock_scope(db, scope)
            at = float(db.execute(self.sql.now_or, (now,)).fetchone()[0])
            plan = ListPlan(self._list_rows(db, sid, unique_keys(posts), only), origin, at)
            write = plan.sync(posts) if sync else plan.add(posts)
            if write.empty:
                return write.counts
            if write.rows:
                db.executemany(self.sql.upsert_listed, upsert_rows(sid, rev, write.rows, text))
            if write.removed:
                rows = removal_rows(sid, rev, write.removed, at, "", only, text)
                for row in rows:
                    db.execute(self.sql.remove_listed, row).fetchall()
            self._claim(db, scope, sid, rev)
            return write.counts

        return self._write("write", work)

    def add_watched(
        self, scope: str, posts: Sequence[WatchedPost], origin: Origin, now: float | None = None
    ) -> AddCounts:
        return self._write_list(scope, posts, origin, now, sync=False)

    def sync_watched(
        self, scope: str, posts: Sequence[WatchedPost], origin: Origin, now: float | None = None
    ) -> AddCounts:
        return self._write_list(scope, posts, origin, now, sync=True)

    def _set_status(
        self, scope: str, now: float | None, statements: Callable[[int, int, float], list[Step]]
    ) -> list[PostKey]:
        """Run status changes (each returning the posts it changed) under the scope's next
        revision, which is taken only when one changed something."""

        def work(db: Db) -> list[PostKey]:
            sid, rev = self._lock_scope(db, scope)
            at = float(db.execute(self.sql.now_or, (now,)).fetchone()[0])
            changed: list[PostKey] = []
            for statement, args in statements(sid, rev, at):
                changed += [(str(a), str(p)) for a, p in db.execute(statement, args).fetchall()]
            if changed:
                self._claim(db, scope, sid, rev)
            return changed

        return self._write("write", work)

    def remove_watched(self, scope: str, keys: Sequence[PostKey], now: float | None = None) -> int:
        def statements(sid: int, rev: int, at: float) -> list[Step]:
            rows = removal_rows(sid, rev, keys, at, "", None, self.dialect.text)
            return [(self.sql.remove_listed, row) for row in rows]

        return len(self._set_status(scope, now, statements))

    def retire_watched(
        self, scope: str, keys: Sequence[PostKey], why: str, now: float | None = None
    ) -> int:
        def statements(sid: int, rev: int, at: float) -> list[Step]:
            rows = status_rows(sid, rev, keys, "retired", at, why, self.dialect.text)
            return [(self.sql.retire_listed, row) for row in rows]

        return len(self._set_status(scope, now, statements))

    def retire_finished(
        self,
        scope: str,
        published_before: float | None,
        acknowledged_before: float | None,
        now: float | None = None,
    ) -> list[PostKey]:
        if not self._has_list():
            return []

        def statements(sid: int, rev: int, at: float) -> list[Step]:
            out: list[Step] = []
            if published_before is not None:
                cut = published_before  # listed (or brought back) that long ago too
                out.append((self.sql.retire_published, (at, rev, sid, cut, sid, cut)))
            if acknowledged_before is not None:
                cut = acknowledged_before
                out.append((self.sql.retire_acked, (at, rev, sid, cut, sid, cut)))
            return out

        return self._set_status(scope, now, statements)

    def import_listed(self, scope: str, entries: Sequence[ListedPost]) -> None:
        if not entries:
            return

        def work(db: Db) -> None:
            sid, rev = self._bump(db, scope)
            db.executemany(
                self.sql.upsert_listed, upsert_rows(sid, rev, entries, self.dialect.text)
            )
            self._notify(db, scope)

        self._write("write", work)

    def listed_posts(self, scope: str, *, retired: bool = False) -> list[ListedPost]:
        if not self._has_list():
            return []
        rows = self._rows(scope, self.sql.listed_in_order, "retired" if retired else "listed")
        return [listed_of(row) for row in rows]
