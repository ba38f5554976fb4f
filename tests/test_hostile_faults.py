"""`serve` as a real process against a hostile API, a hostile folder and a stuck store.

The simulated API runs over loopback HTTP in this process (its faults changed while it runs),
`wahdx-tui serve` runs as a child process, and every wait is a bounded poll of something the
operator could see: the API's request counts, serve's log lines, its exit.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from teamprocs import KEY, WATCHLIST, Served, child_env, serve_process, wait_for

from wahdx_tui.core.watchlist import load_watchlist
from wahdx_tui.sim import Faults, SimConfig, SimServer


@pytest.fixture
def sim() -> Iterator[SimServer]:
    posts = load_watchlist(WATCHLIST).posts
    server = SimServer(SimConfig(posts=posts, seed=7, api_key=KEY, faults=Faults())).start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    return tmp_path


def serving(
    home: Path, sim: SimServer, *args: str, name: str = "serve"
) -> AbstractContextManager[Served]:
    """`serve` on the sample watchlist and the simulator, its store in `home`."""
    env = child_env(home / "state", base_url=sim.base_url, key=KEY)
    return serve_process(env, home / f"{name}.log", str(WATCHLIST), *args)


# -- a Retry-After of a year, or of forever ---------------------------------------------------


@pytest.mark.parametrize("header", ["31536000", "1e400"])
def test_one_429_asking_for_a_year_or_forever_does_not_stop_serve(
    home: Path, sim: SimServer, header: str
) -> None:
    sim.faults.retry_after_text = header
    sim.faults.burst_429_every, sim.faults.burst_429_len = 1, 1  # every request: 429
    debug = home / "debug.log"
    with serving(home, sim, "--max-retry-after", "1", "--log", str(debug)) as served:
        wait_for(lambda: sim.stats.status_counts.get(429), "the first 429")
        sim.faults.burst_429_every = 0  # the API is healthy again
        wait_for(lambda: sim.stats.status_counts.get(200), "a request after the 429", 60)
        wait_for(lambda: served.says("pass 1:"), "the first pass, answered")
        assert served.proc.poll() is None
    said = debug.read_text(encoding="utf-8")
    if header == "31536000":
        assert "asked to wait 31536000 s after a 429; waiting 1 s (max_retry_after)" in said
    else:
        assert "no usable Retry-After" in said


# -- an answer of 16 MiB of empty items ---------------------------------------------------------


def memory_kib(pid: int, field: str) -> int:
    """A field of /proc/PID/status in KiB: VmRSS (now) or VmHWM (the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def test_a_16_mib_answer_of_empty_items_costs_serve_a_few_copies_of_it_not_25(
    home: Path, sim: SimServer
) -> None:
    """`[{},{},...]` of 16 MiB for 25 posts once took serve to 1.3 GB and a full core for ten
    seconds, so long that its lease ran out. Its peak memory now grows by a few copies of
    the body at most (the transport's buffer, the answer), whatever the answer holds."""
    size = 16 * 1024 * 1024 - 64 * 1024  # the real items too stay under the 16 MiB cap
    with serving(home, sim, "--interval", "1") as served:
        wait_for(lambda: served.says("pass 1:"), "the first pass")
        wait_for(lambda: sim.stats.batch_requests >= 2, "a quiet pass")
        before = memory_kib(served.proc.pid, "VmRSS") * 1024
        sim.faults.flood = size
        flooded = sim.stats.batch_requests
        # The pass after the flooded one has asked: the flooded answer was read by then.
        wait_for(lambda: sim.stats.batch_requests >= flooded + 2, "a pass after the flood", 120)
        peak = memory_kib(served.proc.pid, "VmHWM") * 1024
        assert served.proc.poll() is None
    assert peak - before < 4 * size, f"{(peak - before) / size:.1f} times the answer's size"
    text = served.text()
    assert "lease lost" not in text and "API down" not in text and "left out" not in text


# -- a watchlist replaced by a FIFO ------------------------------------------------------------


def test_a_watchlist_replaced_by_a_fifo_is_refused_and_sigterm_still_stops_serve(
    home: Path, sim: SimServer
) -> None:
    """serve read the FIFO on its next look at the file and waited there for a writer, so
    SIGTERM could not stop it. Now the FIFO is refused, the last good list kept."""
    watchlist = home / "watch.yaml"
    watchlist.write_text(WATCHLIST.read_text(encoding="utf-8"), encoding="utf-8")
    env = child_env(home / "state", base_url=sim.base_url, key=KEY)
    with serve_process(env, home / "serve.log", str(watchlist)) as served:
        wait_for(lambda: served.says("pass 1:"), "the first pass")
        watchlist.unlink()
        os.mkfifo(watchlist)
        wait_for(lambda: served.says("is a FIFO (named pipe)"), "the FIFO refused")
        assert served.says("watchlist not reloaded, keeping the last good list")
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(60) == 0
        assert served.says("stopped")
