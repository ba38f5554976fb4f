"""The board in a real terminal (tmux) stopped and continued from outside: SIGSTOP, SIGCONT,
then `q` or the terminal closing. Every wait is a bounded poll of what tmux shows or of the
board's process, never a sleep."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.teamprocs import KEY, WATCHLIST, child_env, wait_for
from wahdx_tui.core.watchlist.reader import load_watchlist
from wahdx_tui.sim import SimConfig, SimServer

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)"
)


@dataclass
class Pane:
    """A tmux session running one board (under `sh`, which writes its exit status);
    `pid` is the board's own process."""

    session: str
    pid: int
    status: Path  # where its exit status is written when it ends

    def text(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout

    def blank(self) -> None:
        """Reset tmux's picture of the pane: blank until the board draws it all again (only
        its headings' line tells, as the board redraws what changes, and they do not)."""
        subprocess.run(["tmux", "send-keys", "-R", "-t", self.session], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def threads(self) -> int:
        """The board process's threads (its keyboard and writer threads among them)."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except FileNotFoundError:
            return 0

    def alive(self) -> bool:
        """Whether the board still runs (an exited one waiting to be reaped does not)."""
        try:
            return "State:\tZ" not in Path(f"/proc/{self.pid}/status").read_text()
        except FileNotFoundError:
            return False

    def exit_status(self) -> str:
        """The board's exit status, once it has ended in its pane (else empty)."""
        return self.status.read_text().strip() if self.status.exists() else ""


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
    board = [sys.executable, "-m", "wahdx_tui", "watch", str(WATCHLIST), "--no-history"]
    # The pane's size, not one inherited from whoever started the tmux server.
    command = ["env", "-u", "COLUMNS", "-u", "LINES", f"PATH={os.environ['PATH']}", *settings]
    status = tmp_path / "exit-status"
    line = f"{shlex.join([*command, *board])}; echo $? > {shlex.quote(str(status))}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", "sh", "-c", line],
        check=True,
    )
    try:
        shell = int(
            subprocess.run(
                ["tmux", "display-message", "-p", "-t", session, "#{pane_pid}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        children = Path(f"/proc/{shell}/task/{shell}/children")
        wait_for(lambda: children.read_text().split(), "the board's process")
        shown = Pane(session, int(children.read_text().split()[0]), status)
        wait_for(lambda: "Σ 25 total" in shown.text() and "next " in shown.text(), "the board")
        yield shown
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def stop_and_continue(pane: Pane) -> int:
    """SIGSTOP and SIGCONT from outside (as `kill -STOP`, a debugger or a frozen VM do), then a
    key, once the board has drawn all of itself again (so it has surely taken the SIGCONT
    in: a key typed while it starts its input again is lost, as with any terminal program);
    returns how many threads the board ran before."""
    before = pane.threads()
    pane.blank()
    wait_for(lambda: "State ▲" not in pane.text(), "the pane blank")
    os.kill(pane.pid, signal.SIGSTOP)
    os.kill(pane.pid, signal.SIGCONT)
    wait_for(lambda: "State ▲" in pane.text(), "the whole board drawn again after SIGCONT")
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
    wait_for(pane.exit_status, "the board to quit on q")
    assert pane.exit_status() == "0"


def test_after_sigstop_and_sigcont_the_board_ends_when_its_terminal_closes(pane: Pane) -> None:
    """Once a board outlived its closed terminal for 37 s after a SIGSTOP and SIGCONT."""
    stop_and_continue(pane)
    subprocess.run(["tmux", "kill-session", "-t", pane.session], check=True)
    wait_for(lambda: not pane.alive(), "the board to end with its terminal")
