"""Choosing the store from a URL: PostgreSQL or a SQLite file; passwords kept out of sight."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from wahdx_tui.core.settings.secretfile import read_secret_file
from wahdx_tui.core.store.protocol import Store, StoreError
from wahdx_tui.core.store.sqlite.store import SqliteStore

STORE_ENV = "WAHDX_STORE"
PG_SCHEMES = ("postgresql", "postgres")
_USERINFO = re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@")
_KEYWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)")


def resolve_store_url(flag: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The store URL from --store, else $WAHDX_STORE, else None (the default SQLite file)."""
    env = os.environ if env is None else env
    return flag or env.get(STORE_ENV) or None


def is_postgres(url: str | None) -> bool:
    """True for postgresql:// and postgres:// URLs."""
    return url is not None and url.strip().lower().startswith(tuple(f"{s}://" for s in PG_SCHEMES))


def sqlite_path(url: str | None) -> Path:
    """The SQLite file a path or sqlite:///path names (None: the default file)."""
    if url is None:
        return default_store_path()
    text = url.strip()
    if not text:
        raise StoreError("the store URL is empty: use postgresql://USER@HOST/DB or a file path")
    if text.lower().startswith("sqlite://"):
        text = text[len("sqlite://") :]
        if not text:
            raise StoreError("the store URL sqlite:// names no file: use sqlite:///PATH")
    elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"unknown store URL scheme {scheme[:20]!r}: use postgresql://USER@HOST/DB,"
            " sqlite:///PATH or a file path"
        )
    return Path(text).expanduser()


def _split(url: str) -> tuple[str, str, str]:
    """(netloc, path, query) of scheme://netloc/path?query, never failing on odd input."""
    rest = url.strip().split("://", 1)[-1]
    rest, _, query = rest.partition("?")
    cut = rest.find("/")
    netloc, path = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    return netloc, path, query


def url_secrets(url: str) -> list[str]:
    """The passwords a PostgreSQL URL carries, as written and decoded (for redaction)."""
    found: list[str] = []
    netloc, _, query = _split(url)
    userinfo = netloc.rpartition("@")[0]
    if ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        found += [raw, unquote(raw)]
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key.lower() == "password":
            found.append(value)
    for match in re.finditer(r"(?i)password=([^&\s]+)", query):
        found += [match[1], unquote(match[1])]
    return [s for s in found if s]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """The text with every given secret, URL password and password=… setting hidden."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(r"\1@", text)
    return _KEYWORD.sub(r"\1***", text)


def display_url(url: str | None) -> str:
    """The store as it may be shown: postgresql://user@host:port/db, or the SQLite path."""
    if not is_postgres(url):
        try:
            return str(sqlite_path(url))
        except StoreError:
            return redact(str(url))
    assert url is not None
    netloc, path, _ = _split(url)
    userinfo, _, hostport = netloc.rpartition("@")
    user = unquote(userinfo.split(":", 1)[0]) if userinfo else ""
    shown = f"{user}@{hostport}" if user else hostport
    return redact(f"postgresql://{shown}{path}", url_secrets(url))


def read_password_file(path: str) -> str:
    """The password alone in a file only its owner can read (like --api-key-file)."""
    text = read_secret_file(
        path, "store password file", 4096, too_large="to hold one password", error=StoreError
    )
    password = text.rstrip("\r\n")
    if not password or "\n" in password:
        raise StoreError(f"store password file {path} must hold the password alone on one line")
    return password


def open_store(
    url: str | None, *, password_file: str | None = None, readonly: bool = False
) -> Store:
    """Open the store a URL names: postgresql://… (or postgres://), a path or sqlite:///path.

    None opens the default SQLite file in the XDG state directory. The PostgreSQL password
    comes from the URL, $PGPASSWORD, ~/.pgpass, or `password_file` (mode 600). Raises
    StoreError with one line (never the password) when the store cannot be opened.
    """
    if not is_postgres(url):
        if password_file:
            raise StoreError("a store password file is only for postgresql:// stores")
        return SqliteStore(sqlite_path(url), readonly=readonly)
    assert url is not None
    password = read_password_file(password_file) if password_file else None
    from wahdx_tui.core.store.postgres.store import PgStore

    return PgStore(url.strip(), password=password, readonly=readonly)
