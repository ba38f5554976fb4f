"""Shared test factories: the simulator and its clock, clients on loopback, a board, `until`.

Everything here talks to the real simulator (`wahdx_tui.sim.SimServer`) over HTTP on
127.0.0.1. Its clock is a `FakeClock` that moves only when a test says so (`sim.advance`),
so with seed 7 every post's state is fixed by how far the test advanced it. Nothing waits by
sleeping for a fixed time: `until` polls a condition in short steps, a bounded number of
times, and fails the test saying what never happened.

No test reads or writes the operator's own UI settings (`own_config_home`, autouse).

Helpers are imported by name (`from conftest import running_board, until`); fixtures are
used as usual. The pilot tests opt in to `quick_pilot` with
`pytestmark = pytest.mark.usefixtures("quick_pilot")`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pytest
import textual._wait
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static

from tests.support.alerts_receiver import Receiver
from wahdx_tui.core.api.client import (
    ClientEvent,
    ClientFactory,
    ClientOptions,
    PassResult,
    WahdxClient,
    client_factory,
)
from wahdx_tui.core.api.normalise import LastAnswer
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist, sample_watchlist_path
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.widgets.summary import SummaryLine
from wahdx_tui.ui.widgets.table import BoardTable, TableHeader

SEED = 7
# Retries quick enough for tests: a failing request gives up after two tries, 10 ms apart.
QUICK = ClientOptions(backoff_base=0.01, max_attempts=2)


class SimOptions(TypedDict, total=False):
    """`start_sim`'s keyword arguments."""

    advance: float
    clock: Callable[[], float] | None
    seed: int
    faults: Faults | None


class EngineOptions(TypedDict, total=False):
    """Engine's keyword arguments, as the factories here pass them on."""

    interval: float
    final_every: int
    history: StoreWriter | None
    clock: Callable[[], float]
    fixed_settings: frozenset[str]
    watch_file: bool


# The sample watchlist, seed 7, sim time 0: 15 queued, 7 processing, 3 published, nothing
# failed. At sim time 40 "Doorbuster unboxing" (v_pub_7315) has failed; at 70 "Gift guide
# under $25" (v_pub_8812) too.
DOORBUSTER: PostKey = ("acc_tiktok_main", "v_pub_7315")


# -- clocks and waiting ----------------------------------------------------------------------------


FIXED_NOW = 1_732_800_000.0  # 2024-11-28 13:20:00 UTC


@pytest.fixture
def pinned_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin every wall-clock time the board can show (`time.time`, `time.strftime` without a
    time tuple) at FIXED_NOW, in UTC: a picture of the board is then the same on any day."""
    real_strftime, real_localtime = time.strftime, time.localtime

    def strftime(fmt: str, t: time.struct_time | None = None) -> str:
        return real_strftime(fmt, real_localtime(FIXED_NOW) if t is None else t)

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(time, "time", lambda: FIXED_NOW)
    monkeypatch.setattr(time, "strftime", strftime)
    yield
    monkeypatch.undo()
    time.tzset()


class FakeClock:
    """A clock that moves only when a test says so (set `now`, or let the simulator's
    `advance` move sim time on top of it)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def until(
    cond: Callable[[], object],
    what: str,
    *,
    pilot: Pilot[int] | None = None,
    tries: int = 1000,
    step: float = 0.01,
) -> None:
    """Wait in short steps (pilot pauses when a board runs) until cond() holds; fail the
    test saying `what` never happened after `tries` steps.

    With a pilot, once cond() holds the board first handles the messages already queued: a
    pass ends in the engine (`passes`, `polling`) in the same step as its outcome is posted
    to the app, so what the board draws from that outcome is on screen when this returns.
    """
    for _ in range(tries):
        if cond():
            break
        if pilot is not None:
            await pilot.pause(step)
        else:
            await asyncio.sleep(step)
    else:
        if not cond():
            pytest.fail(f"timed out waiting for: {what}")
    if pilot is not None and pilot.app.is_running:
        await pilot.pause(0)  # the app's queue, and the screen's, handled up to here


