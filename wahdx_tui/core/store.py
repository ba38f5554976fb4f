"""The board's history in SQLite: every observed transition, the last payload per post, acks."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from wahdx_tui.core.errors import WahdxError
from wahdx_tui.core.model import PostKey, PostStatus, State

SCHEMA_VERSION = 1
MAX_RAW_BYTES = 64 * 1024
"""Largest raw payload kept per post, as JSON text; bigger ones are stored as null."""
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
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
_UPSERT_POST = """
INSERT INTO posts (scope, account, publish, state, raw_status, public_url, error, checked_at,
                   since, raw)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, ?8), ?10)
ON CONFLICT (scope, account, publish) DO UPDATE SET
    state = excluded.state,
    raw_status = excluded.raw_status,
    public_url = excluded.public_url,
    error = excluded.error,
    checked_at = excluded.checked_at,
    since = coalesce(?9, posts.since),
    raw = excluded.raw
"""
_INSERT_EVENT = (
    "INSERT INTO events (scope, account, publish, old, new, at) VALUES (?, ?, ?, ?, ?, ?)"
)
_SET_SINCE = "UPDATE posts SET since = ? WHERE scope = ? AND account = ? AND publish = ?"
_DROP_ACK = "DELETE FROM acks WHERE scope = ? AND account = ? AND publish = ?"

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


def default_store_path() -> Path:
    """Where the history lives: the XDG state directory (respects $XDG_STATE_HOME)."""
    return platformdirs.user_state_path("wahdx-tui") / "history.sqlite3"


def scope_for(base_url: str) -> str:
    """The normalised base URL (lower-case scheme and host, no trailing slash) a history is kept under."""
    url = base_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return url
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class Transition:
    """A post moved from `old` (None when first seen) to `new` at `at` (epoch seconds)."""

    key: PostKey
    old: State | None
    new: State
    at: float


@dataclass(frozen=True, slots=True)
class StoredPost:
    """The last payload recorded for a post, and since when it has been in its state."""

    key: PostKey
    state: State
    raw_status: str | None
    public_url: str | None
    error: str | None
    checked_at: float
    since: float
    raw: object


@dataclass(frozen=True, slots=True)
class Ack:
    """An operator's acknowledgement of a failed post, with an optional note."""

    key: PostKey
    note: str
    at: float


class StoreError(WahdxError):
    """The history file cannot be opened, read or written; one clear line says why."""


def _state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        return State.UNKNOWN


_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII = json.JSONEncoder(default=str, ensure_ascii=True, separators=(",", ":")).encode


