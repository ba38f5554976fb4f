"""Choosing the store from a URL, showing it without the password, and `store copy SRC DST`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer, pg_server
from wahdx_tui.cli import main
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.backend import open_store, read_password_file
from wahdx_tui.core.store.copy import copy_store
from wahdx_tui.core.store.postgres.store import PgStore
from wahdx_tui.core.store.protocol import Origin, Store, StoreError
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.url import (
    default_store_path,
    display_url,
    redact,
    resolve_store_url,
    sqlite_path,
)

__all__ = ["pg_server"]

WAHDX_TUI = Path(sys.executable).with_name("wahdx-tui")
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
    store.add_watched(
        SCOPE, [WatchedPost("acc", "p3", "video", "Three")], Origin("add", "sam@h1"), 50.0
    )
    store.add_watched(SCOPE, [WatchedPost("acc", "p4")], Origin("board", "kim@h2"), 60.0)
    store.retire_watched(SCOPE, [("acc", "p4")], "retired by kim@h2", 70.0)


def _snapshot(store: Store) -> dict[str, object]:
    return {
        scope: (
            store.last_posts(scope),
            sorted(store.events(scope, limit=10_000), key=lambda t: (t.at, t.key)),
            store.acks(scope),
            store.listed_posts(scope, retired=True),
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
    said = f"copied the history of 2 APIs ({SCOPE}, {STAGING}) from {src} to"
    assert said in out and "70 state changes (70 new)" in out and "(0 new)" in out
    assert "scope" not in out
    assert pg_url.split(":")[2].split("@")[0] not in out  # the password is not printed
    with open_store(pg_url) as pg:
        assert isinstance(pg, PgStore)
        assert _snapshot(pg) == want
    back = tmp_path / "back.sqlite3"
    for _ in range(2):
        assert main(["store", "copy", pg_url, f"sqlite://{back}"]) == 0
    with open_store(str(back)) as copy:
        assert _snapshot(copy) == want


def test_a_copy_in_small_chunks_writes_every_state_change_once(tmp_path: Path) -> None:
    """A history longer than one chunk is copied whole, in chunks after the first, and a
    second copy writes nothing new."""
    with open_store(str(tmp_path / "src.sqlite3")) as src, open_store(str(tmp_path / "d")) as dst:
        _fill(src)
        first = copy_store(src, dst, chunk=7)
        assert (first.transitions, first.new_transitions) == (70, 70)
        assert _snapshot(dst) == _snapshot(src)
        assert copy_store(src, dst, chunk=7).new_transitions == 0


def test_store_copy_bad_input_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "copy", str(tmp_path / "missing.sqlite3"), str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no history at") and err.count("\n") == 1
    assert "check SRC, the store to copy from" in err and "--history" not in err
    assert main(["store"]) == 2
    assert "store copy SRC DST" in capsys.readouterr().err


def wahdx(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The console script, with no PostgreSQL password in its environment or its home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "WAHDX_"))}
    return subprocess.run(
        [str(WAHDX_TUI), *argv],
        env={**env, "HOME": str(home), "XDG_STATE_HOME": str(home / "state")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_store_copy_of_a_missing_file_names_src_not_a_flag_it_lacks(tmp_path: Path) -> None:
    proc = wahdx("store", "copy", "nothere.sqlite3", str(tmp_path / "to.sqlite3"), home=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "error: no history at nothere.sqlite3: check SRC, the store to copy from (a history"
        " file, sqlite:///PATH or postgresql://USER@HOST/DB)\n"
    )
    assert not (tmp_path / "to.sqlite3").exists()


def test_store_copy_onto_itself_is_refused_by_any_path(tmp_path: Path) -> None:
    src = tmp_path / "history.sqlite3"
    with open_store(str(src)) as store:
        _fill(store)
    (tmp_path / "link.sqlite3").symlink_to(src)
    os.link(src, tmp_path / "hard.sqlite3")
    before = src.read_bytes()
    for dst in (str(src), f"sqlite://{src}", str(tmp_path / "link.sqlite3"), "hard.sqlite3"):
        proc = subprocess.run(
            [str(WAHDX_TUI), "store", "copy", "history.sqlite3", dst],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2, (dst, proc.stdout)
        assert proc.stdout == ""
        assert proc.stderr.startswith("error: SRC and DST are the same store"), proc.stderr
    assert src.read_bytes() == before


def test_store_copy_onto_the_same_postgresql_database_is_refused(
    pg_url: str, tmp_path: Path
) -> None:
    other_spelling = pg_url.replace("postgresql://", "postgres://", 1)
    proc = wahdx("store", "copy", pg_url, other_spelling, home=tmp_path)
    assert proc.returncode == 2
    warning, error = proc.stderr.splitlines()  # the password on the command line is warned of
    assert warning.startswith("warning: the store URL on the command line holds a password")
    assert error.startswith("error: SRC and DST are the same store (postgresql://wahdx@")
    assert pg_url.split(":")[2].split("@")[0] not in proc.stderr  # no password


def test_no_postgresql_password_says_where_one_comes_from(
    pg_server: PgServer, tmp_path: Path
) -> None:
    name = pg_server.create_database()
    try:
        url = pg_server.url(name, password=False)
        wl = tmp_path / "w.yaml"
        wl.write_text("posts:\n  - {accountId: a, publishId: b}\n", encoding="utf-8")
        proc = wahdx("report", str(wl), "--store", url, home=tmp_path)
        assert proc.returncode == 2
        (line,) = proc.stderr.splitlines()
        assert "no password supplied" in line
        assert "set PGPASSWORD, put it in ~/.pgpass, or pass --store-password-file FILE" in line
        src = tmp_path / "h.sqlite3"
        open_store(str(src)).close()
        proc = wahdx("store", "copy", str(src), url, home=tmp_path)
        assert proc.returncode == 2
        assert "or pass --dst-password-file FILE (mode 600)" in proc.stderr
        assert pg_server.password not in proc.stderr
    finally:
        pg_server.drop_database(name)
