"""A virtual table's cursor: it follows one item through updates, and j k g G PgUp PgDn move it."""

from __future__ import annotations

from collections.abc import Hashable

from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.scroll_view import ScrollView


class CursorTable(ScrollView, can_focus=True):
    """Lines drawn by a subclass from a sorted, filtered view; the cursor stays on the item it
    follows (`followed`) when the view changes, and on the top line until the operator moves it.

    Subclasses say how long the view is and which item stands where.
    """

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("g,home", "cursor_top", "Top", show=False),
        Binding("G,end", "cursor_bottom", "Bottom", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]

    cursor = reactive(0, repaint=False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.followed: Hashable | None = None  # the item under the cursor, once moved to it

    # -- what the subclass knows --------------------------------------------------------------

    def view_length(self) -> int:
        """How many lines the view holds."""
        raise NotImplementedError

    def item_at(self, index: int) -> Hashable:
        """The item shown on view line `index`."""
        raise NotImplementedError

    def index_of_item(self, item: Hashable) -> int | None:
        """Where the item stands in the view, or None when it is filtered out or gone."""
        raise NotImplementedError

    def chosen(self) -> None:
        """A double click on the line under the cursor."""

    # -- the cursor ---------------------------------------------------------------------------

    def _restore_cursor(self) -> None:
        """Keep the cursor on the same item after an update, sort or filter.

        An item hidden by a filter leaves the cursor resting nearby; it comes back to the item
        when the filter lets it through again.
        """
        n = self.view_length()
        if n == 0:
            self.set_reactive(CursorTable.cursor, 0)
            return
        index = self.index_of_item(self.followed) if self.followed is not None else None
        if index is None:
            index = min(self.cursor, n - 1)
        if index != self.cursor:
            old = self.cursor
            self.set_reactive(CursorTable.cursor, index)
            self.refresh_line(old)
            self.refresh_line(index)
            self._scroll_cursor_into_view()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on view line `index` (clamped) and keep it visible."""
        n = self.view_length()
        if n == 0:
            return
        index = max(0, min(n - 1, index))
        old = self.cursor
        self.cursor = index
        self.followed = self.item_at(index)
        self.refresh_line(old)
        self.refresh_line(index)
        self._scroll_cursor_into_view()

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        """Move down one line."""
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        """Move up one line."""
        self.move_cursor(self.cursor - 1)

    def action_cursor_top(self) -> None:
        """Jump to the first line, and stay with whatever is on top from now on."""
        self.move_cursor(0)
        self.followed = None

    def action_cursor_bottom(self) -> None:
        """Jump to the last line."""
        self.move_cursor(self.view_length() - 1)

    def action_page_down(self) -> None:
        """Move down one screen."""
        height = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_offset.y + height, animate=False, immediate=True)
        self.move_cursor(self.cursor + height)

    def action_page_up(self) -> None:
        """Move up one screen."""
        height = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=max(0, self.scroll_offset.y - height), animate=False, immediate=True)
        self.move_cursor(self.cursor - height)

    def on_click(self, event: events.Click) -> None:
        """Select the clicked line; a double click chooses it."""
        index = self.scroll_offset.y + event.y
        if index < self.view_length():
            self.move_cursor(index)
            if event.chain >= 2:
                self.chosen()
