"""End-to-end scale metrics: the real board in a pty against a simulator in another process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BIN,
    PtyRun,
    median,
    sim_process,
    synthetic_posts,
    wait_busy,
    wait_quiet,
    write_watchlist,
)
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.sim.faults import Faults
from wahdx_tui.sim.schedule import STUCK_RATE, _rng
from wahdx_tui.sim.server import SimConfig, SimServer, SimStats

UPDATED = rb"updated \d\d:\d\d:\d\d"
LATENCY = 0.02
SEED = 7


def floor_seconds(n: int, latency: float = LATENCY) -> float:
    """The poll floor: ceil(N / batch) / concurrency x latency, with the default client."""
    options = ClientOptions()
    return math.ceil(n / options.batch_size) / options.concurrency * latency


def _launch_seconds(path: Path, env: dict[str, str], timeout: float) -> float:
    run = PtyRun([str(BIN / "wahdx-tui"), "watch", str(path), "--no-history"], env)
    try:
        return run.wait_for(UPDATED, timeout=timeout)
    finally:
        run.close()


def first_board(n: int, repeats: int = 3) -> dict[str, float]:
    """Launch to every post on screen at 20 ms per request, beside its floor: the poll floor
    plus the same launch with the API answering at once (medians, runs alternating)."""
    path = write_watchlist(synthetic_posts(n))
    slow: list[float] = []
    fast: list[float] = []
    timeout = 60 + n / 500
    try:
        with sim_process(path, "--latency", str(LATENCY)) as slow_env, sim_process(path) as now_env:
            for _ in range(repeats):
                slow.append(_launch_seconds(path, slow_env, timeout))
                fast.append(_launch_seconds(path, now_env, timeout))
    finally:
        path.unlink()
    seconds, at_once = median(slow), median(fast)
    floor = floor_seconds(n) + at_once
    return {"seconds": seconds, "at_once": at_once, "floor": floor, "ratio": seconds / floor}


def final_mix(n: int, final_share: float = 0.6) -> list[WatchedPost]:
    """n posts of which `final_share` reach a final state in the simulator (seed 7) and the
    rest never do (queued or processing for good), over 40 accounts and four platforms."""
    platforms = ("tiktok", "instagram", "threads", "facebook")
    moving = n - round(n * final_share)
    finals = n - moving
    posts: list[WatchedPost] = []
    i = 0
    while moving or finals:
        account = f"acc_{platforms[i % 4]}_{i % 40:02d}"
        publish = f"pub_{i:07d}"
        rng = _rng(SEED, (account, publish), "timeline")  # as sim.schedule.timeline_for draws
        rng.random()
        rng.random()
        never_final = rng.random() < STUCK_RATE
        if never_final and moving:
            moving -= 1
        elif not never_final and finals:
            finals -= 1
        else:
            i += 1
            continue
        media = "video" if i % 3 else "photo"
        posts.append(WatchedPost(account, publish, media, f"Campaign post {i:07d}"))
        i += 1
    return posts


@contextmanager
def counted_sim(
    posts: list[WatchedPost], speed: float
) -> Iterator[tuple[dict[str, str], SimStats]]:
    """The simulator in this (the benchmark's) process, so its request counters can be read;
    the board under test runs in its own."""
    config = SimConfig(posts=posts, seed=SEED, speed=speed, faults=Faults(latency=LATENCY))
    server = SimServer(config).start()
    try:
        yield {"WAHDX_BASE_URL": server.base_url, "WAHDX_API_KEY": server.api_key}, server.stats
    finally:
        server.stop()


@dataclass(frozen=True)
class Steady:
    """CPU of a board over whole passes in steady state: medians over the windows measured."""

    cpu_pct: float
    us_per_asked: float
    asked_per_pass: float
    seconds: float
    windows: tuple[float, ...] = ()
    """Each window's CPU per asked post (us), in the order measured."""


def steady(
    n: int,
    passes: int = 4,
    interval: float = 15,
    on_start: Callable[[int], None] | None = None,
    windows: int = 3,
) -> Steady:
    """A board of n posts, 60% of them final, default final_every, `interval` s: its CPU over
    `windows` windows of `passes` whole passes each (from the end of one pass to the end of
    the one `passes` later), one after the other after a warm-up of two passes; the medians.
    The median keeps a burst of another tenant's load in one window from deciding the figure
    (this VM's speed drifts by a fifth within hours). `on_start(pid)` is told when the first
    window opens (to profile it)."""
    posts = final_mix(n)
    path = write_watchlist(posts, interval=interval)
    cpus: list[float] = []
    per_asked: list[float] = []
    asked_per_pass: list[float] = []
    seconds = 0.0
    try:
        # 100x: every post that ends has ended before the first pass is over.
        with counted_sim(posts, speed=100) as (env, stats):
            run = PtyRun([str(BIN / "wahdx-tui"), "watch", str(path), "--no-history"], env)
            try:
                run.wait_for(UPDATED, timeout=60 + n / 500)
                wait_quiet(stats)
                wait_busy(stats, interval * 3)
                wait_quiet(stats)
                if on_start is not None:
                    on_start(run.proc.pid)
                for _ in range(windows):
                    cpu0, asked0, t0 = run.cpu_seconds(), stats.checks, time.perf_counter()
                    for _ in range(passes):
                        wait_busy(stats, interval * 3)
                        wait_quiet(stats)
                    cpu1, asked1, t1 = run.cpu_seconds(), stats.checks, time.perf_counter()
                    cpu, asked = cpu1 - cpu0, asked1 - asked0
                    cpus.append(cpu / (t1 - t0) * 100)
                    per_asked.append(cpu / asked * 1e6)
                    asked_per_pass.append(asked / passes)
                    seconds += t1 - t0
            finally:
                run.close()
    finally:
        path.unlink()
    return Steady(
        median(cpus), median(per_asked), median(asked_per_pass), seconds, tuple(per_asked)
    )


def memory(n: int) -> float:
    """Resident MiB of `wahdx-tui watch` holding n posts after its first pass."""
    path = write_watchlist(synthetic_posts(n))
    try:
        with sim_process(path) as env:
            run = PtyRun([str(BIN / "wahdx-tui"), "watch", str(path), "--no-history"], env)
            try:
                run.wait_for(UPDATED, timeout=60 + n / 500)
                time.sleep(1)
                return run.rss_mb()
            finally:
                run.close()
    finally:
        path.unlink()


def first_boards() -> dict[str, float]:
    """first_board_100k_s beside its floor, and the 10,000-post ratio."""
    big, small = first_board(100_000), first_board(10_000)
    return {
        "first_board_100k_s": big["seconds"],
        "first_board_100k_at_once_s": big["at_once"],
        "first_board_100k_floor_s": big["floor"],
        "first_board_100k_ratio": big["ratio"],
        "first_board_10k_20ms_s": small["seconds"],
        "first_board_10k_floor_s": small["floor"],
        "first_board_10k_20ms_ratio": small["ratio"],
    }


def steady_100k() -> dict[str, float]:
    """steady_cpu_100k_pct and cpu_per_asked_post_us: medians of three windows of four
    passes; the slowest and fastest windows beside them."""
    got = steady(100_000)
    return {
        "steady_cpu_100k_pct": got.cpu_pct,
        "cpu_per_asked_post_us": got.us_per_asked,
        "cpu_per_asked_slowest_window_us": max(got.windows),
        "cpu_per_asked_fastest_window_us": min(got.windows),
        "asked_per_pass_100k": got.asked_per_pass,
    }
