"""Team metrics: API requests with 10 boards attached, a poller's write until an attached board
has drawn it (SQLite or PostgreSQL), and the CPU of an attached board at 10,000 and 100,000."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from textual.strip import Strip

from bench.common import (
    BIN,
    PtyRun,
    clean_env,
    synthetic_posts,
    wait_busy,
    wait_quiet,
    write_watchlist,
)
from bench.scale import final_mix
from wahdx_tui.cli import client_options
from wahdx_tui.core.domain.display import state_label
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.settings.table import DEFAULTS
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import Store, scope_for
from wahdx_tui.core.team.lease import PollerWord, lease_name, new_holder
from wahdx_tui.core.team.setup import team_engine
from wahdx_tui.core.watchlist.reader import load_watchlist
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp

KEY = "bench_team_key_0123456789"
SIZE = (120, 36)
ATTACHED = rb"via poller on"
ALL_SHOWN = rb"\b0 UNKNOWN"
QUIET = 0.5  # seconds without a request that separate one pass from the next


# -- the simulator, serve, boards ----------------------------------------------------------


@contextmanager
def final_sim(posts: list[WatchedPost]) -> Iterator[SimServer]:
    """The simulated API in this process (its counters are the measure), every post already in
    its last state: from here on nothing changes (4% stay stuck in Queued/Processing)."""
    sim = SimServer(SimConfig(posts=posts, seed=7, api_key=KEY)).start()
    sim.advance(10**6)
    try:
        yield sim
    finally:
        sim.stop()


def team_env(state: Path, sim: SimServer, *, key: bool) -> dict[str, str]:
    """What `serve` and `watch` are started with: their own state folder, the sim, a key or not."""
    env = {"XDG_STATE_HOME": str(state), "WAHDX_BASE_URL": sim.base_url}
    if key:
        env["WAHDX_API_KEY"] = KEY
    return env


@contextmanager
def poller_on(
    path: Path, posts: list[WatchedPost], interval: float
) -> Iterator[tuple[SimServer, str, Path, subprocess.Popen[bytes], Path]]:
    """A simulator knowing `posts` (every one in its last state) and `serve` polling it on a
    SQLite store in a temporary folder: (sim, store, state folder, serve's process, its log)."""
    with (
        tempfile.TemporaryDirectory(prefix="wahdx-bench-team-") as tmp,
        final_sim(posts) as sim,
    ):
        state = Path(tmp)
        store = str(state / "team.sqlite3")
        with serving(path, store, sim, state, interval) as (proc, log):
            yield sim, store, state, proc, log


@contextmanager
def serving(
    watchlist: Path, store: str, sim: SimServer, state: Path, interval: float
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`wahdx-tui serve` in its own process, stopped with SIGTERM at the end."""
    log = state / "serve.log"
    argv = [str(BIN / "wahdx-tui"), "serve", str(watchlist), "--store", store]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*argv, "--interval", f"{interval:g}"],
            env={**clean_env(), **team_env(state, sim, key=True)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def board(watchlist: Path, store: str, sim: SimServer, state: Path, *, key: bool) -> PtyRun:
    """`wahdx-tui watch` in a real pseudo-terminal on the team store."""
    argv = [str(BIN / "wahdx-tui"), "watch", str(watchlist), "--store", store]
    return PtyRun(argv, team_env(state, sim, key=key), clean=True)


def wait_until(cond: Callable[[], object], what: str, seconds: float = 60.0) -> None:
    """Poll `cond` until it holds (raise after `seconds`: a bound on set-up, not a measure)."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench/team: timed out waiting for {what}")
        time.sleep(0.02)


# -- viewers_10_request_ratio ---------------------------------------------------------------


def count_window(sim: SimServer, seconds: float) -> tuple[int, int]:
    """(requests, passes) the simulator received in `seconds`, counted from the first request
    of a pass (a request after QUIET seconds without one), so every window starts alike."""
    stats = sim.stats
    deadline = time.monotonic() + 60
    last, last_at = stats.requests, time.monotonic()
    while True:
        time.sleep(0.002)
        now, seen = time.monotonic(), stats.requests
        if now > deadline:
            raise TimeoutError("bench/team: no pass began within 60 s")
        if seen == last:
            continue
        if now - last_at >= QUIET:
            break
        last, last_at = seen, now
    start, base, passes = now, last, 1
    last, last_at = seen, now
    while now - start < seconds:
        time.sleep(0.002)
        now, seen = time.monotonic(), stats.requests
        if seen != last:
            passes += now - last_at >= QUIET
            last, last_at = seen, now
    return stats.requests - base, passes


def viewers(n: int = 1_000, boards: int = 10, interval: float = 2.0) -> dict[str, float]:
    """viewers_10_request_ratio: requests with 10 boards attached / the poller alone, A B A B
    (the totals of both windows of each beside it).

    The boards are real `wahdx-tui watch` processes in pseudo-terminals, with the API key (so
    each could poll, and must not while a poller lives), on the same watchlist and store.
    Each window is 5.5 intervals from the start of a pass: the same whole number of passes fit.
    """
    window = 5.5 * interval
    posts = synthetic_posts(n)
    path = write_watchlist(posts, interval=interval)
    alone: list[int] = []
    attached: list[int] = []
    passes: list[int] = []
    try:
        with poller_on(path, posts, interval) as (sim, store, state, proc, log):
            wait_until(lambda: sim.stats.requests > 0, "serve's first pass")
            count_window(sim, 2 * interval)  # warm-up: the first passes ask everything
            for _ in range(2):
                got, p = count_window(sim, window)
                alone.append(got)
                passes.append(p)
                runs = [board(path, store, sim, state, key=True) for _ in range(boards)]
                try:
                    for run in runs:
                        run.wait_for(ATTACHED, timeout=120)
                    got, p = count_window(sim, window)
                    attached.append(got)
                    passes.append(p)
                finally:
                    for run in runs:
                        run.close()
                assert proc.poll() is None, log.read_text()
    finally:
        path.unlink()
    return {
        "viewers_10_request_ratio": sum(attached) / sum(alone),
        "viewers_requests_alone": sum(alone),
        "viewers_requests_attached": sum(attached),
        "viewers_passes_per_window": statistics.median(passes),
    }


# -- change_to_screen_p95_ms ----------------------------------------------------------------

CYCLE = (State.PROCESSING, State.FAILED, State.QUEUED)  # all sort above PUBLISHED: row 0


def _status(post: WatchedPost, state: State, at: float) -> PostStatus:
    error = "media download failed" if state is State.FAILED else None
    raw = {"publishId": post.publish_id, "status": state.value.upper()}
    return PostStatus(post.key, state, state.value.upper(), None, error, at, raw)


def seed_store(store: Store, scope: str, posts: list[WatchedPost], target: WatchedPost) -> None:
    """As a poller leaves it: every post answered (PUBLISHED, the target QUEUED), a live lease."""
    now = time.time()
    first = [_status(p, State.QUEUED if p is target else State.PUBLISHED, now) for p in posts]
    store.record(scope, first, [Transition(s.key, None, s.state, now) for s in first])
    word = PollerWord(api="ok", last_pass=now, interval=2.0).encode()
    assert store.try_lease(lease_name(scope), new_holder(), 3600.0, word)


async def change_to_screen_ms(url: str, n: int = 10_000, samples: int = 40) -> list[float]:
    """Milliseconds from the start of a poller's write (`store.record`, as serve writes a pass)
    until an attached board's table has rendered the post's line in its new state.

    The board is `BoardApp(team_engine(...))` without a key in this process (a pilot), on its
    own store connection; the writer is another connection, writing from a thread.
    """
    posts = synthetic_posts(n)
    path = write_watchlist(posts)
    target = posts[n // 2]
    base_url = "http://127.0.0.1:9"  # never asked: the board has no key and does not poll
    scope = scope_for(base_url)
    delays: list[float] = []
    writer = open_store(url)
    try:
        seed_store(writer, scope, posts, target)
        engine = team_engine(
            load_watchlist(path),
            base_url=base_url,
            api_key=None,
            settings=DEFAULTS,
            options=client_options(DEFAULTS),
            fixed_settings=frozenset(),
            store=open_store(url),
            can_poll=False,
        )
        app = BoardApp(engine, bell=False)
        async with app.run_test(size=SIZE) as pilot:
            table = app.table
            deadline = time.monotonic() + 120
            while not (
                engine.via.startswith("via poller on")
                and app.board.rows[target.key].state is State.QUEUED
                and app.board.row_at(0).key == target.key
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError("bench/team: the board never showed the store")
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            drawn = asyncio.Event()
            wanted: list[str] = []
            seen_at: list[float] = []
            original = table.render_line

            def render_line(y: int) -> Strip:
                strip = original(y)
                if wanted and not drawn.is_set() and wanted[0] in strip.text:
                    line = table._drawn.get(table.scroll_offset.y + y)
                    if line is not None and line[0] == target.key:
                        seen_at.append(time.perf_counter())
                        drawn.set()
                return strip

            table.render_line = render_line  # type: ignore[method-assign]
            rng = random.Random(13)
            old = State.QUEUED
            for i in range(samples):
                await asyncio.sleep(rng.uniform(0.1, 0.6))  # off the follow loop's beat
                new = CYCLE[i % len(CYCLE)]
                drawn.clear()
                seen_at.clear()
                wanted[:] = [state_label(new)]

                def write(new: State = new, old: State = old) -> float:
                    at = time.time()
                    t = time.perf_counter()
                    writer.record(
                        scope, [_status(target, new, at)], [Transition(target.key, old, new, at)]
                    )
                    return t

                started = await asyncio.to_thread(write)
                await asyncio.wait_for(drawn.wait(), 30)
                delays.append((seen_at[0] - started) * 1000)
                old = new
    finally:
        writer.close()
        path.unlink()
    return delays


def p95(values: list[float]) -> float:
    """The 95th percentile (statistics' exclusive method)."""
    return statistics.quantiles(values, n=20)[-1]


def change_to_screen(n: int = 10_000, samples: int = 60) -> dict[str, float]:
    """change_to_screen_p95_ms on SQLite, beside the store alone (a write until another
    connection's wait_for_change() returns) and its writes of a 10,000-post pass."""
    from bench.store import notice_change_p95_ms, write_10k_changes_ms

    with tempfile.TemporaryDirectory(prefix="wahdx-bench-store-") as tmp:
        url = str(Path(tmp) / "team.sqlite3")
        delays = asyncio.run(change_to_screen_ms(url, n, samples))
        with open_store(str(Path(tmp) / "notice.sqlite3")) as writer:
            with open_store(str(Path(tmp) / "notice.sqlite3")) as other:
                notice = notice_change_p95_ms(writer, other)
            write = write_10k_changes_ms(writer)
    return {
        "change_to_screen_p95_ms": p95(delays),
        "change_to_screen_p50_ms": statistics.median(delays),
        "notice_change_p95_ms": notice,
        "write_10k_changes_ms": write,
    }


# -- attached_idle_cpu_10k_pct, attached_steady_cpu_100k_pct ---------------------------------


@dataclass(frozen=True)
class Attached:
    """An attached board's cost over whole passes of its poller, the poller's beside it: the
    medians of the windows measured, each window's figures in `windows` (board, poller)."""

    cpu_pct: float
    bytes_per_s: float
    serve_cpu_pct: float
    seconds: float
    windows: tuple[tuple[float, float], ...] = ()


def attached(
    posts: list[WatchedPost],
    *,
    interval: float,
    passes: int,
    windows: int = 1,
    on_start: Callable[[int], None] | None = None,
) -> Attached:
    """A real `wahdx-tui watch` without a key, in a pseudo-terminal, attached to a live `serve`
    polling every `interval` s a simulator whose posts no longer change (`final_sim`).

    Once the board says `via poller on` and `0 UNKNOWN` and a whole pass has gone by, its CPU
    (utime + stime from /proc) over `windows` windows of `passes` whole passes each, one after
    the other: each from the end of one pass (no request for a second) to the end of the one
    `passes` later; the poller's own CPU over the same windows; the medians. The median keeps
    a burst of another tenant's load in one window from deciding the figure (on this VM a
    thread's wake-up costs two to three times more CPU in some hours than in others).
    `on_start(pid)` is told the board's pid when the first window opens (to profile it).
    """
    path = write_watchlist(posts, interval=interval)
    measured: list[tuple[float, float, float, float]] = []  # board, bytes, serve, seconds
    try:
        with poller_on(path, posts, interval) as (sim, store, state, proc, log):
            wait_until(lambda: "pass 1:" in log.read_text(), "serve's first pass", 300)
            run = board(path, store, sim, state, key=False)
            try:
                run.wait_for(ATTACHED, timeout=300)
                run.wait_for(ALL_SHOWN, timeout=300)
                # Warm-up: a whole pass (and the renewals in it) with every row drawn.
                wait_quiet(sim.stats)
                wait_busy(sim.stats, interval * 3)
                wait_quiet(sim.stats)
                if on_start is not None:
                    on_start(run.proc.pid)
                for _ in range(windows):
                    cpu0, bytes0, t0 = run.cpu_seconds(), run.total, time.perf_counter()
                    serve0 = _cpu_seconds(proc.pid)
                    for _ in range(passes):  # raises if the poller stopped polling
                        wait_busy(sim.stats, interval * 3)
                        wait_quiet(sim.stats)
                    cpu1, bytes1, t1 = run.cpu_seconds(), run.total, time.perf_counter()
                    serve1 = _cpu_seconds(proc.pid)
                    seconds = t1 - t0
                    measured.append(
                        (
                            (cpu1 - cpu0) / seconds * 100,
                            (bytes1 - bytes0) / seconds,
                            (serve1 - serve0) / seconds * 100,
                            seconds,
                        )
                    )
                assert proc.poll() is None, log.read_text()
            finally:
                run.close()
    finally:
        path.unlink()
    board_pct, bytes_per_s, serve_pct, seconds = (
        statistics.median(m[i] for m in measured) for i in range(4)
    )
    return Attached(
        board_pct,
        bytes_per_s,
        serve_pct,
        seconds,
        tuple((m[0], m[2]) for m in measured),
    )


def attached_idle(n: int = 10_000) -> dict[str, float]:
    """attached_idle_cpu_10k_pct: 10,000 posts (4% never final), `serve --interval 5`, six
    passes (30 s)."""
    got = attached(synthetic_posts(n), interval=5.0, passes=6)
    return {
        "attached_idle_cpu_10k_pct": got.cpu_pct,
        "attached_idle_bytes_per_s": got.bytes_per_s,
        "serve_idle_cpu_10k_pct": got.serve_cpu_pct,
    }


def attached_steady(n: int, passes: int = 4, interval: float = 15.0, windows: int = 3) -> Attached:
    """The polling board's steady workload (`scale.final_mix`: 60% final, the rest never) with
    the board attached to a poller instead: `windows` windows of `passes` passes of `interval`
    s (the polling board's steady measure takes the median of three windows too)."""
    return attached(final_mix(n), interval=interval, passes=passes, windows=windows)


def attached_steady_100k() -> dict[str, float]:
    """attached_steady_cpu_100k_pct: 100,000 posts, `serve --interval 15`, medians of three
    windows of four passes (60 s each); serve_steady_cpu_100k_pct: the poller's own CPU over
    the same windows; the highest window of each beside them."""
    got = attached_steady(100_000)
    return {
        "attached_steady_cpu_100k_pct": got.cpu_pct,
        "attached_steady_highest_window_pct": max(w[0] for w in got.windows),
        "attached_steady_bytes_per_s": got.bytes_per_s,
        "serve_steady_cpu_100k_pct": got.serve_cpu_pct,
        "serve_steady_highest_window_pct": max(w[1] for w in got.windows),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
