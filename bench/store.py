"""Store metrics: one pass of 10,000 changed posts written, how soon another connection hears of
a write, and (run()) both and a board's change-to-screen on a throwaway PostgreSQL server."""

from __future__ import annotations

import statistics
import threading
import time

from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.backend import open_store

from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.store.protocol import Store

SCOPE = "https://api.wahdx.com"
STATES = (State.QUEUED, State.PROCESSING, State.FAILED, State.PUBLISHED)


def _pass(n: int, k: int) -> tuple[list[PostStatus], list[Transition]]:
    """Every one of n posts changes state (pass k of a run)."""
    old, new = STATES[k % 4], STATES[(k + 1) % 4]
    at = 1_700_000_000.0 + k
    changed = [
        PostStatus(
            (f"acc_{i % 40:02d}", f"pub_{i:06d}"),
            new,
            new.value.upper(),
            None,
            "boom" if new is State.FAILED else None,
            at,
            {"publishId": f"pub_{i:06d}", "status": new.value.upper(), "attempt": k},
        )
        for i in range(n)
    ]
    return changed, [Transition(c.key, old, new, at) for c in changed]


def write_10k_changes_ms(store: Store, repeats: int = 5, n: int = 10_000) -> float:
    """Median milliseconds to record one pass in which n posts changed (after a first pass)."""
    store.record(SCOPE, *_pass(n, 0))
    times = []
    for k in range(1, repeats + 1):
        changed, transitions = _pass(n, k)
        t = time.perf_counter()
        store.record(SCOPE, changed, transitions)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def notice_change_p95_ms(writer: Store, board: Store, samples: int = 40) -> float:
    """p95 milliseconds from a committed write until another connection's wait_for_change()."""
    board.wait_for_change(0)  # the first call says True at once
    delays: list[float] = []
    for i in range(samples):
        heard = threading.Event()

        def listen(done: threading.Event) -> None:
            if board.wait_for_change(10.0):
                done.set()

        thread = threading.Thread(target=listen, args=(heard,))
        thread.start()
        time.sleep(0.05)  # let the board settle into its wait, as an idle board is
        t = time.perf_counter()
        writer.set_ack(SCOPE, ("acc_00", "pub_000000"), f"note {i}", float(i))
        heard.wait(10.0)
        delays.append((time.perf_counter() - t) * 1000)
        thread.join(10.0)
    return statistics.quantiles(delays, n=20)[-1]


PG_METRICS = (
    "pg_write_10k_changes_ms",
    "pg_notice_change_p95_ms",
    "pg_change_to_screen_p95_ms",
    "pg_change_to_screen_p50_ms",
)
PG_HINT = "PostgreSQL is not installed: apt-get install postgresql (Debian), then make bench"


def run(samples: int = 60) -> dict[str, float]:
    """pg_write_10k_changes_ms, pg_notice_change_p95_ms and pg_change_to_screen_p95_ms on a
    throwaway durable server (fsync on), each on its own new database; Skipped without one."""
    import asyncio

    from bench.common import Skipped
    from bench.team import change_to_screen_ms, p95
    from tests.support.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise Skipped(PG_HINT, PG_METRICS)
    server = PgServer(bindir, durable=True)
    try:
        server.start()
        url = server.url(server.create_database())
        with open_store(url) as writer, open_store(url) as board:
            out = {
                "pg_write_10k_changes_ms": write_10k_changes_ms(writer),
                "pg_notice_change_p95_ms": notice_change_p95_ms(writer, board),
            }
        delays = asyncio.run(
            change_to_screen_ms(server.url(server.create_database()), samples=samples)
        )
        out["pg_change_to_screen_p95_ms"] = p95(delays)
        out["pg_change_to_screen_p50_ms"] = statistics.median(delays)
        return out
    finally:
        server.remove()


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value:.1f}")
