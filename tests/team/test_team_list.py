"""The team's watchlist with real processes: `serve` and keyless boards without a file, fed by
`wahdx-tui add`, a YAML file synced beside it, and finished posts retiring; on SQLite and on a
real PostgreSQL server.

The simulated API runs in this process over loopback HTTP, `serve` and `add` as child
processes, boards as pilot apps on their own store connections. Waits are bounded polls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import (
    KEY,
    Served,
    child_env,
    engine_on,
    following,
    pilot_until,
    serve_process,
    summary,
    wait_for,
)
from wahdx_tui.cli import TEAM_LIST
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.settings.table import DEFAULTS
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import ListedPost, scope_for
from wahdx_tui.core.watchlist.reader import load_watchlist, sample_watchlist_path
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens.listedit import AddPostScreen, RetireScreen

__all__ = ["pg_server"]

CLI = [sys.executable, "-m", "wahdx_tui"]
# With seed 7 and 120 s of sim time (the `sim` fixture): published, and failed, posts.
TEASER: PostKey = ("acc_tiktok_main", "v_pub_7301")
COUNTDOWN: PostKey = ("acc_tiktok_main", "v_pub_7302")
DOORBUSTER: PostKey = ("acc_tiktok_main", "v_pub_7315")  # failed
GIFT_GUIDE: PostKey = ("acc_tiktok_creator", "v_pub_8812")  # failed
STORE_HOURS: PostKey = ("acc_threads_news", "th_pub_5501")
LOOKBOOK: PostKey = ("acc_instagram_brand", "ig_pub_3102")
CSV = (
    "accountId,publishId,mediaType,label\n"
    "acc_tiktok_main,v_pub_7301,video,Black Friday teaser\n"
    "acc_tiktok_main,v_pub_7315,video,Doorbuster unboxing\n"
    "acc_tiktok_creator,v_pub_8812,video,Gift guide\n"
    "acc_threads_news,th_pub_5501,,Store hours\n"
)


@dataclass
class Team:
    """One team store (SQLite file or PostgreSQL database), the API, and a folder for logs."""

    url: str
    sim: SimServer
    root: Path
    extra: dict[str, str]

    def env(self, host: str, *, key: bool) -> dict[str, str]:
        """A process's environment as if on a host of its own."""
        return child_env(
            self.root / host, base_url=self.sim.base_url, key=KEY if key else None, **self.extra
        )

    def serve(self, *args: str, name: str = "serve") -> AbstractContextManager[Served]:
        log = self.root / f"{name}.log"
        return serve_process(
            self.env(name, key=True), log, *args, "--interval", "2", "--store", self.url
        )

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*CLI, *args, "--store", self.url],
            env=self.env("cli", key=False),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done

    def board(self, *accounts: str) -> BoardApp:
        """A keyless board without a file (`wahdx-tui watch`), of some accounts only."""
        engine = engine_on(
            self.url, self.sim.base_url, key=None, watchlist=TEAM_LIST, accounts=accounts
        )
        return BoardApp(engine, bell=False)

    def listed(self, *, retired: bool = False) -> dict[PostKey, ListedPost]:
        with open_store(self.url) as store:
            entries = store.listed_posts(scope_for(self.sim.base_url), retired=retired)
        return {e.key: e for e in entries}


@pytest.fixture
def sim() -> Iterator[SimServer]:
    posts = load_watchlist(sample_watchlist_path()).posts
    server = SimServer(SimConfig(posts=posts, seed=7, api_key=KEY)).start()
    server.advance(120)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def team(
    request: pytest.FixtureRequest,
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Team]:
    if request.param == "sqlite":
        yield Team(str(tmp_path / "team.sqlite3"), sim, tmp_path, {})
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    monkeypatch.setenv("PGPASSWORD", server.password)  # for the boards in this process
    try:
        yield Team(server.url(name, password=False), sim, tmp_path, {"PGPASSWORD": server.password})
    finally:
        server.drop_database(name)


def states(app: BoardApp) -> dict[PostKey, State]:
    return {k: r.state for k, r in app.board.rows.items()}


