"""The accounts view on the board: `v` shows it, `Enter` filters the posts to one account, `Esc`
shows all again; it follows passes while shown; every other key acts on the accounts or says it
does not apply there. Taking an acknowledgement back asks first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.support.fixtures import Harness, running_board
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.keys import KEYS, Key
from wahdx_tui.ui.screens.ack import AckScreen, UnackScreen
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.widgets.accounts import AccountsTable, AccountsView
from wahdx_tui.ui.widgets.table import BoardTable

pytestmark = pytest.mark.usefixtures("quick_pilot")


async def test_v_then_enter_shows_one_accounts_posts_and_esc_all_again() -> None:
    async with running_board(advance=200) as h:
        app = h.app
        await h.pilot.press("v")
        view = app.query_one(AccountsView)
        assert view.display and not app.query_one(BoardTable).display
        assert app.focused is view.query_one(AccountsTable)
        worst = app.accounts.row_at(0)  # worst first: unreviewed failures on top
        assert worst.unreviewed > 0
        await h.pilot.press("enter")
        assert not view.display and app.query_one(BoardTable).display
        assert app.board.account_filter == worst.account_id
        shown = {app.board.row_at(i).post.account_id for i in range(len(app.board))}
        assert shown == {worst.account_id}
        assert f"account: {worst.account_id}" in h.line("view")
        await h.pilot.press("escape")
        assert app.board.account_filter is None
        assert len(app.board) == len(app.board.rows)


async def test_the_accounts_view_follows_a_pass_while_shown() -> None:
    async with running_board() as h:
        app = h.app
        await h.pilot.press("v")
        before = {
            r.account_id: r.failed
            for r in (app.accounts.row_at(i) for i in range(len(app.accounts)))
        }
        h.sim.advance(200)  # posts fail meanwhile
        await h.refresh()
        after = {
            r.account_id: r.failed
            for r in (app.accounts.row_at(i) for i in range(len(app.accounts)))
        }
        failed = app.board.counts()[State.FAILED]
        assert sum(after.values()) == failed > sum(before.values())


# -- every key in the accounts view acts on the accounts, or says it does not apply ------------


def _posts_view(app: BoardApp) -> tuple[object, ...]:
    """What the hidden posts view shows: its sort, filters, acknowledgements and cursor."""
    board = app.board
    acked = frozenset(k for k, r in board.rows.items() if r.acked)
    return (
        board.sort_column,
        board.reverse,
        board.state_filter,
        board.category_filter,
        board.text_filter,
        board.account_filter,
        acked,
        app.table.cursor,
    )


GLOBAL_ACTIONS = {"quit", "refresh", "pause", "interval(1)", "interval(-1)", "toggle_view"}
"""Keys that act on the board as a whole, whichever view is shown."""


@pytest.mark.parametrize(
    "key", [k for k in KEYS if k.action not in GLOBAL_ACTIONS], ids=lambda k: k.action
)
async def test_no_key_in_the_accounts_view_acts_on_the_hidden_posts(
    key: Key, tmp_path: Path
) -> None:
    async with running_board(advance=200, export_dir=tmp_path) as h:
        app = h.app
        await h.pilot.press("v")
        view = app.query_one(AccountsView)
        accounts_before = (app.accounts.sort_column, app.accounts.reverse, len(app.accounts))
        posts_before = _posts_view(app)
        notes_before = len(h.notes())
        await h.pilot.press(key.keys.split(",")[0])
        await h.pilot.pause()
        for _ in range(3):  # close a screen it opened (help, events, a filter box)
            if len(app.screen_stack) > 1 or isinstance(app.focused, Input):
                await h.pilot.press("escape")
        accounts_after = (app.accounts.sort_column, app.accounts.reverse, len(app.accounts))
        said = h.notes()[notes_before:]
        if key.action == "open_detail":  # Enter: the posts view, showing the account's posts
            assert not view.display and app.board.account_filter is not None
            return
        assert _posts_view(app) == posts_before, f"{key.keys} changed the hidden posts view"
        assert view.display, f"{key.keys} left the accounts view"
        acted = accounts_after != accounts_before or key.action in ("help", "events", "filter")
        assert acted or said, f"{key.keys} did nothing and said nothing"
        publish_ids = {r.publish for r in app.board.rows.values()}
        assert not any("posts to" in n or set(n.split()) & publish_ids for n in said), said


async def test_a_c_f_and_x_in_the_accounts_view(tmp_path: Path) -> None:
    async with running_board(advance=200, export_dir=tmp_path) as h:
        app = h.app

        def footer() -> set[str]:
            return {a.binding.key for a in app.screen.active_bindings.values() if a.binding.show}

        assert {"a", "f"} <= footer()
        await h.pilot.press("v")
        account = app.accounts.row_at(0)
        # The footer offers only what works here; the posts view's own keys still say where.
        assert not {"a", "f"} & footer() and {"s", "slash", "v", "x"} <= footer()
        assert app.screen.active_bindings["v"].binding.description == "Posts"
        await h.pilot.press("a")
        assert not isinstance(app.screen, AckScreen)
        assert h.notes()[-1] == (
            "a acknowledges a failed post in the posts view: Enter shows this account's posts"
        )
        await h.pilot.press("c")
        assert app.clipboard == account.account_id
        assert h.notes()[-1] == f"copied account ID {account.account}"
        await h.pilot.press("f")
        assert app.board.state_filter is None
        assert h.notes()[-1] == (
            "f filters by state in the posts view: v shows it (/ filters the accounts here)"
        )
        await h.pilot.press("F")
        assert app.board.category_filter is None
        await h.pilot.press("x")
        (csv_file,) = tmp_path.glob("wahdx-accounts-*.csv")
        assert f"exported {len(app.accounts)} accounts to" in h.notes()[-1]
        lines = csv_file.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("accountId,platform,posts,failed,unreviewed,stuck")
        assert [ln.split(",")[0] for ln in lines[1:]] == app.accounts.keys_in_view()
        await h.pilot.press("X")
        (json_file,) = tmp_path.glob("wahdx-accounts-*.json")
        records = json.loads(json_file.read_text(encoding="utf-8"))
        assert records[0]["accountId"] == account.account_id
        assert records[0]["unreviewed"] == account.unreviewed
        assert not list(tmp_path.glob("wahdx-export-*"))  # no posts were exported


async def test_palette_actions_in_the_accounts_view_act_on_the_accounts() -> None:
    async with running_board(advance=200) as h:
        app = h.app
        await h.pilot.press("v")
        posts_sort = (app.board.sort_column, app.board.reverse)
        await app.run_action("sort_next")
        assert app.accounts.sort_column == "account"
        await app.run_action("sort_reverse")
        assert app.accounts.reverse
        assert (app.board.sort_column, app.board.reverse) == posts_sort
        await app.run_action("filter")
        await h.pilot.pause()
        assert app.focused is app.query_one("#accounts-filter", Input)
        await h.pilot.press("escape")
        chosen = app.query_one(AccountsTable).selected
        assert chosen is not None
        await app.run_action("open_detail")  # Detail, from the palette: the account's posts
        await h.pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        assert app.board.account_filter == chosen.account_id


# -- taking an acknowledgement back asks first -----------------------------------------------------


async def _acked_failure(h: Harness) -> PostKey:
    """Acknowledge the failed post under the cursor through its dialog; its key."""
    row = h.table.selected
    assert row is not None and row.state is State.FAILED
    await h.pilot.press("a")
    await h.until(lambda: isinstance(h.app.focused, Input), "the note box")
    await h.pilot.press("o", "k", "enter")
    assert h.app.board.rows[row.key].acked
    h.table.move_cursor(h.app.board.index_of(row.key) or 0)
    await h.pilot.pause()
    return row.key


async def test_a_note_typed_after_a_on_an_acked_post_reaches_no_board_key() -> None:
    async with running_board(advance=200) as h:
        app = h.app
        key = await _acked_failure(h)
        before = (app.paused, app.engine.passes, app.table.cursor, app.board.sort_column)
        await h.pilot.press("a")
        assert isinstance(app.screen, UnackScreen)
        assert app.board.rows[key].acked  # nothing taken back yet
        # The note the operator meant for the acknowledge dialog: p g k r a s v and the rest.
        await h.pilot.press(*"paging the team about it", "enter")
        await h.pilot.pause()
        assert not isinstance(app.screen, UnackScreen)
        assert app.board.rows[key].acked  # Enter keeps it
        assert (app.paused, app.engine.passes, app.table.cursor, app.board.sort_column) == before
        assert not app.query_one(AccountsView).display


async def test_take_back_takes_the_acknowledgement_back_and_esc_keeps_it() -> None:
    async with running_board(advance=200) as h:
        app = h.app
        key = await _acked_failure(h)
        await h.pilot.press("a")
        await h.pilot.press("escape")
        assert app.board.rows[key].acked
        await h.pilot.press("a")
        assert isinstance(app.screen, UnackScreen)
        await h.pilot.press("tab", "enter")
        await h.pilot.pause()
        assert not app.board.rows[key].acked
        assert f"{key[1]} is unreviewed again" in h.notes()[-1]
