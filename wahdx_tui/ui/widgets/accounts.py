"""The accounts view: one line per account, worst first, with the day's failure trend above."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from wahdx_tui.core.board.accounts import ACCOUNT_SORT_COLUMNS, AccountRow, Accounts
from wahdx_tui.core.domain.model import State
from wahdx_tui.ui.widgets.columns import (
    Column,
    Layout,
    Sharing,
    fitting_columns,
    next_sort,
)
from wahdx_tui.ui.widgets.trend import FailureTrend
from wahdx_tui.ui.widgets.virtualtable import SortHeader, VirtualTable

# In table order; the reason column takes what is left. Each is shown whole: its comfortable
# width, the account id its longest (glyph included) up to its maximum.
ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column("account", "Account", 16, 24, 42, 100),
    Column("platform", "Platform", 9, 9, 9, 60),
    # Count columns are their heading and one more cell wide: room for the sort arrow.
    Column("posts", "Posts", 6, 6, 6, 55),
    Column("failed", "Failed", 7, 7, 7, 90),
    Column("unreviewed", "Unrev", 6, 6, 6, 95),
    Column("stuck", "Stuck", 6, 6, 6, 85),
    Column("processing", "Proc", 5, 5, 5, 40),
    Column("queued", "Queued", 7, 7, 7, 35),
    Column("published", "Publ", 5, 5, 5, 45),
    Column("reason", "Top reason", 12, 30, 30, 80),
)


def account_layout(width: int, longest_account: int = 22) -> Layout:
    """Fit the columns into `width`: the least kept go first; the account id is grown to its
    longest (glyph included) first, then the reason, which also takes what is left."""
    wanted = {"account": longest_account + 2}
    cols = fitting_columns(
        ACCOUNT_COLUMNS, width, lambda c: c.whole(wanted), first="account", fewest=1
    )
    share = Sharing(cols, width)
    for c in cols:
        if c.key in ("account", "reason"):
            share.grow(c.key, c.whole(wanted))
    return share.layout("reason", "account")


def _count(n: int) -> str:
    return str(n) if n else "·"


def glyph(row: AccountRow) -> str:
    """What the account's line says first, readable without colour."""
    if row.unreviewed:
        return "✗"
    if row.stuck:
        return "⚠"
    if row.posts and row.count(State.PUBLISHED) == row.posts:
        return "✓"
    return " "


def account_cells(row: AccountRow, columns: Sequence[Column]) -> tuple[str, ...]:
    """The text of each shown column for one account."""
    out: list[str] = []
    for col in columns:
        key = col.key
        if key == "account":
            text = f"{glyph(row)} {row.account}"
        elif key == "platform":
            text = row.platform or "—"
        elif key == "posts":
            text = str(row.posts)
        elif key == "failed":
            text = _count(row.failed)
        elif key == "unreviewed":
            text = _count(row.unreviewed)
        elif key == "stuck":
            text = _count(row.stuck)
        elif key in ("processing", "queued", "published"):
            text = _count(row.count(State(key)))
        elif row.category is not None:
            # The category as the posts table's Reason column names it, then the text.
            name = row.category.value.replace("_", " ")
            text = f"{name} ×{row.category_count}: {row.reason}"
        else:
            text = ""
        out.append(text)
    return tuple(out)


class AccountChosen(Message):
    """Enter on an account: show the posts of `account_id` (as the watchlist spells it)."""

    def __init__(self, account_id: str, account: str) -> None:
        super().__init__()
        self.account_id = account_id
        self.account = account
        """The id made inert, for saying which account is shown."""


class AccountsHeader(SortHeader):
    """The accounts table's headings; a click sorts by that column (again: reverses)."""

    DEFAULT_CSS = "AccountsHeader { height: 1; }"
    TIGHT_ARROW = True

    class SortClicked(SortHeader.SortClicked):
        """The operator clicked a heading."""


class AccountsTable(VirtualTable[str, AccountRow]):
    """The accounts, one line each, drawn only where visible and only when changed."""

    COMPONENT_CLASSES = {
        "accounts-table--cursor",
        "accounts-table--failed",
        "accounts-table--failed-cursor",
        "accounts-table--stuck",
        "accounts-table--empty",
    }
    EMPTY = "accounts-table--empty"

    class LayoutChanged(VirtualTable.LayoutChanged):
        """The columns shown, or their widths, changed."""

    def __init__(self, accounts: Accounts, **kwargs: object) -> None:
        super().__init__(accounts, account_layout(120), **kwargs)
        self.accounts = accounts

    def layout_at(self, width: int) -> Layout:
        """The columns that fit `width`, for the longest account id."""
        longest = max((len(a.account) for a in list(self.accounts.rows.values())[:5000]), default=0)
        return account_layout(width, longest)

    def redrawing_all(self) -> None:
        """Accounts come and go: the longest id, and so the layout, may have changed."""
        self._relayout()

    def cells(self, row: AccountRow, now: float) -> tuple[str, ...]:
        """The account's cell texts in the shown columns."""
        return account_cells(row, self.column_layout.columns)

    def style_name(self, row: AccountRow, is_cursor: bool) -> str:
        """Accounts with unreviewed failures stand out most, then the cursor, then stuck."""
        if row.unreviewed:
            return "accounts-table--failed-cursor" if is_cursor else "accounts-table--failed"
        if is_cursor:
            return "accounts-table--cursor"
        if row.stuck:
            return "accounts-table--stuck"
        return ""

    def empty_text(self) -> str:
        """What an empty accounts view says."""
        return "no accounts match: Esc clears the filter"

    def chosen(self) -> None:
        """A double click chooses the account."""
        row = self.selected
        if row is not None:
            self.post_message(AccountChosen(row.account_id, row.account))

    @property
    def cursor_id(self) -> str | None:
        """The account the cursor follows (None until the operator moves it)."""
        return self.followed if isinstance(self.followed, str) else None


