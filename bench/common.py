"""Shared set-up for the benchmarks: synthetic watchlists, a simulator process, a pty runner."""

from __future__ import annotations

import fcntl
import os
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.sim.server import SimStats

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def synthetic_posts(n: int) -> list[WatchedPost]:
    """n posts over 40 accounts and the four platforms."""
    platforms = ("tiktok", "instagram", "threads", "facebook")
    return [
        WatchedPost(
            f"acc_{platforms[i % 4]}_{i % 40:02d}",
            f"pub_{i:06d}",
            "video" if i % 3 else "photo",
            f"Campaign post {i:06d}",
        )
        for i in range(n)
    ]


def write_watchlist(posts: list[WatchedPost], interval: float = 15) -> Path:
    """A YAML watchlist file for the posts (written by hand: fast for 100,000)."""
    fd, name = tempfile.mkstemp(prefix="wahdx-bench-", suffix=".yaml")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"settings:\n  interval: {interval}\nposts:\n")
        for p in posts:
            fh.write(
                f"  - {{accountId: {p.account_id}, publishId: {p.publish_id}, "
                f"mediaType: {p.media_type}, label: {p.label}}}\n"
            )
    return Path(name)


def median(values: list[float]) -> float:
    """The median, rounded for printing."""
    return statistics.median(values)


def clean_env() -> dict[str, str]:
    """This environment without any WAHDX_* variable (no key or store leaks into a run)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}


@contextmanager
def sim_process(watchlist: Path, *extra: str) -> Iterator[dict[str, str]]:
    """`wahdx-tui sim` in its own process (its own core); yields the WAHDX_* variables."""
    proc = subprocess.Popen(
        [str(BIN / "wahdx-tui"), "sim", "--port", "0", "--watchlist", str(watchlist), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"export (\w+)=(\S+)", line)
        if m:
            env[m[1]] = m[2]
        if len(env) == 2:
            break
    try:
        yield env
    finally:
        proc.terminate()
        proc.wait(10)


class PtyRun:
    """A command in a real pseudo-terminal; counts every byte it writes to the screen."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cols: int = 120,
        rows: int = 36,
        *,
        clean: bool = False,
    ):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        inherited = clean_env() if clean else dict(os.environ)
        full_env = {**inherited, **env, "TERM": "xterm-256color", "COLUMNS": str(cols)}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=full_env, start_new_session=True
        )
        os.close(slave)
        self.buffer = bytearray()
        self.total = 0
        self._lock = threading.Lock()
        self._stop = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.total += len(data)
                self.buffer += data
                if len(self.buffer) > 1 << 20:
                    del self.buffer[: len(self.buffer) - (1 << 19)]

    def wait_for(self, pattern: bytes, timeout: float) -> float:
        """Seconds from start until pattern appears in the output (raises on timeout, with the
        end of the screen's text and the exit status, to say why)."""
        rx = re.compile(pattern)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                if rx.search(self.buffer):
                    return time.perf_counter() - self.started
            time.sleep(0.01)
        with self._lock:
            shown = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\s+", b" ", bytes(self.buffer[-4000:]))
        raise TimeoutError(
            f"{pattern!r} not seen in {timeout} s (exit status {self.proc.poll()}); the screen"
            f" ended: {shown[-600:].decode(errors='replace')}"
        )

    def cpu_seconds(self) -> float:
        """utime + stime of the process, from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """Resident memory in MiB, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def send(self, keys: bytes) -> None:
        """Type into the terminal."""
        os.write(self.master, keys)

    def close(self) -> None:
        """Quit the program (q, then a hang-up if needed) and stop reading."""
        try:
            self.send(b"q")
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(5)
        self._stop = True
        os.close(self.master)


class Skipped(Exception):
    """A group of metrics that cannot run on this machine; the message says how to make it run."""

    def __init__(self, why: str, names: tuple[str, ...]) -> None:
        super().__init__(why)
        self.names = names


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def wait_busy(stats: SimStats, timeout: float) -> None:
    """Until a request arrives (a pass has begun); raises after `timeout` s."""
    seen, deadline = stats.requests, time.perf_counter() + timeout
    while stats.requests == seen:
        if time.perf_counter() > deadline:
            raise TimeoutError("no pass started")
        time.sleep(0.01)


def wait_quiet(stats: SimStats, quiet: float = 1.0) -> None:
    """Until no request has arrived for `quiet` seconds: a pass and its diff are over."""
    seen, since = stats.requests, time.perf_counter()
    while time.perf_counter() - since < quiet:
        time.sleep(0.01)
        if stats.requests != seen:
            seen, since = stats.requests, time.perf_counter()
