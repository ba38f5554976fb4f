"""The board in a real terminal (tmux) stopped and continued from outside: SIGSTOP, SIGCONT,
then `q` or the terminal closing. Every wait is a bounded poll of what tmux shows or of the
board's process, never a sleep."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from teamprocs import KEY, WATCHLIST, child_env, wait_for

from wahdx_tui.core.watchlist import load_watchlist
from wahdx_tui.sim import SimConfig, SimServer

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)"
)


@dataclass
class Pane:
    """A tmux session running one board; `pid` is the board's own process."""

    session: str
    pid: int

    def text(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def show(self, what: str) -> str:
        """A format of the pane, like `#{pane_dead}`."""
        done = subprocess.run(
            ["tmux", "display-message", "-p", "-t", self.session, what],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    def threads(self) -> int:
        """The board process's threads (its keyboard and writer threads among them)."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except FileNotFoundError:
            return 0

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()


@pytest.fixture
def sim() -> Iterator[SimServer]:
    posts = load_watchlist(WATCHLIST).posts
    server = SimServer(SimConfig(posts=posts, seed=7, api_key=KEY)).start()
    yield server
    server.stop()


@pytest.fixture
def pane(tmp_path: Path, sim: SimServer) -> Iterator[Pane]:
    """`wahdx-tui watch` on the simulator in a 120x36 tmux session, up and drawn."""
    session = f"wahdx-test-{os.getpid()}-{tmp_path.name}"
    env = child_env(tmp_path / "state", base_url=sim.base_url, key=KEY, TERM="xterm-256color")
    settings = [f"{k}={v}" for k, v in env.items() if k.startswith(("WAHDX_", "XDG_", "TERM"))]
    # As argv, not a shell line: tmux runs it as the pane's own process (pane_pid is the board).
    board = [sys.executable, "-m", "wahdx_tui", "watch", str(WATCHLIST), "--no-history"]
    # The pane's size, not one inherited from whoever started the tmux server.
    command = ["env", "-u", "COLUMNS", "-u", "LINES", f"PATH={os.environ['PATH']}", *settings]
    command += board
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", *command],
        check=True,
    )
    try:
        subprocess.run(["tmux", "set-option", "-t", session, "remain-on-exit", "on"], check=True)
        shown = Pane(session, 0)
        shown.pid = int(shown.show("#{pane_pid}"))
        wait_for(lambda: "Σ 25 total" in shown.text() and "next " in shown.text(), "the board")
        yield shown
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def stop_and_continue(pane: Pane) -> int:
    """SIGSTOP and SIGCONT from outside (as `kill -STOP`, a debugger or a frozen VM do), then
    a key that redraws the screen, so the board has surely taken the SIGCONT in; returns
    how many threads the board ran before."""
    before = pane.threads()
    os.kill(pane.pid, signal.SIGSTOP)
    os.kill(pane.pid, signal.SIGCONT)
    pane.keys("v")  # the accounts view: its own heading
    wait_for(lambda: "Top reason" in pane.text(), "the accounts view, after SIGCONT")
    return before


def test_after_sigstop_and_sigcont_the_board_runs_one_keyboard_thread_and_quits_on_q(
    pane: Pane,
) -> None:
    """Textual started a second keyboard thread (and writer) on SIGCONT; `q` then stopped one,
    and the other could keep the process alive for good."""
    before = stop_and_continue(pane)
    wait_for(lambda: pane.threads() == before, f"the board back to its {before} threads")
    pane.keys("v")
    wait_for(lambda: "In state" in pane.text(), "the posts view: the keys still work")
    pane.keys("q")
    wait_for(lambda: pane.show("#{pane_dead}") == "1", "the board to quit on q")
    assert pane.show("#{pane_dead_status}") == "0"


def test_after_sigstop_and_sigcont_the_board_ends_when_its_terminal_closes(pane: Pane) -> None:
    """Once a board outlived its closed terminal for 37 s after a SIGSTOP and SIGCONT."""
    stop_and_continue(pane)
    subprocess.run(["tmux", "kill-session", "-t", pane.session], check=True)
    wait_for(lambda: not pane.alive(), "the board to end with its terminal")
