"""The team's watchlist: `add --from` of 10,000 posts (SQLite and PostgreSQL), a post added until
an attached board draws it, and the API requests per pass that retirement saves."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textual.strip import Strip

from bench.common import BIN, Skipped, clean_env, synthetic_posts
from bench.team import KEY, SIZE, p95, team_env, wait_until
from wahdx_tui.cli import TEAM_LIST, client_options
from wahdx_tui.core.domain.display import state_label
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.settings.table import DEFAULTS
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import Origin, Store, scope_for
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.team.setup import team_engine
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.sim.schedule import timeline_for
from wahdx_tui.ui.app import BoardApp

SEED = 7
DAY = 86400.0
PG_HINT = "PostgreSQL is not installed: apt-get install postgresql (Debian), then make bench"


def _csv(posts: list[WatchedPost]) -> Path:
    """The posts as a CSV file with a header row, as a backend would hand them over."""
    fd, name = tempfile.mkstemp(prefix="wahdx-bench-add-", suffix=".csv")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write("accountId,publishId,mediaType,label\n")
        for p in posts:
            fh.write(f"{p.account_id},{p.publish_id},{p.media_type},{p.label}\n")
    return Path(name)


def _add_s(url: str, csv: Path, env: dict[str, str]) -> float:
    """Seconds `wahdx-tui add --from CSV` takes, process start to exit, into an empty store."""
    argv = [str(BIN / "wahdx-tui"), "add", "--from", str(csv), "--store", url]
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - t
    if done.returncode != 0 or not done.stdout.startswith("10,000 added"):
        raise RuntimeError(f"bench/teamlist: add failed: {done.stdout}{done.stderr}")
    return took


def add_10k(n: int = 10_000) -> dict[str, float]:
    """add_10k_s: `wahdx-tui add --from` a CSV of 10,000 posts, as a real process (its start
    included), into a new SQLite file and a new database on a throwaway durable PostgreSQL
    server; the slower of the two, each beside it."""
    from tests.support.pgserver import PgServer, find_bindir

    csv = _csv(synthetic_posts(n))
    env = {**clean_env(), "WAHDX_BASE_URL": "http://127.0.0.1:9"}
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-add-") as tmp:
            sqlite = _add_s(str(Path(tmp) / "team.sqlite3"), csv, env)
        bindir = find_bindir()
        if bindir is None:
            raise Skipped(PG_HINT, ("add_10k_s", "add_10k_sqlite_s", "add_10k_pg_s"))
        server = PgServer(bindir, durable=True)
        try:
            server.start()
            url = server.url(server.create_database(), password=False)
            pg = _add_s(url, csv, {**env, "PGPASSWORD": server.password})
        finally:
            server.remove()
    finally:
        csv.unlink()
    return {"add_10k_s": max(sqlite, pg), "add_10k_sqlite_s": sqlite, "add_10k_pg_s": pg}


# -- add_to_screen_p95_ms ---------------------------------------------------------------------


@contextmanager
def _serving(store: str, sim: SimServer, state: Path) -> Iterator[Path]:
    """`wahdx-tui serve` without a file (the team's watchlist) on `store`, at its usual pace."""
    log = state / "serve.log"
    argv = [str(BIN / "wahdx-tui"), "serve", "--store", store, "--interval", "15"]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            argv,
            env={**clean_env(), **team_env(state, sim, key=True)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield log
    finally:
        proc.terminate()
        proc.wait(15)


async def _add_to_screen_ms(
    store: str, sim: SimServer, listed: list[WatchedPost], new: list[WatchedPost]
) -> list[float]:
    """From the start of `add`'s write (`add_watched` on its own connection, from a thread,
    as the command calls it) until the attached board's table has drawn the new post's line
    with its first state from the poller."""
    scope = scope_for(sim.base_url)
    engine = team_engine(
        TEAM_LIST,
        base_url=sim.base_url,
        api_key=None,
        settings=DEFAULTS,
        options=client_options(DEFAULTS),
        fixed_settings=frozenset(),
        store=open_store(store),
        can_poll=False,
    )
    app = BoardApp(engine, bell=False)
    delays: list[float] = []
    adder = open_store(store)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.board.set_sort("label")  # the new posts' labels sort first: on the top line
            deadline = time.monotonic() + 300
            while not (
                engine.via.startswith("via poller on")
                and len(app.board.rows) == len(listed)
                and app.board.counts()[State.UNKNOWN] == 0
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError("bench/teamlist: the board never showed the list")
                await pilot.pause(0.05)
            app.table.reconcile(full=True)
            await pilot.pause(0.5)
            table, drawn = app.table, asyncio.Event()
            wanted: list[str] = []
            seen_at: list[float] = []
            original = table.render_line
            unknown = state_label(State.UNKNOWN)

            def render_line(y: int) -> Strip:
                strip = original(y)
                text = strip.text
                if wanted and not drawn.is_set() and wanted[0] in text and unknown not in text:
                    seen_at.append(time.perf_counter())
                    drawn.set()
                return strip

            table.render_line = render_line  # type: ignore[method-assign]
            rng = random.Random(17)
            for post in new:
                await asyncio.sleep(rng.uniform(0.1, 0.6))  # off the follow loop's beat
                drawn.clear()
                seen_at.clear()
                wanted[:] = [post.publish_id]

                def add(post: WatchedPost = post) -> float:
                    t = time.perf_counter()
                    adder.add_watched(scope, [post], Origin("add", "bench"))
                    return t

                started = await asyncio.to_thread(add)
                await asyncio.wait_for(drawn.wait(), 30)
                delays.append((seen_at[0] - started) * 1000)
    finally:
        adder.close()
    return delays


def add_to_screen(n: int = 1_000, samples: int = 40) -> dict[str, float]:
    """add_to_screen_p95_ms: `serve` (a real process, no file, 15 s interval) polls a list of
    1,000 posts on SQLite; a post added with `add` until a keyless board attached to it (in
    this process) has drawn the post with its first state. 40 adds, each of a new post."""
    listed = synthetic_posts(n)
    # Each new post's label sorts before the last one's: it is drawn on the top line.
    new = [
        WatchedPost("acc_tiktok_00", f"new_{i:03d}", "video", f"!new post {samples - i:03d}")
        for i in range(samples)
    ]
    sim = SimServer(SimConfig(posts=[*listed, *new], seed=SEED, api_key=KEY)).start()
    sim.advance(10**6)  # every post in its last state
    try:
        with tempfile.TemporaryDirectory(prefix="wahdx-bench-add-") as tmp:
            state = Path(tmp)
            store = str(state / "team.sqlite3")
            with open_store(store) as seed:
                seed.add_watched(scope_for(sim.base_url), listed, Origin("add", "bench"))
            with _serving(store, sim, state) as log:
                wait_until(lambda: "started:" in log.read_text(), "serve's start", 120)
                delays = asyncio.run(_add_to_screen_ms(store, sim, listed, new))
    finally:
        sim.stop()
    return {
        "add_to_screen_p95_ms": p95(delays),
        "add_to_screen_p50_ms": statistics.median(delays),
    }


# -- retired_requests_ratio --------------------------------------------------------------------


def published_posts(n: int) -> list[WatchedPost]:
    """n posts the simulator (seed 7) publishes."""
    out: list[WatchedPost] = []
    i = 0
    while len(out) < n:
        post = WatchedPost(f"acc_old_{i % 40:02d}", f"old_{i:07d}", "video", f"Old post {i}")
        if timeline_for(SEED, post.key, post.media_type).outcome is State.PUBLISHED:
            out.append(post)
        i += 1
    return out


def _seed_old(store: Store, scope: str, posts: list[WatchedPost], now: float) -> None:
    """The store as a poller left it: these posts published two days ago."""
    at = now - 2 * DAY
    done = [PostStatus(p.key, State.PUBLISHED, "PUBLISHED", None, None, at, None) for p in posts]
    for i in range(0, len(done), 20_000):
        chunk = done[i : i + 20_000]
        store.record(scope, chunk, [Transition(s.key, None, State.PUBLISHED, at) for s in chunk])


async def _requests_per_pass(store: str, sim: SimServer, retire: bool, passes: int) -> float:
    """A keyed team engine holding the lease (as `serve` runs it) on the list; after its
    first pass (which asks for everything) and the retirement it brings, the simulator's
    requests per pass over `passes` passes."""
    settings = DEFAULTS if retire else dataclasses.replace(DEFAULTS, retire_published_after=0.0)
    engine: TeamEngine = team_engine(
        TEAM_LIST,
        base_url=sim.base_url,
        api_key=KEY,
        settings=settings,
        options=client_options(settings),
        fixed_settings=frozenset(),
        store=open_store(store),
        can_poll=True,
    )
    try:
        await engine.join()
        await engine.restore()
        await engine.run_pass()
        await engine.history.call(lambda: None)  # its writes are in
        for _ in range(3):  # the retirement comes back through the change feed
            await engine.follow()
        before = sim.stats.requests
        for _ in range(passes):
            await engine.run_pass()
        return (sim.stats.requests - before) / passes
    finally:
        await engine.aclose()


def retired_requests(n: int = 100_000, passes: int = 20) -> dict[str, float]:
    """retired_requests_ratio: API requests per pass for 100,000 posts on the team's list, of
    which 90% were published two days ago (the rest take the simulator's usual course: 4% never
    finish), with retirement (the default 24h) / without; 20 passes after the first of each.
    final_every is the default 10, batch_size 50."""
    old = published_posts(n * 9 // 10)
    recent = [
        WatchedPost(f"acc_new_{i % 40:02d}", f"new_{i:07d}", "video", f"New post {i}")
        for i in range(n - len(old))
    ]
    sim = SimServer(SimConfig(posts=[*old, *recent], seed=SEED, api_key=KEY)).start()
    sim.advance(10**6)
    out: dict[str, float] = {}
    try:
        for retire in (False, True):
            with tempfile.TemporaryDirectory(prefix="wahdx-bench-retire-") as tmp:
                store = str(Path(tmp) / "team.sqlite3")
                scope = scope_for(sim.base_url)
                with open_store(store) as seed:
                    # Listed two days ago too: a post retires once listed (or brought back)
                    # longer ago than retire_published_after, not only published.
                    now = time.time()
                    seed.add_watched(scope, [*old, *recent], Origin("add", "bench"), now - 2 * DAY)
                    _seed_old(seed, scope, old, now)
                name = "with" if retire else "without"
                out[f"requests_per_pass_{name}_retirement"] = asyncio.run(
                    _requests_per_pass(store, sim, retire, passes)
                )
    finally:
        sim.stop()
    with_, without = (
        out["requests_per_pass_with_retirement"],
        out["requests_per_pass_without_retirement"],
    )
    return {"retired_requests_ratio": with_ / without, **out}


def run() -> dict[str, float]:
    """Every metric of the team's watchlist."""
    return {**add_10k(), **add_to_screen(), **retired_requests()}


if __name__ == "__main__":
    import sys

    chosen = {"add": add_10k, "screen": add_to_screen, "retire": retired_requests}
    for arg in sys.argv[1:] or list(chosen):
        for name, value in chosen[arg]().items():
            print(f"{name}: {value:.3f}")
