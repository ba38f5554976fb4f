"""Snapshot tests of the board (pytest-textual-snapshot): main screen at 120x36 and 80x24, the
detail screen of a failed post, the help screen, the main screen with NO_COLOR, and the demo's
morning with the API down at 80x24 and 120x36 (every alarm whole in the summary and banner).

Every snapshot is deterministic: the simulator's clock is fixed (so every post's state comes
from the seed and one fixed `advance`), the wall clock the board shows is pinned (`time.time`,
`time.strftime` without a time tuple, and TZ=UTC), the board's own clock is fixed,
the file watcher is off, and toasts are cleared before the picture is taken.

Regenerate after an intended change of the screen with:
    .venv/bin/pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.support.fixtures import (
    FIXED_NOW,
    FakeClock,
    board_on,
    demo_board,
    rechecked,
    running_demo,
    sample_watchlist,
    screen_text,
    until,
)
from wahdx_tui.core.domain.model import State
from wahdx_tui.sim import SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.screens.help import HelpScreen

SnapCompare = Callable[..., bool]

SIM_CLOCK = 1000.0
# Sim seconds after start: with seed 7 the sample board then holds 2 failed, 8 processing
# and 15 published posts.
ADVANCE = 70.0


def make_board(sims: Callable[..., SimServer]) -> BoardApp:
    """The board on the sample watchlist against a simulator whose clock never moves."""
    watchlist = sample_watchlist()
    sim = sims(watchlist.posts, advance=ADVANCE, clock=FakeClock(SIM_CLOCK))
    return board_on(sim, watchlist, interval=5, clock=lambda: FIXED_NOW, bell=False)


async def wait_first_pass(pilot: Pilot[int]) -> None:
    """Wait for the first refresh, then drop its toasts so only the board is pictured."""
    app = pilot.app
    assert isinstance(app, BoardApp)
    await until(
        lambda: app.engine.passes >= 1 and not app.engine.polling, "the first pass", pilot=pilot
    )
    assert app.engine.passes >= 1, "the first pass never came"
    app.clear_notifications()
    await pilot.pause()


async def open_failed_detail(pilot: Pilot[int]) -> None:
    """Open the first failed post and wait for its re-check to come back."""
    await wait_first_pass(pilot)
    app = pilot.app
    assert isinstance(app, BoardApp)
    row = app.table.selected
    assert row is not None and row.state is State.FAILED
    await pilot.press("enter")
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    await until(lambda: rechecked(screen), "the re-check", pilot=pilot)
    assert screen.recheck_note.startswith("re-checked"), screen.recheck_note
    app.clear_notifications()
    await pilot.pause()


async def open_help(pilot: Pilot[int]) -> None:
    await wait_first_pass(pilot)
    await pilot.press("question_mark")
    assert isinstance(pilot.app.screen, HelpScreen)
    await pilot.pause()


def test_main_screen_120x36(
    snap_compare: SnapCompare, pinned_time: None, sims: Callable[..., SimServer]
) -> None:
    assert snap_compare(make_board(sims), terminal_size=(120, 36), run_before=wait_first_pass)


def test_main_screen_80x24(
    snap_compare: SnapCompare, pinned_time: None, sims: Callable[..., SimServer]
) -> None:
    assert snap_compare(make_board(sims), terminal_size=(80, 24), run_before=wait_first_pass)


def test_detail_screen_of_a_failed_post(
    snap_compare: SnapCompare, pinned_time: None, sims: Callable[..., SimServer]
) -> None:
    assert snap_compare(make_board(sims), terminal_size=(120, 36), run_before=open_failed_detail)


def test_help_screen(
    snap_compare: SnapCompare, pinned_time: None, sims: Callable[..., SimServer]
) -> None:
    assert snap_compare(make_board(sims), terminal_size=(120, 36), run_before=open_help)


def test_main_screen_no_color(
    snap_compare: SnapCompare,
    pinned_time: None,
    sims: Callable[..., SimServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the App is constructed
    app = make_board(sims)
    assert app.no_color
    assert snap_compare(app, terminal_size=(120, 36), run_before=wait_first_pass)


async def test_main_screen_80x24_text_is_the_board(
    pinned_time: None, sims: Callable[..., SimServer]
) -> None:
    """What the 80x24 snapshot holds, as text: the summary, the headings, every row, keys."""
    app = make_board(sims)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_first_pass(pilot)
        lines = screen_text(app).split("\n")
    text = "\n".join(lines)
    assert "✗ 2 FAILED" in text
    assert "updated 13:20:00" in text
    assert "next 13:20:05" in text  # the next pass's time, one interval on
    assert len(lines) == 24
    header = lines[2]
    assert "State ▲" in header and "Label" in header and "Detail" in header
    assert "Media" not in header and "Checked" not in header  # low-value columns dropped
    assert lines[3].lstrip().startswith("✗ FAILED     Doorbuster unbo")
    assert lines[4].lstrip().startswith("✗ FAILED     Gift guide unde")
    assert sum("◐ PROCESSING" in line for line in lines) == 8
    assert sum("✓ PUBLISHED" in line for line in lines) == 10  # 20 table lines in all
    assert "q Quit" in lines[-1] and "r Refresh" in lines[-1]


# -- alarms at 80x24 and 120x36: the summary and the banner cut nothing that carries one --------


def alarm_board(server: SimServer) -> BoardApp:
    """The demo's morning (failures, a stuck post) on a board whose clock is pinned."""
    app = demo_board(server)
    app.clock = app.engine.clock = lambda: FIXED_NOW
    return app


async def api_goes_down(pilot: Pilot[int], server: SimServer) -> str:
    """The first pass, the stuck post flagged, then the API stops answering and r asks again:
    STALE, API DOWN since, the banner with the error, and every count. Returns the screen."""
    app = pilot.app
    assert isinstance(app, BoardApp)
    await wait_first_pass(pilot)
    app.check_stuck()
    server.faults.down = True
    passes = app.engine.passes
    await pilot.press("r")
    await until(
        lambda: app.engine.passes > passes and not app.engine.polling,
        "the failed pass",
        pilot=pilot,
    )
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()
    return screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_alarms_whole_in_the_summary_and_banner(
    snap_compare: SnapCompare, pinned_time: None, size: tuple[int, int]
) -> None:
    seen: list[str] = []
    with running_demo() as server:

        async def run_before(pilot: Pilot[int]) -> None:
            seen.append(await api_goes_down(pilot, server))

        assert snap_compare(alarm_board(server), terminal_size=size, run_before=run_before)
    text = seen[0].split("\n")
    counts, status = text[0], text[1]
    assert "✗ 4 FAILED" in counts and "⚠ 1 STUCK" in counts, counts
    assert "STALE" in status and "API DOWN since 13:20" in status, status
    banner = " ".join(line.strip() for line in text[2:5])
    assert "⚠ refresh failed at 13:20:00:" in banner and "showing last known data" in banner