@pytest.fixture
def quick_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pilot's idle check sample every 5 ms instead of 20 ms.

    Each press and pause ends with Textual's `wait_for_idle`, which sleeps in steps of this
    granularity; at the default every key costs ~70 ms. Effects of keys are still awaited
    through the pilot's message-queue wait, and everything asynchronous through `until`.
    """
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005)


@contextmanager
def kept_loggers(*names: str) -> Iterator[None]:
    """Put back the named loggers' level, handlers and propagation as they were (closing any
    handler added meanwhile): for tests that configure logging as the CLI does."""
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, level, handlers, propagate in saved:
            for handler in lg.handlers:
                if handler not in handlers:
                    handler.close()
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 for alerts (tests/alerts_receiver.py), closed after."""
    server = Receiver()
    yield server
    server.close()


# -- the simulator and clients on it ---------------------------------------------------------------


def sample_watchlist() -> Watchlist:
    """The sample watchlist bundled with the package (25 posts on four platforms)."""
    return load_watchlist(sample_watchlist_path())


def start_sim(
    posts: Sequence[WatchedPost] | None,
    *,
    advance: float = 0.0,
    clock: Callable[[], float] | None = None,
    seed: int = SEED,
    faults: Faults | None = None,
) -> SimServer:
    """A running simulator knowing `posts` (None: any post), `advance` sim seconds in, on a
    clock that never moves by itself. The caller stops it (or uses the `sims` fixture)."""
    config = SimConfig(
        posts=posts, seed=seed, clock=clock or FakeClock(), faults=faults or Faults()
    )
    sim = SimServer(config).start()
    sim.advance(advance)
    return sim


@contextmanager
def running_demo(posts: Sequence[WatchedPost] | None = None) -> Iterator[SimServer]:
    """The simulator playing the demo scenario (`wahdx-tui demo`'s morning) for `posts`
    (default: the sample watchlist's), on a clock that never moves; stopped at the end."""
    chosen = posts if posts is not None else sample_watchlist().posts
    with SimServer(SimConfig(posts=chosen, scenario="demo", clock=FakeClock())) as sim:
        yield sim


@pytest.fixture
def sims() -> Iterator[Callable[..., SimServer]]:
    """`start_sim`, with every simulator it started stopped after the test."""
    started: list[SimServer] = []

    def start(posts: Sequence[WatchedPost] | None, **options: Unpack[SimOptions]) -> SimServer:
        sim = start_sim(posts, **options)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def sim_clients(sim: SimServer, options: ClientOptions = QUICK) -> ClientFactory:
    """Real clients on the simulator (what `cli` gives an engine, but with quick retries)."""
    return client_factory(sim.base_url, sim.api_key, options)


class Gate:
    """A point a request stops at until the test opens it; `reached` says one got there."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    def open(self) -> None:
        """Let every request waiting here (and any later one) through."""
        self._open.set()

    async def wait(self) -> None:
        self.reached.set()
        await self._open.wait()


class HeldClient(WahdxClient):
    """A real client on the simulator whose requests can be held_client, as on a slow network.

    `before_pass`: a pass waits there before it asks. `after_pass` / `after_recheck`: the
    request is answered by the simulator, then the (by then old) answer waits there before
    it is delivered. A gate left None does nothing.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        options: ClientOptions = QUICK,
        *,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> None:
        super().__init__(base_url, api_key, options, on_event=on_event)
        self.before_pass: Gate | None = None
        self.after_pass: Gate | None = None
        self.after_recheck: Gate | None = None

    async def check_posts(
        self, posts: Sequence[WatchedPost], last: LastAnswer | None = None
    ) -> PassResult:
        if self.before_pass is not None:
            await self.before_pass.wait()
        result = await super().check_posts(posts, last)
        if self.after_pass is not None:
            await self.after_pass.wait()
        return result

    async def check_one(self, post: WatchedPost) -> PostStatus:
        status = await super().check_one(post)
        if self.after_recheck is not None:
            await self.after_recheck.wait()
        return status


