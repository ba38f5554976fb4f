"""The store on PostgreSQL (psycopg 3): one team store shared by pollers and boards on many hosts."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import psycopg

from wahdx_tui.core.domain.model import PostKey
from wahdx_tui.core.store import codec
from wahdx_tui.core.store.codec import pg_text
from wahdx_tui.core.store.postgres.conn import CHANNEL, PgLink
from wahdx_tui.core.store.postgres.schema import LOCK_KEY, MIGRATIONS, SCHEMA_VERSION
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.sql import POSTGRES, SqlStore, Statements
from wahdx_tui.core.store.tables import statements

_T = TypeVar("_T")
_NOW = POSTGRES.now
_NOTIFY = "SELECT pg_notify(%s, %s)"


class PgStore(SqlStore):
    """The store in a PostgreSQL database; reconnects by itself with capped backoff.

    What it asks of the database is in store/sql.py, shared with SQLite; what is here is
    particular to PostgreSQL: connections, migrations under an advisory lock, LISTEN/NOTIFY.
    """

    dialect = POSTGRES
    sql = Statements().render(POSTGRES)

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        readonly: bool = False,
        password_flag: str = "--store-password-file",
    ) -> None:
        self.readonly = readonly
        self.notices: tuple[str, ...] = ()
        self._link = PgLink(url, password=password, readonly=readonly, password_flag=password_flag)
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
            # As a SQLite file without them: nothing to read is not "nothing to hand over".
            raise StoreError(
                f"cannot open store at {self._display}: it holds no wahdx-tui history (its"
                " tables are missing); check the database name, or run serve or watch on it"
                " first"
            )
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

    def _write(self, action: str, work: Callable[[psycopg.Cursor[Any]], _T]) -> _T:
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

    def _snapshot(self, work: Callable[[psycopg.Connection[Any]], _T], empty: _T) -> _T:
        def tx(conn: psycopg.Connection[Any]) -> _T:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return work(conn)

        return self._read(tx, empty)

    def _rows_of(
        self, db: psycopg.Connection[Any], statement: str, sid: int, keys: Collection[PostKey]
    ) -> list[Any]:
        """Only these posts' rows, in one round trip: the keys as two arrays side by side."""
        select, where = statement.split(" WHERE scope = ", 1)
        accounts, publishes = codec.key_columns(keys, pg_text)
        query = f"{select} JOIN unnest(%s::text[], %s::text[]) AS k(account, publish)"
        query += f" USING (account, publish) WHERE scope = {where}"
        return list(db.execute(query, (accounts, publishes, sid)).fetchall())

    def _count_inserted(
        self, db: psycopg.Cursor[Any], statement: str, rows: Sequence[tuple[object, ...]]
    ) -> int:
        db.executemany(statement + " RETURNING 1", rows, returning=True)
        added = 0
        while True:
            added += len(db.fetchall())
            if not db.nextset():
                return added

    def _notify(self, db: psycopg.Cursor[Any], scope: str) -> None:
        db.execute(_NOTIFY, (CHANNEL, scope[:1000]))

    def close(self) -> None:
        """Close the connections; later calls raise StoreError."""
        self._link.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
