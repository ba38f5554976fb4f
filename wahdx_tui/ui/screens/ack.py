"""The acknowledge dialog: mark a failed post as reviewed, with an optional note."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS
from wahdx_tui.core.domain.sanitize import clean

NOTE_LIMIT = 500


class AckScreen(ModalScreen[str | None]):
    """Asks for an optional note; Enter acknowledges, Esc cancels (dismisses with None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        """The post, its reason and hint, and the note box."""
        row = self.row
        error = clean(row.status.error if row.status else "", 300)
        lines = Text()
        lines.append("Acknowledge ", style="bold")
        lines.append(f"{row.label or row.publish}  ({row.account} · {row.publish})\n")
        lines.append(f"✗ {error or 'failed'}\n", style="bold")
        if row.category is not None:
            lines.append(f"{CATEGORY_LABELS[row.category]}: {HINTS[row.category]}", style="dim")
        with Vertical(id="ack-body"):
            yield Static(lines)
            yield Input(
                placeholder="note for the next shift (optional) · Enter acknowledges · Esc cancels",
                max_length=NOTE_LIMIT,
                id="ack-note",
            )

    def on_mount(self) -> None:
        """Title the frame and focus the note."""
        self.query_one("#ack-body").border_title = "Acknowledge failure"
        self.query_one("#ack-note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Acknowledge with the note typed (possibly empty)."""
        self.dismiss(clean(event.value, NOTE_LIMIT))

    def action_cancel(self) -> None:
        """Leave the post unreviewed."""
        self.dismiss(None)
