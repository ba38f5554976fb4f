"""The store on PostgreSQL (psycopg 3): one team store shared by pollers and boards on many hosts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.store import codec
from wahdx_tui.core.store.codec import pg_text
from wahdx_tui.core.store.postgres.conn import CHANNEL, PgLink
from wahdx_tui.core.store.postgres.schema import LOCK_KEY, MIGRATIONS, SCHEMA_VERSION, statements
from wahdx_tui.core.store.protocol import (
    ACK_SINCE_SLACK,
    BOARD_FORGET_AFTER,
    KEEP_EVENTS,
    REFRESH_KEEP,
    REFRESH_MAX_AGE,
    BoardInfo,
    FeedPage,
    LeaseHolder,
    LeaseInfo,
    RefreshRequest,
    Store,
    StoreError,
)

_T = TypeVar("_T")
_NOW = "extract(epoch from clock_timestamp())::float8"
_POST_COLUMNS = "account, publish, state, raw_status, public_url, error, checked_at, since, raw"

_BUMP = (
    "INSERT INTO wahdx_scopes (url, rev) VALUES (%s, 1) ON CONFLICT (url)"
    " DO UPDATE SET rev = wahdx_scopes.rev + 1 RETURNING id, rev"
)
_UPSERT_POST = """
INSERT INTO wahdx_posts AS p (scope, account, publish, state, raw_status, public_url, error,
                              checked_at, since, raw, rev)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s::float8, %s::float8), %s, %s)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state,
    raw_status = excluded.raw_status,
    public_url = excluded.public_url,
    error = excluded.error,
    checked_at = excluded.checked_at,
    since = coalesce(%s::float8, p.since),
    raw = excluded.raw,
    rev = excluded.rev
"""
_COPY_POST = """
INSERT INTO wahdx_posts (scope, account, publish, state, raw_status, public_url, error,
                         checked_at, since, raw, rev)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state, raw_status = excluded.raw_status, public_url = excluded.public_url,
    error = excluded.error, checked_at = excluded.checked_at, since = excluded.since,
    raw = excluded.raw, rev = excluded.rev
