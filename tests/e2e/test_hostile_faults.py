"""`serve` and the board against a hostile API, a hostile folder and a store locked elsewhere.

The simulated API runs over loopback HTTP in this process (its faults changed while it runs),
`wahdx-tui serve` runs as a child process, a lock is held by another real process, and every
wait is a bounded poll of something the operator could see: the API's request counts, serve's
log lines, its exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.teamprocs import (
    KEY,
    WATCHLIST,
    Served,
    child_env,
    engine_on,
    lease_of,
    pilot_until,
    serve_process,
    wait_for,
)
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import StoreError, scope_for
from wahdx_tui.core.store.sqlite import store as sqlitestore
from wahdx_tui.core.team.lease import PollerWord
from wahdx_tui.core.watchlist.reader import load_watchlist
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp


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


def changes(served: Served) -> list[str]:
    """serve's lines for the passes that changed some post's state."""
    return [line for line in served.text().splitlines() if " pass " in line and " now " in line]


# -- a Retry-After of a year, or of forever ---------------------------------------------------


@pytest.mark.parametrize("header", ["31536000", "1e400"])
def test_one_429_asking_for_a_year_or_forever_does_not_stop_serve(
    home: Path, sim: SimServer, header: str
) -> None:
    """It made no request in the next 30 s of a healthy API, its lease still renewed so no
    standby took over. Now a year is capped (`--max-retry-after 2`: the next pass comes 2 s
    later), and infinity is no wait at all (the usual backoff)."""
    sim.faults.retry_after_text = header
    sim.faults.burst_429_every, sim.faults.burst_429_len = 1, 1  # every request: 429
    debug = home / "debug.log"
    args = ("--max-retry-after", "2", "--interval", "1", "--log", str(debug))
    with serving(home, sim, *args) as served:
        wait_for(lambda: sim.stats.status_counts.get(429), "the first 429")
        sim.faults.burst_429_every = 0  # the API is healthy again
        wait_for(lambda: sim.stats.status_counts.get(200), "a request after the 429", 60)
        wait_for(lambda: changes(served), "the first pass, answered")
        assert served.proc.poll() is None
    said = debug.read_text(encoding="utf-8")
    if header == "31536000":
        assert "asked to wait 31536000 s after a 429; waiting 2 s (max_retry_after)" in said
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
    assert peak - before < 6 * size, (
        f"{(peak - before) / size:.1f} times the answer's size"
    )  # before: 25 times (1.26 GB)
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


# -- a store locked by another process at the stop -------------------------------------------

LONG_BUSY_MS = 600_000
"""SQLite's wait for a lock, made ten minutes here: a stop that waited it out would show."""
SERVE_LONG_BUSY = [
    sys.executable,
    "-c",
    "import sys, wahdx_tui.core.store.sqlite.store as s; from wahdx_tui.cli import main;"
    f" s.BUSY_TIMEOUT_MS = {LONG_BUSY_MS}; sys.exit(main(sys.argv[1:]))",
    "serve",
]
HOLD_LOCK = (
    "import sqlite3, sys; conn = sqlite3.connect(sys.argv[1], isolation_level=None);"
    " conn.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()"
)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds the SQLite file's write lock (BEGIN EXCLUSIVE) until the end."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.kill()
        holder.wait(30)


def test_sigterm_under_a_lock_held_elsewhere_stops_serve_at_its_deadline_and_says_what_was_lost(
    home: Path, sim: SimServer
) -> None:
    """With the store locked by another process, SIGTERM took 18 s to stop serve (three lock
    timeouts in a row, 5 s each): the lease, the last write, the interpreter's exit. With
    SQLite's wait made ten minutes, serve still stops at its own deadline (STOP_WITHIN),
    and says how many changes were not written."""
    store = home / "history.sqlite3"
    env = child_env(home / "state", base_url=sim.base_url, key=KEY)
    args = (str(WATCHLIST), "--history", str(store), "--interval", "1")
    with serve_process(env, home / "serve.log", *args, command=SERVE_LONG_BUSY) as served:
        wait_for(lambda: served.says("pass 1:"), "the first pass")
        with locked(store):
            sim.advance(100_000)  # every post moves on: the next pass has changes to write
            wait_for(lambda: len(changes(served)) >= 2, "a pass with changes, locked out")
            served.proc.send_signal(signal.SIGTERM)
            # A bound for a failure only: waiting out the lock would take ten minutes.
            assert served.proc.wait(120) == 0
    text = served.text()
    assert "history not saved" in text and "held it locked until this one had to stop" in text
    assert "state changes and 0 acknowledgements were not written" in text
    assert "stopped" in text


