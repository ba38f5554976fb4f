"""The store in one SQLite file: safe for several boards and a poller on one host."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import platformdirs

from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.store import codec
from wahdx_tui.core.store.codec import clean_text
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
from wahdx_tui.core.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, statements

BUSY_TIMEOUT_MS = 5000
BUSY_SLICE_MS = 100
"""A write waits for another process's lock in slices this long, looking between them whether
to give up (`stop_waiting`): SQLite's own wait cannot be interrupted."""
WATCH_INTERVAL = 0.2
"""Seconds between two looks at PRAGMA data_version while waiting for a change."""

_UPSERT_POST = """
INSERT INTO posts (scope, account, publish, state, raw_status, public_url, error, checked_at,
                   since, raw, rev)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, ?8), ?10, ?11)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state,
    raw_status = excluded.raw_status,
    public_url = excluded.public_url,
    error = excluded.error,
    checked_at = excluded.checked_at,
    since = coalesce(?9, posts.since),
    raw = excluded.raw,
    rev = excluded.rev
"""
_COPY_POST = """
INSERT INTO posts (scope, account, publish, state, raw_status, public_url, error, checked_at,
                   since, raw, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state, raw_status = excluded.raw_status, public_url = excluded.public_url,
    error = excluded.error, checked_at = excluded.checked_at, since = excluded.since,
    raw = excluded.raw, rev = excluded.rev
"""
_INSERT_EVENT = (
    "INSERT INTO events (scope, account, publish, old, new, at, rev) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
_SET_SINCE = "UPDATE posts SET since = ?, rev = ? WHERE scope = ? AND account = ? AND publish = ?"
_TOMBSTONE = """
INSERT INTO ack_clears (scope, account, publish, rev)
SELECT scope, account, publish, ?1 FROM acks WHERE scope = ?2 AND account = ?3 AND publish = ?4
ON CONFLICT (scope, account, publish) DO UPDATE SET rev = excluded.rev
"""
_DROP_ACK = "DELETE FROM acks WHERE scope = ? AND account = ? AND publish = ?"
_SET_ACK = """
INSERT INTO acks (scope, account, publish, note, at, rev) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    note = excluded.note, at = excluded.at, rev = excluded.rev
"""
_UNTOMB = "DELETE FROM ack_clears WHERE scope = ? AND account = ? AND publish = ?"
_POST_COLUMNS = "account, publish, state, raw_status, public_url, error, checked_at, since, raw"

# What an SQLite error code means for the operator.
_REASONS = {
    "SQLITE_NOTADB": "the file is not a SQLite database (corrupt, or another kind of file)",
    "SQLITE_CORRUPT": "the database file is corrupt",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the file or its directory is read-only",
    "SQLITE_CANTOPEN": "the file cannot be opened (missing directory or no permission)",
    "SQLITE_PERM": "permission denied",
    "SQLITE_AUTH": "permission denied",
    "SQLITE_BUSY": f"another process kept it locked for over {BUSY_TIMEOUT_MS // 1000} s",
    "SQLITE_LOCKED": f"another process kept it locked for over {BUSY_TIMEOUT_MS // 1000} s",
    "SQLITE_IOERR": "a disk read or write failed",
    "SQLITE_NOMEM": "out of memory",
}


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _open_here(paths: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """Those of `paths` that name a file this process has open, with their identity (Linux's
    /proc/self/fd; elsewhere none is known, and none is said)."""
    wanted = {identity: path for path in paths if (identity := _identity(path)) is not None}
    found: dict[Path, tuple[int, int]] = {}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            st = os.fstat(int(fd))
        except (OSError, ValueError):
            continue
        path = wanted.get((st.st_dev, st.st_ino))
        if path is not None:
            found[path] = (st.st_dev, st.st_ino)
    return found


def default_store_path() -> Path:
    """Where the history lives: the XDG state directory (respects $XDG_STATE_HOME)."""
    return platformdirs.user_state_path("wahdx-tui") / "history.sqlite3"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", None) or ""
        for prefix, reason in _REASONS.items():
            if name == prefix or name.startswith(prefix + "_"):
                return reason
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            return "the history is closed"
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc)
        return text[:1].lower() + text[1:]
    return str(exc)


class SqliteStore(Store):
    """A history file shared safely by several boards (threads or processes) on one host.

    Each method does what storeapi.Store says (its docstrings are inherited); only what is
    particular to SQLite is documented here.
    """

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.readonly = readonly
        self._lock = threading.Lock()
        self._scopes: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._version = SCHEMA_VERSION
        self._closed = threading.Event()
        self._give_up = threading.Event()  # stop_waiting: a stop's deadline has come
        self._watch_lock = threading.Lock()
        self._watch: sqlite3.Connection | None = None
        self._seen_version: int | None = None
        if readonly:
            self._hint = "fix the path or pass --history FILE"
        else:
            self._hint = "pass --no-history or fix the path"
        self._conn = self._opened()
        self._file = self._file_id()  # the file opened: replaced() compares the path's

    def _opened(self) -> sqlite3.Connection:
        """A connection to the file at the path (made when missing, unless read-only)."""
        try:
            return self._open()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open history at {self.path}: {_reason(exc)}; {self._hint}"
            ) from None

    def _file_id(self) -> tuple[int, int] | None:
        """(device, inode) of the file at the path now; None when there is none."""
        return _identity(self.path)

    def replaced(self) -> str | None:
        """'was deleted' or 'was replaced by another file' when the path no longer names the
        file this store has open (one stat); None while it does."""
        now = self._file_id()
        if now == self._file:
            return None
        return "was deleted" if now is None else "was replaced by another file"

    def reopen(self) -> None:
        """Open the file at the path again, making it when it is missing (as at the start),
        in place of the one deleted or replaced under this store.

        The old file's connections are closed first, and its -wal and -shm (the ones this
        process has open) removed: SQLite leaves them when their database has moved, and a
        new file opened beside them would take the old file's pages in as its own."""
        with self._lock, self._watch_lock:
            if self._closed.is_set():
                raise StoreError(f"cannot open history at {self.path}: the history is closed")
            sidecars = [self.path.with_name(self.path.name + end) for end in ("-wal", "-shm")]
            orphans = _open_here(sidecars)  # the old file's, by the inodes this process has
            for gone in (self._conn, self._watch):
                if gone is not None:
                    with contextlib.suppress(sqlite3.Error):
                        gone.close()
            self._watch, self._seen_version = None, None
            self._scopes.clear()
            self._pending.clear()
            for path, identity in orphans.items():
                if _identity(path) == identity:  # still the old file's: not the new one's
                    with contextlib.suppress(OSError):
                        path.unlink()
            self._conn = self._opened()  # while this fails, the closed one says "closed"
            self._file = self._file_id()

    @property
    def location(self) -> str:
        """The file's path."""
        return str(self.path)

    # -- opening --------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.is_file():
                raise StoreError(f"no history at {self.path}: {self._hint}")
            try:
                return self._prepare(self._connect_ro(immutable=False))
            except sqlite3.Error as exc:
                name = getattr(exc, "sqlite_errorname", None) or ""
                wal = self.path.with_name(self.path.name + "-wal")
                # A WAL database in a directory we cannot write (so no writer can be busy
                # there either) can only be read as immutable: SQLite cannot make its -shm.
                if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or (
                    wal.exists() or os.access(self.path.parent, os.W_OK)
                ):
                    raise
            return self._prepare(self._connect_ro(immutable=True))
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file owner-only before SQLite does (its -wal and -shm copy the mode).
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        return self._prepare(self._connect_rw())

    def _connect_rw(self) -> sqlite3.Connection:
        return sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )

    def _connect_ro(self, *, immutable: bool) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
        return sqlite3.connect(
            uri,
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Check the schema version; for writing, switch to WAL and migrate the schema."""
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            self._check_version(version)
            if not self.readonly:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise sqlite3.OperationalError(f"cannot switch to WAL mode (got {mode})")
                conn.execute("PRAGMA synchronous = NORMAL")
                if version < SCHEMA_VERSION:
                    self._migrate(conn)
            else:
                if version == 0:
                    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                    if tables:
                        raise StoreError(
                            f"cannot open history at {self.path}: not a wahdx-tui history file;"
                            f" {self._hint}"
                        )
                self._version = version
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cannot open history at {self.path}: it was written by a newer wahdx-tui"
                f" (schema {version}, this version knows {SCHEMA_VERSION}); upgrade wahdx-tui,"
                f" or {self._hint}"
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the file to SCHEMA_VERSION in one transaction (another process may race)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            self._check_version(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in statements(MIGRATIONS[step]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def close(self) -> None:
        """Close the file; later calls raise StoreError."""
        self._closed.set()
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()
        with self._watch_lock, contextlib.suppress(sqlite3.Error):
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def stop_waiting(self) -> None:
        """A write waiting for another process's lock gives up within BUSY_SLICE_MS, and
        later ones after one slice."""
        self._give_up.set()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[sqlite3.Connection]:
        """Serialise access and turn every SQLite error into one StoreError line."""
        with self._lock:
            try:
                yield self._conn
            except BaseException as exc:
                self._pending.clear()
                with contextlib.suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        self._conn.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(
                        f"cannot {action} history at {self.path}: {_reason(exc)}"
                    ) from None
                raise

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front so busy_timeout applies."""
        with self._guard(action) as conn:
            self._begin(conn, action)
            yield conn
            conn.execute("COMMIT")
            self._scopes.update(self._pending)
            self._pending.clear()

    def _begin(self, conn: sqlite3.Connection, action: str) -> None:
        """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for a lock held elsewhere, in slices,
        so that `stop_waiting` ends the wait (StoreError saying so)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        conn.execute(f"PRAGMA busy_timeout = {min(BUSY_SLICE_MS, BUSY_TIMEOUT_MS)}")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    name = getattr(exc, "sqlite_errorname", None) or ""
                    if not name.startswith("SQLITE_BUSY") or time.monotonic() >= deadline:
                        raise
                    if self._give_up.is_set():
                        raise StoreError(
                            f"cannot {action} history at {self.path}: another process held it"
                            " locked until this one had to stop"
                        ) from None
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one committed state (a read transaction)."""
        with self._guard("read") as conn:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")

    def _scope_id(self, conn: sqlite3.Connection, scope: str, *, create: bool) -> int | None:
        found = self._scopes.get(scope)
        if found is not None:
            return found
        row = conn.execute("SELECT id FROM scopes WHERE url = ?", (scope,)).fetchone()
        if row is not None:
            self._scopes[scope] = int(row[0])
            return int(row[0])
        if not create:
            return None
        cur = conn.execute("INSERT INTO scopes (url, rev) VALUES (?, 0)", (scope,))
        sid = int(cur.lastrowid or 0)
        # Cached only once the transaction commits: a rollback would free the id.
        self._pending[scope] = sid
        return sid

    def _read_scope(self, conn: sqlite3.Connection, scope: str) -> int | None:
        if self.readonly:
            has = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scopes'"
            ).fetchone()
            if has is None:
                return None
        return self._scope_id(conn, scope, create=False)

    def _team(self) -> bool:
        """True when the file has the team tables (a read-only old file does not)."""
        return self._version >= 2

    @staticmethod
    def _bump(conn: sqlite3.Connection, sid: int) -> int:
        """The next revision of the scope, for every row this transaction writes."""
        row = conn.execute(
            "UPDATE scopes SET rev = rev + 1 WHERE id = ? RETURNING rev", (sid,)
        ).fetchone()
        return int(row[0])

    def _scope_rev(self, conn: sqlite3.Connection, scope: str) -> tuple[int, int]:
        """(scope id, revision) for a write, creating the scope when new."""
        sid = self._scope_id(conn, scope, create=True)
        assert sid is not None
        return sid, self._bump(conn, sid)

    # -- writing --------------------------------------------------------------------------

    def record(
        self, scope: str, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        if not changed and not transitions:
            return
        moves = codec.last_moves(transitions)
        with self._write("write") as conn:
            sid, rev = self._scope_rev(conn, scope)
            if changed:
                conn.executemany(
                    _UPSERT_POST,
                    [
                        (
                            sid,
                            *codec.post_values(st, clean_text),
                            moves.get(st.key),
                            codec.raw_json(st.raw),
                            rev,
                        )
                        for st in changed
                    ],
                )
            if transitions:
                conn.executemany(_INSERT_EVENT, codec.event_rows(sid, rev, transitions, clean_text))
                written = {st.key for st in changed}
                orphans = codec.since_rows(sid, rev, moves, written, clean_text)
                if orphans:
                    conn.executemany(_SET_SINCE, orphans)
                failed = codec.failed_keys(transitions)
                if failed:
                    self._drop_acks(conn, sid, rev, failed)

    @staticmethod
    def _drop_acks(conn: sqlite3.Connection, sid: int, rev: int, keys: set[PostKey]) -> None:
        rows = codec.key_rows(sid, keys, clean_text)
        conn.executemany(_TOMBSTONE, [(rev, *row) for row in rows])
        conn.executemany(_DROP_ACK, rows)

    def set_ack(
        self, scope: str, key: PostKey, note: str, at: float, since: float | None = None
    ) -> None:
        with self._write("write") as conn:
            sid, rev = self._scope_rev(conn, scope)
            if since is not None:
                row = conn.execute(
                    "SELECT since FROM posts WHERE scope = ? AND account = ? AND publish = ?",
                    (sid, clean_text(key[0]), clean_text(key[1])),
                ).fetchone()
                if row is not None and row[0] > since + ACK_SINCE_SLACK:
                    return  # a newer state than the one acknowledged
            self._put_ack(conn, sid, rev, Ack(key, note, at))

    @staticmethod
    def _put_ack(conn: sqlite3.Connection, sid: int, rev: int, ack: Ack) -> None:
        row = codec.ack_row(sid, rev, ack, clean_text)
        conn.execute(_SET_ACK, row)
        conn.execute(_UNTOMB, row[:3])

    def clear_ack(self, scope: str, key: PostKey) -> None:
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=False)
            if sid is None:
                return
            account, publish = clean_text(key[0]), clean_text(key[1])
            if conn.execute(
                "SELECT 1 FROM acks WHERE scope = ? AND account = ? AND publish = ?",
                (sid, account, publish),
            ).fetchone():
                self._drop_acks(conn, sid, self._bump(conn, sid), {key})

    def prune(self, scope: str, keep_events: int = KEEP_EVENTS) -> int:
        with self._write("prune") as conn:
            sid = self._scope_id(conn, scope, create=False)
            if sid is None:
                return 0
            cur = conn.execute(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE scope = ?"
                " ORDER BY at DESC, id DESC LIMIT -1 OFFSET ?)",
                (sid, max(0, keep_events)),
            )
            return max(0, cur.rowcount)

    def import_history(
        self,
        scope: str,
        posts: Sequence[StoredPost],
        transitions: Sequence[Transition],
        acks: Sequence[Ack],
    ) -> int:
        """Write rows exactly as given (a copy); a transition already there is skipped."""
        with self._write("write") as conn:
            sid, rev = self._scope_rev(conn, scope)
            conn.executemany(_COPY_POST, codec.copy_rows(sid, rev, posts, clean_text))
            before = conn.total_changes
            conn.executemany(_INSERT_EVENT, codec.event_rows(sid, rev, transitions, clean_text))
            added = conn.total_changes - before
            for ack in acks:
                self._put_ack(conn, sid, rev, ack)
            return added

    # -- reading --------------------------------------------------------------------------

    def last_posts(self, scope: str) -> dict[PostKey, StoredPost]:
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                f"SELECT {_POST_COLUMNS} FROM posts WHERE scope = ?", (sid,)
            ).fetchall()
        return {p.key: p for p in map(codec.post_of, rows)}

    def trail(self, scope: str, key: PostKey, limit: int = 50) -> list[Transition]:
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT old, new, at FROM events WHERE scope = ? AND account = ? AND publish = ?"
                " ORDER BY at DESC, id DESC LIMIT ?",
                (sid, clean_text(key[0]), clean_text(key[1]), max(0, limit)),
            ).fetchall()
        return [codec.transition_of(*key, old, new, at) for old, new, at in reversed(rows)]

    def events(self, scope: str, limit: int = 1000) -> list[Transition]:
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT account, publish, old, new, at FROM events WHERE scope = ?"
                " ORDER BY at DESC, id DESC LIMIT ?",
                (sid, max(0, limit)),
            ).fetchall()
        return [codec.transition_of(*row) for row in rows]

    def acks(self, scope: str) -> dict[PostKey, Ack]:
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                "SELECT account, publish, note, at FROM acks WHERE scope = ?", (sid,)
            ).fetchall()
        return {(a, p): Ack((a, p), note, at) for a, p, note, at in rows}

    def failures_per_hour(
        self, scope: str, since: float, until: float, account: str | None = None
    ) -> list[int]:
        # The literal 'failed' lets SQLite use the partial index events_failed.
        sql = (
            "SELECT CAST((at - ?) / 3600 AS INTEGER), count(*) FROM events"
            " WHERE scope = ? AND new = 'failed' AND at >= ? AND at < ?"
        )
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return codec.hour_buckets([], since, until)
            args: tuple[object, ...] = (since, sid, since, until)
            if account is not None:
                sql += " AND account = ?"
                args += (clean_text(account),)
            rows = conn.execute(sql + " GROUP BY 1", args).fetchall()
        return codec.hour_buckets(rows, since, until)

    def scopes(self) -> list[str]:
        with self._guard("read") as conn:
            if self.readonly and self._version == 0:
                return []
            rows = conn.execute("SELECT url FROM scopes ORDER BY id").fetchall()
        return [str(r[0]) for r in rows]

    # -- the change feed --------------------------------------------------------------------

    def cursor(self, scope: str) -> int:
        if not self._team():
            return 0
        with self._guard("read") as conn:
            row = conn.execute("SELECT rev FROM scopes WHERE url = ?", (scope,)).fetchone()
        return int(row[0]) if row else 0

    def changes_since(self, scope: str, cursor: int) -> FeedPage:
        if not self._team():
            return FeedPage(cursor=0, reset=cursor > 0)
        with self._snapshot() as conn:
            row = conn.execute("SELECT id, rev FROM scopes WHERE url = ?", (scope,)).fetchone()
            if row is None:
                return FeedPage(cursor=0, reset=cursor > 0)
            sid, rev = int(row[0]), int(row[1])
            if rev == cursor:
                return FeedPage(cursor=rev)
            reset = cursor > rev
            after = 0 if reset else cursor
            posts = conn.execute(
                f"SELECT {_POST_COLUMNS} FROM posts WHERE scope = ? AND rev > ?", (sid, after)
            ).fetchall()
            events = conn.execute(
                "SELECT account, publish, old, new, at FROM events WHERE scope = ? AND rev > ?"
                " ORDER BY rev, at, id",
                (sid, after),
            ).fetchall()
            acks = conn.execute(
                "SELECT account, publish, note, at FROM acks WHERE scope = ? AND rev > ?",
                (sid, after),
            ).fetchall()
            clears = conn.execute(
                "SELECT account, publish FROM ack_clears WHERE scope = ? AND rev > ?",
                (sid, after),
            ).fetchall()
        return codec.changes_of(posts, events, acks, clears, rev, reset)

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to `timeout` s; True when another connection may have written."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._watch_lock:
            if self._closed.is_set():
                raise StoreError(f"cannot read history at {self.path}: the history is closed")
            try:
                if self._watch is None:
                    self._watch = (
                        self._connect_ro(immutable=False) if self.readonly else self._connect_rw()
                    )
                    self._seen_version = self._data_version(self._watch)
                    return True  # the first call: nothing is known yet
                while True:
                    version = self._data_version(self._watch)
                    if version != self._seen_version:
                        self._seen_version = version
                        return True
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed.wait(min(WATCH_INTERVAL, remaining)):
                        return False
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read history at {self.path}: {_reason(exc)}") from None

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def now(self) -> float:
        """This host's clock (one file, one host)."""
        return time.time()

    # -- the poller lease -----------------------------------------------------------------

    def try_lease(self, name: str, holder: LeaseHolder, ttl: float, status: str = "") -> bool:
        """Take the lease when free or expired, renew it when ours; False when another holds it."""
        now = time.time()
        with self._write("write") as conn:
            cur = conn.execute(
                "INSERT INTO leases (name, holder_id, host, pid, renewed_at, expires_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder_id = excluded.holder_id,"
                " host = excluded.host, pid = excluded.pid, renewed_at = excluded.renewed_at,"
                " expires_at = excluded.expires_at, status = excluded.status"
                " WHERE leases.holder_id = excluded.holder_id OR leases.expires_at <= ?",
                (
                    name,
                    holder.id,
                    clean_text(holder.host),
                    holder.pid,
                    now,
                    now + ttl,
                    clean_text(status),
                    now,
                ),
            )
            return cur.rowcount > 0

    def release_lease(self, name: str, holder_id: str) -> None:
        """Let the lease go at once if `holder_id` holds it (it then reads as expired)."""
        with self._write("write") as conn:
            conn.execute(
                "UPDATE leases SET expires_at = ? WHERE name = ? AND holder_id = ?",
                (time.time(), name, holder_id),
            )

    def lease_info(self, name: str) -> LeaseInfo | None:
        if not self._team():
            return None
        with self._guard("read") as conn:
            row = conn.execute(
                "SELECT holder_id, host, pid, renewed_at, expires_at, status FROM leases"
                " WHERE name = ?",
                (name,),
            ).fetchone()
        if row is None:
            return None
        holder_id, host, pid, renewed, expires, status = row
        expired = expires <= time.time()
        return LeaseInfo(holder_id, host, int(pid), renewed, expires, expired, status)

    # -- refresh requests ---------------------------------------------------------------------

    def request_refresh(self, scope: str, keys: Sequence[PostKey] | None, requester: str) -> int:
        now = time.time()
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=True)
            cur = conn.execute(
                "INSERT INTO refresh_requests (scope, keys, requester, at) VALUES (?, ?, ?, ?)",
                (sid, codec.keys_json(keys), clean_text(requester) or "", now),
            )
            rid = int(cur.lastrowid or 0)
            conn.execute(
                "DELETE FROM refresh_requests WHERE scope = ? AND (id <= ? OR at < ?)",
                (sid, rid - REFRESH_KEEP, now - REFRESH_MAX_AGE),
            )
            return rid

    def take_refresh_requests(self, scope: str, after: int) -> list[RefreshRequest]:
        if not self._team():
            return []
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT id, keys, requester, at FROM refresh_requests"
                " WHERE scope = ? AND id > ? ORDER BY id",
                (sid, after),
            ).fetchall()
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
        at = time.time() if now is None else now
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=True)
            conn.execute(
                "DELETE FROM board_posts WHERE board_id IN"
                " (SELECT board_id FROM boards WHERE seen_at < ?)",
                (at - BOARD_FORGET_AFTER,),
            )
            conn.execute("DELETE FROM boards WHERE seen_at < ?", (at - BOARD_FORGET_AFTER,))
            conn.execute(
                "INSERT INTO boards (board_id, scope, host, registered_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (board_id) DO UPDATE SET"
                " scope = excluded.scope, host = excluded.host,"
                " registered_at = excluded.registered_at, seen_at = excluded.seen_at",
                (board_id, sid, clean_text(host) or "", at, at),
            )
            conn.execute("DELETE FROM board_posts WHERE board_id = ?", (board_id,))
            conn.executemany(
                "INSERT INTO board_posts (board_id, account, publish, media_type, label, position)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                codec.board_post_rows(board_id, posts, clean_text),
            )

    def heartbeat_board(self, board_id: str, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        with self._write("write") as conn:
            cur = conn.execute("UPDATE boards SET seen_at = ? WHERE board_id = ?", (at, board_id))
            return cur.rowcount > 0

    def unregister_board(self, board_id: str) -> None:
        with self._write("write") as conn:
            conn.execute("DELETE FROM board_posts WHERE board_id = ?", (board_id,))
            conn.execute("DELETE FROM boards WHERE board_id = ?", (board_id,))

    def watched_posts(
        self, scope: str, alive_within: float, now: float | None = None
    ) -> list[WatchedPost]:
        if not self._team():
            return []
        at = time.time() if now is None else now
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT p.account, p.publish, p.media_type, p.label"
                " FROM board_posts p JOIN boards b ON b.board_id = p.board_id"
                " WHERE b.scope = ? AND b.seen_at >= ?"
                " ORDER BY b.registered_at, b.board_id, p.position",
                (sid, at - alive_within),
            ).fetchall()
        return codec.union_posts(rows)

    def boards(self, scope: str, alive_within: float, now: float | None = None) -> list[BoardInfo]:
        if not self._team():
            return []
        at = time.time() if now is None else now
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT b.board_id, b.host,"
                " (SELECT count(*) FROM board_posts p WHERE p.board_id = b.board_id),"
                " b.registered_at, b.seen_at FROM boards b"
                " WHERE b.scope = ? AND b.seen_at >= ? ORDER BY b.registered_at, b.board_id",
                (sid, at - alive_within),
            ).fetchall()
        return [BoardInfo(i, h, int(n), r, s) for i, h, n, r, s in rows]