async def test_serve_and_keyless_boards_without_a_file_show_what_add_feeds(team: Team) -> None:
    with team.serve() as served:
        wait_for(lambda: served.says("started: 0 posts of the team's watchlist"), "serve up")
        done = team.cli("add", "--from", "-", stdin=CSV)
        assert done.returncode == 0, done.stderr
        wait_for(lambda: served.says("4 posts new to the team's watchlist"), "serve told")
        one, two = team.board(), team.board("acc_tiktok_main")
        async with one.run_test(size=(120, 36)) as pilot, two.run_test(size=(120, 36)):
            await pilot_until(pilot, lambda: len(one.board.rows) == 4, "the list on board one")
            await pilot_until(
                pilot, lambda: states(one)[DOORBUSTER] is State.FAILED, "its states on one"
            )
            assert one.board.rows[TEASER].label == "Black Friday teaser"
            await pilot_until(pilot, lambda: "via poller on" in summary(one), "attached")
            # The second shows one account's posts only; the poller polls all of them.
            await pilot_until(
                pilot, lambda: set(two.board.rows) == {TEASER, DOORBUSTER}, "one account"
            )
            await pilot_until(
                pilot, lambda: states(two)[TEASER] is State.PUBLISHED, "its states on two"
            )
            # A post added while serve runs is asked for in a pass of its own, at once.
            assert team.cli("add", *LOOKBOOK, "--label", "Lookbook").returncode == 0
            await pilot_until(pilot, lambda: LOOKBOOK in one.board.rows, "the new post shown")
            await pilot_until(
                pilot, lambda: states(one)[LOOKBOOK] is State.PUBLISHED, "the new post asked"
            )
            assert LOOKBOOK not in two.board.rows
            wait_for(lambda: served.says(": 1 asked"), "a pass of the new post alone")
            # `remove` takes a post off every board.
            assert team.cli("remove", *STORE_HOURS).returncode == 0
            await pilot_until(pilot, lambda: STORE_HOURS not in one.board.rows, "removed")


async def test_a_yaml_file_is_one_source_beside_add(team: Team) -> None:
    watchlist = team.root / "team.yaml"
    watchlist.write_text(
        "posts:\n"
        "  - {accountId: acc_tiktok_main, publishId: v_pub_7301, label: Teaser}\n"
        "  - {accountId: acc_tiktok_main, publishId: v_pub_7302, label: Countdown}\n",
        encoding="utf-8",
    )
    with team.serve(str(watchlist)) as served:
        wait_for(lambda: served.says("started: 2 posts of"), "serve up with its file")
        assert team.cli("add", *STORE_HOURS, "--label", "Store hours").returncode == 0
        # The file lists a post `add` added too: it stays the add's.
        assert team.cli("add", *LOOKBOOK).returncode == 0
        app = team.board()
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(
                pilot,
                lambda: set(app.board.rows) == {TEASER, COUNTDOWN, STORE_HOURS, LOOKBOOK},
                "the file's posts and the added ones",
            )
            watchlist.write_text(
                "posts:\n"
                "  - {accountId: acc_tiktok_main, publishId: v_pub_7301, label: Teaser v2}\n"
                "  - {accountId: acc_instagram_brand, publishId: ig_pub_3102, label: Lookbook}\n"
                "  - {accountId: acc_tiktok_main, publishId: v_pub_7315, label: Doorbuster}\n",
                encoding="utf-8",
            )
            served.proc.send_signal(signal.SIGHUP)
            await pilot_until(
                pilot,
                lambda: set(app.board.rows) == {TEASER, STORE_HOURS, LOOKBOOK, DOORBUSTER},
                "the file's edit synced: Countdown gone, Doorbuster in, the others left alone",
            )
            await pilot_until(pilot, lambda: app.board.rows[TEASER].label == "Teaser v2", "label")
    sources = {k: e.source for k, e in team.listed().items()}
    assert sources[STORE_HOURS] == sources[LOOKBOOK] == "add"
    assert sources[TEASER].startswith("file ") and sources[TEASER].endswith("team.yaml")


