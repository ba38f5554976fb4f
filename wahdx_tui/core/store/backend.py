"""Opening the store a URL names; only the chosen backend (and its driver) is imported."""

from __future__ import annotations

from wahdx_tui.core.inert import add_secrets
from wahdx_tui.core.settings.secret import Secret
from wahdx_tui.core.settings.secretfile import read_secret_file
from wahdx_tui.core.store.protocol import Store, StoreError
from wahdx_tui.core.store.url import is_postgres, sqlite_path, url_secrets


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
    url: str | None,
    *,
    password_file: str | None = None,
    readonly: bool = False,
    hint: str | None = None,
    password_flag: str = "--store-password-file",
) -> Store:
    """Open the store a URL names: postgresql://… (or postgres://), a path or sqlite:///path.

    None opens the default SQLite file in the XDG state directory. The PostgreSQL password
    comes from the URL, $PGPASSWORD, ~/.pgpass, or `password_file` (mode 600; given with
    `password_flag`, which a missing password's error names). Raises StoreError with one line
    (never the password) when the store cannot be opened; a SQLite file's advises `hint`.
    """
    if not is_postgres(url):
        if password_file:
            raise StoreError("a store password file is only for postgresql:// stores")
        from wahdx_tui.core.store.sqlite.store import SqliteStore

        return SqliteStore(sqlite_path(url), readonly=readonly, hint=hint)
    assert url is not None
    password = read_password_file(password_file) if password_file else None
    add_secrets(*(Secret(s) for s in (*url_secrets(url), password) if s))  # off every line
    from wahdx_tui.core.store.postgres.store import PgStore

    return PgStore(url.strip(), password=password, readonly=readonly, password_flag=password_flag)
