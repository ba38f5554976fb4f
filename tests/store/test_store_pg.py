"""PostgreSQL store faults: a server stopped and restarted mid-run, bad URLs, passwords never shown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.pgserver import APP_ROLE, PgServer, pg_server
from wahdx_tui.cli import main
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, Transition
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION
from wahdx_tui.core.store.protocol import LeaseHolder, Origin, StoreError
from wahdx_tui.core.store.tables import statements

__all__ = ["pg_server"]

SCOPE = "https://api.wahdx.com"
K1 = ("acc_tiktok_main", "v_pub_1")


@pytest.fixture
def db(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield name
    finally:
        pg_server.drop_database(name)


def _pass(i: int) -> tuple[list[PostStatus], list[Transition]]:
    key = ("acc", f"p{i}")
    return (
        [PostStatus(key, State.QUEUED, "QUEUED", None, None, float(i))],
        [Transition(key, None, State.QUEUED, float(i))],
    )


def _until_written(store: object, i: int, server: PgServer) -> None:
    """Write pass i, retrying while the store reconnects; bounded."""
    pause = threading.Event()
    for _ in range(600):
        try:
            store.record(SCOPE, *_pass(i))  # type: ignore[attr-defined]
            return
        except StoreError as exc:
            assert server.password not in str(exc)
            pause.wait(0.05)
    pytest.fail("the store never came back")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_server_stopped_and_restarted_mid_run(pg_server: PgServer, db: str, mode: str) -> None:
    """Writes raise StoreError while the server is down and succeed after it is back, on the
    same store object; a board following the feed catches up by itself."""
    url = pg_server.url(db)
    with open_store(url) as poller, open_store(url) as board:
        poller.record(SCOPE, *_pass(0))
        cursor = board.changes_since(SCOPE, 0).cursor
        assert board.wait_for_change(0)
        pg_server.stop(mode)
        try:
            for i in (1, 2):
                with pytest.raises(StoreError) as info:
                    poller.record(SCOPE, *_pass(i))
                message = str(info.value)
                assert "\n" not in message and pg_server.password not in message
                assert message.startswith(
                    f"cannot write store at postgresql://wahdx@127.0.0.1:{pg_server.port}/{db}"
                )
            with pytest.raises(StoreError):
                poller.try_lease("poller", LeaseHolder("h", "host", 1), 15.0)
            with pytest.raises(StoreError):
                board.changes_since(SCOPE, cursor)
            assert not board.wait_for_change(0.2)  # nothing to hear, and no error
        finally:
            pg_server.start()
        for i in (1, 2, 3):  # what the history kept while the store refused, then a new pass
            _until_written(poller, i, pg_server)
        heard = threading.Event()
        threading.Thread(target=lambda: board.wait_for_change(30) and heard.set()).start()
        assert heard.wait(40)  # the board's listener is back
        caught = board.changes_since(SCOPE, cursor)
        assert {k[1] for k in caught.posts} == {"p1", "p2", "p3"}
        assert len(poller.events(SCOPE)) == 4


def test_schema_version_is_recorded_and_a_newer_one_refused(pg_server: PgServer, db: str) -> None:
    url = pg_server.url(db)
    open_store(url).close()
    open_store(url).close()  # migrations are idempotent on start
    with pg_server.admin(db) as conn:
        assert conn.execute("SELECT version FROM wahdx_schema").fetchall() == [(SCHEMA_VERSION,)]
        conn.execute("UPDATE wahdx_schema SET version = %s", (SCHEMA_VERSION + 1,))
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer wahdx-tui"):
            open_store(url, readonly=readonly)


def test_a_v1_store_keeps_its_acks_and_then_says_who_wrote_a_new_one(
    pg_server: PgServer, db: str
) -> None:
    url = pg_server.url(db)
    with psycopg.connect(url, autocommit=True) as conn:  # as wahdx-tui left it at schema 1
        for statement in statements(MIGRATIONS[1]):
            conn.execute(statement)
        conn.execute("CREATE TABLE wahdx_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO wahdx_schema (version) VALUES (1)")
        conn.execute("INSERT INTO wahdx_scopes (url, rev) VALUES (%s, 1)", (SCOPE,))
        conn.execute(
            "INSERT INTO wahdx_acks (scope, account, publish, note, at, rev)"
            " SELECT id, %s, %s, 'asked Sam', 145.0, 1 FROM wahdx_scopes",
            K1,
        )
    with pytest.raises(StoreError, match="run a command that writes"):
        open_store(url, readonly=True)  # `report` asks for the upgrade first
    store = open_store(url)
    try:
        assert store.acks(SCOPE) == {K1: Ack(K1, "asked Sam", 145.0, "")}
        store.set_ack(SCOPE, K1, "Sam reconnected it", 160.0, by="ana@host-a")
        assert store.changes_since(SCOPE, 1).acks == {
            K1: Ack(K1, "Sam reconnected it", 160.0, "ana@host-a")
        }
    finally:
        store.close()


def test_a_schema_1_database_is_carried_forward(pg_server: PgServer, db: str) -> None:
    """A team store written by the last release (schema 1) gets the team's watchlist and
    keeps its history."""
    url = pg_server.url(db)
    with pg_server.admin(db) as conn:
        conn.execute(f"SET ROLE {APP_ROLE}")  # as the application made them
        conn.execute("CREATE TABLE wahdx_schema (version integer NOT NULL)")
        for statement in statements(MIGRATIONS[1]):
            conn.execute(statement)
        conn.execute("INSERT INTO wahdx_schema (version) VALUES (1)")
    with pytest.raises(StoreError, match="run a command that writes"):
        open_store(url, readonly=True)
    with open_store(url) as store:
        store.record(SCOPE, *_pass(1))
        store.add_watched(SCOPE, [WatchedPost(*K1)], Origin("add", "sam@h1"))
        assert [e.key for e in store.listed_posts(SCOPE)] == [K1]
    with open_store(url, readonly=True) as ro:
        assert set(ro.last_posts(SCOPE)) == {("acc", "p1")}
    with pg_server.admin(db) as conn:
        assert conn.execute("SELECT version FROM wahdx_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_concurrent_first_starts_migrate_once(pg_server: PgServer, db: str) -> None:
    url = pg_server.url(db)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_read_only_store_on_an_empty_database_is_a_clear_error(
    pg_server: PgServer, db: str
) -> None:
    with pytest.raises(StoreError, match="holds no wahdx-tui history") as info:
        open_store(pg_server.url(db), readonly=True)
    assert pg_server.password not in str(info.value)
    with open_store(pg_server.url(db)) as store:  # a writer creates the tables...
        store.record(SCOPE, *_pass(1))
    with open_store(pg_server.url(db), readonly=True) as ro:  # ... and then it reads
        assert ro.last_posts(SCOPE) and ro.scopes() == [SCOPE]
        with pytest.raises(StoreError, match="read-only"):
            ro.set_ack(SCOPE, K1, "x", 1.0)


def test_refusing_writes_is_a_clear_error(pg_server: PgServer, db: str) -> None:
    url = pg_server.url(db)
    with open_store(url) as store:
        with pg_server.admin(db) as conn:
            conn.execute(f"ALTER DATABASE {db} SET default_transaction_read_only = on")
        # new connections are refused writes
        with open_store(url) as late, pytest.raises(StoreError, match="refuses writes"):
            late.record(SCOPE, *_pass(1))
        store.record(SCOPE, *_pass(2))  # a connection made before still writes


def _errors_for(server: PgServer, db: str, tmp_path: Path) -> list[str]:
    pw = server.password
    bad = [
        f"postgresql://wahdx:{pw}x@127.0.0.1:{server.port}/{db}",  # wrong password
        f"postgresql://wahdx:{pw}@127.0.0.1:{server.port}/no_such_db",
        f"postgresql://wahdx:{pw}@127.0.0.1:1/{db}",  # nothing listening
        f"postgresql://wahdx:{pw}@127.0.0.1:{server.port}/{db}?bogus_option=1",
        f"postgres://wahdx:{pw}@127.0.0.1:{server.port}/{db}?password={pw}&sslmode=nonsense",
        f"postgresql://wahdx:{pw}@[::1:{server.port}/{db}",  # a broken URL
    ]
    messages = []
    for url in bad:
        with pytest.raises(StoreError) as info:
            open_store(url)
        messages.append(str(info.value))
    wrong = tmp_path / "pw"
    wrong.write_text(pw + "-not\n")
    wrong.chmod(0o600)
    with pytest.raises(StoreError) as info:
        open_store(server.url(db, password=False), password_file=str(wrong))
    messages.append(str(info.value))
    return messages


def test_the_password_is_never_in_an_error(pg_server: PgServer, db: str, tmp_path: Path) -> None:
    messages = _errors_for(pg_server, db, tmp_path)
    for message in messages:
        assert pg_server.password not in message, message
        assert "\n" not in message
    assert "wrong user name or password" in messages[0]
    assert 'database "no_such_db" does not exist' in messages[1]
    assert "Connection refused" in messages[2]
    assert "invalid store URL" in messages[3]
    assert f"postgresql://wahdx@127.0.0.1:{pg_server.port}/{db}" in messages[0]
    assert "wrong user name or password" in messages[-1]


def test_password_from_a_file_or_pgpassword(
    pg_server: PgServer, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.url(db, password=False)
    secret = tmp_path / "pw"
    secret.write_text(pg_server.password + "\n")
    secret.chmod(0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        open_store(url, password_file=str(secret))
    secret.chmod(0o600)
    with open_store(url, password_file=str(secret)) as store:
        assert store.location == f"postgresql://wahdx@127.0.0.1:{pg_server.port}/{db}"
        store.record(SCOPE, *_pass(1))
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    with open_store(url) as store:
        assert len(store.events(SCOPE)) == 1


def test_cli_bad_store_is_one_error_line_without_the_password(
    pg_server: PgServer, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "h.sqlite3"
    open_store(str(src)).close()
    bad = pg_server.url(db).replace(pg_server.password, pg_server.password + "x")
    assert main(["store", "copy", str(src), bad]) == 2
    err = capsys.readouterr().err
    warning, error = err.splitlines()  # the password in the URL is in `ps`: said first
    assert warning.startswith("warning: the store URL on the command line holds a password")
    assert error.startswith("error: ")
    assert pg_server.password not in err


def test_the_password_is_not_in_the_store_objects(pg_server: PgServer, db: str) -> None:
    """A crash report that prints locals shows the store and its connections, never the password."""
    with open_store(pg_server.url(db)) as store:
        assert store.wait_for_change(0)
        link = vars(store)["_link"]
        shown = repr(store) + repr(vars(store)) + repr({k: getattr(link, k) for k in link.__dict__})
        assert pg_server.password not in shown
        assert "postgresql://wahdx@127.0.0.1" in shown
