"""Watchlist edits while the board runs: posts added and removed keeping sort, filter and
cursor; a bad edit keeps the last good list; the newest save wins; edited settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.fixtures import ENTRIES, EXTRA, running_board, states_of, watchlist_text, write
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist, parse_watchlist

pytestmark = pytest.mark.usefixtures("quick_pilot")


async def test_hot_reload_adds_and_removes_posts_keeping_sort_filter_and_cursor(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    all_posts = parse_watchlist(watchlist_text(ENTRIES + EXTRA)).posts
    async with running_board(
        watchlist=load_watchlist(path), sim_posts=all_posts, watch_file=True, advance=70
    ) as h:
        board, table = h.app.board, h.table
        await h.pilot.press("s")  # sort by label
        await h.filter_by("acc_")  # a text filter matching every post
        row = await h.cursor_to(2)
        key = row.key
        h.app.clear_notifications()
        # an unchanged file is not reloaded
        h.app.check_watchlist_file()
        await h.pilot.pause()
        assert not any("reloaded" in n for n in h.notes())
        # remove one post (not the selected one), add two
        removed = next(e for e in ENTRIES if (e[0], e[1]) != key)
        kept = [e for e in ENTRIES if e is not removed]
        write(path, watchlist_text(kept + EXTRA))
        passes = h.app.engine.passes
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +2 / -1 posts" in h.notes(), "the reload")
        assert len(board.rows) == len(ENTRIES) - 1 + 2
        assert (removed[0], removed[1]) not in board.rows
        assert board.sort_column == "label"
        assert board.text_filter == "acc_"
        assert table.cursor_key == key
        assert board.key_at(table.cursor) == key
        # the added posts are checked at once
        await h.next_pass(passes)
        assert all(r.status is not None for r in board.rows.values())
        assert h.truth_mismatches() == []
        assert board.sort_column == "label"
        assert board.key_at(table.cursor) == key


async def test_hot_reload_of_an_invalid_edit_keeps_the_last_good_list(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True, advance=70) as h:
        before = states_of(h)
        # line 4 is broken: an entry without its publishId
        bad = watchlist_text(ENTRIES[:2]) + "  - {accountId: acc_tiktok_main, label: x}\n"
        write(path, bad)
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() is not None, "the banner")
        banner = h.banner()
        assert banner is not None
        assert "watchlist not reloaded, keeping the last good list" in banner
        assert f"{path}:4" in banner
        assert states_of(h) == before
        # a refresh does not hide the watchlist's banner
        await h.refresh()
        assert h.banner() == banner
        # YAML that does not parse at all
        write(path, watchlist_text(ENTRIES) + "  - {accountId: [unclosed\n")
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() != banner, "the new error")
        assert f"{path}:" in (h.banner() or "")
        assert states_of(h) == before
        # fixing the file reloads it and clears the banner
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +0 / -0 posts" in h.notes(), "the reload")
        assert h.banner() is None


async def test_two_quick_saves_apply_the_newer_list_even_when_the_older_read_ends_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    real_load = load_watchlist
    release = threading.Event()
    loads: list[int] = []
    ended: list[int] = []

    def slow_first_load(p: str) -> Watchlist:
        loads.append(1)
        mine = len(loads)
        result = real_load(p)
        if mine == 1:
            release.wait(10)  # the first read is held until the second has been applied
        ended.append(mine)
        return result

    # The engine reads the file on a thread through this name: the first read is slowed.
    monkeypatch.setattr("wahdx_tui.core.engine.engine.load_watchlist", slow_first_load)
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES[:3]))  # first save: 3 posts
        h.app.check_watchlist_file()
        await h.until(lambda: len(loads) == 1, "the first read")
        write(path, watchlist_text(ENTRIES + EXTRA))  # second save: all posts
        h.app.check_watchlist_file()
        await h.until(lambda: "watchlist reloaded: +2 / -0 posts" in h.notes(), "the second")
        release.set()
        await h.until(lambda: ended == [2, 1], "the first read to end")
        await h.pilot.pause()
        await h.pilot.pause()
        assert len(h.app.board.rows) == len(ENTRIES) + len(EXTRA)
        assert [n for n in h.notes() if "reloaded" in n] == ["watchlist reloaded: +2 / -0 posts"]


async def test_an_edited_interval_in_the_watchlist_applies_at_once(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        assert h.app.engine.interval == 60
        write(path, "settings: {interval: 30}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("refresh every 30s" in n for n in h.notes()), "the reload")
        assert h.app.engine.interval == 30
        assert h.shows_interval(30)
        assert h.app.next_at is not None and h.app.next_at - time.time() <= 30
        # + changes it on the board; an edit that leaves the file's interval alone keeps that
        await h.pilot.press("plus")
        assert h.app.engine.interval == 60
        h.app.clear_notifications()
        write(path, "settings: {interval: 30}\n" + watchlist_text(ENTRIES[:4]))
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the second reload")
        assert h.app.engine.interval == 60
        assert h.notes() == [f"watchlist reloaded: +0 / -{len(ENTRIES) - 4} posts"]


async def test_an_edited_final_every_applies_and_a_removed_setting_keeps_its_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        poller = h.app.engine.poller
        assert poller is not None
        write(path, "settings: {interval: 30, final_every: 3}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("every 3 passes" in n for n in h.notes()), "the reload")
        assert poller.final_every == 3 and h.app.engine.interval == 30
        h.app.clear_notifications()
        write(path, watchlist_text(ENTRIES[:4]))  # the settings taken out again
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the second reload")
        assert poller.final_every == 3 and h.app.engine.interval == 30


async def test_an_interval_given_on_the_command_line_wins_over_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(
        watchlist=load_watchlist(path), watch_file=True, fixed_settings=frozenset({"interval"})
    ) as h:
        write(path, "settings: {interval: 30, concurrency: 2}\n" + watchlist_text(ENTRIES))
        h.app.check_watchlist_file()
        await h.until(lambda: any("reloaded" in n for n in h.notes()), "the reload")
        assert h.app.engine.interval == 60
        assert any("concurrency take effect at the next start" in n for n in h.notes())


async def test_the_watchlist_error_outlives_an_api_outage(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    write(path, watchlist_text(ENTRIES))
    async with running_board(watchlist=load_watchlist(path), watch_file=True) as h:
        write(path, watchlist_text(ENTRIES[:2]) + "  - {accountId: acc_tiktok_main}\n")
        h.app.check_watchlist_file()
        await h.until(lambda: h.banner() is not None, "the watchlist error")
        h.sim.faults.down = True
        await h.refresh()
        h.sim.faults.down = False
        await h.refresh()
        assert "STALE" not in h.status()
        banner = h.banner()
        assert banner is not None and "watchlist not reloaded" in banner  # actual: no banner
