"""The keys that change what the board shows: sort, filters, and posts or accounts."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.actions import SkipAction
from textual.app import App
from textual.widgets import Input

from wahdx_tui.core.board.state import SORT_COLUMNS, STATE_FILTERS, Board
from wahdx_tui.core.board.trend import failures_per_hour
from wahdx_tui.core.domain.categories import Category
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.ui.widgets.accounts import AccountChosen, AccountsView
from wahdx_tui.ui.widgets.filterbox import FilterBox
from wahdx_tui.ui.widgets.table import BoardTable, TableHeader

CATEGORY_FILTERS: tuple[Category | None, ...] = (None, *Category)


class BoardViews(App[int]):
    """The board app's view keys; the app supplies the board and its one redraw path."""

    clock: Callable[[], float] = time.time

    @property
    def board(self) -> Board:
        """The rows shown (the app's engine's board)."""
        raise NotImplementedError

    @property
    def table(self) -> BoardTable:
        """The posts table."""
        return self.query_one(BoardTable)

    def events(self) -> list[Transition]:
        """The newest state changes, newest first (for the trends)."""
        raise NotImplementedError

    def board_changed(self, *, full: bool = True) -> None:
        """Redraw after the board changed."""
        raise NotImplementedError

    def action_sort_next(self) -> None:
        """Sort by the next column."""
        i = SORT_COLUMNS.index(self.board.sort_column)
        self.board.set_sort(SORT_COLUMNS[(i + 1) % len(SORT_COLUMNS)])
        self.board_changed()

    def action_sort_reverse(self) -> None:
        """Reverse the order."""
        self.board.set_sort(self.board.sort_column, not self.board.reverse)
        self.board_changed()

    def on_board_table_layout_changed(self) -> None:
        """The columns changed: the headings follow."""
        self.query_one(TableHeader).refresh()

    def on_table_header_sort_clicked(self, message: TableHeader.SortClicked) -> None:
        """A click on a heading sorts by it (again: reverse)."""
        board = self.board
        board.set_sort(message.column, message.column == board.sort_column and not board.reverse)
        self.board_changed()

    def action_state_filter(self) -> None:
        """Cycle all, failed, processing, queued, published, unknown."""
        i = STATE_FILTERS.index(self.board.state_filter)
        self.board.set_state_filter(STATE_FILTERS[(i + 1) % len(STATE_FILTERS)])
        self.board_changed()

    def action_category_filter(self) -> None:
        """Cycle the failure-category filter: all, then each category."""
        i = CATEGORY_FILTERS.index(self.board.category_filter)
        self.board.set_category_filter(CATEGORY_FILTERS[(i + 1) % len(CATEGORY_FILTERS)])
        self.board_changed()

    def action_filter(self) -> None:
        """Open the text filter."""
        box = self.query_one(FilterBox)
        if (
            len(self.screen_stack) > 1
            or self.query_one(AccountsView).display
            or (isinstance(self.focused, Input) and self.focused is not box)
        ):
            raise SkipAction()  # another screen or box: the key is typed there as a '/'
        box.open()

    def action_clear_filter(self) -> None:
        """Clear the text and account filters and hide the filter box."""
        self.board.set_account_filter(None)
        self.query_one(FilterBox).clear_filter()

    def on_filter_box_applied(self) -> None:
        """The text filter changed."""
        self.board_changed()

    def on_filter_box_done(self) -> None:
        """Enter or Esc in the filter box: back to the table."""
        self.set_focus(self.table, scroll_visible=False)

    def action_toggle_view(self) -> None:
        """Switch between the posts and the accounts (one line per account, worst first)."""
        view = self.query_one(AccountsView)
        view.display = not view.display
        for posts in (self.table, self.query_one(TableHeader)):
            posts.display = not view.display
        if view.display:
            self.board_changed()  # fills the accounts afresh
            view.show_trend(failures_per_hour(self.events(), self.clock()))
            view.focus_table()
        else:
            self.table.focus()

    def on_account_chosen(self, message: AccountChosen) -> None:
        """Back to the posts, showing only the chosen account's (Esc shows all again)."""
        self.board.set_account_filter(message.account_id)
        self.action_toggle_view()
        self.board_changed()
