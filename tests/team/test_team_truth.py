"""One truth on every board: a board that gains a post the store knows shows what the store
knows at once, and acknowledgements (who, when, the note) are the same on every board.

Run on SQLite and on a real PostgreSQL server: `wahdx-tui serve` as a real child process on the
simulator over loopback, boards as pilot apps (or engines) on their own store connections, as
operators on other terminals or hosts. Waits are bounded polls of a condition, never sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.support.fixtures import screen_text, squeezed
from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import (
    KEY,
    WATCHLIST,
    Served,
    child_env,
    engine_on,
    following,
    pilot_until,
    serve_process,
    summary,
    wait_for,
)
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.domain.records import Ack, StoredPost
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import Origin, scope_for
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.watchlist.reader import load_watchlist
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens.detail import DetailScreen

__all__ = ["pg_server"]  # the session fixture, imported so pytest finds it here

ANA = "ana@host-a"  # the operator on board A (with a key, a standby behind serve)
BEN = "ben@host-b"  # the operator on board B (no key)


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(
        SimConfig(posts=load_watchlist(WATCHLIST).posts, seed=7, api_key=KEY)
    ).start()
    server.advance(120)  # some posts have failed by now (seed 7), most are final
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The team store: a SQLite file, or a fresh database on the real PostgreSQL server (its
    password in $PGPASSWORD, which the child processes inherit)."""
    if request.param == "sqlite":
        yield str(tmp_path / "team.sqlite3")
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    monkeypatch.setenv("PGPASSWORD", server.password)
    try:
        yield server.url(name, password=False)
    finally:
        server.drop_database(name)


def serving(store: str, sim: SimServer, tmp_path: Path) -> AbstractContextManager[Served]:
    """`wahdx-tui serve` on the whole sample watchlist, on a host of its own."""
    home = tmp_path / "serve-host"
    home.mkdir(exist_ok=True)
    env = child_env(home, base_url=sim.base_url, key=KEY)
    return serve_process(
        env, home / "serve.log", str(WATCHLIST), "--interval", "2", "--store", store
    )


def stored(store: str, sim: SimServer) -> tuple[dict[PostKey, StoredPost], dict[PostKey, Ack]]:
    """What the store holds now: every post's last state, and the acknowledgements."""
    reader = open_store(store, readonly=True)
    try:
        scope = scope_for(sim.base_url)
        return reader.last_posts(scope), reader.acks(scope)
    finally:
        reader.close()


def failed_in_store(store: str, sim: SimServer, count: int) -> list[PostKey]:
    """Wait until the poller has stored `count` failed posts; return them."""
    found: list[PostKey] = []

    def enough() -> bool:
        found[:] = sorted(k for k, p in stored(store, sim)[0].items() if p.state is State.FAILED)
        return len(found) >= count

    wait_for(enough, f"{count} failed posts stored by the poller")
    return found[:count]


def write_list(path: Path, keys: list[PostKey]) -> None:
    """A watchlist file of these posts (labels of its own, as each operator keeps)."""
    lines = [f"  - {{accountId: {a}, publishId: {p}, label: mine {p}}}\n" for a, p in keys]
    path.write_text("posts:\n" + "".join(lines), encoding="utf-8")


def a_published_post(store: str, sim: SimServer) -> PostKey:
    """A post the poller has stored as published (for a list that starts without failures)."""
    posts = stored(store, sim)[0]
    return next(k for k, p in sorted(posts.items()) if p.state is State.PUBLISHED)


async def test_a_keyless_board_that_gains_posts_the_poller_saw_fail_shows_them_failed_at_once(
    store_url: str, sim: SimServer, tmp_path: Path
) -> None:
    """Issue 24: board B appended two posts the poller had seen FAILED and showed them as
    `? UNKNOWN … not checked yet` with `✗ 0 FAILED`, until Enter on each one."""
    with serving(store_url, sim, tmp_path) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        failed = failed_in_store(store_url, sim, 2)
        published = a_published_post(store_url, sim)
        mine = tmp_path / "b.yaml"
        write_list(mine, [published])
        app = BoardApp(
            engine_on(store_url, sim.base_url, key=None, watchlist=load_watchlist(mine)),
            bell=False,
        )
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")
            await pilot_until(
                pilot, lambda: app.board.rows[published].state is State.PUBLISHED, "its post"
            )
            write_list(mine, [published, *failed])  # B appends the two failed posts
            app.check_watchlist_file()
            await pilot_until(
                pilot,
                lambda: any("watchlist reloaded" in n.message for n in app._notifications),
                "the edit taken in",
            )
            # At once: no pass, no `r`, no Enter on each post.
            for key in failed:
                row = app.board.rows[key]
                assert row.state is State.FAILED, (key, row.state, row.detail)
                assert row.detail != "not checked yet" and row.checked_at is not None
            assert app.board.counts()[State.FAILED] == 2 and app.board.unreviewed == 2
            assert "✗ 2 FAILED" in summary(app)
            assert "not checked yet" not in screen_text(app)


