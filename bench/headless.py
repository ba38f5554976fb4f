"""Board metrics in a headless app: applying a 1% refresh (vs a DataTable rebuild), scrolling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from bench.common import median, synthetic_posts
from wahdx_tui.core.api.client import ClientOptions, PassResult
from wahdx_tui.core.api.normalise import LastAnswer
from wahdx_tui.core.domain.display import detail_text, state_label
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.engine.poller import PollReport
from wahdx_tui.core.watchlist.reader import Watchlist, WatchlistSettings
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.messages import PassDone

SIZE = (120, 36)


class FrameClock:
    """Adds up the time the screen spends laying out, rendering and writing frames."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.spent = 0.0
        self._patched: set[int] = set()

    def watch(self) -> None:
        """Wrap the current screen's frame update (once per screen)."""
        screen = self.app.screen
        if id(screen) in self._patched:
            return
        self._patched.add(id(screen))
        original = screen._on_timer_update

        def timed_update() -> None:
            t = time.perf_counter()
            original()
            self.spent += time.perf_counter() - t

        screen._on_timer_update = timed_update  # type: ignore[method-assign]
        screen._update_timer._callback = timed_update


async def settle(pilot: object, clock: FrameClock) -> float:
    """Let pending messages and the next frame happen; return the frame time it took (ms)."""
    clock.watch()
    before = clock.spent
    await pilot.pause()  # type: ignore[attr-defined]
    return (clock.spent - before) * 1000


class _CannedClient:
    """Answers every pass with the statuses it was given (the benchmark drives the refreshes)."""

    def __init__(self, statuses: list[PostStatus]) -> None:
        self.statuses = statuses
        self.options = ClientOptions()

    async def check_posts(
        self, posts: Sequence[WatchedPost], last: LastAnswer | None = None
    ) -> PassResult:
        return PassResult(statuses=list(self.statuses))

    async def aclose(self) -> None:
        return None


def _statuses(posts: list[WatchedPost], changed_every: int, flip: int) -> list[PostStatus]:
    now = time.time()
    out = []
    for i, p in enumerate(posts):
        state = State.PROCESSING
        if changed_every and i % changed_every == 0:
            state = State.FAILED if flip % 2 else State.PUBLISHED
        error = "media download failed" if state is State.FAILED else None
        out.append(PostStatus(p.key, state, state.value, None, error, now))
    return out


def _report(statuses: list[PostStatus]) -> PollReport:
    now = time.time()
    return PollReport(PassResult(statuses), len(statuses), 0, now, now, 1)


def _app(posts: list[WatchedPost], first: list[PostStatus]) -> BoardApp:
    watchlist = Watchlist("<bench>", tuple(posts), WatchlistSettings(), ())
    client = _CannedClient(first)
    engine = Engine(watchlist, lambda on_event: client, interval=3600)  # type: ignore[arg-type, return-value]
    return BoardApp(engine, bell=False)


async def _after_first_pass(app: BoardApp, pilot: Pilot[int]) -> FrameClock:
    """Wait for the board's first pass and its frame; then time frames from here on."""
    while app.engine.passes < 1:
        await pilot.pause(0.05)
    await pilot.pause()
    clock = FrameClock(app)
    await settle(pilot, clock)
    return clock


async def apply_and_rebuild(n: int = 10_000, repeats: int = 7) -> dict[str, float]:
    """apply_1pct_10k_ms on the board, beside rebuild_10k_ms on a cleared-and-refilled DataTable."""
    posts = synthetic_posts(n)
    first = _statuses(posts, 0, 0)
    app = _app(posts, first)
    times = []
    async with app.run_test(size=SIZE) as pilot:
        clock = await _after_first_pass(app, pilot)
        for rep in range(repeats):
            report = _report(_statuses(posts, 100, rep + 1))
            # The diff runs in the poll worker between frames; only the change reaches the UI.
            engine = app.engine
            changed = await engine.absorb_unchanged(
                report.result.statuses, [], report.finished, report.started
            )
            t = time.perf_counter()
            outcome = engine.apply_pass(engine.freshness.pass_started(), report, changed, [])
            app.on_pass_done(PassDone(outcome))
            handler = (time.perf_counter() - t) * 1000
            times.append(handler + await settle(pilot, clock))
    rebuild = await _rebuild_baseline(posts, max(2, repeats // 3))
    return {"apply_1pct_10k_ms": median(times), "rebuild_10k_ms": rebuild}


async def apply_changes(n: int, changed: int = 100, repeats: int = 9) -> float:
    """UI time (handler and next frame, ms) to apply a pass in which `changed` of n posts
    changed state, the diff done in the poll worker as in apply_1pct_10k_ms."""
    posts = synthetic_posts(n)
    app = _app(posts, _statuses(posts, 0, 0))
    times = []
    async with app.run_test(size=SIZE) as pilot:
        clock = await _after_first_pass(app, pilot)
        engine = app.engine
        for rep in range(repeats):
            report = _report(_statuses(posts, n // changed, rep + 1))
            diff = await engine.absorb_unchanged(
                report.result.statuses, [], report.finished, report.started
            )
            assert len(diff) == changed
            t = time.perf_counter()
            outcome = engine.apply_pass(engine.freshness.pass_started(), report, diff, [])
            app.on_pass_done(PassDone(outcome))
            handler = (time.perf_counter() - t) * 1000
            times.append(handler + await settle(pilot, clock))
    return median(times)


def apply_growth() -> dict[str, float]:
    """apply_100_changes on 10,000 and 100,000 posts, and their ratio."""
    small = asyncio.run(apply_changes(10_000))
    big = asyncio.run(apply_changes(100_000))
    return {
        "apply_100_10k_ms": small,
        "apply_100_100k_ms": big,
        "apply_100_changes_ratio": big / small,
    }


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def _rebuild_baseline(posts: list[WatchedPost], repeats: int) -> float:
    app = _TableApp()
    times = []
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("State", "Label", "Account", "Publish ID", "Media", "Detail")
        clock = FrameClock(app)
        await settle(pilot, clock)
        for rep in range(repeats):
            statuses = _statuses(posts, 100, rep + 1)
            rows = [
                (
                    state_label(s.state),
                    p.label,
                    p.account_id,
                    p.publish_id,
                    p.media_type or "",
                    detail_text(s),
                )
                for p, s in zip(posts, statuses, strict=True)
            ]
            t = time.perf_counter()
            table.clear()
            table.add_rows(rows)
            handler = (time.perf_counter() - t) * 1000
            times.append(handler + await settle(pilot, clock))
    return median(times)


async def scroll(n: int = 100_000, presses: int = 15) -> dict[str, float]:
    """scroll_100k_ms: page-down to the next frame on a 100,000-post board."""
    posts = synthetic_posts(n)
    app = _app(posts, _statuses(posts, 7, 1))
    times = []
    async with app.run_test(size=SIZE) as pilot:
        clock = await _after_first_pass(app, pilot)
        table = app.table
        for _ in range(presses):
            t = time.perf_counter()
            table.action_page_down()
            handler = (time.perf_counter() - t) * 1000
            times.append(handler + await settle(pilot, clock))
    return {"scroll_100k_ms": median(times)}


def run() -> dict[str, float]:
    """Every headless metric."""
    out = asyncio.run(apply_and_rebuild())
    out.update(asyncio.run(scroll()))
    return out
