"""Metrics of the real program in a pseudo-terminal: first board, idle cost, memory."""

from __future__ import annotations

import time

from bench.common import BIN, PtyRun, sim_process, synthetic_posts, write_watchlist

UPDATED = rb"updated \d\d:\d\d:\d\d"


def first_board(n: int = 10_000, repeats: int = 3) -> dict[str, float]:
    """first_board_10k_s: launch to every post on screen with its state."""
    path = write_watchlist(synthetic_posts(n))
    times = []
    try:
        with sim_process(path) as env:
            for _ in range(repeats):
                run = PtyRun([str(BIN / "wahdx-tui"), "watch", str(path), "--no-history"], env)
                try:
                    times.append(run.wait_for(UPDATED, timeout=60))
                finally:
                    run.close()
    finally:
        path.unlink()
    times.sort()
    return {"first_board_10k_s": times[len(times) // 2]}


def idle(n: int = 1_000, seconds: float = 30.0) -> dict[str, float]:
    """idle_cpu_pct and idle_bytes_per_s of a board whose posts no longer change."""
    path = write_watchlist(synthetic_posts(n), interval=5)
    try:
        # At 10,000x speed every post reaches its final state within the warm-up.
        with sim_process(path, "--speed", "10000") as env:
            run = PtyRun([str(BIN / "wahdx-tui"), "watch", str(path), "--no-history"], env)
            try:
                run.wait_for(UPDATED, timeout=60)
                time.sleep(8)  # warm-up: a few passes, every post final
                cpu0, bytes0, t0 = run.cpu_seconds(), run.total, time.perf_counter()
                time.sleep(seconds)
                cpu1, bytes1, t1 = run.cpu_seconds(), run.total, time.perf_counter()
            finally:
                run.close()
    finally:
        path.unlink()
    return {
        "idle_cpu_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
        "idle_bytes_per_s": (bytes1 - bytes0) / (t1 - t0),
    }


def memory(n: int = 100_000) -> dict[str, float]:
    """rss_100k_mb: resident memory of a board holding 100,000 posts after its first pass."""
    from bench.scale import memory as rss_of

    return {"rss_100k_mb": rss_of(n)}
