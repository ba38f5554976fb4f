"""What a store URL names (PostgreSQL or a SQLite file), and how it is shown: never a password."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import platformdirs

from wahdx_tui.core.store.protocol import StoreError

STORE_ENV = "WAHDX_STORE"
PG_SCHEMES = ("postgresql", "postgres")
_USERINFO = re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@")
_KEYWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)")


def default_store_path() -> Path:
    """Where the history lives: the XDG state directory (respects $XDG_STATE_HOME)."""
    return platformdirs.user_state_path("wahdx-tui") / "history.sqlite3"


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
