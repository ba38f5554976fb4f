"""The event log: every state change across all posts, newest first, filterable like the board."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.display import state_label
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.ui.widgets.footer import FittingFooter

SHOWN = 1000
_STATE_STYLE = {State.FAILED: "bold red", State.PUBLISHED: "green", State.PROCESSING: "yellow"}


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


class EventLogScreen(ModalScreen[None]):
    """Transitions newest first; type to filter (any column), Esc closes."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("ctrl+r", "reload", "Reload")]

    def __init__(self, events: Callable[[], Iterable[Transition]], board: Board) -> None:
        super().__init__()
        self._events = events
        self.board = board
        self.shown = 0

    def compose(self) -> ComposeResult:
        """Filter box, count, table."""
        with Vertical(id="events-body"):
            yield Input(placeholder="filter events: label, account, id, state…", id="events-filter")
            yield Static(id="events-count")
            yield DataTable(id="events-table", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        """Columns, rows, focus on the filter."""
        self.query_one("#events-body").border_title = "Event log (newest first)"
        table = self.query_one(DataTable)
        table.add_columns("When", "From", "To", "Label", "Account", "Publish ID")
        self.fill("")
        self.query_one("#events-filter", Input).focus()

    def fill(self, text: str) -> None:
        """Show the newest SHOWN events whose text contains `text` (case-insensitive)."""
        needle = text.strip().casefold()
        table = self.query_one(DataTable)
        table.clear()
        rows: list[tuple[str | Text, ...]] = []
        total = 0
        for event in self._events():
            row = self.board.rows.get(event.key)
            label = row.label if row else ""
            account, publish = (clean(event.key[0], 40), clean(event.key[1], 40))
            old = state_label(event.old) if event.old else "—"
            new = state_label(event.new)
            if needle:
                hay = f"{label} {account} {publish} {old} {new} {_when(event.at)}".casefold()
                if needle not in hay:
                    continue
            total += 1
            if len(rows) < SHOWN:
                rows.append(
                    (
                        _when(event.at),
                        Text(old),
                        Text(new, style=_STATE_STYLE.get(event.new, "")),
                        Text(label),
                        Text(account),
                        Text(publish),
                    )
                )
        table.add_rows(rows)
        self.shown = len(rows)
        more = f" (newest {SHOWN} shown)" if total > SHOWN else ""
        self.query_one("#events-count", Static).update(Text(f"{total} events{more}", style="dim"))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Refilter as the operator types."""
        self.fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the table."""
        self.query_one(DataTable).focus()

    def action_reload(self) -> None:
        """Show events that arrived since the log was opened."""
        self.fill(self.query_one("#events-filter", Input).value)

    def action_close(self) -> None:
        """Back to the board."""
        self.dismiss(None)
