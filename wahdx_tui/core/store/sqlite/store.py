"""The store in one SQLite file: safe for several boards and a poller on one host."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.sql import SQLITE, SqlStore, Statements
from wahdx_tui.core.store.sqlite.filewatch import FileWatch
from wahdx_tui.core.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from wahdx_tui.core.store.tables import statements

_T = TypeVar("_T")
BUSY_TIMEOUT_MS = 5000
BUSY_SLICE_MS = 100
"""A write waits for another process's lock in slices this long, looking between them whether
to give up (`stop_waiting`): SQLite's own wait cannot be interrupted."""
WATCH_INTERVAL = 0.2
"""Seconds between two looks at PRAGMA data_version while waiting for a change, where the
system cannot say when the file is written (no inotify)."""
SETTLE = 0.5
"""Seconds after a write to the file during which PRAGMA data_version is looked at every
SETTLE_INTERVAL, when the write's event came but no commit yet (a transaction under way, or
a commit published a moment after its last write)."""
SETTLE_INTERVAL = 0.1
WRITE_SETTLES = 0.01
"""Seconds from a write's event to the look at data_version: a commit's writes come together."""

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


def _owner_only(fd: int, path: Path) -> str | None:
    """Make an existing history file others could read mode 600, and say so (or say why not);
    None when it already was."""
    mode = os.fstat(fd).st_mode & 0o777
    if not mode & 0o077:
        return None
    try:
        os.fchmod(fd, 0o600)
    except OSError as exc:
        return (
            f"the history file {path} is mode {mode:o}, so others can read it, and it could not"
            f" be made 600 ({_reason(exc)}): chmod 600 it"
        )
    return f"the history file {path} was mode {mode:o}, so others could read it: it is 600 now"


class SqliteStore(SqlStore):
    """A history file shared safely by several boards (threads or processes) on one host.

    What it asks of the database is in store/sql.py, shared with PostgreSQL; what is here is
    particular to SQLite: the file, its locks, WAL, and watching PRAGMA data_version.
    """

    dialect = SQLITE
    sql = Statements().render(SQLITE)

    def __init__(
        self, path: Path | str, *, readonly: bool = False, hint: str | None = None
    ) -> None:
        """`hint` is what the errors advise, for commands other than a board's or `report`."""
        self.path = Path(path)
        self.readonly = readonly
        self.notices: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._scopes: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._version = SCHEMA_VERSION
        self._closed = threading.Event()
        self._give_up = threading.Event()  # stop_waiting: a stop's deadline has come
        self._watch_lock = threading.Lock()
        self._watch: sqlite3.Connection | None = None
        self._seen_version: int | None = None
        self._files: FileWatch | None = None  # with _watch: wakes the wait on a write
        self._settle_until = 0.0  # monotonic: until then the wait polls (a write just came)
        # What every command that opens a history takes (watch also --no-history: it says so).
        self._hint = hint or "fix the path or pass --history FILE"
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
            self._close_files()
            self._scopes.clear()
            self._pending.clear()
            for path, identity in orphans.items():
                if _identity(path) == identity:  # still the old file's: not the new one's
                    with contextlib.suppress(OSError):
                        path.unlink()
            self._conn = self._opened()  # while this fails, the closed one says "closed"
            self._file = self._file_id()

    def stop_waiting(self) -> None:
        """A write waiting for another process's lock gives up within BUSY_SLICE_MS, and
        later ones after one slice."""
        self._give_up.set()

    def _close_files(self) -> None:
        """Let the watch on the file go (under _watch_lock)."""
        if self._files is not None:
            self._files.close()
            self._files = None

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
        try:
            self.notices = tuple(filter(None, [_owner_only(fd, self.path)]))
        finally:
            os.close(fd)
        for suffix in ("-wal", "-shm"):  # made by SQLite from the file's mode of their day
            with contextlib.suppress(OSError):
                sibling = os.open(f"{self.path}{suffix}", os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    _owner_only(sibling, self.path)
                finally:
                    os.close(sibling)
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
        if (files := self._files) is not None:
            files.wake()  # a wait in another thread returns, and lets go of _watch_lock
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()
        with self._watch_lock, contextlib.suppress(sqlite3.Error):
            self._close_files()
            if self._watch is not None:
                self._watch.close()
                self._watch = None

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

    def _write(self, action: str, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """One write transaction, taking the write lock up front so busy_timeout applies."""
        with self._guard(action) as conn:
            self._begin(conn, action)
            out = work(conn)
            conn.execute("COMMIT")
            self._scopes.update(self._pending)
            self._pending.clear()
            return out

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

    def _read(self, work: Callable[[sqlite3.Connection], _T], empty: _T) -> _T:
        if self._version == 0:  # read-only, and nothing was ever written here
            return empty
        with self._guard("read") as conn:
            return work(conn)

    def _snapshot(self, work: Callable[[sqlite3.Connection], _T], empty: _T) -> _T:
        """Several reads that see one committed state (a read transaction)."""
        if self._version == 0:
            return empty
        with self._guard("read") as conn:
            conn.execute("BEGIN")
            out = work(conn)
            conn.execute("COMMIT")
            return out

    def _count_inserted(
        self, db: sqlite3.Connection, statement: str, rows: Sequence[tuple[object, ...]]
    ) -> int:
        before = db.total_changes
        db.executemany(statement, rows)
        return db.total_changes - before

    def _ack_statements(self) -> tuple[str, str]:
        """A read-only file from before schema 3 has no author: read it as NULL."""
        acks, feed = self.sql.acks, self.sql.feed_acks
        if self._version >= 3:
            return acks, feed
        return acks.replace(", author", ", NULL"), feed.replace(", author", ", NULL")

    def _has_list(self) -> bool:
        """True when the file has the team's watchlist (a read-only older file does not)."""
        return self._version >= 4

    def _team(self) -> bool:
        """True when the file has the team tables (a read-only old file does not)."""
        return self._version >= 2

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to `timeout` s; True when another connection may have written.

        Where the system says when the file is written (inotify), the wait sleeps until then
        and confirms with PRAGMA data_version; elsewhere it looks every WATCH_INTERVAL."""
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
                    if self._files is None:
                        self._files = FileWatch.open(self.path)
                    return True  # the first call: nothing is known yet
                while True:
                    version = self._data_version(self._watch)
                    if version != self._seen_version:
                        self._seen_version, self._settle_until = version, 0.0
                        return True
                    now = time.monotonic()
                    remaining = deadline - now
                    if remaining <= 0 or self._closed.is_set():
                        return False
                    files = self._files
                    if files is None:
                        if self._closed.wait(min(WATCH_INTERVAL, remaining)):
                            return False
                    elif now < self._settle_until:
                        if self._closed.wait(min(SETTLE_INTERVAL, remaining)):
                            return False
                    elif files.wait(remaining, settle=WRITE_SETTLES):
                        self._settle_until = time.monotonic() + SETTLE
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read history at {self.path}: {_reason(exc)}") from None

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def now(self) -> float:
        """This host's clock (one file, one host)."""
        return time.time()
