"""The footer, showing only the keys that fit whole; the rest are in the help and the palette."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class FittingFooter(Footer):
    """A Footer that drops the keys past the first one that does not fit, instead of cutting
    it in half; keys come in order of importance, so the narrowest footer keeps the most used."""

    _composed_width = -1

    def compose(self) -> ComposeResult:
        """Textual's footer keys, up to the first that would not fit whole."""
        width = self.size.width or self.app.size.width
        self._composed_width = width
        used = 0
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # compact: "k Label" and a margin; otherwise " k " and "Label ".
                padding = 2 if self.compact else 3
                used += cell_len(widget.key_display) + cell_len(widget.description) + padding
                if used - (1 if self.compact else 0) > width:
                    return
            yield widget

    def on_resize(self, event: events.Resize) -> None:
        """Fit the keys to the new width."""
        if event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
