"""`wahdx-tui demo`: its first screen shows the point, and its history stays apart from the
operator's (a temporary file, gone on exit, unless --history is given)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import demo_board, running_demo, until
from wahdx_tui.cli import build_parser, demo_history
from wahdx_tui.core.domain.categories import Category
from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.sim import SimServer


@pytest.fixture
def demo_sim() -> Iterator[SimServer]:
    with running_demo() as sim:
        yield sim


async def test_the_demo_board_shows_the_point_after_its_first_pass(demo_sim: SimServer) -> None:
    app = demo_board(demo_sim)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(
            lambda: app.engine.passes >= 1 and not app.engine.polling, "the first pass", pilot=pilot
        )
        rows = list(app.board.rows.values())
        failed = [r for r in rows if r.state is State.FAILED]
        assert {Category.ACCOUNT, Category.MEDIA} <= {r.category for r in failed}
        published = [r for r in rows if r.state is State.PUBLISHED]
        assert published and all(r.detail.startswith("https://") for r in published)
        # the stuck check runs on the board's own tick: the post processing for 20+ minutes
        await until(lambda: app.board.stuck == 1, "the stuck post flagged", pilot=pilot)
        (stuck,) = [r for r in rows if r.stuck]
        assert stuck.state is State.PROCESSING
        # failed rows first, then the stuck one: the worst news on top
        top = [app.board.row_at(i) for i in range(len(failed) + 1)]
        assert [r.state for r in top[:-1]] == [State.FAILED] * len(failed)
        assert top[-1] is stuck
        # a minute on, the queued posts have moved, and one more has failed
        queued = {r.key for r in rows if r.state is State.QUEUED}
        assert queued
        demo_sim.advance(60)
        passes = app.engine.passes
        await pilot.press("r")
        await until(
            lambda: app.engine.passes > passes and not app.engine.polling,
            "the refresh",
            pilot=pilot,
        )
        assert all(app.board.rows[k].state.is_final for k in queued)
        assert app.board.counts()[State.FAILED] == len(failed) + 1


def demo_args(*argv: str) -> object:
    return build_parser().parse_args(["demo", *argv])


def one_change(at: float) -> tuple[list[PostStatus], list[Transition]]:
    key = ("acc_demo", "p1")
    return [PostStatus(key, State.FAILED, "Failed", None, "token expired", at)], [
        Transition(key, None, State.FAILED, at)
    ]


def test_the_demo_history_is_a_temporary_file_gone_on_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with demo_history(demo_args()) as history:
        assert history.store is not None
        path = history.store.path
        assert path.parent.parent == tmp_path / "tmp"
        history.save(*one_change(time.time()))
        history.close()
        assert path.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "state").exists()  # the operator's history is never opened


def test_a_demo_history_file_gives_each_run_its_own_scope(tmp_path: Path) -> None:
    file = tmp_path / "demo.sqlite"
    scopes = []
    for _ in range(2):
        with demo_history(demo_args("--history", str(file))) as history:
            scopes.append(history.scope)
            history.save(*one_change(time.time()))
            history.close()
    assert scopes[0] != scopes[1] and all(s.startswith("sim://demo/7/") for s in scopes)
    with SqliteStore(file, readonly=True) as store:
        # the second run's trail starts afresh: no state from the first run in it
        assert len(store.trail(scopes[1], ("acc_demo", "p1"))) == 1


def test_no_history_means_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with demo_history(demo_args("--no-history")) as history:
        assert history.store is None
    assert list(tmp_path.iterdir()) == []


def read_until(fd: int, wanted: list[bytes], deadline: float) -> bytes:
    """Read the terminal's output until every wanted text has appeared (or the deadline)."""
    seen = b""
    while time.monotonic() < deadline and not all(w in seen for w in wanted):
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_the_demo_in_a_terminal_shows_failures_and_leaves_no_history(tmp_path: Path) -> None:
    """A real `wahdx-tui demo` in a pseudo-terminal: failures of two reasons on its first
    screen; while it runs its history is in a temporary folder, which is gone after `q`."""
    tmp, state, config = tmp_path / "tmp", tmp_path / "state", tmp_path / "config"
    tmp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "XDG_STATE_HOME": str(state),
        "XDG_CONFIG_HOME": str(config),
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 140, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wahdx_tui", "demo", "--no-bell"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        shown = read_until(
            master, [b"token expired", b"aspect ratio", b"FAILED"], time.monotonic() + 60
        )
        assert b"token expired" in shown and b"aspect ratio" in shown, shown[-2000:]
        (folder,) = tmp.iterdir()
        assert folder.name.startswith("wahdx-demo-")
        assert (folder / "history.sqlite").exists()
        os.write(master, b"q")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert list(tmp.iterdir()) == []
    assert not state.exists()