def held_clients(sim: SimServer, options: ClientOptions = QUICK) -> ClientFactory:
    """Like `sim_clients`, but each client is a `HeldClient`."""

    def make(on_event: Callable[[ClientEvent], None]) -> WahdxClient:
        return HeldClient(sim.base_url, sim.api_key, options, on_event=on_event)

    return make


def held_client(engine: Engine) -> HeldClient:
    """The engine's client, started, as the `HeldClient` it was given."""
    engine.start()
    client = engine.client
    assert isinstance(client, HeldClient)
    return client


# -- an engine on the simulator --------------------------------------------------------------------


@asynccontextmanager
async def engine_on_sim(
    watchlist: Watchlist | None = None,
    *,
    sim_posts: Sequence[WatchedPost] | None = None,
    advance: float = 0.0,
    faults: Faults | None = None,
    options: ClientOptions = QUICK,
    held: bool = False,
    **engine: Unpack[EngineOptions],
) -> AsyncIterator[tuple[Engine, SimServer]]:
    """An engine on the sample watchlist (or `watchlist`) against a fresh simulator knowing
    its posts (or `sim_posts`), with no screen; closed, and the simulator stopped, at the end.

    `engine` holds Engine's keyword arguments (interval, history, clock, watch_file, ...).
    With `held` the engine's client is a `HeldClient` (`held_client` gets it).
    """
    wl = watchlist or sample_watchlist()
    sim = start_sim(
        sim_posts if sim_posts is not None else wl.posts, advance=advance, faults=faults
    )
    clients = (held_clients if held else sim_clients)(sim, options)
    made = Engine(wl, clients, **engine)
    try:
        yield made, sim
    finally:
        try:
            await made.aclose()
        finally:
            sim.stop()


# -- files -----------------------------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    """Write the file and make sure its stamp (mtime, size) changes."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 1_000_000_000, old + 1_000_000_000))


def entry(account: str, publish: str, label: str) -> str:
    """One post of a watchlist file, as a flow mapping line."""
    return f"  - {{accountId: {account}, publishId: {publish}, label: {label}}}\n"


def watchlist_text(entries: Sequence[tuple[str, str, str]]) -> str:
    """A watchlist file of (account, publish ID, label) posts."""
    return "posts:\n" + "".join(entry(*e) for e in entries)


# Six of the sample's posts, as a small watchlist file to edit; two more to add.
ENTRIES = [
    ("acc_tiktok_main", "v_pub_7301", "Black Friday teaser"),
    ("acc_tiktok_main", "v_pub_7302", "Black Friday countdown"),
    ("acc_tiktok_main", "v_pub_7315", "Doorbuster unboxing"),
    ("acc_threads_news", "th_pub_5501", "Store hours"),
    ("acc_threads_news", "th_pub_5502", "Doors open at 7am"),
    ("acc_facebook_store", "fb_pub_9001", "Event announcement"),
]
EXTRA = [
    ("acc_instagram_brand", "ig_pub_3102", "Lookbook"),
    ("acc_facebook_store", "fb_pub_9020", "Customer reviews"),
]


# -- a board on the simulator ----------------------------------------------------------------------


def board_on(
    sim: SimServer,
    watchlist: Watchlist,
    *,
    clients: ClientFactory | None = None,
    bell: bool = True,
    export_dir: Path | None = None,
    **engine: Unpack[EngineOptions],
) -> BoardApp:
    """The board app on `watchlist` against `sim`, its engine built as `cli` builds it
    (`engine` holds Engine's keyword arguments: interval, history, clock, ...)."""
    made = Engine(watchlist, clients or sim_clients(sim), **engine)
    return BoardApp(made, bell=bell, export_dir=export_dir)


