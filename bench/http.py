"""CPU per request of the client, whole (check_posts) and its HTTP part alone, tree beside tree.

`python -m bench.http [OTHER_TREE ...]` runs each tree's code (this one first) in its own
process, alternating, against one `wahdx-tui sim` at 20 ms per request, and prints medians of
time.process_time per request: `check_posts` of 20,000 posts in batches of 50, 4 at once (HTTP,
JSON, parsing), and the same requests sent through `WahdxClient._send` alone (HTTP, JSON body).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench.common import ROOT, sim_process, synthetic_posts, write_watchlist

LATENCY = 0.02

# Run in each tree's process: prints {"file": ..., "check_posts": [...], "http": [...]} in us.
_CHILD = r"""
import asyncio, json, os, sys, time
from bench.common import synthetic_posts
import wahdx_tui
from wahdx_tui.core.api.client import WahdxClient

posts = synthetic_posts(int(sys.argv[1]))
passes = int(sys.argv[2])
bodies = [
    {"checks": [{"accountId": p.account_id, "publishId": p.publish_id, "mediaType": p.media_type}
                for p in posts[i : i + 50]]}
    for i in range(0, len(posts), 50)
]

async def main():
    client = WahdxClient(os.environ["WAHDX_BASE_URL"], os.environ["WAHDX_API_KEY"])
    slots = asyncio.Semaphore(client.options.concurrency)

    async def send(body):
        async with slots:
            status, content, _ = await client._send("POST", client._batch_url, body)
            assert status == 200 and content

    whole, http = [], []
    async with client:
        await client.check_posts(posts)  # connections opened, caches warm
        for _ in range(passes):
            sent, cpu = client.requests, time.process_time()
            result = await client.check_posts(posts)
            whole.append((time.process_time() - cpu) / (client.requests - sent) * 1e6)
            assert result.complete and len(result.statuses) == len(posts)
            cpu = time.process_time()
            await asyncio.gather(*(send(body) for body in bodies))
            http.append((time.process_time() - cpu) / len(bodies) * 1e6)
    print(json.dumps({"file": wahdx_tui.__file__, "check_posts": whole, "http": http}))

asyncio.run(main())
"""


def run(trees: list[str], n: int = 20_000, repeats: int = 5, passes: int = 3) -> None:
    """Print each tree's medians (and the spread) of CPU us per request."""
    got: dict[str, dict[str, list[float]]] = {t: {"check_posts": [], "http": []} for t in trees}
    path = write_watchlist(synthetic_posts(n))
    try:
        with sim_process(path, "--latency", str(LATENCY)) as env:
            for _ in range(repeats):
                for tree in trees:
                    out = subprocess.run(
                        [sys.executable, "-c", _CHILD, str(n), str(passes)],
                        env={**os.environ, **env, "PYTHONPATH": tree},
                        cwd=tree,
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    answer = json.loads(out)
                    assert answer["file"].startswith(tree), answer["file"]
                    for kind in ("check_posts", "http"):
                        got[tree][kind] += answer[kind]
    finally:
        path.unlink()
    for tree, kinds in got.items():
        for kind, values in kinds.items():
            print(
                f"{tree} {kind}: {statistics.median(values):.0f} us CPU per request"
                f" (min {min(values):.0f}, max {max(values):.0f}, n={len(values)})"
            )


if __name__ == "__main__":
    run([str(ROOT), *sys.argv[1:]])