async def test_finished_posts_retire_while_unacknowledged_failures_stay(team: Team) -> None:
    assert team.cli("add", "--from", "-", stdin=CSV).returncode == 0
    args = ("--retire-published-after", "1s", "--retire-failed-after", "1s")
    app = team.board()
    with team.serve(*args) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(
                pilot, lambda: app.board.unreviewed == 2, "both failures shown", tries=1200
            )
            app.engine.acknowledge(DOORBUSTER, "re-posted by hand")
            await pilot_until(
                pilot,
                lambda: set(app.board.rows) == {GIFT_GUIDE},
                "the published posts and the acknowledged failure retired",
                tries=1200,
            )
            assert app.board.rows[GIFT_GUIDE].unreviewed_failure
            await pilot_until(pilot, lambda: "3 retired" in summary(app), "said in the summary")
            assert served.says("retired")
        served.proc.terminate()
        assert served.proc.wait(30) == 0
    retired = team.listed(retired=True)
    assert {k for k, e in retired.items() if e.status == "retired"} == {
        TEASER,
        DOORBUSTER,
        STORE_HOURS,
    }
    assert retired[DOORBUSTER].why == "acknowledged failure"
    # Retired posts stay in the report and the trail, and `add` brings them back.
    report = team.cli("report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert "v_pub_7315" in report.stdout
    again = team.board()
    async with again.run_test(size=(120, 36)) as pilot:
        await pilot_until(
            pilot, lambda: states(again) == {GIFT_GUIDE: State.FAILED}, "the board following"
        )
        back = team.cli("add", *DOORBUSTER)
        assert back.stdout.startswith("1 added"), back.stdout + back.stderr
        await pilot_until(pilot, lambda: DOORBUSTER in again.board.rows, "back on the board")
        row = again.board.rows[DOORBUSTER]
        assert row.state is State.FAILED and row.acked  # as the store knows it, at once
        trail, _error = await again.engine.trail(DOORBUSTER)
        assert [t.new for t in trail] == [State.FAILED]


async def test_n_adds_a_post_and_d_retires_one_on_every_board(team: Team) -> None:
    with team.serve() as served:
        wait_for(lambda: served.says("started:"), "serve up")
        assert team.cli("add", *TEASER, "--label", "Teaser").returncode == 0
        one, two = team.board(), team.board()
        async with one.run_test(size=(120, 36)) as pilot, two.run_test(size=(120, 36)):
            await pilot_until(pilot, lambda: TEASER in two.board.rows, "the list on both")
            await pilot.press("n")
            form = one.screen
            assert isinstance(form, AddPostScreen)
            assert form.values()["accountId"] == "acc_tiktok_main"  # the selected row's
            await pilot.press(*"v", "underscore", *"pub", "underscore", *"7315", "tab")
            await pilot.press(*"gif", "enter")  # a bad media type: said, nothing added
            error = str(form.query_one("#add-error", Static).render())
            assert error.startswith("unknown mediaType 'gif'")
            assert one.screen is form and len(team.listed()) == 1
            form.query_one("#add-mediaType", Input).value = ""
            await pilot.press("tab", *"Doorbuster", "enter")
            assert one.screen is not form
            for board in (one, two):
                await pilot_until(
                    pilot,
                    lambda board=board: (
                        board.board.rows.get(DOORBUSTER) is not None
                        and board.board.rows[DOORBUSTER].state is State.FAILED
                    ),
                    "the post added with n, asked and shown on both boards",
                )
            assert one.board.rows[DOORBUSTER].label == "Doorbuster"
            assert team.listed()[DOORBUSTER].source == "board"
            # d on the post, then Esc: it stays; then d and y: it leaves both boards.
            one.table.cursor_key = DOORBUSTER
            await pilot.press("d")
            assert isinstance(one.screen, RetireScreen)
            await pilot.press("escape")
            assert team.listed()[DOORBUSTER].listed  # kept
            await pilot.press("d", "y")
            for board in (one, two):
                await pilot_until(
                    pilot,
                    lambda board=board: set(board.board.rows) == {TEASER},
                    "the retired post gone from both boards",
                )
            entry = team.listed(retired=True)[DOORBUSTER]
            assert entry.status == "retired" and entry.why.startswith("retired by ")
            await pilot_until(pilot, lambda: "1 retired" in summary(two), "counted")


async def test_a_post_retired_off_a_file_board_is_no_longer_polled(team: Team) -> None:
    """A board with a file registered its posts when it started; once one of them retires,
    it leaves that board, and the poller stops asking for it although it was registered."""
    mine = team.root / "mine.yaml"
    mine.write_text(
        "posts:\n"
        "  - {accountId: acc_tiktok_main, publishId: v_pub_7301, label: Teaser}\n"
        "  - {accountId: acc_tiktok_main, publishId: v_pub_7315, label: Doorbuster}\n",
        encoding="utf-8",
    )
    settings = dataclasses.replace(DEFAULTS, retire_published_after=1.0)
    poller = engine_on(team.url, team.sim.base_url, key=KEY, watchlist=TEAM_LIST, settings=settings)
    board = engine_on(team.url, team.sim.base_url, key=None, watchlist=load_watchlist(mine))
    async with following(board):
        await poller.join()
        try:
            assert poller.polls_api
            deadline = time.monotonic() + 60
            while TEASER in board.board.rows:  # published: it retires a second after
                assert time.monotonic() < deadline, "the published post never retired"
                await poller.run_pass()
                await poller.follow()
                await asyncio.sleep(0.1)
            await poller.run_pass()
            polled = set(poller.board.rows) | set(poller.others.rows)
            assert TEASER not in polled and DOORBUSTER in polled
            assert set(board.board.rows) == {DOORBUSTER}
            assert board.team_list.retired() == 1
        finally:
            await poller.aclose()


async def test_a_board_polling_for_the_team_asks_for_a_new_post_at_once(team: Team) -> None:
    settings = dataclasses.replace(DEFAULTS, interval=300.0)
    engine = engine_on(team.url, team.sim.base_url, key=KEY, watchlist=TEAM_LIST, settings=settings)
    app = BoardApp(engine, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot_until(pilot, lambda: engine.polls_api and app.next_at is not None, "polling")
        planned = app.next_at
        assert team.cli("add", *DOORBUSTER, "--label", "Doorbuster").returncode == 0
        await pilot_until(
            pilot,
            lambda: DOORBUSTER in app.board.rows and states(app)[DOORBUSTER] is State.FAILED,
            "the new post asked and shown",
        )
        assert app.next_at == planned  # a pass of its own: the next pass keeps its time
