"""The PostgreSQL store's connections: one that reconnects with capped backoff, one that LISTENs."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from wahdx_tui.core.settings.secret import Secret
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.url import display_url, redact, url_secrets

_T = TypeVar("_T")
CHANNEL = "wahdx_store"
CONNECT_TIMEOUT = 5
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
"""Seconds between reconnection attempts: doubling from BACKOFF_FIRST, capped here."""
LISTEN_SLICE = 0.25
"""Longest single wait for a notification, so close() is noticed promptly."""
FALLBACK_EVERY = 5.0
"""wait() says True at least this often, in case a notification was lost."""

# What a server error code means for the operator (the server's own text follows).
_CODES = {
    "28P01": "wrong user name or password",
    "28000": "the server does not let this user in",
    "3D000": "no such database",
    "25006": "the server refuses writes (read-only)",
    "53100": "the server's disk is full",
    "53300": "the server has too many connections",
    "57P01": "the server is shutting down",
    "57P02": "the server is shutting down",
    "57P03": "the server is not accepting connections yet",
    "42501": "permission denied",
}


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class PgLink:
    """Connections to one database for one store; every failure becomes one StoreError line."""

    def __init__(self, url: str, *, password: str | None, readonly: bool) -> None:
        self.readonly = readonly
        self.display = display_url(url)
        self._url = Secret(url)
        self._password = Secret(password) if password is not None else None
        self._secrets = [Secret(s) for s in (password, *url_secrets(url)) if s]
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = threading.Event()
        self._backoff = BACKOFF_FIRST
        self._retry_at = 0.0
        self._down = ""
        self._listen_lock = threading.Lock()
        self._listen: psycopg.Connection[Any] | None = None
        self._listen_backoff = BACKOFF_FIRST
        self._listen_retry_at = 0.0
        self._said_at = 0.0

    def __repr__(self) -> str:
        return f"PgLink({self.display!r})"

    # -- connecting -------------------------------------------------------------------------

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection (raises psycopg.Error)."""
        extra: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "wahdx-tui",
            # A vanished host is noticed in seconds, not after the kernel's two hours.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        }
        if self._password is not None:
            extra["password"] = self._password.reveal()
        if self.readonly:
            extra["options"] = "-c default_transaction_read_only=on"
        return psycopg.connect(self._url.reveal(), **extra)

    def open(self, prepare: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """Connect for the first time and run `prepare` (migrations); StoreError on failure."""
        try:
            conn = self.connect()
        except psycopg.ProgrammingError as exc:  # the URL itself: a bad option or syntax
            raise StoreError(
                f"cannot open store at {self.display}: invalid store URL ({self.reason(exc)})"
            ) from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store at {self.display}: {self.reason(exc)}") from None
        try:
            out = prepare(conn)
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"cannot open store at {self.display}: {self.reason(exc)}") from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return out

    def reason(self, exc: BaseException) -> str:
        """One line saying why, with every password taken out."""
        text = _one_line(str(exc)) or type(exc).__name__
        text = text.removeprefix("connection failed: ")
        meaning = _CODES.get(getattr(exc, "sqlstate", None) or "")
        if meaning is None and "password authentication failed" in text:
            meaning = _CODES["28P01"]
        if meaning and not text.lower().startswith(meaning.lower()):
            text = f"{meaning} ({text})"
        return redact(text, (s.reveal() for s in self._secrets))[:400]

    def _connection(self, action: str) -> psycopg.Connection[Any]:
        """The live connection, reconnecting when it was lost (at most once per backoff)."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        now = time.monotonic()
        if now < self._retry_at:
            raise StoreError(
                f"cannot {action} store at {self.display}: {self._down}; trying again in"
                f" {self._retry_at - now:.1f} s"
            )
        try:
            conn = self.connect()
        except psycopg.Error as exc:
            self._down = self.reason(exc)
            self._retry_at = now + self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            raise StoreError(f"cannot {action} store at {self.display}: {self._down}") from None
        self._conn = conn
        self._backoff = BACKOFF_FIRST
        self._retry_at = 0.0
        return conn

    def run(self, action: str, work: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """Run `work` on the connection, one caller at a time; a connection found lost is
        replaced and `work` tried once more (every write of the store is safe to repeat)."""
        with self._lock:
            for attempt in (1, 2):
                if self._closed.is_set():
                    raise StoreError(f"cannot {action} store at {self.display}: it is closed")
                conn = self._connection(action)
                try:
                    return work(conn)
                except psycopg.Error as exc:
                    reason = self.reason(exc)
                    lost = conn.closed or conn.broken
                    if lost:
                        with contextlib.suppress(psycopg.Error):
                            conn.close()
                        self._conn = None
                        self._down = reason
                    if not lost or attempt == 2:
                        raise StoreError(
                            f"cannot {action} store at {self.display}: {reason}"
                        ) from None
            raise AssertionError("unreachable")

    def close(self) -> None:
        """Close both connections; later calls raise StoreError."""
        self._closed.set()
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None
        with self._listen_lock:
            if self._listen is not None:
                with contextlib.suppress(psycopg.Error):
                    self._listen.close()
                self._listen = None

    # -- listening --------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` s on LISTEN; True on a notification, after (re)starting to
        listen, and at least every FALLBACK_EVERY s (a notification lost is then caught up)."""
        deadline = time.monotonic() + max(0.0, timeout)
        if self._closed.is_set():
            raise StoreError(f"cannot read store at {self.display}: it is closed")
        with self._listen_lock:
            while True:
                if self._closed.is_set():
                    return False
                now = time.monotonic()
                listen = self._listen
                if listen is None or listen.closed or listen.broken:
                    if now >= self._listen_retry_at and self._start_listening():
                        self._said_at = now
                        return True  # first call, or back after a gap: re-read everything
                    wake = min(deadline, max(self._listen_retry_at, now + LISTEN_SLICE))
                    if now >= deadline or self._closed.wait(max(0.0, wake - now)):
                        return False
                    continue
                if now - self._said_at >= FALLBACK_EVERY:
                    self._said_at = now
                    return True
                remaining = deadline - now
                if remaining <= 0:
                    return False
                slice_ = min(remaining, LISTEN_SLICE, self._said_at + FALLBACK_EVERY - now)
                try:
                    got = any(True for _ in listen.notifies(timeout=slice_, stop_after=1))
                except psycopg.Error:
                    with contextlib.suppress(psycopg.Error):
                        listen.close()
                    self._listen = None
                    continue
                if got:
                    self._said_at = time.monotonic()
                    return True

    def _start_listening(self) -> bool:
        try:
            conn = self.connect()
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        except psycopg.Error:
            self._listen_retry_at = time.monotonic() + self._listen_backoff
            self._listen_backoff = min(self._listen_backoff * 2, BACKOFF_MAX)
            return False
        self._listen = conn
        self._listen_backoff = BACKOFF_FIRST
        self._listen_retry_at = 0.0
        return True