class AccountsView(Widget):
    """The trend, headings, the accounts table and its filter box.

    The app feeds `accounts` (core.board.accounts.Accounts) from its one "board changed" path and
    then calls `reconcile()`; `show_trend(counts)` draws failures per hour. Enter posts
    AccountChosen. Keys: s / S sort, / filter (Esc clears), j k g G PgUp PgDn move.
    """

    DEFAULT_CSS = """
    AccountsView {
        height: 1fr;
        layout: vertical;
    }
    """
    BINDINGS = [
        Binding("enter", "choose", "Posts", show=False),
        # Shown: bound here, they stand in for the app's own s and / in the footer.
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("v", "app.toggle_view", "Posts"),  # back to the posts: said as such here
        Binding("escape", "clear_filter", "Clear filter", show=False),
        # Keys of the posts view alone: bound here, hidden, so the footer leaves them out while
        # this view has the keyboard; pressed, the app says where they work.
        Binding("a", "app.ack", "Ack", show=False),
        Binding("f", "app.state_filter", "State", show=False),
        Binding("F", "app.category_filter", "Reason", show=False),
    ]

    def __init__(self, accounts: Accounts, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.accounts = accounts

    def compose(self) -> ComposeResult:
        """Trend, headings, table, filter box."""
        table = AccountsTable(self.accounts, id="accounts-table")
        yield FailureTrend(id="accounts-trend")
        yield AccountsHeader(table, id="accounts-header")
        yield table
        yield Input(
            placeholder="filter accounts: id, platform, reason · Enter keeps · Esc clears",
            id="accounts-filter",
        )

    def on_mount(self) -> None:
        """The filter box shows only while filtering."""
        self.query_one("#accounts-filter", Input).display = False

    @property
    def table(self) -> AccountsTable:
        """The accounts table."""
        return self.query_one(AccountsTable)

    def focus_table(self) -> None:
        """Give the keyboard to the table (when the view is switched to)."""
        self.table.focus()

    def reconcile(self, *, full: bool = False) -> int:
        """Redraw what the last updates changed (see AccountsTable.reconcile)."""
        return self.table.reconcile(full=full)

    def show_trend(self, counts: Sequence[int]) -> None:
        """Failures per hour, oldest hour first (core.trend.failures_per_hour)."""
        self.query_one(FailureTrend).show(counts)

    # -- actions --------------------------------------------------------------------------

    def action_choose(self) -> None:
        """Show the posts of the account under the cursor."""
        row = self.table.selected
        if row is not None:
            self.post_message(AccountChosen(row.account_id, row.account))

    def _resort(self, column: str, reverse: bool) -> None:
        self.accounts.set_sort(column, reverse)
        self.table.reconcile(full=True)
        self.query_one(AccountsHeader).refresh()

    def action_sort_next(self) -> None:
        """Sort by the next column on screen."""
        shown = [c.key for c in self.table.column_layout.columns]
        nxt = next_sort(ACCOUNT_SORT_COLUMNS, self.accounts.sort_column, shown)
        self._resort(nxt, self.accounts.reverse)

    def action_sort_reverse(self) -> None:
        """Reverse the order."""
        self._resort(self.accounts.sort_column, not self.accounts.reverse)

    @on(AccountsHeader.SortClicked)
    def _heading_clicked(self, message: AccountsHeader.SortClicked) -> None:
        message.stop()
        same = message.column == self.accounts.sort_column
        self._resort(message.column, not self.accounts.reverse if same else False)

    @on(AccountsTable.LayoutChanged)
    def _layout_changed(self, message: AccountsTable.LayoutChanged) -> None:
        message.stop()
        self.query_one(AccountsHeader).refresh()

    def action_filter(self) -> None:
        """Open the filter box (a / typed in it is just a /)."""
        box = self.query_one("#accounts-filter", Input)
        if self.screen.focused is box:
            box.insert_text_at_cursor("/")
            return
        box.display = True
        self.screen.set_focus(box, scroll_visible=False)

    @on(Input.Changed, "#accounts-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.accounts.set_text_filter(event.value)
        self.table.reconcile(full=True)

    @on(Input.Submitted, "#accounts-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            self.query_one("#accounts-filter", Input).display = False
        self.screen.set_focus(self.table, scroll_visible=False)

    def action_clear_filter(self) -> None:
        """Clear the filter and hide its box."""
        box = self.query_one("#accounts-filter", Input)
        box.value = ""
        box.display = False
        self.accounts.set_text_filter("")
        self.table.reconcile(full=True)
        self.table.focus()
