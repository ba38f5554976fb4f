"""The team tests' real parts: `wahdx-tui serve` child processes, their environment, team engines
on their own store connections, and bounded waits on either.

Imported by name (`from teamprocs import serve_process, wait_for`). Every wait polls a condition
until it holds and fails the test after a bound; none sleeps for a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.support.fixtures import until
from wahdx_tui.cli import client_options
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.table import DEFAULTS, Settings
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import LeaseInfo, scope_for
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.team.lease import lease_name
from wahdx_tui.core.team.setup import team_engine
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist, sample_watchlist_path
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.widgets.summary import SummaryLine

KEY = "team_test_key_0123456789"
WATCHLIST = sample_watchlist_path()
SERVE = [sys.executable, "-m", "wahdx_tui", "serve"]


def wait_for(cond: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    """Poll `cond` until it holds; fail the test after `seconds` (a bound, not a goal)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for: {what}")


async def pilot_until(
    pilot: Pilot[int], cond: Callable[[], object], what: str, tries: int = 600
) -> None:
    """conftest's `until` on a board that waits on another process: 50 ms steps."""
    await until(cond, what, pilot=pilot, tries=tries, step=0.05)


def summary(app: BoardApp) -> str:
    """The board's whole summary bar, as one text."""
    return " ".join(p.plain for p in app.query(SummaryLine).results(SummaryLine))


# -- serve as a child process -----------------------------------------------------------------


@dataclass
class Served:
    """A `serve` child process and its stderr log."""

    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def says(self, words: str) -> bool:
        return words in self.text()


def child_env(
    state_home: Path, *, base_url: str | None = None, key: str | None = None, **more: str
) -> dict[str, str]:
    """This environment for a child, as if on a host of its own: none of the operator's
    WAHDX_* settings, its own state folder, then the API's URL, the key and `more`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env["XDG_STATE_HOME"] = str(state_home)
    if base_url is not None:
        env["WAHDX_BASE_URL"] = base_url
    if key is not None:
        env["WAHDX_API_KEY"] = key
    env.update(more)
    return env


@contextmanager
def serve_process(
    env: Mapping[str, str], log: Path, *args: str, command: Sequence[str] = SERVE
) -> Iterator[Served]:
    """`wahdx-tui serve ARGS` (or `command` ARGS) as a child process, its stderr in `log`;
    killed at the end unless it has exited by then."""
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*command, *args], env=dict(env), stdout=subprocess.DEVNULL, stderr=err
        )
    served = Served(proc, log)
    try:
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


# -- boards' engines and the store ------------------------------------------------------------


def engine_on(
    store: str,
    base_url: str,
    *,
    key: str | None,
    watchlist: Watchlist | None = None,
    settings: Settings = DEFAULTS,
    can_poll: bool | None = None,
    operator: str | None = None,
    accounts: Collection[str] = (),
) -> TeamEngine:
    """A team engine on its own connection to `store`, as `wahdx-tui watch` builds it (a
    board on another terminal or host); it may poll when it has a key, unless `can_poll`;
    `operator` is who its acknowledgements name (default: this user@host); of `accounts`
    only, when given."""
    return team_engine(
        watchlist or load_watchlist(WATCHLIST),
        base_url=base_url,
        api_key=ApiKey(key) if key is not None else None,
        settings=settings,
        options=client_options(settings),
        fixed_settings=frozenset(),
        store=open_store(store),
        can_poll=key is not None if can_poll is None else can_poll,
        operator=operator,
        accounts=accounts,
    )


@asynccontextmanager
async def following(engine: TeamEngine) -> AsyncIterator[TeamEngine]:
    """The engine joined to its team and following the store in the background, as a second
    board without its screen does; closed at the end."""
    await engine.join()

    async def follow() -> None:
        while True:
            await engine.follow()

    task = asyncio.create_task(follow())
    try:
        yield engine
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.aclose()


def lease_of(store: str, base_url: str) -> LeaseInfo | None:
    """The poller lease for the API at `base_url`, as the store holds it now."""
    opened = open_store(store, readonly=True)
    try:
        return opened.lease_info(lease_name(scope_for(base_url)))
    finally:
        opened.close()
