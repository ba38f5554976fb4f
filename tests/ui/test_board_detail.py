"""The detail screen (Enter): every field, its re-check and what it shows when a slow pass
answers after it; and copying with c (and i, u, e on the detail screen)."""

from __future__ import annotations

import pytest

from tests.support.fixtures import DOORBUSTER, Gate, held_client, rendered, running_board, squeezed
from wahdx_tui.core.domain.model import State
from wahdx_tui.ui.screens.detail import DetailScreen

pytestmark = pytest.mark.usefixtures("quick_pilot")


# -- Enter, detail screen --------------------------------------------------------------------------


async def test_enter_opens_the_detail_screen_which_rechecks_the_post() -> None:
    async with running_board(advance=70) as h:
        singles = h.sim.stats.single_requests
        row = await h.cursor_to(0)
        assert row.key == DOORBUSTER
        await h.pilot.press("enter")
        assert isinstance(h.app.screen, DetailScreen)
        screen = h.app.screen
        assert screen.row.key == DOORBUSTER
        await h.until(lambda: screen.recheck_note.startswith("re-checked at"), "the re-check")
        assert h.sim.stats.single_requests == singles + 1
        assert screen.recheck_note.endswith(": failed")
        await h.pilot.pause()
        fields = rendered(screen.query_one("#detail-fields"))
        raw = rendered(screen.query_one("#detail-raw"))
        assert row.status is not None and row.status.error
        assert "✗ FAILED" in fields
        assert "Doorbuster unboxing" in fields
        assert squeezed(row.status.error) in squeezed(fields)  # the error in full
        assert f'"error": "{row.status.error}"' in raw  # the raw JSON of the last response
        assert '"publishId": "v_pub_7315"' in raw
        # r on the detail screen re-checks again
        await h.pilot.press("r")
        await h.until(lambda: h.sim.stats.single_requests == singles + 2, "a second re-check")
        await h.until(lambda: screen.recheck_note.startswith("re-checked at"), "the re-check")
        await h.pilot.press("escape")
        assert not isinstance(h.app.screen, DetailScreen)


async def test_detail_screen_shows_every_field_and_a_clickable_url() -> None:
    async with running_board(advance=70) as h:
        index = len(h.app.board) - 1  # published rows sort last
        await h.pilot.press("G")
        row = h.table.selected
        assert row is not None and row.state is State.PUBLISHED
        assert h.table.cursor == index
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        await h.pilot.pause()
        text = rendered(screen.query_one("#detail-fields"))
        for name in ("State", "Label", "Account", "Publish ID", "Media type", "In state"):
            assert name in text
        for name in ("Checked", "Raw status", "Public URL", "Error"):
            assert name in text
        assert row.publish in text
        assert "✓ PUBLISHED" in text
        assert row.status is not None and row.status.public_url
        links = {
            seg.style.link
            for strip in screen.query_one("#detail-fields").render_lines(
                screen.query_one("#detail-fields").region.reset_offset
            )
            for seg in strip
            if seg.style is not None and seg.style.link
        }
        assert links == {row.status.public_url}


async def test_detail_recheck_failure_is_reported_on_the_screen() -> None:
    async with running_board(advance=70) as h:
        h.sim.faults.down = True
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        await h.until(lambda: "failed:" in screen.recheck_note, "the failed re-check")
        assert screen.recheck_note.startswith("re-check at")
        assert h.app.board.row_at(0).state is State.FAILED  # nothing lost


