"""serve --http metrics: the CPU of 20 live wall pages, a poller's write until a page has it,
ingest of 10,000 posts, and serve's own CPU on the 100,000-post steady workload."""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from bench.common import BIN, clean_env, synthetic_posts, wait_busy, wait_quiet, write_watchlist
from bench.scale import final_mix
from bench.team import KEY, _cpu_seconds, _status, final_sim, p95, seed_store, team_env, wait_until
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import scope_for
from wahdx_tui.sim import SimServer

TOKEN = "bench-write-token-0123456789abcdef"
LISTENING = re.compile(rb"http: listening on (http://\S+?)/ ")


@contextmanager
def http_serving(
    watchlist: Path, store: str, env: dict[str, str], state: Path, interval: float
) -> Iterator[tuple[subprocess.Popen[bytes], Path, str]]:
    """`serve WATCHLIST --http 127.0.0.1:0` in its own process: (process, log, base URL)."""
    log = state / "serve.log"
    argv = [str(BIN / "wahdx-tui"), "serve", str(watchlist), "--store", store]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*argv, "--interval", f"{interval:g}", "--http", "127.0.0.1:0"],
            env={**clean_env(), **env, "WAHDX_HTTP_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        found: list[str] = []

        def listening() -> bool:
            hit = LISTENING.search(log.read_bytes())
            if hit:
                found.append(hit[1].decode())
            assert proc.poll() is None, log.read_text()
            return bool(hit)

        wait_until(listening, "serve to listen", 300)
        yield proc, log, found[0]
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Viewer:
    """One wall page's event stream, read on a thread of its own; calls `on_event` per event."""

    def __init__(self, url: str, on_event: object = None) -> None:
        self.url = url
        self.events = 0
        self.on_event = on_event
        self.opened = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=None)) as client,
            client.stream("GET", self.url) as answer,
        ):
            self.opened.set()
            data = b""
            for line in answer.iter_lines():
                if self._stop:
                    return
                if line.startswith("data: "):
                    data = line[6:].encode()
                elif not line and data:
                    self.events += 1
                    if callable(self.on_event):
                        self.on_event(orjson.loads(data))
                    data = b""

    def close(self) -> None:
        self._stop = True