async def test_q_under_a_lock_held_elsewhere_ends_the_board_at_its_deadline(
    home: Path, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`q` took 19 s with the store locked elsewhere; with SQLite's wait made ten minutes it
    still ends at the stop's deadline, and what was not written is said on exit."""
    monkeypatch.setattr(sqlitestore, "BUSY_TIMEOUT_MS", LONG_BUSY_MS)
    store = home / "history.sqlite3"
    engine = engine_on(str(store), sim.base_url, key=KEY)
    app = BoardApp(engine, bell=False)
    async with asyncio.timeout(120):  # a bound for a failure only: the lock is ten minutes
        with ExitStack() as lock:
            async with app.run_test(size=(120, 36)) as pilot:
                await pilot_until(
                    pilot, lambda: app.engine.passes >= 1 and not app.engine.polling, "pass 1"
                )

                def lease_says_pass_1() -> bool:
                    lease = lease_of(str(store), sim.base_url)
                    return (
                        lease is not None and PollerWord.decode(lease.status).last_pass is not None
                    )

                # The renewal that carries pass 1 comes at the next look: taken under the lock it
                # would hang there, and the lease run out before the pass asked for below.
                await pilot_until(pilot, lease_says_pass_1, "the lease saying pass 1")
                lock.enter_context(locked(store))  # held until the board has gone
                passes = app.engine.passes
                sim.advance(100_000)  # every post moves on: this pass has changes to write
                await pilot.press("r")
                await pilot_until(pilot, lambda: app.engine.passes > passes, "a pass with changes")
                started = time.monotonic()
                await pilot.press("q")
            took = time.monotonic() - started
    assert took < LONG_BUSY_MS / 1000 / 10, f"{took:.1f} s to quit"
    said = " ".join(engine.unsaved_warnings())
    assert "held it locked until this one had to stop" in said and "not written" in said


# -- the store's file deleted or replaced under serve ------------------------------------------


def requests_sent(debug: Path) -> int:
    """How many API requests a process has logged in its --log file."""
    if not debug.exists():
        return 0
    return debug.read_text(encoding="utf-8", errors="replace").count("HTTP Request: POST")


def test_a_store_deleted_under_serve_is_said_and_only_one_poller_runs_on_the_new_file(
    home: Path, sim: SimServer
) -> None:
    """serve kept polling and writing to the deleted file, saying nothing, and a second serve
    started on the same path polled too: two pollers on one API budget. Now the first says
    so, stops polling, and opens the path again; the two then share one lease there."""
    store = home / "history.sqlite3"
    env = child_env(home / "state", base_url=sim.base_url, key=KEY)
    args = (str(WATCHLIST), "--history", str(store), "--interval", "1")
    logs = {name: (home / f"{name}.log", home / f"{name}.debug") for name in ("one", "two")}
    one_log, one_debug = logs["one"]
    two_log, two_debug = logs["two"]
    with serve_process(env, one_log, *args, "--log", str(one_debug)) as one:
        wait_for(lambda: one.says("pass 1:"), "the first serve's first pass")
        for path in (
            store,
            store.with_name(store.name + "-wal"),
            store.with_name(store.name + "-shm"),
        ):
            path.unlink(missing_ok=True)
        wait_for(lambda: one.says(f"store {store} was deleted: polling stops"), "the word")
        with serve_process(env, two_log, *args, "--log", str(two_debug)) as two:
            pids = {one.proc.pid: (one, one_debug), two.proc.pid: (two, two_debug)}

            def poller() -> int | None:
                try:
                    lease = lease_of(str(store), sim.base_url)
                except StoreError:  # no file at the path yet: neither serve has made it
                    return None
                return lease.pid if lease is not None and not lease.expired else None

            wait_for(lambda: poller() in pids, "a poller on the new file")
            holder = poller()
            assert holder is not None
            (standby, standby_debug), (_, holder_debug) = (
                pids[pid] for pid in sorted(pids, key=lambda pid: pid == holder)
            )
            wait_for(
                lambda: standby.says("open again") or standby.says("standby ("),
                "the other serve standing by on the same file",
            )
            asked = requests_sent(standby_debug)
            polled = requests_sent(holder_debug)
            wait_for(lambda: requests_sent(holder_debug) >= polled + 3, "three more passes")
            assert requests_sent(standby_debug) == asked  # one poller, one API budget
            assert poller() == holder
            assert one.proc.poll() is None and two.proc.poll() is None


def test_a_store_replaced_under_serve_is_opened_again_and_given_every_state(
    home: Path, sim: SimServer
) -> None:
    """A file put in the store's place (a restored copy, here an empty store) is opened, and
    the poller writes every state it knows into it, though none changes any more."""
    sim.advance(100_000)  # every post final: no pass has news to write
    store = home / "history.sqlite3"
    env = child_env(home / "state", base_url=sim.base_url, key=KEY)
    args = (str(WATCHLIST), "--history", str(store), "--interval", "1")
    with serve_process(env, home / "serve.log", *args) as served:
        wait_for(lambda: served.says("pass 1:"), "the first pass")
        fresh = home / "fresh.sqlite3"
        open_store(str(fresh)).close()  # an empty store, as a restore of an old copy might be
        os.replace(fresh, store)
        wait_for(lambda: served.says(f"store {store} was replaced by another file"), "the word")
        wait_for(lambda: served.says(f"store {store} open again"), "the file opened again")

        def known() -> int:
            with open_store(str(store), readonly=True) as opened:
                return len(opened.last_posts(scope_for(sim.base_url)))

        wait_for(lambda: known() == len(load_watchlist(WATCHLIST).posts), "every state written")
        assert served.proc.poll() is None
