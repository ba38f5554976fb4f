"""The help screen: every key, from the one key table, and what the board's marks mean."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wahdx_tui.ui.keys import KEYS, NAVIGATION, display_key
from wahdx_tui.ui.widgets.footer import FittingFooter


class HelpScreen(ModalScreen[None]):
    """Every key, from the one key table."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, alerts: str = "no alert targets set", refresh: str = "") -> None:
        super().__init__()
        self.alerts = alerts  # '2 alert targets · last alert 14:02'
        self.refresh_said = refresh  # 'every 15s (+ and - change it)'

    def compose(self) -> ComposeResult:
        """A table of keys."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for key in KEYS:
            grid.add_row(display_key(key.keys) if key.keys != "S" else "S", key.help)
        for keys, what in NAVIGATION:
            grid.add_row(keys, what)
        grid.add_row("", "")
        grid.add_row("Failed rows", "✗ FAILED, highlighted; a toast and one bell when a post fails")
        grid.add_row("STALE", "the last refresh failed: the data shown is the last known")
        if self.refresh_said:
            grid.add_row("Refresh", self.refresh_said)
        grid.add_row("Alerts", self.alerts)
        with VerticalScroll(id="help-body"):
            yield Static(grid)
        yield FittingFooter()

    def on_mount(self) -> None:
        """Title the frame."""
        self.query_one("#help-body").border_title = "wahdx-tui keys"
