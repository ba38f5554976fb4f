"""Themes: offered in the command palette, the choice remembered across runs in the XDG config
directory (written atomically), and a high-contrast theme where failed does not rely on red."""

from __future__ import annotations

import colorsys
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.pilot import Pilot

from tests.support.fixtures import FIXED_NOW, demo_board, running_demo, until
from wahdx_tui.core.domain.model import State
from wahdx_tui.sim import SimServer
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.themes import (
    HIGH_CONTRAST,
    remember_theme,
    saved_theme,
    settings_path,
)
from wahdx_tui.ui.widgets.table import BoardTable


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with running_demo() as server:
        yield server


async def first_pass(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, BoardApp)
    await until(
        lambda: app.engine.passes >= 1 and not app.engine.polling, "the first pass", pilot=pilot
    )


def test_the_settings_live_in_the_xdg_config_directory(own_config_home: Path) -> None:
    assert settings_path() == own_config_home / "wahdx-tui" / "ui.json"


async def test_a_theme_chosen_in_the_palette_is_remembered_for_the_next_run(
    sim: SimServer, own_config_home: Path
) -> None:
    app = demo_board(sim)
    async with app.run_test(size=(120, 36)) as pilot:
        await first_pass(pilot)
        assert HIGH_CONTRAST.name in app.available_themes
        assert app.theme == "textual-dark"  # nothing saved yet: Textual's default
        # Ctrl+P, the Theme command, then the high-contrast theme by name
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot=pilot)
        commands = app.screen
        await pilot.press(*"theme")
        await pilot.pause(0.1)  # the palette searches in the background
        await pilot.press("enter")
        await until(
            lambda: isinstance(app.screen, CommandPalette) and app.screen is not commands,
            "the theme list",
            pilot=pilot,
        )
        await pilot.press(*"wahdx-high")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await until(lambda: app.theme == HIGH_CONTRAST.name, "the theme applied", pilot=pilot)
        await until(lambda: saved_theme() == HIGH_CONTRAST.name, "the choice saved", pilot=pilot)
    saved = json.loads((own_config_home / "wahdx-tui" / "ui.json").read_text())
    assert saved == {"theme": HIGH_CONTRAST.name}
    # the next run opens in it
    again = demo_board(sim)
    async with again.run_test(size=(120, 36)) as pilot:
        await first_pass(pilot)
        assert again.theme == HIGH_CONTRAST.name


def hue_and_saturation(rgb: tuple[int, int, int]) -> tuple[float, float]:
    h, _, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return h * 360, s


async def test_high_contrast_failed_rows_do_not_rely_on_red(sim: SimServer) -> None:
    remember_theme(HIGH_CONTRAST.name)
    app = demo_board(sim)
    async with app.run_test(size=(120, 36)) as pilot:
        await first_pass(pilot)
        assert app.theme == HIGH_CONTRAST.name
        table = app.query_one(BoardTable)
        assert table.board.row_at(1).state is State.FAILED
        strip = table.render_line(1)  # a failed row off the cursor
        assert "".join(s.text for s in strip).startswith("✗ FAILED")
        for seg in strip:
            style = seg.style
            assert style is not None and style.bgcolor is not None and style.color is not None
            bg = style.bgcolor.get_truecolor()
            fg = style.color.get_truecolor()
            _, saturation = hue_and_saturation((bg.red, bg.green, bg.blue))
            assert saturation < 0.1  # no hue at all: white behind black, in bold
            assert (bg.red, bg.green, bg.blue) == (255, 255, 255)
            assert (fg.red, fg.green, fg.blue) == (0, 0, 0)
            assert style.bold


async def test_a_saved_theme_that_no_longer_exists_or_a_broken_file_is_ignored(
    sim: SimServer, own_config_home: Path
) -> None:
    path = own_config_home / "wahdx-tui" / "ui.json"
    path.parent.mkdir(parents=True)
    for content in ('{"theme": "gone-theme"}', "{not json", '["theme"]', "\x00" * 70_000):
        path.write_text(content)
        app = demo_board(sim)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_pass(pilot)
            assert app.theme == "textual-dark"


def test_remembering_keeps_other_settings_and_replaces_the_file_whole(
    own_config_home: Path,
) -> None:
    path = own_config_home / "wahdx-tui" / "ui.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"other": 1, "theme": "textual-light"}')
    before = path.stat().st_ino
    assert remember_theme("nord") is None
    assert json.loads(path.read_text()) == {"other": 1, "theme": "nord"}
    assert path.stat().st_ino != before  # a new file moved into place, not rewritten
    assert [p.name for p in path.parent.iterdir()] == ["ui.json"]  # no temporary left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_settings_folder_that_refuses_writes_gives_one_error(own_config_home: Path) -> None:
    folder = own_config_home / "wahdx-tui"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        error = remember_theme("nord")
        assert error is not None and error.startswith("cannot save the theme in")
    finally:
        folder.chmod(0o700)


def test_a_settings_path_that_is_a_folder_gives_one_error(own_config_home: Path) -> None:
    (own_config_home / "wahdx-tui" / "ui.json").mkdir(parents=True)
    error = remember_theme("nord")
    assert error is not None and error.startswith("cannot save the theme in")
    assert saved_theme() is None


def test_the_high_contrast_theme_is_a_textual_theme(tmp_path: Path) -> None:
    app: App[None] = App()
    app.register_theme(HIGH_CONTRAST)
    assert app.get_theme(HIGH_CONTRAST.name) is HIGH_CONTRAST


def test_the_demo_board_in_high_contrast(
    snap_compare: Callable[..., bool], pinned_time: None
) -> None:
    """The demo's first screen in the high-contrast theme (regenerate with --snapshot-update)."""
    remember_theme(HIGH_CONTRAST.name)
    with running_demo() as server:
        app = demo_board(server)
        app.clock = app.engine.clock = lambda: FIXED_NOW

        async def ready(pilot: Pilot[int]) -> None:
            await first_pass(pilot)
            app.check_stuck()  # as the board's tick does: the stuck post is flagged
            await pilot.pause()  # its toast arrives, and is then cleared with the rest
            app.clear_notifications()
            await pilot.pause()

        assert snap_compare(app, terminal_size=(120, 36), run_before=ready)
