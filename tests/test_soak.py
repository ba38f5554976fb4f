"""A soak: many refresh cycles under random faults; memory, tasks and sockets stay flat."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from wahdx_tui.core.client import ClientOptions, WahdxClient
from wahdx_tui.core.model import State, WatchedPost
from wahdx_tui.core.watchlist import Watchlist, WatchlistSettings
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp

LONG = os.environ.get("WAHDX_SOAK") == "long"
CYCLES = 3000 if LONG else 300
WARMUP = CYCLES // 3  # bounded caches (cell widths, queries, styles) fill up first
CHECK_EVERY = 40

FAULTS: list[tuple[str, Callable[[Faults], None]]] = [
    ("down", lambda f: setattr(f, "down", True)),
    ("500s", lambda f: setattr(f, "error_rate", 0.5)),
    ("malformed", lambda f: setattr(f, "malformed_rate", 0.5)),
    ("missing", lambda f: setattr(f, "missing_rate", 0.3)),
    ("429", lambda f: (setattr(f, "burst_429_every", 2), setattr(f, "retry_after", 0.0))),
    ("dropped", lambda f: setattr(f, "drop_connections", True)),
    ("reset", lambda f: setattr(f, "reset_mid_body", True)),
    ("revoked", lambda f: setattr(f, "revoked", True)),
    ("hostile", lambda f: setattr(f, "hostile", True)),
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def posts(n: int) -> list[WatchedPost]:
    platforms = ("tiktok", "instagram", "threads", "facebook")
    return [
        WatchedPost(f"acc_{platforms[i % 4]}_{i % 9}", f"soak_{i:04d}", "video", f"soak {i}")
        for i in range(n)
    ]


async def one_cycle(app: BoardApp, everything: bool = False) -> None:
    """Start a pass and wait until it has ended (finished or failed)."""
    ended = app.passes + app.failed_passes
    app.start_poll(everything=everything)
    for _ in range(2000):
        await asyncio.sleep(0.005)
        if app.passes + app.failed_passes > ended and not app.polling:
            return
    raise AssertionError("a pass never ended")


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
async def test_soak_memory_tasks_and_sockets_stay_flat_and_the_board_converges() -> None:
    rng = random.Random(11)
    now = [10_000.0]
    watched = posts(120)
    sim = SimServer(SimConfig(posts=watched, seed=5, clock=lambda: now[0])).start()
    options = ClientOptions(timeout=2.0, max_attempts=2, backoff_base=0.001, backoff_cap=0.01)
    app = BoardApp(
        Watchlist("<soak>", tuple(watched), WatchlistSettings(), ()),
        lambda on_event: WahdxClient(sim.base_url, sim.api_key, options, on_event=on_event),
        interval=3600,
        watch_file=False,
        bell=False,
    )
    tracemalloc.start()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await one_cycle(app)
            baseline: tuple[int, int, int] | None = None
            for cycle in range(1, CYCLES + 1):
                fault = rng.random() < 0.5
                if fault:
                    _name, apply = rng.choice(FAULTS)
                    apply(sim.faults)
                now[0] += rng.uniform(0.5, 4.0)
                await one_cycle(app)
                sim.faults.__init__()  # type: ignore[misc]  # every knob back to healthy
                if cycle % CHECK_EVERY == 0:
                    await one_cycle(app, everything=True)
                    wrong = {
                        k: (r.state, sim.truth(k))
                        for k, r in app.board.rows.items()
                        if r.state is not sim.truth(k)
                    }
                    assert not wrong, f"cycle {cycle}: board differs from the truth: {wrong}"
                    assert not app.health.stale
                if cycle == WARMUP:
                    await pilot.pause()
                    gc.collect()
                    baseline = (
                        tracemalloc.get_traced_memory()[0],
                        len(asyncio.all_tasks()),
                        open_fds(),
                    )
            await pilot.pause()
            gc.collect()
            assert baseline is not None
            memory, tasks, fds = (
                tracemalloc.get_traced_memory()[0],
                len(asyncio.all_tasks()),
                open_fds(),
            )
            assert memory < baseline[0] * 1.05, f"memory grew {memory / baseline[0]:.2%}"
            assert tasks <= baseline[1], f"tasks {baseline[1]} -> {tasks}"
            assert fds <= baseline[2] + 2, f"file descriptors {baseline[2]} -> {fds}"
            assert app.passes > CYCLES / 3
            counts = app.board.counts()
            assert sum(counts.values()) == len(watched)
            assert counts[State.PUBLISHED] + counts[State.FAILED] > 0
    finally:
        tracemalloc.stop()
        sim.stop()
