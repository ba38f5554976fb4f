"""The posts table: the board's visible rows only (a virtual table), so 100,000 posts stay fast."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.message import Message

from wahdx_tui.core.board.state import Board, Row
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.ui.widgets.columns import Layout, cell_texts, layout_for
from wahdx_tui.ui.widgets.virtualtable import SortHeader, VirtualTable

_STATE_CLASSES: dict[State, str] = {
    State.QUEUED: "board-table--queued",
    State.PROCESSING: "board-table--processing",
    State.PUBLISHED: "board-table--published",
    State.UNKNOWN: "board-table--unknown",
    State.FAILED: "board-table--failed",
}


def _wanted_widths(board: Board, sample: int = 5000) -> dict[str, int]:
    """Preferred column widths from the longest values (from a sample of rows on big boards)."""
    rows = list(board.rows.values())[:sample]
    if not rows:
        return {}
    return {
        "label": max(len(r.label) for r in rows),
        "account": max(len(r.account) for r in rows),
        "publish": max(len(r.publish) for r in rows),
    }


class TableHeader(SortHeader):
    """The column headings; a click sorts by that column."""

    DEFAULT_CSS = "TableHeader { height: 1; }"

    class SortClicked(SortHeader.SortClicked):
        """The operator clicked a column heading."""


class BoardTable(VirtualTable[PostKey, Row]):
    """The posts, one line each; reconciled by row key so only changed lines are redrawn."""

    COMPONENT_CLASSES = {
        "board-table--cursor",
        "board-table--failed",
        "board-table--failed-cursor",
        "board-table--stuck",
        "board-table--acked",
        "board-table--stale",
        "board-table--empty",
        "board-table--queued",
        "board-table--processing",
        "board-table--published",
        "board-table--unknown",
        "board-table--unknown-answer",
    }

    @dataclass
    class Selected(Message):
        """Enter (or a second click) on a row."""

        key: PostKey

    EMPTY = "board-table--empty"

    class LayoutChanged(VirtualTable.LayoutChanged):
        """The columns shown, or their widths, changed (the header must follow)."""

    def __init__(self, board: Board, **kwargs: object) -> None:
        super().__init__(board, layout_for(120, {}), **kwargs)
        self.board = board
        self.stale = False  # some rows are unanswered (Board.mark_unanswered)
        self._wanted: dict[str, int] = {}

    # -- geometry ---------------------------------------------------------------------------

    def layout_at(self, width: int) -> Layout:
        """The columns that fit `width`, for the posts' longest values."""
        return layout_for(width, self._wanted, stale=self.stale)

    def posts_changed(self) -> None:
        """The set of posts changed (hot reload): recompute preferred column widths."""
        self._wanted = _wanted_widths(self.board)
        self._relayout()
        self.reconcile(full=True)

    def on_mount(self) -> None:
        """Measure the posts' preferred widths (VirtualTable.on_mount, called after this one,
        sizes the scroll area)."""
        self._wanted = _wanted_widths(self.board)

    # -- drawing ----------------------------------------------------------------------------

    def mark_stale(self, stale: bool) -> None:
        """Some rows are stale (or none now): lay out and redraw for it."""
        if stale != self.stale:
            self.stale = stale
            self._relayout()  # the Checked column, which says so, is kept while rows are stale
        self.reconcile(full=True)

    def cells(self, row: Row, now: float) -> tuple[str, ...]:
        """The row's cell texts in the shown columns."""
        return cell_texts(row, self.column_layout.columns, now)

    def style_name(self, row: Row, is_cursor: bool) -> str:
        """Failed rows stand out most, then the cursor, stuck, unknown, acknowledged, stale."""
        if row.state is State.FAILED and not row.acked:
            return "board-table--failed-cursor" if is_cursor else "board-table--failed"
        if is_cursor:
            return "board-table--cursor"
        if row.stuck:
            return "board-table--stuck"
        if row.unknown_answer:
            return "board-table--unknown-answer"
        if row.acked:
            return "board-table--acked"
        if row.from_last_run or row.unanswered:
            return "board-table--stale"
        return ""

    def empty_text(self) -> str:
        """Why no post shows: the filters, or no posts at all yet."""
        if not self.board.rows:  # a team's watchlist with nothing on it yet
            return "no posts yet: n adds one, or wahdx-tui add (see the README)"
        return "no posts match: Esc clears the filter, f cycles the state filter"

    def first_style(self, row: Row, name: str) -> Style | None:
        """The colour of the state cell of a plain row: its state's own. Failed, stuck,
        acknowledged, stale and cursor rows are styled whole; NO_COLOR has no state colours."""
        if name or row.state is State.FAILED or self.app.no_color:
            return None
        return self._style_named(_STATE_CLASSES[row.state])

    def chosen(self) -> None:
        """A double click opens the post."""
        if self.cursor_key is not None:
            self.post_message(self.Selected(self.cursor_key))

    @property
    def cursor_key(self) -> PostKey | None:
        """The post the cursor follows (None until the operator moves it)."""
        return self.followed  # type: ignore[return-value]

    @cursor_key.setter
    def cursor_key(self, key: PostKey | None) -> None:
        self.followed = key