"""
_INSERT_EVENT = (
    "INSERT INTO wahdx_events (scope, account, publish, old, new, at, rev)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_SET_SINCE = (
    "UPDATE wahdx_posts SET since = %s, rev = %s WHERE scope = %s AND account = %s AND publish = %s"
)
_TOMBSTONE = """
INSERT INTO wahdx_ack_clears (scope, account, publish, rev)
SELECT scope, account, publish, %s FROM wahdx_acks
WHERE scope = %s AND account = %s AND publish = %s
ON CONFLICT (scope, account, publish) DO UPDATE SET rev = excluded.rev
"""
_DROP_ACK = "DELETE FROM wahdx_acks WHERE scope = %s AND account = %s AND publish = %s"
_SET_ACK = """
INSERT INTO wahdx_acks (scope, account, publish, note, at, rev) VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    note = excluded.note, at = excluded.at, rev = excluded.rev
"""
_UNTOMB = "DELETE FROM wahdx_ack_clears WHERE scope = %s AND account = %s AND publish = %s"
_NOTIFY = "SELECT pg_notify(%s, %s)"


class PgStore(Store):
    """The store in a PostgreSQL database; reconnects by itself with capped backoff.

    Each method does what storeapi.Store says (its docstrings are inherited); only what is
    particular to PostgreSQL is documented here.
    """

    def __init__(self, url: str, *, password: str | None = None, readonly: bool = False) -> None:
        self.readonly = readonly
        self._link = PgLink(url, password=password, readonly=readonly)
        self._display = self._link.display
        self._scopes: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._version = self._link.open(self._migrate)

    def __repr__(self) -> str:
        return f"PgStore({self._display!r})"

    @property
    def location(self) -> str:
        """postgresql://user@host:port/db (never the password)."""
        return self._display

    # -- opening ----------------------------------------------------------------------------

    def _migrate(self, conn: psycopg.Connection[Any]) -> int:
        """Bring the database to SCHEMA_VERSION (or check it, read-only); return its version."""
        version = self._schema_version(conn)
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return version  # the usual start: nothing to do, no lock, no DDL
        if self.readonly:
            if version:
                raise StoreError(
                    f"cannot open store at {self._display}: it has schema {version}; run a"
                    " command that writes (watch or serve) once to upgrade it"
                )
            return 0
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute("CREATE TABLE IF NOT EXISTS wahdx_schema (version integer NOT NULL)")
            version = self._schema_version(conn)  # another start may have migrated meanwhile
            self._check_version(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in statements(MIGRATIONS[step]):
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute("DELETE FROM wahdx_schema")
                conn.execute("INSERT INTO wahdx_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
        return SCHEMA_VERSION

    @staticmethod
    def _schema_version(conn: psycopg.Connection[Any]) -> int:
        if conn.execute("SELECT to_regclass('wahdx_schema')").fetchone() == (None,):
            return 0
        row = conn.execute("SELECT max(version) FROM wahdx_schema").fetchone()
        return int(row[0] or 0) if row else 0

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cannot open store at {self._display}: it was written by a newer wahdx-tui"
                f" (schema {version}, this version knows {SCHEMA_VERSION}); upgrade wahdx-tui"
            )

    def _write(self, work: Callable[[psycopg.Cursor[Any]], _T]) -> _T:
        """One transaction; scope ids it created are remembered only once it commits."""
        if self.readonly:
            raise StoreError(f"cannot write store at {self._display}: it is open read-only")

        def tx(conn: psycopg.Connection[Any]) -> _T:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    out = work(cur)
            except BaseException:
                self._pending.clear()  # the ids it made were rolled back with it
                raise
            self._scopes.update(self._pending)
            self._pending.clear()
            return out

        return self._link.run("write", tx)

    def _read(self, work: Callable[[psycopg.Connection[Any]], _T], empty: _T) -> _T:
        if self._version == 0:  # read-only, and nothing was ever written here
            return empty
        return self._link.run("read", work)

    def _bump(self, cur: psycopg.Cursor[Any], scope: str) -> tuple[int, int]:
        """(scope id, next revision); the scope's row stays locked until commit, so
        revisions commit in order and a reader's cursor never skips one."""
        row = cur.execute(_BUMP, (scope,)).fetchone()
        assert row is not None
        sid, rev = int(row[0]), int(row[1])
        if scope not in self._scopes:
            self._pending[scope] = sid
        return sid, rev

    def _sid(self, cur: psycopg.Cursor[Any], scope: str, *, create: bool) -> int | None:
        found = self._scopes.get(scope) or self._pending.get(scope)
        if found is not None:
            return found
        if create:
            cur.execute(
                "INSERT INTO wahdx_scopes (url) VALUES (%s) ON CONFLICT DO NOTHING", (scope,)
            )
        row = cur.execute("SELECT id FROM wahdx_scopes WHERE url = %s", (scope,)).fetchone()
        if row is None:
            return None
        sid = int(row[0])
        if create:
            self._pending[scope] = sid
        else:
            self._scopes[scope] = sid
        return sid

    def _read_sid(self, conn: psycopg.Connection[Any], scope: str) -> int | None:
        found = self._scopes.get(scope)
        if found is not None:
            return found
        row = conn.execute("SELECT id FROM wahdx_scopes WHERE url = %s", (scope,)).fetchone()
        if row is None:
            return None
        self._scopes[scope] = int(row[0])
        return int(row[0])

    @staticmethod
    def _notify(cur: psycopg.Cursor[Any], scope: str) -> None:
        cur.execute(_NOTIFY, (CHANNEL, scope[:1000]))

    def close(self) -> None:
        """Close the connections; later calls raise StoreError."""
        self._link.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------

    def record(
        self, scope: str, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """Store one pass in one transaction of batched statements (pipelined)."""
        if not changed and not transitions:
            return
        moves = codec.last_moves(transitions)
        posts = {st.key: st for st in changed}  # one row per post: the last word wins

        def work(cur: psycopg.Cursor[Any]) -> None:
            sid, rev = self._bump(cur, scope)
            if posts:
                rows = []
                for st in posts.values():  # each %s takes one value: `moved` is given twice
                    moved = moves.get(st.key)
                    values = codec.post_values(st, pg_text)
                    rows.append(
                        (sid, *values, moved, st.checked_at, codec.raw_json(st.raw), rev, moved)
                    )
                cur.executemany(_UPSERT_POST, rows)
            if transitions:
                cur.executemany(_INSERT_EVENT, codec.event_rows(sid, rev, transitions, pg_text))
                orphans = codec.since_rows(sid, rev, moves, posts, pg_text)
                if orphans:
                    cur.executemany(_SET_SINCE, orphans)
                failed = codec.failed_keys(transitions)
                if failed:
                    self._drop_acks(cur, sid, rev, failed)
            self._notify(cur, scope)

        self._write(work)

    @staticmethod
    def _drop_acks(cur: psycopg.Cursor[Any], sid: int, rev: int, keys: set[PostKey]) -> None:
        rows = codec.key_rows(sid, keys, pg_text)
        cur.executemany(_TOMBSTONE, [(rev, *row) for row in rows])
        cur.executemany(_DROP_ACK, rows)

    def set_ack(
        self, scope: str, key: PostKey, note: str, at: float, since: float | None = None
    ) -> None:
        def work(cur: psycopg.Cursor[Any]) -> None:
            sid, rev = self._bump(cur, scope)
            if since is not None:
                row = cur.execute(
                    "SELECT since FROM wahdx_posts WHERE scope = %s AND account = %s"
                    " AND publish = %s",
                    (sid, pg_text(key[0]), pg_text(key[1])),
                ).fetchone()
                if row is not None and row[0] > since + ACK_SINCE_SLACK:
                    return  # a newer state than the one acknowledged
            self._put_ack(cur, sid, rev, Ack(key, note, at))
            self._notify(cur, scope)

        self._write(work)

    @staticmethod
    def _put_ack(cur: psycopg.Cursor[Any], sid: int, rev: int, ack: Ack) -> None:
        row = codec.ack_row(sid, rev, ack, pg_text)
        cur.execute(_SET_ACK, row)
        cur.execute(_UNTOMB, row[:3])

    def clear_ack(self, scope: str, key: PostKey) -> None:
        def work(cur: psycopg.Cursor[Any]) -> None:
            sid = self._sid(cur, scope, create=False)
            if sid is None:
                return
            account, publish = pg_text(key[0]), pg_text(key[1])
            found = cur.execute(
                "SELECT 1 FROM wahdx_acks WHERE scope = %s AND account = %s AND publish = %s",
                (sid, account, publish),
            ).fetchone()
            if found:
                _, rev = self._bump(cur, scope)
                self._drop_acks(cur, sid, rev, {key})
                self._notify(cur, scope)

        self._write(work)

    def prune(self, scope: str, keep_events: int = KEEP_EVENTS) -> int:
        def work(cur: psycopg.Cursor[Any]) -> int:
            sid = self._sid(cur, scope, create=False)
            if sid is None:
                return 0
            cur.execute(
                "DELETE FROM wahdx_events WHERE id IN (SELECT id FROM wahdx_events"
                " WHERE scope = %s ORDER BY at DESC, id DESC OFFSET %s)",
                (sid, max(0, keep_events)),
            )
            return max(0, cur.rowcount)

        return self._write(work)

    def import_history(
        self,
        scope: str,
        posts: Sequence[StoredPost],
        transitions: Sequence[Transition],
        acks: Sequence[Ack],
    ) -> int:
        """Write rows exactly as given (a copy); a transition already there is skipped."""

        def work(cur: psycopg.Cursor[Any]) -> int:
            sid, rev = self._bump(cur, scope)
            if posts:
                unique = {p.key: p for p in posts}.values()
                cur.executemany(_COPY_POST, codec.copy_rows(sid, rev, unique, pg_text))
            added = 0
            if transitions:
                cur.executemany(
                    _INSERT_EVENT + " RETURNING 1",
                    codec.event_rows(sid, rev, transitions, pg_text),
                    returning=True,
                )
                while True:
                    added += len(cur.fetchall())
                    if not cur.nextset():
                        break
            for ack in acks:
                self._put_ack(cur, sid, rev, ack)
            self._notify(cur, scope)
            return added

        return self._write(work)

    # -- reading --------------------------------------------------------------------------

    def last_posts(self, scope: str) -> dict[PostKey, StoredPost]:
        def work(conn: psycopg.Connection[Any]) -> dict[PostKey, StoredPost]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                f"SELECT {_POST_COLUMNS} FROM wahdx_posts WHERE scope = %s", (sid,)
            ).fetchall()
            return {p.key: p for p in map(codec.post_of, rows)}

        return self._read(work, {})

    def trail(self, scope: str, key: PostKey, limit: int = 50) -> list[Transition]:
        def work(conn: psycopg.Connection[Any]) -> list[Transition]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT old, new, at FROM wahdx_events WHERE scope = %s AND account = %s"
                " AND publish = %s ORDER BY at DESC, id DESC LIMIT %s",
                (sid, pg_text(key[0]), pg_text(key[1]), max(0, limit)),
            ).fetchall()
            return [codec.transition_of(*key, old, new, at) for old, new, at in reversed(rows)]

        return self._read(work, [])

    def events(self, scope: str, limit: int = 1000) -> list[Transition]:
        def work(conn: psycopg.Connection[Any]) -> list[Transition]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT account, publish, old, new, at FROM wahdx_events WHERE scope = %s"
                " ORDER BY at DESC, id DESC LIMIT %s",
                (sid, max(0, limit)),
            ).fetchall()
            return [codec.transition_of(*row) for row in rows]

        return self._read(work, [])

    def acks(self, scope: str) -> dict[PostKey, Ack]:
        def work(conn: psycopg.Connection[Any]) -> dict[PostKey, Ack]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                "SELECT account, publish, note, at FROM wahdx_acks WHERE scope = %s", (sid,)
            ).fetchall()
            return {(a, p): Ack((a, p), note, at) for a, p, note, at in rows}

        return self._read(work, {})

    def failures_per_hour(
        self, scope: str, since: float, until: float, account: str | None = None
    ) -> list[int]:
        def work(conn: psycopg.Connection[Any]) -> list[int]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return codec.hour_buckets([], since, until)
            query = (
                "SELECT floor((at - %s) / 3600)::int, count(*) FROM wahdx_events"
                " WHERE scope = %s AND new = 'failed' AND at >= %s AND at < %s"
            )
            args: tuple[object, ...] = (since, sid, since, until)
            if account is not None:
                query += " AND account = %s"
                args += (pg_text(account),)
            rows = conn.execute(query + " GROUP BY 1", args).fetchall()
            return codec.hour_buckets(rows, since, until)

        return self._read(work, codec.hour_buckets([], since, until))

    def scopes(self) -> list[str]:
        def work(conn: psycopg.Connection[Any]) -> list[str]:
            rows = conn.execute("SELECT url FROM wahdx_scopes ORDER BY id").fetchall()
            return [str(r[0]) for r in rows]

        return self._read(work, [])

    # -- the change feed --------------------------------------------------------------------

    def cursor(self, scope: str) -> int:
        def work(conn: psycopg.Connection[Any]) -> int:
            row = conn.execute("SELECT rev FROM wahdx_scopes WHERE url = %s", (scope,)).fetchone()
            return int(row[0]) if row else 0

        return self._read(work, 0)

    def changes_since(self, scope: str, cursor: int) -> FeedPage:
        """Everything written after `cursor` (0: everything); one query when nothing changed."""

        def work(conn: psycopg.Connection[Any]) -> FeedPage:
            row = conn.execute(
                "SELECT id, rev FROM wahdx_scopes WHERE url = %s", (scope,)
            ).fetchone()
            if row is None:
                return FeedPage(cursor=0, reset=cursor > 0)
            sid, rev = int(row[0]), int(row[1])
            if rev == cursor:
                return FeedPage(cursor=rev)
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                found = conn.execute(
                    "SELECT rev FROM wahdx_scopes WHERE id = %s", (sid,)
                ).fetchone()
                rev = int(found[0]) if found else 0
                reset = cursor > rev
                after = 0 if reset else cursor
                posts = conn.execute(
                    f"SELECT {_POST_COLUMNS} FROM wahdx_posts WHERE scope = %s AND rev > %s",
                    (sid, after),
                ).fetchall()
                events = conn.execute(
                    "SELECT account, publish, old, new, at FROM wahdx_events"
                    " WHERE scope = %s AND rev > %s ORDER BY rev, at, id",
                    (sid, after),
                ).fetchall()
                acks = conn.execute(
                    "SELECT account, publish, note, at FROM wahdx_acks"
                    " WHERE scope = %s AND rev > %s",
                    (sid, after),
                ).fetchall()
                clears = conn.execute(
                    "SELECT account, publish FROM wahdx_ack_clears WHERE scope = %s AND rev > %s",
                    (sid, after),
                ).fetchall()
            return codec.changes_of(posts, events, acks, clears, rev, reset)

        return self._read(work, FeedPage(cursor=0, reset=cursor > 0))

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to `timeout` s on LISTEN; True on a notification, after the listener
        reconnects, and at least every few seconds (a notification lost is then caught up)."""
        return self._link.wait(timeout)

    def now(self) -> float:
        """The database server's clock, epoch seconds."""

        def work(conn: psycopg.Connection[Any]) -> float:
            row = conn.execute(f"SELECT {_NOW}").fetchone()
            return float(row[0]) if row else time.time()

        return self._link.run("read", work)

    # -- the poller lease -----------------------------------------------------------------

    def try_lease(self, name: str, holder: LeaseHolder, ttl: float, status: str = "") -> bool:
        """Take the lease when free or expired, renew it when ours; judged by the server's clock."""

        def work(cur: psycopg.Cursor[Any]) -> bool:
            cur.execute(
                "INSERT INTO wahdx_leases AS l"
                " (name, holder_id, host, pid, renewed_at, expires_at, status)"
                f" VALUES (%s, %s, %s, %s, {_NOW}, {_NOW} + %s::float8, %s)"
                " ON CONFLICT (name) DO UPDATE SET holder_id = excluded.holder_id,"
                " host = excluded.host, pid = excluded.pid, renewed_at = excluded.renewed_at,"
                " expires_at = excluded.expires_at, status = excluded.status"
                f" WHERE l.holder_id = excluded.holder_id OR l.expires_at <= {_NOW}"
                " RETURNING 1",
                (
                    pg_text(name),
                    pg_text(holder.id),
                    pg_text(holder.host),
                    holder.pid,
                    ttl,
                    pg_text(status),
                ),
            )
            return cur.fetchone() is not None

        return self._write(work)

    def release_lease(self, name: str, holder_id: str) -> None:
        """Let the lease go at once if `holder_id` holds it (it then reads as expired)."""

        def work(cur: psycopg.Cursor[Any]) -> None:
            cur.execute(
                f"UPDATE wahdx_leases SET expires_at = {_NOW} WHERE name = %s AND holder_id = %s",
                (pg_text(name), pg_text(holder_id)),
            )

        self._write(work)

    def lease_info(self, name: str) -> LeaseInfo | None:
        def work(conn: psycopg.Connection[Any]) -> LeaseInfo | None:
            row = conn.execute(
                f"SELECT holder_id, host, pid, renewed_at, expires_at, expires_at <= {_NOW}, status"
                " FROM wahdx_leases WHERE name = %s",
                (pg_text(name),),
            ).fetchone()
            if row is None:
                return None
            holder_id, host, pid, renewed, expires, expired, status = row
            return LeaseInfo(holder_id, host, int(pid), renewed, expires, bool(expired), status)

        return self._read(work, None)

    # -- refresh requests ---------------------------------------------------------------------

    def request_refresh(self, scope: str, keys: Sequence[PostKey] | None, requester: str) -> int:
        def work(cur: psycopg.Cursor[Any]) -> int:
            sid = self._sid(cur, scope, create=True)
            row = cur.execute(
                "INSERT INTO wahdx_refresh_requests (scope, keys, requester, at)"
                f" VALUES (%s, %s, %s, {_NOW}) RETURNING id, at",
                (sid, codec.keys_json(keys), pg_text(requester) or ""),
            ).fetchone()
            assert row is not None
            rid, at = int(row[0]), float(row[1])
            cur.execute(
                "DELETE FROM wahdx_refresh_requests WHERE scope = %s AND (id <= %s OR at < %s)",
                (sid, rid - REFRESH_KEEP, at - REFRESH_MAX_AGE),
            )
            self._notify(cur, scope)
            return rid

        return self._write(work)

    def take_refresh_requests(self, scope: str, after: int) -> list[RefreshRequest]:
        def work(conn: psycopg.Connection[Any]) -> list[RefreshRequest]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT id, keys, requester, at FROM wahdx_refresh_requests"
                " WHERE scope = %s AND id > %s ORDER BY id",
                (sid, after),
            ).fetchall()
            return [RefreshRequest(int(i), codec.keys_value(k), r, at) for i, k, r, at in rows]

        return self._read(work, [])

    # -- boards and what they watch -------------------------------------------------------------

    def register_board(
        self,
        scope: str,
        board_id: str,
        host: str,
        posts: Sequence[WatchedPost],
        now: float | None = None,
    ) -> None:
        def work(cur: psycopg.Cursor[Any]) -> None:
            sid = self._sid(cur, scope, create=True)
            row = cur.execute(f"SELECT coalesce(%s::float8, {_NOW})", (now,)).fetchone()
            at = float(row[0]) if row else time.time()
            cur.execute(
                "DELETE FROM wahdx_board_posts WHERE board_id IN"
                " (SELECT board_id FROM wahdx_boards WHERE seen_at < %s)",
                (at - BOARD_FORGET_AFTER,),
            )
            cur.execute("DELETE FROM wahdx_boards WHERE seen_at < %s", (at - BOARD_FORGET_AFTER,))
            board = pg_text(board_id)
            cur.execute(
                "INSERT INTO wahdx_boards (board_id, scope, host, registered_at, seen_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (board_id) DO UPDATE SET"
                " scope = excluded.scope, host = excluded.host,"
                " registered_at = excluded.registered_at, seen_at = excluded.seen_at",
                (board, sid, pg_text(host) or "", at, at),
            )
            cur.execute("DELETE FROM wahdx_board_posts WHERE board_id = %s", (board,))
            if posts:
                cur.executemany(
                    "INSERT INTO wahdx_board_posts"
                    " (board_id, account, publish, media_type, label, position)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    codec.board_post_rows(board, posts, pg_text),
                )
            self._notify(cur, scope)

        self._write(work)

    def heartbeat_board(self, board_id: str, now: float | None = None) -> bool:
        def work(cur: psycopg.Cursor[Any]) -> bool:
            cur.execute(
                f"UPDATE wahdx_boards SET seen_at = coalesce(%s::float8, {_NOW})"
                " WHERE board_id = %s",
                (now, pg_text(board_id)),
            )
            return cur.rowcount > 0

        return self._write(work)

    def unregister_board(self, board_id: str) -> None:
        def work(cur: psycopg.Cursor[Any]) -> None:
            board = pg_text(board_id)
            cur.execute("DELETE FROM wahdx_board_posts WHERE board_id = %s", (board,))
            cur.execute("DELETE FROM wahdx_boards WHERE board_id = %s", (board,))

        self._write(work)

    def watched_posts(
        self, scope: str, alive_within: float, now: float | None = None
    ) -> list[WatchedPost]:
        def work(conn: psycopg.Connection[Any]) -> list[WatchedPost]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT p.account, p.publish, p.media_type, p.label"
                " FROM wahdx_board_posts p JOIN wahdx_boards b ON b.board_id = p.board_id"
                f" WHERE b.scope = %s AND b.seen_at >= coalesce(%s::float8, {_NOW}) - %s"
                " ORDER BY b.registered_at, b.board_id, p.position",
                (sid, now, alive_within),
            ).fetchall()
            return codec.union_posts(rows)

        return self._read(work, [])

    def boards(self, scope: str, alive_within: float, now: float | None = None) -> list[BoardInfo]:
        def work(conn: psycopg.Connection[Any]) -> list[BoardInfo]:
            sid = self._read_sid(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT b.board_id, b.host,"
                " (SELECT count(*) FROM wahdx_board_posts p WHERE p.board_id = b.board_id),"
                " b.registered_at, b.seen_at FROM wahdx_boards b"
                f" WHERE b.scope = %s AND b.seen_at >= coalesce(%s::float8, {_NOW}) - %s"
                " ORDER BY b.registered_at, b.board_id",
                (sid, now, alive_within),
            ).fetchall()
            return [BoardInfo(i, h, int(n), r, s) for i, h, n, r, s in rows]

        return self._read(work, [])
