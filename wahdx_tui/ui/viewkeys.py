"""The keys that change what the board shows: sort, filters, and posts or accounts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from textual.actions import SkipAction
from textual.app import App
from textual.widgets import Input

from wahdx_tui.core.board.state import SORT_COLUMNS, STATE_FILTERS, Board
from wahdx_tui.core.board.trend import failures_per_hour
from wahdx_tui.core.domain.categories import Category
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.ui.widgets.accounts import AccountChosen, AccountsView
from wahdx_tui.ui.widgets.columns import next_sort
from wahdx_tui.ui.widgets.filterbox import FilterBox
from wahdx_tui.ui.widgets.table import BoardTable, TableHeader

CATEGORY_FILTERS: tuple[Category | None, ...] = (None, *Category)
_F = TypeVar("_F")


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

    @property
    def accounts_shown(self) -> bool:
        """The accounts view is on screen (and the posts table hidden)."""
        return bool(self.query_one(AccountsView).display)

    def posts_only(self, what: str, how: str) -> bool:
        """In the accounts view, say that a key of the posts view does nothing there (`what`
        it does in the posts view, and `how` to get there); True when said."""
        if not self.accounts_shown:
            return False
        self.notify(f"{what} in the posts view: {how}", severity="warning", markup=False)
        return True

    def action_sort_next(self) -> None:
        """Sort by the next column of the view shown (only columns on screen)."""
        if self.accounts_shown:
            self.query_one(AccountsView).action_sort_next()
            return
        shown = [c.key for c in self.table.column_layout.columns]
        self.board.set_sort(next_sort(SORT_COLUMNS, self.board.sort_column, shown))
        self.board_changed()

    def action_sort_reverse(self) -> None:
        """Reverse the order (of the view shown)."""
        if self.accounts_shown:
            self.query_one(AccountsView).action_sort_reverse()
            return
        self.board.set_sort(self.board.sort_column, not self.board.reverse)
        self.board_changed()

    def update_summary(self) -> None:
        """Redraw the summary."""
        raise NotImplementedError

    def on_board_table_layout_changed(self) -> None:
        """The columns changed: the headings follow, and the summary (which says the sort
        when its column is off screen)."""
        self.query_one(TableHeader).refresh()
        self.update_summary()

    def on_table_header_sort_clicked(self, message: TableHeader.SortClicked) -> None:
        """A click on a heading sorts by it (again: reverse)."""
        board = self.board
        board.set_sort(message.column, message.column == board.sort_column and not board.reverse)
        self.board_changed()

    def _cycle_filter(
        self, what: str, values: tuple[_F, ...], current: _F, set_filter: Callable[[_F], None]
    ) -> None:
        """In the posts view, set a filter to the value after `current` in `values` (after
        the last, the first); in the accounts view, say `what` the key does where."""
        if self.posts_only(what, "v shows it (/ filters the accounts here)"):
            return
        set_filter(values[(values.index(current) + 1) % len(values)])
        self.board_changed()

    def action_state_filter(self) -> None:
        """Cycle all, failed, processing, queued, published, unknown."""
        board = self.board
        self._cycle_filter(
            "f filters by state", STATE_FILTERS, board.state_filter, board.set_state_filter
        )

    def action_category_filter(self) -> None:
        """Cycle the failure-category filter: all, then each category."""
        board = self.board
        self._cycle_filter(
            "F filters by reason",
            CATEGORY_FILTERS,
            board.category_filter,
            board.set_category_filter,
        )

    def action_filter(self) -> None:
        """Open the text filter."""
        box = self.query_one(FilterBox)
        if len(self.screen_stack) > 1:
            raise SkipAction()  # another screen: the key is typed there as a '/'
        if self.accounts_shown:
            self.query_one(AccountsView).action_filter()  # its own box (the palette too)
            return
        if isinstance(self.focused, Input) and self.focused is not box:
            raise SkipAction()  # another box: the key is typed there as a '/'
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
