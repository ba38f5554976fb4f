"""Team use with real processes: `serve` polls for everyone, boards attach to it through the store.

Each test runs the simulated API over loopback HTTP in this process, `wahdx-tui serve` as real
child processes, and boards as pilot apps on their own store connections (as a second
operator on the same jump host would). Waits are bounded polls of a condition, never sleeps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.support.teamprocs import (
    KEY,
    SERVE,
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
from wahdx_tui.core.store.protocol import StoreError, scope_for
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.team.lease import PollerWord
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp


@pytest.fixture
def sim() -> Iterator[SimServer]:
    watchlist = load_watchlist(WATCHLIST)
    extra = [WatchedPost("acc_extra", f"extra_{i}", "video", f"Extra {i}") for i in range(3)]
    server = SimServer(SimConfig(posts=[*watchlist.posts, *extra], seed=7, api_key=KEY)).start()
    server.advance(120)  # most posts past their first states: some failed, some published
    yield server
    server.stop()


@pytest.fixture
def team_dir(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    return tmp_path


def env_for(team_dir: Path, sim: SimServer, *, key: bool = True) -> dict[str, str]:
    return child_env(team_dir / "state", base_url=sim.base_url, key=KEY if key else None)


def serving(
    team_dir: Path,
    sim: SimServer,
    *args: str,
    name: str = "serve",
    key: bool = True,
    watchlist: Path = WATCHLIST,
) -> AbstractContextManager[Served]:
    env = env_for(team_dir, sim, key=key)
    log = team_dir / f"{name}.log"
    return serve_process(env, log, str(watchlist), "--interval", "2", *args)


@asynccontextmanager
async def attached_board(
    team_dir: Path, sim: SimServer, *args: str
) -> AsyncIterator[tuple[Served, BoardApp, Pilot[int]]]:
    """serve (with `args`) past its first pass, and a board without a key on screen, on its
    own connection to the team store."""
    with serving(team_dir, sim, *args) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        app = board(team_dir, sim, key=False)
        async with app.run_test(size=(120, 36)) as pilot:
            yield served, app, pilot


def store_path(team_dir: Path) -> Path:
    return team_dir / "state" / "wahdx-tui" / "history.sqlite3"


def board(
    team_dir: Path, sim: SimServer, *, key: bool, watchlist: Watchlist | None = None
) -> BoardApp:
    """A board on its own connection to the team store, as `wahdx-tui watch` builds it."""
    return BoardApp(engine_for(team_dir, sim, key=key, watchlist=watchlist), bell=False)


def engine_for(
    team_dir: Path, sim: SimServer, *, key: bool, watchlist: Watchlist | None = None
) -> TeamEngine:
    """A team engine on its own store connection (a second board, without its screen)."""
    return engine_on(
        str(store_path(team_dir)), sim.base_url, key=KEY if key else None, watchlist=watchlist
    )


def lease_pid(team_dir: Path, sim: SimServer) -> int | None:
    """The pid of the live poller in the store, if any."""
    lease = lease_of(str(store_path(team_dir)), sim.base_url)
    return lease.pid if lease is not None and not lease.expired else None


# -- attaching ----------------------------------------------------------------------------------


async def test_a_board_without_a_key_attaches_and_never_asks_the_api(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim) as (_served, app, pilot):
        await pilot_until(pilot, lambda: app.board.counts()[State.UNKNOWN] == 0, "states shown")
        await pilot_until(pilot, lambda: "via poller on" in summary(app), "the summary says so")
        assert app.engine.client is None  # no client was ever made: no request, no key
        assert app.board.counts()[State.FAILED] > 0
        assert not app.engine.polls_api
        # + on a board that follows: its interval is its own, for when it polls
        await pilot.press("plus")
        said = [n.message for n in app._notifications if "refresh every" in n.message]
        assert said and "the team's poller keeps its own pace" in said[-1]


async def test_an_ack_on_one_board_shows_on_the_other_both_ways(
    team_dir: Path, sim: SimServer
) -> None:
    with serving(team_dir, sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        one = board(team_dir, sim, key=False)
        two = engine_for(team_dir, sim, key=True)  # a second operator's board, on its own
        async with following(two), one.run_test(size=(120, 36)) as p1:
            await pilot_until(p1, lambda: one.board.unreviewed > 0, "failures shown")
            await pilot_until(p1, lambda: two.board.unreviewed > 0, "failures on the other")
            key = one.board.row_at(0).key  # the worst news, on top: an unreviewed failure
            assert one.board.rows[key].unreviewed_failure
            await p1.press("a")
            await pilot_until(p1, lambda: one.screen.query("#ack-note"), "the note box")
            await p1.press(*"called", "enter")
            await pilot_until(p1, lambda: two.board.rows[key].acked, "the ack on the other board")
            assert two.board.rows[key].note == "called"
            # and back: taken back on the second board, unreviewed again on the first
            two.unacknowledge(key)
            await pilot_until(p1, lambda: not one.board.rows[key].acked, "the ack taken back")
            assert one.board.rows[key].unreviewed_failure


async def test_r_on_an_attached_board_asks_the_poller_which_serves_it(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim, "--interval", "3600") as (served, app, pilot):
        await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")
        checks = sim.stats.checks
        await pilot.press("r")
        await pilot_until(pilot, lambda: served.says("asked for a refresh"), "the poller heard")
        # every post asked again, by the poller: a whole pass of the watchlist
        wait_for(lambda: sim.stats.checks >= checks + len(app.board.rows), "the pass")


async def test_a_recheck_from_an_attached_board_goes_through_the_poller(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim, "--interval", "3600") as (served, app, pilot):
        await pilot_until(pilot, lambda: app.board.counts()[State.UNKNOWN] == 0, "states shown")
        singles = sim.stats.single_requests
        await pilot.press("enter")
        screen = app.screen
        await pilot_until(
            pilot,
            lambda: getattr(screen, "recheck_note", "").startswith("re-checked"),
            "the re-check's answer",
        )
        assert sim.stats.single_requests == singles + 1  # asked once, by the poller
        assert served.says("re-check 1 posts")


# -- no poller, standby, takeover ------------------------------------------------------------


async def test_no_poller_marks_rows_stale_and_a_new_poller_recovers_them(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim) as (served, app, pilot):
        await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")
        served.proc.send_signal(signal.SIGTERM)
        await pilot_until(pilot, lambda: "no poller since" in summary(app), "no poller said")
        banner = str(app.banner.render())
        assert "no poller since" in banner and "wahdx-tui serve" in banner
        assert app.board.any_unanswered() and app.table.stale
        shown = {k: r.state for k, r in app.board.rows.items()}
        assert all(s is not State.UNKNOWN for s in shown.values())  # rows kept
        with serving(team_dir, sim, name="serve2"):
            await pilot_until(pilot, lambda: "via poller on" in summary(app), "a poller again")
            await pilot_until(pilot, lambda: not app.board.any_unanswered(), "fresh again")
            await pilot_until(pilot, lambda: not app.banner.display, "the banner cleared")


async def test_a_board_whose_poller_died_says_one_state_stale_with_no_poller(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim) as (served, app, pilot):
        await pilot_until(pilot, lambda: "live" in summary(app), "attached and live")
        assert "STALE" not in summary(app) and "API ok" in summary(app)
        served.proc.kill()  # it dies: its lease runs out, nobody lets it go
        await pilot_until(pilot, lambda: "no poller since" in summary(app), "no poller")
        said = summary(app)
        assert "STALE" in said
        # nothing that says otherwise: no "live", and nothing of the API nobody is asking
        assert "live" not in said and "API" not in said, said
        assert said.count("STALE") == 1 and said.count("no poller") == 1


async def test_a_view_only_board_with_no_poller_is_not_live(team_dir: Path, sim: SimServer) -> None:
    with serving(team_dir, sim) as served:  # a poller wrote states to the store, then went
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(30) == 0
    engine = engine_on(str(store_path(team_dir)), sim.base_url, key=KEY, can_poll=False)
    app = BoardApp(engine, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot_until(pilot, lambda: "no poller" in summary(app), "no poller said")
        await pilot_until(pilot, lambda: app.board.counts()[State.UNKNOWN] == 0, "states shown")
        said = summary(app)
        assert "live" not in said and "API" not in said, said
        # the states shown are the poller's last: updated when it wrote them, and stale
        assert "updated never" not in said and "STALE" in said, said


async def test_p_on_an_attached_board_says_the_poller_refreshes_it(
    team_dir: Path, sim: SimServer
) -> None:
    async with attached_board(team_dir, sim) as (_served, app, pilot):
        await pilot_until(pilot, lambda: "live" in summary(app), "attached and live")
        await pilot.press("p")
        said = [n.message for n in app._notifications]
        assert not any("refreshes paused" in n for n in said), said
        assert any("the team's poller refreshes this board" in n for n in said), said
        assert not app.paused
        assert "live" in summary(app) and "PAUSED" not in summary(app)


def test_a_standby_takes_over_after_the_poller_is_killed(team_dir: Path, sim: SimServer) -> None:
    with serving(team_dir, sim, name="first") as first:
        wait_for(lambda: first.says("pass 1:"), "the first poller's first pass")
        with serving(team_dir, sim, name="second") as second:
            wait_for(lambda: second.says("standby"), "the second to stand by")
            checks, batches = sim.stats.checks, sim.stats.batch_requests
            wait_for(lambda: sim.stats.batch_requests >= batches + 2, "two more passes")
            assert lease_pid(team_dir, sim) == first.proc.pid  # the standby did not poll
            assert "lease taken" not in second.text()
            first.proc.kill()  # kill -9: no chance to let the lease go
            killed = time.monotonic()
            wait_for(lambda: second.says("poller lease taken"), "the standby to take over")
            took = time.monotonic() - killed
            batches = sim.stats.batch_requests
            wait_for(lambda: sim.stats.batch_requests > batches, "the new poller's pass")
            assert sim.stats.checks > checks
            assert lease_pid(team_dir, sim) == second.proc.pid
            print(f"standby took over {took:.1f} s after kill -9")


def test_boards_with_other_lists_are_polled_in_the_union(team_dir: Path, sim: SimServer) -> None:
    other = team_dir / "other.yaml"
    other.write_text(
        "posts:\n"
        + "".join(
            f"  - {{accountId: acc_extra, publishId: extra_{i}, mediaType: video}}\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )

    async def run() -> None:
        app = board(team_dir, sim, key=False, watchlist=load_watchlist(other))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: app.board.counts()[State.UNKNOWN] == 0, "extra polled")

    with serving(team_dir, sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        asyncio.run(run())


# -- serve's own behaviour ---------------------------------------------------------------------


def test_serve_stops_cleanly_on_sigterm_and_lets_the_lease_go(
    team_dir: Path, sim: SimServer
) -> None:
    with serving(team_dir, sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(30) == 0
        assert served.says("stopped")
    lease = lease_of(str(store_path(team_dir)), sim.base_url)
    assert lease is not None and lease.expired  # released: a standby may take over at once
    assert KEY not in (team_dir / "serve.log").read_text()


def test_serve_rereads_the_watchlist_on_sighup_and_keeps_the_last_good_one(
    team_dir: Path, sim: SimServer
) -> None:
    wl = team_dir / "watch.yaml"
    wl.write_text(WATCHLIST.read_text(encoding="utf-8"), encoding="utf-8")
    log = team_dir / "serve.log"
    with serve_process(env_for(team_dir, sim), log, str(wl), "--interval", "2") as served:
        proc = served.proc
        wait_for(lambda: "pass 1:" in log.read_text(), "serve's first pass")
        wl.write_text("posts: [oops\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the last good list" in log.read_text(), "the refusal")
        wl.write_text(
            "posts:\n  - {accountId: acc_tiktok_main, publishId: v_pub_7301}\n", encoding="utf-8"
        )
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "watchlist reloaded" in log.read_text(), "the reload")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


@pytest.mark.parametrize(
    ("args", "key", "said"),
    [
        ([str(WATCHLIST)], False, "error: no API key"),
        (["/nonexistent/watch.yaml"], True, "error:"),
        ([str(WATCHLIST), "--interval", "0"], True, "error: argument --interval"),
        ([str(WATCHLIST), "--store", "postgresql://u:sekrit@127.0.0.1:1/db"], True, "error:"),
    ],
)
def test_serve_refuses_bad_input_with_one_line_and_exit_2(
    team_dir: Path, sim: SimServer, args: list[str], key: bool, said: str
) -> None:
    done = subprocess.run(
        [*SERVE, *args], env=env_for(team_dir, sim, key=key), capture_output=True, timeout=60
    )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert said in err
    assert "Traceback" not in err and "sekrit" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1 or (
        "usage:" in err
    )


def test_watch_without_a_key_and_no_poller_says_how_to_fix_it(
    team_dir: Path, sim: SimServer
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wahdx_tui", "watch", str(WATCHLIST)],
        env=env_for(team_dir, sim, key=False),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        "error: no API key and no poller running for this watchlist: start wahdx-tui serve, "
        "or set WAHDX_API_KEY"
    )


async def test_a_view_only_board_with_a_key_never_polls_and_waits_for_a_poller(
    team_dir: Path, sim: SimServer
) -> None:
    engine = engine_on(str(store_path(team_dir)), sim.base_url, key=KEY, can_poll=False)
    app = BoardApp(engine, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot_until(pilot, lambda: "no poller since" in summary(app), "waiting for a poller")
        requests = sim.stats.requests
        await pilot.press("r")  # asks a poller; there is none yet, and it polls nothing itself
        with serving(team_dir, sim) as served:
            await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")
            await pilot_until(pilot, lambda: app.board.counts()[State.UNKNOWN] == 0, "states shown")
            assert not engine.polls_api and engine.client is None
            assert lease_pid(team_dir, sim) == served.proc.pid
        assert sim.stats.requests > requests  # all of them the poller's


# -- what a second reading found ------------------------------------------------------------


async def test_a_keyed_board_finding_no_poller_polls_for_the_team(
    team_dir: Path, sim: SimServer
) -> None:
    app = board(team_dir, sim, key=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot_until(pilot, lambda: app.engine.polls_api, "the lease taken")
        await pilot_until(pilot, lambda: app.engine.passes >= 1, "its own first pass")
        assert app.board.counts()[State.UNKNOWN] == 0
        assert lease_pid(team_dir, sim) == os.getpid()
        # Its own next pass, not "live" (once the pass of the posts new to the team's list,
        # started at once after joining, is over too).
        await pilot_until(pilot, lambda: "next" in summary(app), "its own next pass shown")
        assert "live" not in summary(app)


async def test_a_restarted_poller_keeps_other_boards_acks_and_sees_nothing_new(
    team_dir: Path, sim: SimServer
) -> None:
    """A post only another board watches: a new poller must not take it for "first seen"
    (that would drop its acknowledgement and alert again)."""
    other = team_dir / "other.yaml"
    other.write_text(
        "posts:\n  - {accountId: acc_tiktok_main, publishId: v_pub_7315, mediaType: video}\n",
        encoding="utf-8",
    )
    key = ("acc_tiktok_main", "v_pub_7315")  # failed by sim time 120 (seed 7)
    serves = team_dir / "serves.yaml"
    serves.write_text(
        "posts:\n  - {accountId: acc_tiktok_main, publishId: v_pub_7301}\n", encoding="utf-8"
    )
    scope = scope_for(sim.base_url)
    engine = engine_for(team_dir, sim, key=False, watchlist=load_watchlist(other))
    app = BoardApp(engine, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        with serving(team_dir, sim, name="one", watchlist=serves) as one:
            await pilot_until(pilot, lambda: engine.board.rows[key].state is State.FAILED, "failed")
            engine.acknowledge(key, "handled")
            reader = open_store(str(store_path(team_dir)), readonly=True)
            try:
                await pilot_until(pilot, lambda: key in reader.acks(scope), "the ack stored")
            finally:
                reader.close()
            one.proc.terminate()
            assert one.proc.wait(30) == 0
        checks = sim.stats.checks  # before it starts: its first pass may be over at once
        with serving(team_dir, sim, name="two", watchlist=serves) as two:
            await pilot_until(
                pilot, lambda: lease_pid(team_dir, sim) == two.proc.pid, "the new one"
            )
            # its first pass asks every post, final ones too (later ones every 10th pass)
            await pilot_until(pilot, lambda: sim.stats.checks >= checks + 2, "its first pass")
            await pilot_until(pilot, lambda: not engine.board.any_unanswered(), "the board fresh")
            assert engine.board.rows[key].acked
    store = open_store(str(store_path(team_dir)), readonly=True)
    try:
        assert store.acks(scope)[key].note == "handled"
        assert len([t for t in store.trail(scope, key) if t.old is None]) == 1
    finally:
        store.close()


async def test_an_attached_boards_edited_watchlist_reaches_the_poller(
    team_dir: Path, sim: SimServer
) -> None:
    mine = team_dir / "mine.yaml"
    mine.write_text(
        "posts:\n  - {accountId: acc_tiktok_main, publishId: v_pub_7301}\n", encoding="utf-8"
    )
    with serving(team_dir, sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        app = board(team_dir, sim, key=False, watchlist=load_watchlist(mine))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")
            mine.write_text(
                "posts:\n  - {accountId: acc_tiktok_main, publishId: v_pub_7301}\n"
                "  - {accountId: acc_extra, publishId: extra_1, mediaType: video}\n",
                encoding="utf-8",
            )
            app.check_watchlist_file()
            extra = ("acc_extra", "extra_1")
            await pilot_until(pilot, lambda: extra in app.board.rows, "the edit read")
            await pilot_until(
                pilot, lambda: app.board.rows[extra].state is not State.UNKNOWN, "polled for it"
            )


async def test_an_attached_board_swapping_a_post_for_another_gets_the_new_one_polled(
    team_dir: Path, sim: SimServer
) -> None:
    """The poller reads the boards' union again only when a registration changed: a board
    that swaps one post for another keeps its count, and its new post is polled all the same."""
    mine = team_dir / "mine.yaml"

    def watch(publish: str) -> None:
        mine.write_text(
            f"posts:\n  - {{accountId: acc_extra, publishId: {publish}, mediaType: video}}\n",
            encoding="utf-8",
        )

    watch("extra_1")
    with serving(team_dir, sim) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        app = board(team_dir, sim, key=False, watchlist=load_watchlist(mine))
        async with app.run_test(size=(120, 36)) as pilot:
            first, then = ("acc_extra", "extra_1"), ("acc_extra", "extra_2")
            await pilot_until(
                pilot, lambda: app.board.rows[first].state is not State.UNKNOWN, "extra_1 polled"
            )
            watch("extra_2")
            app.check_watchlist_file()
            await pilot_until(pilot, lambda: then in app.board.rows, "the edit read")
            await pilot_until(
                pilot, lambda: app.board.rows[then].state is not State.UNKNOWN, "extra_2 polled"
            )


async def test_a_bug_in_a_reload_sync_is_said_once_not_at_every_look(
    sim: SimServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A reload's sync the store refused is tried at every look; one that fails for any other
    reason (a bug) is said once, by the follow loop, instead of a traceback every look."""
    mine = tmp_path / "mine.yaml"
    post = load_watchlist(WATCHLIST).posts[0]
    line = f"  - {{accountId: {post.account_id}, publishId: {post.publish_id}}}\n"
    mine.write_text("posts:\n" + line, encoding="utf-8")
    engine = engine_on(
        str(tmp_path / "t.sqlite3"), sim.base_url, key=None, watchlist=load_watchlist(mine)
    )
    await engine.join()
    tries: list[str] = []

    def sync() -> None:  # the store down at the reload, then a bug
        tries.append("sync")
        if len(tries) == 1:
            raise StoreError("store unreachable: connection refused")
        raise ValueError("a bug")

    engine._sync_file = sync  # type: ignore[method-assign]
    try:
        mine.write_text("posts:\n" + line + line.replace(post.publish_id, "v_new"), "utf-8")
        seq = engine.file_saved()
        assert seq is not None
        await engine.reload_file(seq)
        for _ in range(3):
            await engine.follow()
    finally:
        await engine.aclose()
    assert tries == ["sync", "sync"]
    said = [r.getMessage() for r in caplog.records]
    assert sum("internal error while following" in m for m in said) == 1
    assert sum("watchlist not synced" in m for m in said) == 1


async def test_a_new_pollers_first_pass_reaches_the_boards_at_the_next_look(
    sim: SimServer, tmp_path: Path
) -> None:
    """Boards say STALE from the moment a poller goes until its successor's lease carries a
    complete pass; that used to wait for the lease's next renewal (3 s) after the pass."""
    store = str(tmp_path / "t.sqlite3")
    engine = engine_on(store, sim.base_url, key=KEY)
    await engine.join()
    try:
        assert engine.team.holding
        said = lease_of(store, sim.base_url)
        assert said is not None and PollerWord.decode(said.status).last_pass is None
        outcome = await engine.run_pass()
        assert outcome.ran and engine.health.last_success is not None
        await engine.follow()  # the look after the pass, well within a renewal
        said = lease_of(store, sim.base_url)
        assert said is not None
        assert PollerWord.decode(said.status).last_pass == engine.health.last_success
    finally:
        await engine.aclose()
