"""The store's names in one place: the SQLite history (`Store`) and the shared value types.

`Store` here is the SQLite backend (as it always was); code that works with either backend
takes `wahdx_tui.core.storeapi.Store` (the protocol) and opens one with
`wahdx_tui.core.storeurl.open_store`.
"""

from __future__ import annotations

from wahdx_tui.core.sqliteschema import SCHEMA_VERSION
from wahdx_tui.core.sqlitestore import BUSY_TIMEOUT_MS, SqliteStore, default_store_path
from wahdx_tui.core.storeapi import (
    MAX_RAW_BYTES,
    Ack,
    BoardInfo,
    Changes,
    LeaseHolder,
    LeaseInfo,
    RefreshRequest,
    StoredPost,
    StoreError,
    Transition,
    scope_for,
)

Store = SqliteStore

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MAX_RAW_BYTES",
    "SCHEMA_VERSION",
    "Ack",
    "BoardInfo",
    "Changes",
    "LeaseHolder",
    "LeaseInfo",
    "RefreshRequest",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoredPost",
    "Transition",
    "default_store_path",
    "scope_for",
]