def _window(sim: SimServer, pid: int, interval: float, passes: int) -> float:
    """serve's CPU, % of a core, over `passes` whole passes (end of one to end of another)."""
    wait_quiet(sim.stats)
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    for _ in range(passes):
        wait_busy(sim.stats, interval * 3)
        wait_quiet(sim.stats)
    return (_cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100


def viewers_20(n: int = 10_000, pages: int = 20, interval: float = 5.0) -> dict[str, float]:
    """web_viewers_20_cpu_pct: serve --http's extra CPU with 20 live pages on the steady
    10,000-post workload (4% never final), A B A B, six passes each."""
    posts = synthetic_posts(n)
    path = write_watchlist(posts, interval=interval)
    alone: list[float] = []
    watched: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-web-") as tmp, final_sim(posts) as sim:
            state = Path(tmp)
            env = team_env(state, sim, key=True)
            with http_serving(path, str(state / "t.sqlite3"), env, state, interval) as (
                proc,
                log,
                url,
            ):
                wait_until(lambda: b"pass 1:" in log.read_bytes(), "serve's first pass", 300)
                _window(sim, proc.pid, interval, 2)  # warm-up
                for _ in range(2):
                    alone.append(_window(sim, proc.pid, interval, 6))
                    views = [Viewer(f"{url}/events") for _ in range(pages)]
                    try:
                        for view in views:
                            view.opened.wait(30)
                        wait_until(lambda vs=views: all(v.events for v in vs), "every snapshot", 60)
                        watched.append(_window(sim, proc.pid, interval, 6))
                    finally:
                        for view in views:
                            view.close()
                assert proc.poll() is None, log.read_text()
    finally:
        path.unlink()
    return {
        "web_viewers_20_cpu_pct": statistics.median(watched) - statistics.median(alone),
        "web_serve_alone_cpu_pct": statistics.median(alone),
    }


CYCLE = (State.PROCESSING, State.FAILED, State.QUEUED)


def change_to_page(n: int = 10_000, samples: int = 40) -> dict[str, float]:
    """change_to_page_p95_ms: from the start of a poller's write of a changed post to the
    store (`store.record`, as serve writes a pass) until a wall page's event stream has the
    post in its new state. serve --http stands by (the writer holds the lease) and follows
    the store; the page lists that post (a filter on its publish ID)."""
    import random

    posts = synthetic_posts(n)
    target = posts[n // 2]
    path = write_watchlist(posts)
    delays: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-web-") as tmp:
            state = Path(tmp)
            store = str(state / "t.sqlite3")
            base_url = "http://127.0.0.1:9"  # never asked: serve stands by
            scope = scope_for(base_url)
            writer = open_store(store)
            try:
                seed_store(writer, scope, posts, target)
                env = {
                    "XDG_STATE_HOME": str(state),
                    "WAHDX_BASE_URL": base_url,
                    "WAHDX_API_KEY": KEY,
                }
                with http_serving(path, store, env, state, 15.0) as (proc, log, url):
                    seen: dict[str, float] = {}
                    lock = threading.Condition()

                    def on_event(data: dict[str, object]) -> None:
                        rows = data.get("upsert") or data.get("rows") or []
                        for row in rows:  # type: ignore[attr-defined]
                            if row["publish"] == target.publish_id:
                                with lock:
                                    seen.setdefault(row["state"], time.perf_counter())
                                    lock.notify_all()

                    query = f"?state=all&q={target.publish_id}"
                    view = Viewer(f"{url}/events{query}", on_event)
                    try:
                        with lock:
                            lock.wait_for(lambda: State.QUEUED.value in seen, 120)
                        rng = random.Random(13)
                        old = State.QUEUED
                        for i in range(samples):
                            time.sleep(rng.uniform(0.1, 0.6))  # off the follow loop's beat
                            new = CYCLE[i % len(CYCLE)]
                            with lock:
                                seen.clear()
                            at = time.time()
                            started = time.perf_counter()
                            writer.record(
                                scope,
                                [_status(target, new, at)],
                                [Transition(target.key, old, new, at)],
                            )
                            with lock:
                                assert lock.wait_for(lambda s=new: s.value in seen, 30), (
                                    "never seen"
                                )
                                delays.append((seen[new.value] - started) * 1000)
                            old = new
                    finally:
                        view.close()
                    assert proc.poll() is None, log.read_text()
            finally:
                writer.close()
    finally:
        path.unlink()
    return {
        "change_to_page_p95_ms": p95(delays),
        "change_to_page_p50_ms": statistics.median(delays),
    }


def ingest_10k(n: int = 10_000, per_request: int = 1_000) -> dict[str, float]:
    """ingest_10k_s: POST /api/v1/watch of 10,000 posts in requests of 1,000, until every
    one is on the team's watchlist in the store (each answer comes once it is written)."""
    small = synthetic_posts(25)
    path = write_watchlist(small)
    new = [
        WatchedPost(f"acc_ingest_{i % 40:02d}", f"in_{i:06d}", "video", f"Post {i}")
        for i in range(n)
    ]
    bodies = [
        orjson.dumps(
            {
                "checks": [
                    {
                        "accountId": p.account_id,
                        "publishId": p.publish_id,
                        "mediaType": "video",
                        "label": p.label,
                    }
                    for p in new[i : i + per_request]
                ]
            }
        )
        for i in range(0, n, per_request)
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-web-") as tmp, final_sim(small) as sim:
            state = Path(tmp)
            store = str(state / "t.sqlite3")
            env = team_env(state, sim, key=True)
            with http_serving(path, store, env, state, 5.0) as (proc, log, url):
                wait_until(lambda: b"pass 1:" in log.read_bytes(), "serve's first pass", 120)
                headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
                with httpx.Client(timeout=60) as client:
                    started = time.perf_counter()
                    added = 0
                    for body in bodies:
                        answer = client.post(f"{url}/api/v1/watch", content=body, headers=headers)
                        answer.raise_for_status()
                        added += answer.json()["added"]
                    took = time.perf_counter() - started
                assert added == n, added
                with open_store(store, readonly=True) as check:
                    listed = {p.key for p in check.listed_posts(scope_for(sim.base_url))}
                assert all(p.key in listed for p in new)
                assert proc.poll() is None, log.read_text()
    finally:
        path.unlink()
    return {"ingest_10k_s": took}


def serve_steady_100k(passes: int = 4, interval: float = 15.0) -> dict[str, float]:
    """serve_http_steady_cpu_100k_pct: serve --http itself on the 100,000-post steady workload
    (scale.final_mix: 60% final, the rest never), no page open, four passes of 15 s; beside
    serve_steady_cpu_100k_pct (team.py: the same workload, without --http, a board attached)."""
    posts = final_mix(100_000)
    path = write_watchlist(posts, interval=interval)
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-web-") as tmp, final_sim(posts) as sim:
            state = Path(tmp)
            env = team_env(state, sim, key=True)
            with http_serving(path, str(state / "t.sqlite3"), env, state, interval) as (
                proc,
                log,
                _,
            ):
                wait_until(lambda: b"pass 1:" in log.read_bytes(), "serve's first pass", 600)
                _window(sim, proc.pid, interval, 2)  # warm-up: the first passes ask everything
                cpu = _window(sim, proc.pid, interval, passes)
                assert proc.poll() is None, log.read_text()
    finally:
        path.unlink()
    return {"serve_http_steady_cpu_100k_pct": cpu}


def run() -> dict[str, float]:
    """Every web metric, one after the other."""
    return {**viewers_20(), **change_to_page(), **ingest_10k(), **serve_steady_100k()}


if __name__ == "__main__":
    import sys

    names = sys.argv[1:] or ["viewers_20", "change_to_page", "ingest_10k", "serve_steady_100k"]
    for name in names:
        for metric, value in globals()[name]().items():
            print(f"{metric}: {value:.3f}")
