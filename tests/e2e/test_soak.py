"""A soak: many refresh cycles under random faults; memory, tasks and sockets stay flat."""

from __future__ import annotations

import asyncio
import fnmatch
import gc
import logging
import os
import random
import statistics
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cached_cell_len
from rich.segment import Segment

from tests.support.fixtures import FakeClock, sim_clients, start_sim, until
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import Watchlist, WatchlistSettings
from wahdx_tui.sim import Faults
from wahdx_tui.ui.app import BoardApp

LONG = os.environ.get("WAHDX_SOAK") == "long"
CHECK_EVERY = 40
CYCLES = CHECK_EVERY * (75 if LONG else 8)
WARMUP = CHECK_EVERY * 3


def burst_429(faults: Faults) -> None:
    faults.burst_429_every = 2
    faults.retry_after = 0.0


FAULTS: list[tuple[str, Callable[[Faults], None]]] = [
    ("down", lambda f: setattr(f, "down", True)),
    ("500s", lambda f: setattr(f, "error_rate", 0.5)),
    ("malformed", lambda f: setattr(f, "malformed_rate", 0.5)),
    ("missing", lambda f: setattr(f, "missing_rate", 0.3)),
    ("429", burst_429),
    ("dropped", lambda f: setattr(f, "drop_connections", True)),
    ("reset", lambda f: setattr(f, "reset_mid_body", True)),
    ("revoked", lambda f: setattr(f, "revoked", True)),
    ("hostile", lambda f: setattr(f, "hostile", True)),
]


# Memory held by the board's own code and the network stack under it. Rich's and Textual's
# caches of rendered text are left out: they are LRU caches with fixed bounds, which a few
# hundred cycles of ever-new clock texts and hostile strings are still filling.
OWN_FILES = (
    "*/wahdx_tui/*",
    "*/asyncio/*",
    "*/httpx/*",
    "*/httpcore/*",
    "*/anyio/*",
    "*/h11/*",
    "*/json/*",
    "*/socket.py",
    "*/selectors.py",
)
OWN = [tracemalloc.Filter(True, pattern) for pattern in OWN_FILES]  # for hunting by line


def own_memory() -> int:
    # Rich keeps two global LRU caches keyed by the text it measures and splits: cell lengths
    # (4,096 strings) and split segments (16,384, filled when a toast overlaps table lines).
    # Both hold drawn table lines, which tracemalloc charges to the table's own code. They are
    # bounded by their maxsize but fill slowly over thousands of cycles, so they are emptied
    # before each measurement: what is left is what the board itself keeps.
    cached_cell_len.cache_clear()
    Segment._split_cells.cache_clear()
    gc.collect()
    # Summed by file first (in C), then the few thousand files matched: filtering each of the
    # hundreds of thousands of traces in Python would take seconds a sample.
    return sum(
        s.size
        for s in tracemalloc.take_snapshot().statistics("filename")
        if any(fnmatch.fnmatch(s.traceback[0].filename, p) for p in OWN_FILES)
    )


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
    ended = app.engine.passes + app.engine.failed_passes
    app.start_poll(everything=everything)
    await until(
        lambda: app.engine.passes + app.engine.failed_passes > ended and not app.engine.polling,
        "a pass to end",
        tries=2000,
        step=0.005,
    )


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
async def test_soak_memory_tasks_and_sockets_stay_flat_and_the_board_converges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pytest keeps every captured log record: that would be the test's own growing memory.
    logger = logging.getLogger("wahdx_tui")
    monkeypatch.setattr(logger, "level", logger.level)  # restored after the test
    logger.setLevel(logging.ERROR)  # setLevel also clears the loggers' level caches
    rng = random.Random(11)
    clock = FakeClock(10_000.0)
    watched = posts(120)
    sim = start_sim(watched, seed=5, clock=clock)
    options = ClientOptions(timeout=2.0, max_attempts=2, backoff_base=0.001, backoff_cap=0.01)
    engine = Engine(
        Watchlist("<soak>", tuple(watched), WatchlistSettings(), ()),
        sim_clients(sim, options),
        interval=3600,
        # The event log is bounded by design; a small bound lets it fill during the warm-up.
        history=StoreWriter(None, "soak", events_kept=100),
    )
    app = BoardApp(engine, bell=False)
    tracemalloc.start(int(os.environ.get("SOAK_FRAMES", "1")))  # more frames to hunt a leak
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await one_cycle(app)
            memory: list[int] = []  # sampled at the first and the last three checks
            baseline: tuple[int, int] | None = None  # tasks, file descriptors
            for cycle in range(1, CYCLES + 1):
                fault = rng.random() < 0.5
                if fault:
                    _name, apply = rng.choice(FAULTS)
                    apply(sim.faults)
                clock.now += rng.uniform(0.5, 4.0)
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
                    assert not app.engine.health.stale
                    assert not app.board.any_unanswered() and not app.table.stale
                    # Sampled right after a fault-free full pass, so every post holds an
                    # ordinary answer (a hostile one may be 10 KB) every time.
                    if (
                        WARMUP <= cycle < WARMUP + 3 * CHECK_EVERY
                        or cycle > CYCLES - 3 * CHECK_EVERY
                    ):
                        await pilot.pause()
                        memory.append(own_memory())
                        if baseline is None:
                            baseline = (len(asyncio.all_tasks()), open_fds())
            assert baseline is not None and len(memory) >= 4
            # Medians of three: one sample can catch a socket buffer or a callback in flight.
            start, end = statistics.median(memory[:3]), statistics.median(memory[-3:])
            assert end < start * 1.05, f"memory grew {end / start - 1:.2%}: {memory}"
            tasks, fds = len(asyncio.all_tasks()), open_fds()
            assert tasks <= baseline[0], f"tasks {baseline[0]} -> {tasks}"
            assert fds <= baseline[1] + 2, f"file descriptors {baseline[1]} -> {fds}"
            assert app.engine.passes > CYCLES / 3
            counts = app.board.counts()
            assert sum(counts.values()) == len(watched)
            assert counts[State.PUBLISHED] + counts[State.FAILED] > 0
    finally:
        tracemalloc.stop()
        sim.stop()
