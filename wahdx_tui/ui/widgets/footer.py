"""The footer, showing only the keys that fit whole; the rest are in the help and the palette."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer


class FittingFooter(Footer):
    """A Footer that hides the keys past the first one that does not fit, instead of cutting
    it in half; keys come in order of importance, so the narrowest footer keeps the most used.

    The keys are measured in the footer's own layout (`Widget.arrange`, the placements the
    screen draws from), so their widths, padding and margins are whatever Textual's Footer
    makes them. Hidden keys keep their place in that layout (visibility, not display), so
    they are measured again at every width without a relayout. New keys are hidden until
    fitted, which happens before they are drawn: no frame shows a key cut in half.
    """

    def compose(self) -> ComposeResult:
        """Textual's footer keys, hidden until measured."""
        for widget in super().compose():
            widget.visible = False
            yield widget

    def fit(self) -> int:
        """Show the keys from the first up to the last that fits whole, hide the rest; return
        how many are shown."""
        if not self.is_attached:
            return 0
        room = self.scrollable_content_region.size
        placed = {p.widget: p.region for p in self.arrange(room).placements}
        fits = room.width > 0
        shown = 0
        for child in self.children:
            region = placed.get(child)
            # A key Textual did not place (not styled yet) counts as not fitting: the next
            # fit shows it when it does.
            fits = fits and region is not None and region.right <= room.width
            child.visible = fits
            shown += fits
        return shown

    async def recompose(self) -> None:
        """Compose the keys (the bindings changed) and fit them before they are drawn (they
        are mounted and styled by now); once more after the next refresh, for any key that
        was not placed yet."""
        await super().recompose()
        self.fit()
        self.call_after_refresh(self.fit)

    def on_mount(self) -> None:
        """Fit the first keys once they are styled."""
        self.call_after_refresh(self.fit)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the keys to the new width."""
        self.fit()