async def test_a_slow_pass_does_not_undo_a_recheck_asked_after_it() -> None:
    """The pass reads the API before the post fails, the re-check after; the pass answers
    last. The board must keep the re-check's FAILED, not flip back for an interval (the rule
    itself: tests/test_engine.py; here, what the board and the detail screen show)."""
    async with running_board(advance=0, held=True) as h:
        app = h.app
        assert app.board.rows[DOORBUSTER].state is not State.FAILED
        client = held_client(app.engine)
        gate = client.after_pass = Gate()  # the API's answer before the failure is held...
        passes = app.engine.passes
        app.start_poll(everything=True)
        await h.until(gate.reached.is_set, "the pass to have its (old) answer")
        h.sim.advance(40)  # the post fails now
        board = app.board
        await h.cursor_to(next(i for i in range(len(board)) if board.row_at(i).key == DOORBUSTER))
        await h.pilot.press("enter")  # the detail screen re-checks the selected post
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.row.key == DOORBUSTER
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        gate.open()  # ... and delivered only after the re-check's
        await h.next_pass(passes)
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        assert "FAILED" in rendered(screen.query_one("#detail-fields"))
        client.after_pass = None
        await h.pilot.press("escape")
        await h.refresh()  # the next pass is newer than the re-check, and agrees
        assert app.board.rows[DOORBUSTER].state is State.FAILED
        assert app.engine.freshness.tracked == 0


# -- c ---------------------------------------------------------------------------------------------


async def test_c_copies_the_error_url_or_publish_id_of_the_selected_post() -> None:
    # sim time 30: one failed, two queued, fourteen processing, eight published
    async with running_board(advance=30) as h:
        row = await h.cursor_to(h.index_of_state(State.FAILED))
        await h.pilot.press("c")
        assert row.status is not None and row.status.error
        assert h.app.clipboard == row.status.error
        assert f"copied error of {row.publish}" in h.notes()

        row = await h.cursor_to(h.index_of_state(State.PUBLISHED))
        await h.pilot.press("c")
        assert row.status is not None and row.status.public_url
        assert h.app.clipboard == row.status.public_url
        assert h.app.clipboard.startswith("https://")
        assert f"copied URL of {row.publish}" in h.notes()

        for state in (State.QUEUED, State.PROCESSING):
            row = await h.cursor_to(h.index_of_state(state))
            await h.pilot.press("c")
            assert h.app.clipboard == row.post.publish_id
            assert f"copied publish ID of {row.publish}" in h.notes()


async def test_detail_screen_copy_keys_copy_the_shown_post() -> None:
    async with running_board(advance=70) as h:
        row = await h.cursor_to(h.index_of_state(State.PUBLISHED))
        await h.pilot.press("enter")
        assert isinstance(h.app.screen, DetailScreen)
        await h.pilot.press("i")
        assert h.app.clipboard == row.post.publish_id
        await h.pilot.press("u")
        assert row.status is not None
        assert h.app.clipboard == row.status.public_url
        await h.pilot.press("e")
        assert "no error to copy" in h.notes()
        await h.pilot.press("c")
        assert h.app.clipboard == row.status.public_url


async def test_c_on_the_detail_screen_copies_the_shown_post_after_a_refresh() -> None:
    async with running_board() as h:
        # nothing has failed yet: the top row is the first processing post
        shown = h.table.selected
        assert shown is not None and shown.state is State.PROCESSING
        await h.pilot.press("enter")
        screen = h.app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.row.key == shown.key
        await h.until(lambda: screen.recheck_note.startswith("re-checked"), "the re-check")
        # a post fails; the board's timer refreshes while the detail screen is open
        h.sim.advance(40)
        passes = h.app.engine.passes
        h.app.start_poll()
        await h.next_pass(passes)
        assert h.app.board.key_at(0) == DOORBUSTER
        assert h.app.screen is screen
        await h.pilot.press("c")
        assert h.app.clipboard == shown.post.publish_id  # actual: Doorbuster's error


async def test_enter_and_c_do_nothing_when_the_filter_hides_every_row() -> None:
    async with running_board(advance=70) as h:
        await h.cursor_to(3)
        await h.filter_by("no such post")
        assert len(h.app.board) == 0
        clipboard = h.app.clipboard
        await h.pilot.press("c")
        await h.pilot.press("enter")
        assert h.app.clipboard == clipboard
        assert not isinstance(h.app.screen, DetailScreen)