def demo_board(sim: SimServer) -> BoardApp:
    """The board on the sample watchlist against `sim` (e.g. `running_demo`), without a bell;
    its 60 s interval keeps its own timer from firing during a test."""
    return board_on(sim, sample_watchlist(), interval=60, bell=False)


def toasts(app: App[Any]) -> list[tuple[str, str]]:
    """(title, message) of each toast on screen (Textual has no public list of them)."""
    return [(n.title, n.message) for n in app._notifications]


def screen_text(board: Harness | App[Any]) -> str:
    """The whole screen as text, one line per screen row (through Textual's compositor: it
    has no public way to read the screen as text)."""
    app = board.app if isinstance(board, Harness) else board
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def rendered(widget: Widget) -> str:
    """The text a widget draws, one line per row."""
    strips = widget.render_lines(widget.region.reset_offset)
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def squeezed(text: str) -> str:
    """Text without any whitespace (to compare text that may be wrapped)."""
    return "".join(text.split())


def rechecked(screen: DetailScreen) -> bool:
    """The detail screen's re-check came back (answered or failed)."""
    return screen.recheck_note.startswith(("re-checked at", "re-check at"))


@dataclass
class Harness:
    """A running board, its simulator and its pilot."""

    app: BoardApp
    sim: SimServer
    pilot: Pilot[int]
    bells: list[int] = field(default_factory=list)

    @property
    def table(self) -> BoardTable:
        return self.app.table

    async def until(self, cond: Callable[[], object], what: str, tries: int = 1000) -> None:
        """Pause in short steps until cond() holds; fail the test if it never does."""
        await until(cond, what, pilot=self.pilot, tries=tries)

    async def next_pass(self, after: int | None = None) -> None:
        """Wait until a pass beyond `after` (default: the current count) has been applied."""
        start = self.app.engine.passes if after is None else after
        await self.until(lambda: self.app.engine.passes > start, f"pass {start + 1}")
        await self.until(lambda: not self.app.engine.polling, "the pass to end")

    async def filter_by(self, text: str) -> None:
        """Open the filter with / and put `text` in it (typing is tested on its own), then
        Enter, back to the table."""
        await self.pilot.press("slash")
        self.app.query_one("#filter", Input).value = text
        await self.pilot.press("enter")
        assert self.app.board.text_filter == text.strip().casefold()
        assert self.app.focused is self.table

    async def refresh(self) -> None:
        """Press r and wait for the pass it starts."""
        start = self.app.engine.passes
        await self.pilot.press("r")
        await self.next_pass(start)

    def line(self, name: str) -> str:
        """The counts line whole, or a piece of the status line ("view": the filters, the
        count shown and the sort), whole."""
        if name == "counts":
            return self.app.query_one("#counts", SummaryLine).plain
        status = self.app.query_one("#status", SummaryLine)
        if name == "view":
            names = ("state", "account", "reason", "text", "shown", "sort")
            return " · ".join(t for n in names if (t := status.piece(n)))
        return status.piece(name)

    def status(self) -> str:
        """The status line of the summary bar but for the view (updated, next, source,
        health), whole, as one text."""
        status = self.app.query_one("#status", SummaryLine)
        names = ("updated", "stale", "next", "source", "health", "error")
        return " · ".join(t for n in names if (t := status.piece(n)))

    def shows_interval(self, seconds: float) -> bool:
        """The interval as the operator last saw it said: the newest toast naming one."""
        said = [n for n in self.notes() if "refresh every " in n]
        return bool(said) and f"refresh every {seconds:g}s" in said[-1]

    def banner(self) -> str | None:
        banner = self.app.query_one("#banner", Static)
        return str(banner.content) if banner.display else None

    def notes(self) -> list[str]:
        return [message for _title, message in toasts(self.app)]

    def toast_titles(self) -> list[str]:
        return [title for title, _message in toasts(self.app)]

    def truth_mismatches(self) -> list[tuple[PostKey, State, State | None]]:
        out = []
        for key, row in self.app.board.rows.items():
            truth = self.sim.truth(key)
            if row.state is not truth:
                out.append((key, row.state, truth))
        return out

    def index_of_state(self, state: State) -> int:
        board = self.app.board
        for i in range(len(board)):
            if board.row_at(i).state is state:
                return i
        raise AssertionError(f"no {state} row on the board")

    async def cursor_to(self, index: int) -> Row:
        """Move the cursor as j/k do (the keys themselves are tested on their own)."""
        self.table.move_cursor(index)
        await self.pilot.pause()
        assert self.table.cursor == index
        row = self.table.selected
        assert row is not None
        return row

    def table_lines(self) -> list[str]:
        return [
            "".join(s.text for s in self.table.render_line(y))
            for y in range(self.table.size.height)
        ]


