"""The team across hosts: `serve` and boards sharing a real PostgreSQL server on loopback.

Each process gets its own state directory, as if it ran on another host; only the store URL
joins them. The password travels in $PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.support.fixtures import until
from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import (
    KEY,
    WATCHLIST,
    Served,
    child_env,
    engine_on,
    following,
    lease_of,
    pilot_until,
    serve_process,
    summary,
    wait_for,
)
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import scope_for
from wahdx_tui.core.watchlist.reader import load_watchlist
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


def serving_on(
    url: str, host_dir: Path, sim: SimServer, name: str = "serve"
) -> AbstractContextManager[Served]:
    host_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(host_dir, base_url=sim.base_url, key=KEY)
    log = host_dir / f"{name}.log"
    return serve_process(env, log, str(WATCHLIST), "--interval", "2", "--store", url)


async def test_an_ack_crosses_between_boards_on_two_hosts(
    database: str, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        one = BoardApp(engine_on(database, sim.base_url, key=None), bell=False)
        two = engine_on(database, sim.base_url, key=KEY)
        async with following(two), one.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: one.board.unreviewed > 0, "failures shown")
            await pilot_until(pilot, lambda: two.board.unreviewed > 0, "failures on the other")
            await pilot_until(pilot, lambda: "via poller on" in summary(one), "attached")
            key = one.board.row_at(0).key
            one.engine.acknowledge(key, "on it")
            await pilot_until(pilot, lambda: two.board.rows[key].acked, "the ack on host b")
            two.unacknowledge(key)
            await pilot_until(pilot, lambda: not one.board.rows[key].acked, "taken back on a")


async def test_the_server_restarting_mid_run_loses_nothing(
    database: str, pg_server: PgServer, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        app = BoardApp(engine_on(database, sim.base_url, key=None), bell=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: app.board.unreviewed > 0, "failures shown")
            key = app.board.row_at(0).key
            pg_server.stop("fast")
            await pilot_until(
                pilot, lambda: "store unreachable" in str(app.banner.render()), "said"
            )
            shown = {k: r.state for k, r in app.board.rows.items()}
            assert all(state is not State.UNKNOWN for state in shown.values())  # rows kept
            app.engine.acknowledge(key, "during the outage")  # queued, never dropped
            sim.advance(600)  # the API moves on while the store is down
            pg_server.start()
            await pilot_until(pilot, lambda: not app.banner.display, "reconnected", tries=1200)
            store = open_store(database)
            try:
                scope = scope_for(sim.base_url)
                await pilot_until(pilot, lambda: key in store.acks(scope), "the ack written")
                assert store.acks(scope)[key].note == "during the outage"
            finally:
                store.close()
        assert served.proc.poll() is None  # the poller lived through it


async def test_a_post_added_to_a_board_file_while_the_server_is_down_is_polled_once_it_is_back(
    database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    """Review: a watchlist reload whose sync and registration the store refused was tried
    again only at the next reload, so the poller never heard of the posts added and the
    board showed them unchecked for good."""
    sample = load_watchlist(WATCHLIST).posts
    extra = WatchedPost("acc_tiktok_main", "v_pub_only_mine", "video", "Only in my file")
    # The API knows the extra post; serve's own list does not name it.
    sim = SimServer(SimConfig(posts=(*sample, extra), seed=7, api_key=KEY)).start()
    sim.advance(120)
    mine = tmp_path / "mine.yaml"
    entry = "  - {{accountId: {0.account_id}, publishId: {0.publish_id}, mediaType: video}}\n"
    mine.write_text("posts:\n" + entry.format(sample[0]), encoding="utf-8")
    try:
        with serving_on(database, tmp_path / "host-a", sim) as served:
            wait_for(lambda: served.says("pass 1:"), "serve's first pass")
            board = engine_on(database, sim.base_url, key=None, watchlist=load_watchlist(mine))
            async with following(board):
                await until(lambda: board.board.rows[sample[0].key].since, "the first state")
                pg_server.stop("fast")
                await until(lambda: board.store_down_since, "the outage seen", tries=3000)
                mine.write_text(
                    "posts:\n" + entry.format(sample[0]) + entry.format(extra), encoding="utf-8"
                )
                seq = board.file_saved()
                assert seq is not None
                outcome = await board.reload_file(seq)  # its sync is refused
                assert outcome is not None and outcome.error is None
                assert board.board.rows[extra.key].state is State.UNKNOWN  # on it, unchecked
                pg_server.start()
                await until(
                    lambda: board.board.rows[extra.key].state is not State.UNKNOWN,
                    "the added post polled by serve",
                    tries=6000,
                )
    finally:
        sim.stop()


def test_a_standby_on_another_host_takes_over_after_kill_9(
    database: str, sim: SimServer, tmp_path: Path
) -> None:
    with serving_on(database, tmp_path / "host-a", sim, "first") as first:
        wait_for(lambda: first.says("pass 1:"), "the first poller's pass")
        with serving_on(database, tmp_path / "host-b", sim, "second") as second:
            wait_for(lambda: second.says("standby"), "the standby")
            first.proc.kill()
            wait_for(lambda: second.says("poller lease taken"), "the takeover")
            lease = lease_of(database, sim.base_url)
            assert lease is not None and lease.pid == second.proc.pid and not lease.expired


def test_report_reads_the_team_store(database: str, sim: SimServer, tmp_path: Path) -> None:
    with serving_on(database, tmp_path / "host-a", sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        # "pass 1:" is said when the pass ends; its rows reach the store on serve's history
        # thread a moment later. A clean stop writes them: a kill might not have.
        served.proc.terminate()
        assert served.proc.wait(30) == 0
    env = child_env(tmp_path / "host-c")
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