def _raw_json(raw: object) -> str | None:
    """The payload as JSON text, or None when it cannot be encoded or is over the cap."""
    if raw is None:
        return None
    try:
        text = _ENCODE(raw)
        if text.isascii():
            size = len(text)
        else:
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError:  # lone surrogates: escape them instead
                text = _ENCODE_ASCII(raw)
                size = len(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if size <= MAX_RAW_BYTES else None


def _raw_value(text: str | None) -> object:
    if text is None:
        return None
    try:
        value: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value


def _text(value: str | None) -> str | None:
    """A string SQLite can store: lone surrogates replaced."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


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


class Store:
    """A history file shared safely by several boards (threads or processes) on one host."""

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.readonly = readonly
        self._lock = threading.Lock()
        self._scopes: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        if readonly:
            self._hint = "fix the path or pass --history FILE"
        else:
            self._hint = "pass --no-history or fix the path"
        try:
            self._conn = self._open()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open history at {self.path}: {_reason(exc)}; {self._hint}"
            ) from None

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
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        return self._prepare(conn)

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
        """Check the schema version; for writing, switch to WAL and create the schema."""
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
                    self._create_schema(conn)
            elif version == 0:
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise StoreError(
                        f"cannot open history at {self.path}: not a wahdx-tui history file;"
                        f" {self._hint}"
                    )
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

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            self._check_version(version)
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def close(self) -> None:
        """Close the file; later calls raise StoreError."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> Store:
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
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
            self._scopes.update(self._pending)
            self._pending.clear()

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
        cur = conn.execute("INSERT INTO scopes (url) VALUES (?)", (scope,))
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

    # -- writing --------------------------------------------------------------------------

    def record(
        self, scope: str, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """Store one pass in one transaction: last payloads, transitions, re-opened failures."""
        if not changed and not transitions:
            return
        latest: dict[PostKey, float] = {}
        for tr in transitions:
            latest[tr.key] = tr.at
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=True)
            if changed:
                conn.executemany(
                    _UPSERT_POST,
                    [
                        (
                            sid,
                            _text(st.key[0]),
                            _text(st.key[1]),
                            st.state.value,
                            _text(st.raw_status),
                            _text(st.public_url),
                            _text(st.error),
                            st.checked_at,
                            latest.get(st.key),
                            _raw_json(st.raw),
                        )
                        for st in changed
                    ],
                )
            if transitions:
                conn.executemany(
                    _INSERT_EVENT,
                    [
                        (
                            sid,
                            _text(tr.key[0]),
                            _text(tr.key[1]),
                            tr.old.value if tr.old is not None else None,
                            tr.new.value,
                            tr.at,
                        )
                        for tr in transitions
                    ],
                )
                keys = {st.key for st in changed}
                orphans = [
                    (at, sid, _text(k[0]), _text(k[1])) for k, at in latest.items() if k not in keys
                ]
                if orphans:
                    conn.executemany(_SET_SINCE, orphans)
                failed = {tr.key for tr in transitions if tr.new is State.FAILED}
                if failed:
                    conn.executemany(_DROP_ACK, [(sid, _text(k[0]), _text(k[1])) for k in failed])

    def set_ack(self, scope: str, key: PostKey, note: str, at: float) -> None:
        """Acknowledge a post (replacing any earlier acknowledgement)."""
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=True)
            conn.execute(
                "INSERT INTO acks (scope, account, publish, note, at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (scope, account, publish) DO UPDATE SET"
                " note = excluded.note, at = excluded.at",
                (sid, _text(key[0]), _text(key[1]), _text(note) or "", at),
            )

    def clear_ack(self, scope: str, key: PostKey) -> None:
        """Withdraw the acknowledgement of a post, if any."""
        with self._write("write") as conn:
            sid = self._scope_id(conn, scope, create=False)
            if sid is not None:
                conn.execute(_DROP_ACK, (sid, _text(key[0]), _text(key[1])))

    def prune(self, scope: str, keep_events: int = 100_000) -> int:
        """Drop the oldest transitions beyond the newest `keep_events`; return how many went."""
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

    # -- reading --------------------------------------------------------------------------

    def last_posts(self, scope: str) -> dict[PostKey, StoredPost]:
        """The last payload recorded for every post of the scope."""
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                "SELECT account, publish, state, raw_status, public_url, error, checked_at,"
                " since, raw FROM posts WHERE scope = ?",
                (sid,),
            ).fetchall()
        out: dict[PostKey, StoredPost] = {}
        for account, publish, state, raw_status, public_url, error, checked, since, raw in rows:
            key = (account, publish)
            out[key] = StoredPost(
                key, _state(state), raw_status, public_url, error, checked, since, _raw_value(raw)
            )
        return out

    def trail(self, scope: str, key: PostKey, limit: int = 50) -> list[Transition]:
        """The post's last `limit` transitions, oldest first."""
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT old, new, at FROM events WHERE scope = ? AND account = ? AND publish = ?"
                " ORDER BY at DESC, id DESC LIMIT ?",
                (sid, _text(key[0]), _text(key[1]), max(0, limit)),
            ).fetchall()
        return [
            Transition(key, _state(old) if old is not None else None, _state(new), at)
            for old, new, at in reversed(rows)
        ]

    def events(self, scope: str, limit: int = 1000) -> list[Transition]:
        """The last `limit` transitions across all posts, newest first."""
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT account, publish, old, new, at FROM events WHERE scope = ?"
                " ORDER BY at DESC, id DESC LIMIT ?",
                (sid, max(0, limit)),
            ).fetchall()
        return [
            Transition(
                (account, publish), _state(old) if old is not None else None, _state(new), at
            )
            for account, publish, old, new, at in rows
        ]

    def acks(self, scope: str) -> dict[PostKey, Ack]:
        """Every acknowledgement of the scope."""
        with self._guard("read") as conn:
            sid = self._read_scope(conn, scope)
            if sid is None:
                return {}
            rows = conn.execute(
                "SELECT account, publish, note, at FROM acks WHERE scope = ?", (sid,)
            ).fetchall()
        return {(a, p): Ack((a, p), note, at) for a, p, note, at in rows}
