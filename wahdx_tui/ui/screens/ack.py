"""The acknowledge dialogs: mark a failed post as reviewed with an optional note, or (asked
first) take an acknowledgement back."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.ui.screens.postdialog import PostDialog

NOTE_LIMIT = 500


class AckScreen(PostDialog[str | None]):
    """Asks for an optional note; Enter acknowledges, Esc cancels (dismisses with None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        """The post, its reason and hint, and the note box."""
        row = self.row
        error = clean(row.status.error if row.status else "", 300)
        lines = self.heading("Acknowledge ", "\n")
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


class UnackScreen(PostDialog[bool]):
    """Asks before an acknowledgement is taken back. The Keep button has the focus, so Enter
    keeps it, and letters typed meanwhile (a note meant for the other dialog) do nothing:
    only Tab then Enter, or a click, on Take back takes it back. Dismisses with True then."""

    BINDINGS = [
        # No letter does anything here: a note typed by mistake must neither answer nor leave.
        Binding("escape", "keep", "Keep"),
        Binding("left,right", "app.focus_next", "Other button", show=False),
    ]

    def compose(self) -> ComposeResult:
        """The post, the note that goes with the acknowledgement, and the two buttons."""
        row = self.row
        lines = self.heading("Take back the acknowledgement of ", "?\n")
        note = clean(row.note, NOTE_LIMIT)
        lines.append(f"Its note goes too: {note}\n" if note else "It has no note.\n")
        lines.append(
            "The post is then an unreviewed failure again, on every board.\n"
            "Enter or Esc keeps it; Tab, then Enter, takes it back.",
            style="dim",
        )
        with Vertical(id="unack-body"):
            yield Static(lines)
            with Horizontal(id="unack-buttons"):
                yield Button("Keep it", id="unack-keep", variant="primary")
                yield Button("Take back", id="unack-take-back", variant="error")

    def on_mount(self) -> None:
        """Title the frame; Keep has the focus."""
        self.query_one("#unack-body").border_title = "Take back the acknowledgement?"
        self.query_one("#unack-keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Take back only on its own button."""
        self.dismiss(event.button.id == "unack-take-back")

    def action_keep(self) -> None:
        """Keep the acknowledgement."""
        self.dismiss(False)
