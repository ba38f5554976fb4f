"""A virtual table that draws only the visible rows of the board, so 100,000 posts stay fast."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from wahdx_tui.core.board.state import Board, Row
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.ui.widgets.columns import GAP, cell_texts, layout_for
from wahdx_tui.ui.widgets.cursortable import CursorTable

DrawnLine = tuple[PostKey, tuple[str, ...], str]
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


def _line(texts: tuple[str, ...], widths: tuple[int, ...], width: int, style: Style) -> Segment:
    """One table line as a single segment exactly `width` cells wide."""
    cells = [set_cell_size(t, w) for t, w in zip(texts, widths, strict=True)]
    line = (" " * GAP).join(cells)
    # Each cell is exactly its width, so the line's width is known without measuring it again
    # (measuring would also file every drawn line in Rich's cell-length cache).
    used = sum(widths) + GAP * (len(widths) - 1)
    if used <= width:
        return Segment(line + " " * (width - used), style)
    return Segment(set_cell_size(line, width), style)


def _segments(
    texts: tuple[str, ...],
    widths: tuple[int, ...],
    width: int,
    style: Style,
    first_style: Style | None,
) -> list[Segment]:
    """One table line exactly `width` cells wide; the first cell in `first_style` if given."""
    if first_style is None or len(texts) < 2 or widths[0] >= width:
        return [_line(texts, widths, width, style)]
    first = Segment(set_cell_size(texts[0], widths[0]), first_style)
    rest = _line(texts[1:], widths[1:], width - widths[0] - GAP, style)
    return [first, Segment(" " * GAP + rest.text, style)]


class TableHeader(Widget):
    """The column headings; a click sorts by that column."""

    DEFAULT_CSS = "TableHeader { height: 1; }"

    @dataclass
    class SortClicked(Message):
        """The operator clicked a column heading."""

        column: str

    def __init__(self, table: BoardTable, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.table = table

    def render_line(self, y: int) -> Strip:
        """Draw the headings with an arrow on the sort column."""
        layout = self.table.column_layout
        board = self.table.board
        style = self.rich_style
        texts = []
        for col, width in zip(layout.columns, layout.widths, strict=True):
            title = col.title
            if col.key == board.sort_column:
                # The arrow always shows: the title gives way to it in a narrow column.
                arrow = " ▼" if board.reverse else " ▲"
                title = set_cell_size(title, max(0, width - 2)).rstrip() + arrow
            texts.append(title)
        width = self.size.width
        return Strip([_line(tuple(texts), layout.widths, width, style)], width)

    def on_click(self, event: events.Click) -> None:
        """Sort by the clicked column."""
        col = self.table.column_layout.column_at(event.x)
        if col is not None:
            self.post_message(self.SortClicked(col.key))


class BoardTable(CursorTable):
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
    }

    @dataclass
    class Selected(Message):
        """Enter (or a second click) on a row."""

        key: PostKey

    class LayoutChanged(Message):
        """The columns shown, or their widths, changed (the header must follow)."""

    def __init__(self, board: Board, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.board = board
        self.stale = False  # some rows are unanswered (Board.mark_unanswered)
        self.column_layout = layout_for(120, {})
        self._wanted: dict[str, int] = {}
        self._drawn: dict[int, DrawnLine] = {}
        self._styles: dict[str, Style] = {}
        self.lines_refreshed = 0
        self.now = time.time

    # -- geometry ---------------------------------------------------------------------------

    def posts_changed(self) -> None:
        """The set of posts changed (hot reload): recompute preferred column widths."""
        self._wanted = _wanted_widths(self.board)
        self._relayout()
        self.reconcile(full=True)

    def _relayout(self) -> None:
        width = max(20, self.scrollable_content_region.width or self.size.width or 120)
        layout = layout_for(width, self._wanted, stale=self.stale)
        if layout != self.column_layout:
            self.column_layout = layout
            self.post_message(self.LayoutChanged())

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width."""
        self._relayout()
        self._drawn.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.board))
        self._scroll_cursor_into_view()

    def on_mount(self) -> None:
        """Lay out for the real width once known."""
        self._wanted = _wanted_widths(self.board)
        self.virtual_size = Size(0, len(self.board))

    # -- drawing ----------------------------------------------------------------------------

    def _style_named(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            extra = self.get_component_rich_style(name) if name else Style()
            style = self._styles[name] = self.rich_style + extra
        return style

    def mark_stale(self, stale: bool) -> None:
        """Some rows are stale (or none now): lay out and redraw for it."""
        if stale != self.stale:
            self.stale = stale
            self._relayout()  # the Checked column, which says so, is kept while rows are stale
        self.reconcile(full=True)

    def _style_for(self, row: Row, is_cursor: bool) -> tuple[Style, str]:
        if row.state is State.FAILED and not row.acked:
            name = "board-table--failed-cursor" if is_cursor else "board-table--failed"
        elif is_cursor:
            name = "board-table--cursor"
        elif row.stuck:
            name = "board-table--stuck"
        elif row.acked:
            name = "board-table--acked"
        elif row.from_last_run or row.unanswered:
            name = "board-table--stale"
        else:
            name = ""
        return self._style_named(name), name

    def _state_style(self, row: Row, name: str) -> Style | None:
        """The colour of the state cell of a plain row: its state's own. Failed, stuck,
        acknowledged, stale and cursor rows are styled whole; NO_COLOR has no state colours."""
        if name or row.state is State.FAILED or self.app.no_color:
            return None
        return self._style_named(_STATE_CLASSES[row.state])

    def notify_style_update(self) -> None:
        """The theme or CSS changed: forget the cached row styles."""
        self._styles.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """Draw screen line y: the row at scroll offset + y, or blank past the end."""
        width = self.size.width
        index = self.scroll_offset.y + y
        board = self.board
        if index >= len(board):
            self._drawn.pop(index, None)
            if index == 0 and len(board) == 0:
                style = self._style_named("board-table--empty")
                msg = "no posts match: Esc clears the filter, f cycles the state filter"
                return Strip([Segment(set_cell_size(msg, width), style)], width)
            return Strip.blank(width, self._style_named(""))
        row = board.row_at(index)
        texts = cell_texts(row, self.column_layout.columns, self.now())
        style, name = self._style_for(row, index == self.cursor)
        self._drawn[index] = (row.key, texts, name)
        state_style = self._state_style(row, name)
        widths = self.column_layout.widths
        return Strip(_segments(texts, widths, width, style, state_style), width)

    def reconcile(self, *, full: bool = False) -> int:
        """Redraw only the visible lines whose content changed; return how many were redrawn."""
        board = self.board
        if self.virtual_size.height != len(board):
            self.virtual_size = Size(self.scrollable_content_region.width, len(board))
            full = True
        self._restore_cursor()
        if full:
            self._drawn.clear()
            self.refresh()
            return -1
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if len(self._drawn) > 2 * height + 16:  # forget lines scrolled away long ago
            self._drawn = {i: v for i, v in self._drawn.items() if top <= i < top + height}
        now = self.now()
        cols = self.column_layout.columns
        count = 0
        for index in range(top, min(top + height, len(board))):
            row = board.row_at(index)
            _, name = self._style_for(row, index == self.cursor)
            line = (row.key, cell_texts(row, cols, now), name)
            if self._drawn.get(index) != line:
                self.refresh_line(index)
                count += 1
        self.lines_refreshed += count
        return count

    @property
    def selected(self) -> Row | None:
        """The row under the cursor, as shown (None when no row is shown)."""
        n = len(self.board)
        if n == 0:
            return None
        return self.board.row_at(min(self.cursor, n - 1))

    def view_length(self) -> int:
        """How many rows the view shows."""
        return len(self.board)

    def item_at(self, index: int) -> PostKey:
        """The post on view row `index`."""
        return self.board.key_at(index)

    def index_of_item(self, item: Hashable) -> int | None:
        """Where the post stands in the view."""
        return self.board.index_of(item)  # type: ignore[arg-type]

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
