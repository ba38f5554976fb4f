"""Issue 22's terminal, key and proxy: a hostile API (tests/hostile_api.py) on loopback seen
through real `check` and `serve` processes and the board; what reaches a terminal, a log, a
CSV cell or an export file is inert, and the key is nowhere in it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import QUICK, screen_text, toasts, until
from hostile_api import FORBIDDEN, HOSTILE, HostileApi
from teamprocs import child_env, serve_process, wait_for

from wahdx_tui.core.client import client_factory
from wahdx_tui.core.engine import Engine
from wahdx_tui.core.secret import ApiKey
from wahdx_tui.core.watchlist import load_watchlist, sample_watchlist_path
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens import DetailScreen

KEY = "wx_live_echoed_5be1c0ffee"
WAHDX_TUI = Path(sys.executable).with_name("wahdx-tui")
WATCHLIST = str(sample_watchlist_path())
pytestmark = pytest.mark.usefixtures("quick_pilot")


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
    assert len(lines) == 1 and lines[0].startswith("error: API unreachable at "), lines
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
            await until(lambda: app.passes >= 1 and not app.polling, "a pass", pilot=pilot)
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
