"""Choosing the store from a URL, showing it without the password, and `store copy SRC DST`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.backend import open_store, read_password_file

from tests.support.pgserver import PgServer, pg_server
from wahdx_tui.cli import main
from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.store.postgres.store import PgStore
from wahdx_tui.core.store.protocol import Store, StoreError
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.url import (
    default_store_path,
    display_url,
    redact,
    resolve_store_url,
    sqlite_path,
)

__all__ = ["pg_server"]

SCOPE = "https://api.wahdx.com"
STAGING = "https://staging.wahdx.com"


def test_sqlite_urls_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert sqlite_path(None) == default_store_path()
    assert sqlite_path("sqlite:///srv/wahdx/h.sqlite3") == Path("/srv/wahdx/h.sqlite3")
    assert sqlite_path("~/h.sqlite3") == Path.home() / "h.sqlite3"
    assert sqlite_path("rel/h.sqlite3") == Path("rel/h.sqlite3")
    for bad, says in (("", "empty"), ("sqlite://", "names no file"), ("mysql://x/y", "mysql")):
        with pytest.raises(StoreError, match=says):
            sqlite_path(bad)
    store = open_store(f"sqlite://{tmp_path}/a.sqlite3")
    assert isinstance(store, SqliteStore) and store.location == f"{tmp_path}/a.sqlite3"
    store.close()
    with pytest.raises(StoreError, match="only for postgresql"):
        open_store(str(tmp_path / "b.sqlite3"), password_file="/nope")


def test_display_url_never_shows_a_password() -> None:
    assert display_url("postgresql://ops:s3cr%40t@db.example:5432/wahdx?sslmode=require") == (
        "postgresql://ops@db.example:5432/wahdx"
    )
    assert display_url("postgres://ops@db.example/wahdx") == "postgresql://ops@db.example/wahdx"
    assert "hunter2" not in display_url("postgresql://db.example/w?password=hunter2")
    assert display_url("/var/lib/h.sqlite3") == "/var/lib/h.sqlite3"
    text = "bad URI \"postgresql://ops:hunter2@db/x\" and password=hunter2 and password = 'a b'"
    shown = redact(text)
    assert "hunter2" not in shown and "a b" not in shown and "postgresql://ops@db/x" in shown
    assert redact("the secret is plain", ["secret"]) == "the *** is plain"


def test_resolve_store_url_prefers_the_flag() -> None:
    assert resolve_store_url("postgresql://a@b/c", {"WAHDX_STORE": "x.sqlite3"}) == (
        "postgresql://a@b/c"
    )
    assert resolve_store_url(None, {"WAHDX_STORE": "x.sqlite3"}) == "x.sqlite3"
    assert resolve_store_url(None, {}) is None


def test_password_file_rules(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("s3cret\n")
    f.chmod(0o640)
    with pytest.raises(StoreError, match="chmod 600") as info:
        read_password_file(str(f))
    assert "s3cret" not in str(info.value)
    f.chmod(0o600)
    assert read_password_file(str(f)) == "s3cret"
    f.write_text("two\nlines\n")
    with pytest.raises(StoreError, match="alone on one line"):
        read_password_file(str(f))
    with pytest.raises(StoreError, match="cannot read"):
        read_password_file(str(tmp_path / "missing"))
    with pytest.raises(StoreError, match="not a regular file"):
        read_password_file(str(tmp_path))


# -- store copy -----------------------------------------------------------------------------


def _fill(store: Store) -> None:
    for scope, n in ((SCOPE, 30), (STAGING, 5)):
        for i in range(n):
            key = ("acc", f"p{i}")
            store.record(
                scope,
                [PostStatus(key, State.QUEUED, "QUEUED", None, None, 100.0 + i, {"i": i})],
                [Transition(key, None, State.QUEUED, 100.0 + i)],
            )
            store.record(
                scope,
                [PostStatus(key, State.FAILED, "FAILED", None, "boom", 200.0 + i)],
                [Transition(key, State.QUEUED, State.FAILED, 190.0 + i)],
            )
    store.set_ack(SCOPE, ("acc", "p3"), "known", 300.0)


def _snapshot(store: Store) -> dict[str, object]:
    return {
        scope: (
            store.last_posts(scope),
            sorted(store.events(scope, limit=10_000), key=lambda t: (t.at, t.key)),
            store.acks(scope),
        )
        for scope in store.scopes()
    }


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


def test_store_copy_sqlite_to_postgres_and_back_twice(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "history.sqlite3"
    with open_store(str(src)) as store:
        _fill(store)
        want = _snapshot(store)
    for _ in range(2):  # idempotent: the second run adds nothing
        assert main(["store", "copy", str(src), pg_url]) == 0
    out = capsys.readouterr().out
    assert "copied 2 scope(s)" in out and "(70 new)" in out and "(0 new)" in out
    assert pg_url.split(":")[2].split("@")[0] not in out  # the password is not printed
    with open_store(pg_url) as pg:
        assert isinstance(pg, PgStore)
        assert _snapshot(pg) == want
    back = tmp_path / "back.sqlite3"
    for _ in range(2):
        assert main(["store", "copy", pg_url, f"sqlite://{back}"]) == 0
    with open_store(str(back)) as copy:
        assert _snapshot(copy) == want


def test_store_copy_bad_input_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "copy", str(tmp_path / "missing.sqlite3"), str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no history at") and err.count("\n") == 1
    assert main(["store"]) == 2
    assert "store copy SRC DST" in capsys.readouterr().err
