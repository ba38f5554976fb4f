"""The accounts view on the board: `v` shows it, `Enter` filters the posts to one account, `Esc`
shows all again; it follows passes while shown."""

from __future__ import annotations

import pytest

from tests.support.fixtures import running_board
from wahdx_tui.core.domain.model import State
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