async def test_acks_and_notes_are_one_truth_on_every_board_and_in_the_store(
    store_url: str, sim: SimServer, tmp_path: Path
) -> None:
    """Issue 24: A acknowledged a post ("page token: Sam on it"); B, gaining it, showed no
    acknowledgement, acknowledged it again with another note, and the store kept B's note
    while A kept showing its own."""
    with serving(store_url, sim, tmp_path) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        key = failed_in_store(store_url, sim, 1)[0]
        mine = tmp_path / "b.yaml"
        write_list(mine, [a_published_post(store_url, sim)])
        a = BoardApp(engine_on(store_url, sim.base_url, key=KEY, operator=ANA), bell=False)
        b = engine_on(
            store_url, sim.base_url, key=None, watchlist=load_watchlist(mine), operator=BEN
        )
        async with following(b), a.run_test(size=(120, 36)) as pilot:
            await pilot_until(pilot, lambda: "via poller on" in summary(a), "A attached")
            await pilot_until(pilot, lambda: a.board.rows[key].unreviewed_failure, "A's failure")
            # A acknowledges through its screen, with a note.
            a.table.move_cursor(a.board.index_of(key))
            await pilot.pause()
            await pilot.press("a")
            await pilot_until(pilot, lambda: a.screen.query("#ack-note"), "the note box")
            await pilot.press(*"page token: Sam on it", "enter")
            await pilot_until(pilot, lambda: key in stored(store_url, sim)[1], "A's ack stored")
            assert stored(store_url, sim)[1][key].by == ANA

            # B's list gains the post: its state, the ack, the note and who, at once.
            await reload_with(b, mine, [*b.board.rows, key])
            row = b.board.rows[key]
            assert row.state is State.FAILED and row.acked, (row.state, row.detail)
            assert (row.note, row.acked_by) == ("page token: Sam on it", ANA)
            assert b.board.unreviewed == 0

            # B acknowledges again with another note: the last write wins everywhere.
            b.acknowledge(key, "Ben: calling the client")
            await pilot_until(
                pilot, lambda: a.board.rows[key].note == "Ben: calling the client", "B's note on A"
            )
            ack = stored(store_url, sim)[1][key]
            assert (ack.note, ack.by) == ("Ben: calling the client", BEN)
            assert (a.board.rows[key].acked_by, a.board.rows[key].acked_at) == (BEN, ack.at)
            assert b.board.rows[key].note == ack.note
            # A's detail says who wrote the note and when.
            a.table.move_cursor(a.board.index_of(key))
            await pilot.pause()
            await pilot.press("enter")
            await pilot_until(pilot, lambda: isinstance(a.screen, DetailScreen), "A's detail")
            text = squeezed(screen_text(a))
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ack.at))
            assert squeezed(f"by {BEN} at {stamp}") in text
            assert squeezed("Ben: calling the client") in text
            await pilot.press("escape")

            # Taken back on B: unreviewed again on A, and nothing left in the store.
            b.unacknowledge(key)
            await pilot_until(pilot, lambda: not a.board.rows[key].acked, "the ack taken back")
            assert a.board.rows[key].unreviewed_failure and a.board.rows[key].note == ""
            await pilot_until(pilot, lambda: key not in stored(store_url, sim)[1], "store")


async def reload_with(engine: TeamEngine, path: Path, keys: list[PostKey]) -> None:
    """Save the board's watchlist file with these posts and let the engine take the save in,
    as the board's 2 s file check does."""
    write_list(path, keys)
    seq = engine.file_saved()
    assert seq is not None
    outcome = await engine.reload_file(seq)
    assert outcome is not None and outcome.error is None


async def test_a_post_taken_off_the_list_and_added_back_keeps_its_ack_while_a_board_watches_it(
    store_url: str, sim: SimServer, tmp_path: Path
) -> None:
    """Review: a post removed from the team's list, still watched by a file board (so the
    poller kept polling it for that board), then added back joined serve's board with no state;
    the next pass saw it fail "for the first time", dropped its acknowledgement for the whole
    team and alerted again."""
    with serving(store_url, sim, tmp_path) as served:
        wait_for(lambda: served.says("pass 1:"), "serve's first pass")
        key = failed_in_store(store_url, sim, 1)[0]
        mine = tmp_path / "b.yaml"
        write_list(mine, [key])
        b = engine_on(
            store_url, sim.base_url, key=None, watchlist=load_watchlist(mine), operator=BEN
        )
        async with following(b):
            b.acknowledge(key, "Sam on it")
            wait_for(lambda: key in stored(store_url, sim)[1], "the ack stored")
            scope = scope_for(sim.base_url)
            with open_store(store_url) as direct:
                assert direct.remove_watched(scope, [key]) == 1
            asked = sim.stats.requests
            wait_for(lambda: sim.stats.requests >= asked + 2, "two passes after")
            with open_store(store_url) as direct:
                assert (
                    direct.add_watched(scope, [b.board.rows[key].post], Origin("add", ANA)).added
                    == 1
                )
            # serve looks at the store every 0.5 s and passes every 2 s: three passes after the
            # add, the post is back on its board; one back without a state is due at once.
            asked = sim.stats.requests
            wait_for(lambda: sim.stats.requests >= asked + 3, "three passes after")
        ack = stored(store_url, sim)[1].get(key)
        assert ack is not None and ack.note == "Sam on it"  # still the team's acknowledgement
        assert served.text().count("newly FAILED") <= 1  # the first pass's, not again
