"""The board's columns, which of them fit a given width, and each row's cell texts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.display import cut_middle, format_age, state_label

GAP = 1
GROW_ORDER = (
    "state",
    "publish",
    "label",
    "detail",
    "account",
    "since",
    "category",
    "media",
    "checked",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its sort key, heading, widths, and how early it drops out when narrow."""

    key: str
    title: str
    min_width: int
    comfort: int  # what it gets before any column grows past its own comfort
    max_width: int
    keep: int  # higher stays longer when the terminal is narrow
    middle: bool = False  # cut from the middle, not the end: IDs differ at their ends

    def comfortable(self, wanted: Mapping[str, int]) -> int:
        """Its comfortable width, or less when its longest value (`wanted`) is shorter."""
        return min(self.comfort, max(self.min_width, wanted.get(self.key, self.comfort)))

    def whole(self, wanted: Mapping[str, int]) -> int:
        """The width at which every value of the column shows whole (up to its maximum)."""
        return min(self.max_width, max(self.min_width, wanted.get(self.key, self.comfort)))


COLUMNS: tuple[Column, ...] = (
    Column("state", "State", 12, 12, 12, 100),
    Column("label", "Label", 16, 24, 40, 96),
    Column("account", "Account", 10, 16, 22, 55, middle=True),
    Column("publish", "Publish ID", 10, 20, 24, 70, middle=True),
    Column("media", "Media", 5, 5, 5, 10),
    Column("since", "In state", 8, 8, 8, 60),
    Column("checked", "Checked", 8, 8, 8, 20),
    Column("category", "Reason", 8, 10, 10, 30),
    Column("detail", "Detail", 12, 30, 10_000, 95),
)


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown at one width, with the width each gets."""

    columns: tuple[Column, ...]
    widths: tuple[int, ...]

    def column_at(self, x: int) -> Column | None:
        """The column under screen column x (for header clicks)."""
        left = 0
        for col, width in zip(self.columns, self.widths, strict=True):
            if left <= x < left + width + GAP:
                return col
            left += width + GAP
        return None


OPTIONAL_KEEP = 50
"""Columns kept less than this leave as soon as the others cannot have their comfort."""


def _needs(cols: Iterable[Column], width_of: Callable[[Column], int]) -> int:
    return sum(width_of(c) + GAP for c in cols) - GAP


def fitting_columns(
    columns: Iterable[Column],
    width: int,
    comfortable: Callable[[Column], int],
    *,
    first: str,
    fewest: int,
) -> list[Column]:
    """The columns that fit `width`, the least kept leaving first: the optional ones as soon as
    the rest cannot each have their `comfortable` width, the others only when not even their
    minimum widths fit (never the `first` column, and never fewer than `fewest`)."""
    cols = list(columns)
    while _needs(cols, comfortable) > width:
        optional = [c for c in cols if c.keep < OPTIONAL_KEEP]
        if not optional:
            break
        cols.remove(min(optional, key=lambda c: c.keep))
    while len(cols) > fewest and _needs(cols, lambda c: c.min_width) > width:
        cols.remove(min((c for c in cols if c.key != first), key=lambda c: c.keep))
    return cols


class Sharing:
    """The room of one width shared out: each column starts at its minimum and grows by turns."""

    def __init__(self, cols: Sequence[Column], width: int) -> None:
        self.columns = tuple(cols)
        self.widths = {c.key: c.min_width for c in cols}
        self.room = width - _needs(cols, lambda c: c.min_width)

    def grow(self, key: str, want: int) -> None:
        """Grow column `key` (when shown) towards `want`, as far as the room left allows."""
        if key in self.widths:
            extra = max(0, min(self.room, want - self.widths[key]))
            self.widths[key] += extra
            self.room -= extra

    def layout(self, *takers: str) -> Layout:
        """The widths as a layout; the first shown of `takers` takes whatever room is left."""
        taker = next((key for key in takers if key in self.widths), None)
        if taker is not None:
            self.widths[taker] += max(0, self.room)
        return Layout(self.columns, tuple(self.widths[c.key] for c in self.columns))


def next_sort(order: Sequence[str], current: str, shown: Sequence[str]) -> str:
    """The column `s` sorts by next: the next of `order` after `current` that is on screen, so
    a heading always carries the arrow (every column of `order` when none is shown)."""
    visible = set(shown) & set(order) or set(order)
    i = order.index(current) if current in order else -1
    for step in range(1, len(order) + 1):
        candidate = order[(i + step) % len(order)]
        if candidate in visible:
            return candidate
    return current


def fit_cells(texts: tuple[str, ...], layout: Layout) -> tuple[str, ...]:
    """The cell texts as drawn: an ID too long for its column is cut from the middle, so
    acc_tiktok_main and acc_tiktok_creator read acc_…_main and acc_…eator, not both acc_tiktok
    (the others are cut at the end when drawn)."""
    return tuple(
        cut_middle(text, width) if col.middle and len(text) > width else text
        for text, col, width in zip(texts, layout.columns, layout.widths, strict=True)
    )


STALE_CHECKED_KEEP = 80  # while rows are stale, how old each is matters more than its account


def layout_for(width: int, wanted: dict[str, int], *, stale: bool = False) -> Layout:
    """Fit columns into `width`: drop the least useful first, then share out the room.

    Each column first grows to its comfortable width (most useful first), then to what its
    longest value wants; the Detail column takes whatever is left. The Label, which operators
    know their posts by, has more room than the Detail (the error or URL, whose full text is
    one Enter away) at every width, unless every label already shows whole. While rows are
    `stale`, the Checked column (which marks them) is among the last to go.
    """
    cols = [
        replace(c, keep=STALE_CHECKED_KEEP) if stale and c.key == "checked" else c for c in COLUMNS
    ]
    cols = fitting_columns(cols, width, lambda c: c.comfortable(wanted), first="state", fewest=2)
    share = Sharing(cols, width)
    by_key = {c.key: c for c in cols}
    by_use = sorted(cols, key=lambda c: GROW_ORDER.index(c.key))
    # 1. every column but Detail to its comfortable width, most useful first;
    for c in by_use:
        if c.key != "detail":
            share.grow(c.key, c.comfortable(wanted))
    # 2. the Label whole: Detail grows past its minimum (below the Label's) only after this;
    if "label" in by_key:
        share.grow("label", by_key["label"].whole(wanted))
    # 3. the Detail to its comfortable width, then the others to their longest values;
    if "detail" in by_key:
        share.grow("detail", by_key["detail"].comfort)
    for c in by_use:
        if c.key != "detail":
            share.grow(c.key, c.whole(wanted))
    # 4. and the Detail takes whatever is left.
    return share.layout("detail")


def cell_texts(row: Row, columns: Sequence[Column], now: float) -> tuple[str, ...]:
    """The text of each shown column for one row; ages are coarse so idle rows stay still.

    A row asked for and not answered says so in its Checked cell with a ⚠, readable without
    colour.
    """
    out: list[str] = []
    for col in columns:
        key = col.key
        if key == "state":
            text = state_label(row.state)
            if row.stuck:
                text = "⚠" + text[1:]
            elif row.acked:
                text += " ack"
        elif key == "label":
            text = row.label
        elif key == "account":
            text = row.account
        elif key == "publish":
            text = row.publish
        elif key == "media":
            text = row.post.media_type or ""
        elif key == "since":
            text = format_age(now - row.since) if row.since else "—"
        elif key == "checked":
            if row.from_last_run:
                text = "last run"  # readable without colour: not checked by this board yet
            else:
                text = format_age(now - row.checked_at) if row.checked_at else "never"
                if row.unanswered:
                    text = "⚠ " + text
        elif key == "category":
            text = row.category.value.replace("_", " ") if row.category else ""
        else:
            text = row.detail
        out.append(text)
    return tuple(out)
