"""The team across hosts: `serve` and boards sharing a real PostgreSQL server on loopback.

Each process gets its own state directory, as if it ran on another host; only the store URL
joins them. The password travels in $PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pgserver import PgServer, pg_server
from test_team import KEY, SERVE, WATCHLIST, Served, summary, until, wait_for

from wahdx_tui.cli import client_options
from wahdx_tui.core.model import State
from wahdx_tui.core.secret import ApiKey
from wahdx_tui.core.settings import DEFAULTS
from wahdx_tui.core.storeapi import scope_for
from wahdx_tui.core.storeurl import open_store
from wahdx_tui.core.team import lease_name
from wahdx_tui.core.teamengine import TeamEngine
from wahdx_tui.core.teamsetup import team_engine
from wahdx_tui.core.watchlist import load_watchlist
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp

__all__ = ["pg_server"]  # the session fixture, imported so pytest finds it here


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(
        SimConfig(posts=load_watchlist(WATCHLIST).posts, seed=7, api_key=KEY)
    ).start()
    server.advance(120)
    yield server
    server.stop()


@pytest.fixture
def database(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database; its URL without the password (which is in $PGPASSWORD)."""
    name = pg_server.create_database()
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    try:
        yield pg_server.url(name, password=False)
    finally:
        pg_server.drop_database(name)


@contextmanager
def serving_on(url: str, host_dir: Path, sim: SimServer, name: str = "serve") -> Iterator[Served]:
    host_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env.update(XDG_STATE_HOME=str(host_dir), WAHDX_BASE_URL=sim.base_url, WAHDX_API_KEY=KEY)
    log = host_dir / f"{name}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*SERVE, str(WATCHLIST), "--interval", "2", "--store", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    served = Served(proc, log)
    try:
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def engine_on(url: str, sim: SimServer, *, key: bool) -> TeamEngine:
    return team_engine(
        load_watchlist(WATCHLIST),
        base_url=sim.base_url,
        api_key=ApiKey(KEY) if key else None,
        settings=DEFAULTS,
        options=client_options(DEFAULTS),
        fixed_settings=frozenset(),
        store=open_store(url),
        can_poll=key,
    )


async def test_an_ack_crosses_between_boards_on_two_hosts(
    database: str, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        one = BoardApp(engine_on(database, sim, key=False), bell=False)
        two = engine_on(database, sim, key=True)
        await two.join()

        async def follow_two() -> None:
            while True:
                await two.follow()

        following = asyncio.create_task(follow_two())
        try:
            async with one.run_test(size=(120, 36)) as pilot:
                await until(pilot, lambda: one.board.unreviewed > 0, "failures shown")
                await until(pilot, lambda: two.board.unreviewed > 0, "failures on the other")
                await until(pilot, lambda: "via poller on" in summary(one), "attached")
                key = one.board.row_at(0).key
                one.engine.acknowledge(key, "on it")
                await until(pilot, lambda: two.board.rows[key].acked, "the ack on host b")
                two.unacknowledge(key)
                await until(pilot, lambda: not one.board.rows[key].acked, "taken back on a")
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
            await two.aclose()


async def test_the_server_restarting_mid_run_loses_nothing(
    database: str, pg_server: PgServer, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        app = BoardApp(engine_on(database, sim, key=False), bell=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.board.unreviewed > 0, "failures shown")
            key = app.board.row_at(0).key
            pg_server.stop("fast")
            await until(pilot, lambda: "store unreachable" in str(app.banner.render()), "said")
            shown = {k: r.state for k, r in app.board.rows.items()}
            assert all(state is not State.UNKNOWN for state in shown.values())  # rows kept
            app.engine.acknowledge(key, "during the outage")  # queued, never dropped
            sim.advance(600)  # the API moves on while the store is down
            pg_server.start()
            await until(pilot, lambda: not app.banner.display, "reconnected", tries=1200)
            store = open_store(database)
            try:
                scope = scope_for(sim.base_url)
                await until(pilot, lambda: key in store.acks(scope), "the ack written")
                assert store.acks(scope)[key].note == "during the outage"
            finally:
                store.close()
        assert served.proc.poll() is None  # the poller lived through it


def test_a_standby_on_another_host_takes_over_after_kill_9(
    database: str, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim, "first") as first:
        wait_for(lambda: first.says("pass 1:"), "the first poller's pass")
        with serving_on(database, tmp_path / "host-b", sim, "second") as second:
            wait_for(lambda: second.says("standby"), "the standby")
            first.proc.kill()
            wait_for(lambda: second.says("poller lease taken"), "the takeover")
            store = open_store(database)
            try:
                lease = store.lease_info(lease_name(scope_for(sim.base_url)))
            finally:
                store.close()
            assert lease is not None and lease.pid == second.proc.pid and not lease.expired


def test_report_reads_the_team_store(database: str, sim: SimServer, tmp_path: Path) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "host-c")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wahdx_tui",
            "report",
            str(WATCHLIST),
            "--base-url",
            sim.base_url,
            "--store",
            database,
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"failed" in done.stdout.lower()
    assert os.environ["PGPASSWORD"].encode() not in done.stdout + done.stderr
