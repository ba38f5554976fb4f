"""Polling metrics: one full pass of 10,000 posts against its floor, and GETs one at a time."""

from __future__ import annotations

import asyncio
import math
import time

from bench.common import median, sim_process, synthetic_posts, write_watchlist
from wahdx_tui.core.api.client import ClientOptions, WahdxClient

LATENCY = 0.02


async def _pass_seconds(env: dict[str, str], posts: list, repeats: int) -> float:
    options = ClientOptions()
    async with WahdxClient(env["WAHDX_BASE_URL"], env["WAHDX_API_KEY"], options) as client:
        await client.check_posts(posts[:200])  # open the keep-alive connections
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            result = await client.check_posts(posts)
            times.append(time.perf_counter() - t)
            assert result.complete and len(result.statuses) == len(posts)
    return median(times)


async def _sequential_seconds(env: dict[str, str], posts: list) -> float:
    options = ClientOptions(concurrency=1)
    async with WahdxClient(env["WAHDX_BASE_URL"], env["WAHDX_API_KEY"], options) as client:
        t = time.perf_counter()
        for post in posts:
            await client.check_one(post)
        return time.perf_counter() - t


def run(n: int = 10_000, repeats: int = 5) -> dict[str, float]:
    """poll_10k_s and its bound, and seq_10k_s extrapolated from 500 single GETs."""
    posts = synthetic_posts(n)
    path = write_watchlist(posts)
    try:
        with sim_process(path, "--latency", str(LATENCY)) as env:
            poll = asyncio.run(_pass_seconds(env, posts, repeats))
            seq_500 = asyncio.run(_sequential_seconds(env, posts[:500]))
    finally:
        path.unlink()
    options = ClientOptions()
    bound = math.ceil(n / options.batch_size) / options.concurrency * LATENCY
    return {
        "poll_10k_s": poll,
        "poll_10k_bound_s": bound,
        "poll_10k_ratio": poll / bound,
        "seq_10k_s": seq_500 * n / 500,
    }
