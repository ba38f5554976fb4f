"""The text filter box under the table: filters the board as the operator types."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input

from wahdx_tui.core.board.state import Board


class FilterBox(Input):
    """Applies its text to the board's filter on every edit; hidden while empty and unused."""

    class Applied(Message):
        """The board's text filter changed: the view must be redrawn."""

    class Done(Message):
        """Enter or Esc: focus goes back to the table."""

    def __init__(self, board: Board, **kwargs: object) -> None:
        super().__init__(
            placeholder="filter: text in any column · Enter keeps · Esc clears",
            **kwargs,  # type: ignore[arg-type]
        )
        self.board = board

    def open(self) -> None:
        """Show the box and focus it now, so keys typed straight after '/' land in it."""
        if self.has_focus:
            self.insert_text_at_cursor("/")
            return
        self.display = True
        self.app.set_focus(self, scroll_visible=False)

    def clear_filter(self) -> None:
        """Empty the box, hide it, and show every post again."""
        self.value = ""
        self.display = False
        self._apply("")
        self.post_message(self.Done())

    def _apply(self, text: str) -> None:
        self.board.set_text_filter(text)
        self.post_message(self.Applied())

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        event.stop()
        self._apply(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter (and hides an empty box)."""
        event.stop()
        if not event.value:
            self.display = False
        self.post_message(self.Done())