@asynccontextmanager
async def running_board(
    *,
    watchlist: Watchlist | None = None,
    sim_posts: Sequence[WatchedPost] | None = None,
    advance: float = 0.0,
    interval: float = 60.0,
    bell: bool = True,
    watch_file: bool = False,
    size: tuple[int, int] = (120, 36),
    latency: float = 0.0,
    hostile: bool = False,
    tick: bool = True,
    held: bool = False,
    history: StoreWriter | None = None,
    export_dir: Path | None = None,
    fixed_settings: frozenset[str] = frozenset(),
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Harness]:
    """The board on the sample watchlist (or `watchlist`) against a fresh simulator, after
    its first pass; the simulator stops when the block ends.

    The refresh interval defaults to 60 s, so the board's own timer never fires during a
    test: a test that needs "the next tick" calls `app.fire_timer()` after checking the timer
    is armed. With `held` the engine's client is a `HeldClient`. Bells are counted in
    `Harness.bells` instead of rung.
    """
    wl = watchlist or sample_watchlist()
    sim = start_sim(sim_posts if sim_posts is not None else wl.posts, advance=advance)
    sim.faults.latency = latency
    sim.faults.hostile = hostile
    engine: EngineOptions = {
        "interval": interval,
        "watch_file": watch_file,
        "history": history,
        "fixed_settings": fixed_settings,
    }
    if clock is not None:
        engine["clock"] = clock
    clients = held_clients(sim) if held else None
    app = board_on(sim, wl, clients=clients, bell=bell, export_dir=export_dir, **engine)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    if not tick:
        # The once-a-second tick also reconciles the table; off where lines are counted
        # (BoardApp offers no switch for its clocks, so the tick is replaced before mount).
        app.tick = lambda: None  # type: ignore[method-assign]
    try:
        async with app.run_test(size=size) as pilot:
            h = Harness(app, sim, pilot, bells)
            await h.until(lambda: app.engine.passes >= 1, "the first pass")
            await h.until(lambda: not app.engine.polling, "the first pass to end")
            await pilot.pause()
            yield h
    finally:
        sim.stop()


def sample_counts(h: Harness) -> dict[State, int]:
    """How many rows are in each state."""
    counts: dict[State, int] = {}
    for row in h.app.board.rows.values():
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def states_of(h: Harness) -> dict[PostKey, State]:
    """Each row's state, by post."""
    return {k: r.state for k, r in h.app.board.rows.items()}


def header_text(h: Harness) -> str:
    """The table's headings, as drawn."""
    return "".join(s.text for s in h.app.query_one(TableHeader).render_line(0))


@pytest.fixture(autouse=True)
def own_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """$XDG_CONFIG_HOME in a fresh folder per test: a theme chosen on this machine never
    changes a snapshot, and a test that picks a theme never changes the machine's."""
    home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def default_collector() -> Iterator[None]:
    """The board tunes the process's collector once its first pass is in (core/heap.py): a
    process-wide setting, so each test ends with CPython's own again and no test measures
    memory under another test's tuning."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
