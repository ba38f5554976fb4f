"""A virtual table over a sorted view: only visible lines drawn, only changed ones redrawn."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from wahdx_tui.core.board.sortedview import Sorted, SortedView
from wahdx_tui.ui.widgets.columns import GAP, Layout, fit_cells
from wahdx_tui.ui.widgets.cursortable import CursorTable

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Sorted)
DrawnLine = tuple[Hashable, tuple[str, ...], str]
"""What a line showed: its item's key, its cell texts and its style's name."""


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


class VirtualTable(CursorTable, Generic[K, R]):
    """The items of a sorted view (`view`), one line each, in the columns of `column_layout`.

    Only the visible lines are drawn; `reconcile` redraws only those whose text or style
    changed. Subclasses say how the columns fit a width, each line's cell texts and style,
    and what an empty view says.
    """

    EMPTY: ClassVar[str]
    """The component class of the line an empty view shows."""

    class LayoutChanged(Message):
        """The columns shown, or their widths, changed (the header must follow)."""

    def __init__(self, view: SortedView[K, R], layout: Layout, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.column_layout = layout
        self._drawn: dict[int, DrawnLine] = {}
        self._styles: dict[str, Style] = {}
        self.lines_refreshed = 0
        self.now = time.time  # the clock the cells' ages are read from

    # -- what the subclass knows --------------------------------------------------------

    def layout_at(self, width: int) -> Layout:
        """The columns, and their widths, at `width`."""
        raise NotImplementedError

    def cells(self, row: R, now: float) -> tuple[str, ...]:
        """The text of each shown column for one item."""
        raise NotImplementedError

    def style_name(self, row: R, is_cursor: bool) -> str:
        """The component class a line is drawn in ("" for the plain style)."""
        raise NotImplementedError

    def first_style(self, row: R, name: str) -> Style | None:
        """A style of its own for the first cell of a line drawn in `name` (None: the line's)."""
        return None

    def empty_text(self) -> str:
        """What an empty view says."""
        raise NotImplementedError

    def redrawing_all(self) -> None:
        """Every line is about to be drawn again (`reconcile(full=True)`, or the view's length
        changed): the moment to look at what the layout depends on, when it can change."""

    # -- geometry -----------------------------------------------------------------------

    def _relayout(self) -> None:
        width = max(20, self.scrollable_content_region.width or self.size.width or 120)
        layout = self.layout_at(width)
        if layout != self.column_layout:
            self.column_layout = layout
            self.post_message(self.LayoutChanged())

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width."""
        self._relayout()
        self._drawn.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.view))
        self._scroll_cursor_into_view()

    def on_mount(self) -> None:
        """Size the scroll area."""
        self.virtual_size = Size(0, len(self.view))

    # -- drawing ------------------------------------------------------------------------

    def _style_named(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            extra = self.get_component_rich_style(name) if name else Style()
            style = self._styles[name] = self.rich_style + extra
        return style

    def notify_style_update(self) -> None:
        """The theme or CSS changed: forget the cached styles."""
        self._styles.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """Draw screen line y: the item at scroll offset + y, or blank past the end."""
        width = self.size.width
        index = self.scroll_offset.y + y
        view = self.view
        if index >= len(view):
            self._drawn.pop(index, None)
            if index == 0 and len(view) == 0:
                style = self._style_named(self.EMPTY)
                return Strip([Segment(set_cell_size(self.empty_text(), width), style)], width)
            return Strip.blank(width, self._style_named(""))
        key = view.key_at(index)
        row = view.rows[key]
        texts = self.cells(row, self.now())
        name = self.style_name(row, index == self.cursor)
        self._drawn[index] = (key, texts, name)
        layout = self.column_layout
        shown = fit_cells(texts, layout)
        style, first = self._style_named(name), self.first_style(row, name)
        return Strip(_segments(shown, layout.widths, width, style, first), width)

    def reconcile(self, *, full: bool = False) -> int:
        """Redraw only the visible lines whose content changed; return how many (-1: all)."""
        view = self.view
        if self.virtual_size.height != len(view):
            self.virtual_size = Size(self.scrollable_content_region.width, len(view))
            full = True
        self._restore_cursor()
        if full:
            self.redrawing_all()
            self._drawn.clear()
            self.refresh()
            return -1
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if len(self._drawn) > 2 * height + 16:  # forget lines scrolled away long ago
            self._drawn = {i: v for i, v in self._drawn.items() if top <= i < top + height}
        now = self.now()
        count = 0
        for index in range(top, min(top + height, len(view))):
            key = view.key_at(index)
            row = view.rows[key]
            line = (key, self.cells(row, now), self.style_name(row, index == self.cursor))
            if self._drawn.get(index) != line:
                self.refresh_line(index)
                count += 1
        self.lines_refreshed += count
        return count

    # -- the cursor's items -------------------------------------------------------------

    @property
    def selected(self) -> R | None:
        """The item under the cursor, as shown (None when none is shown)."""
        n = len(self.view)
        if n == 0:
            return None
        return self.view.row_at(min(self.cursor, n - 1))

    def view_length(self) -> int:
        """How many items the view shows."""
        return len(self.view)

    def item_at(self, index: int) -> K:
        """The key of the item on view line `index`."""
        return self.view.key_at(index)

    def index_of_item(self, item: Hashable) -> int | None:
        """Where the item stands in the view (None: filtered out, gone, or not a key)."""
        return self.view.index_of(item)  # type: ignore[arg-type]


class SortHeader(Widget):
    """A virtual table's column headings with an arrow on the sort column; a click sorts by
    that column."""

    TIGHT_ARROW: ClassVar[bool] = False
    """In a narrow column, the space before the arrow gives way before the title does."""

    @dataclass
    class SortClicked(Message):
        """The operator clicked a column heading."""

        column: str

    def __init__(self, table: VirtualTable[Any, Any], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.table = table

    def heading(self, title: str, width: int, arrow: str) -> str:
        """The title with the sort arrow, which always shows: after a space when there is room;
        else the title gives way to it."""
        if len(title) + 2 <= width:
            return f"{title} {arrow}"
        if self.TIGHT_ARROW:
            return set_cell_size(title, max(0, width - 1)).rstrip() + arrow
        return set_cell_size(title, max(0, width - 2)).rstrip() + " " + arrow

    def render_line(self, y: int) -> Strip:
        """Draw the headings with an arrow on the sort column."""
        layout = self.table.column_layout
        view = self.table.view
        texts = []
        for col, width in zip(layout.columns, layout.widths, strict=True):
            title = col.title
            if col.key == view.sort_column:
                title = self.heading(title, width, "▼" if view.reverse else "▲")
            texts.append(title)
        width = self.size.width
        return Strip([_line(tuple(texts), layout.widths, width, self.rich_style)], width)

    def on_click(self, event: events.Click) -> None:
        """Sort by the clicked column."""
        col = self.table.column_layout.column_at(event.x)
        if col is not None:
            self.post_message(self.SortClicked(col.key))
