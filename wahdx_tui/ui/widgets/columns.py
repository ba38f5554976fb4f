"""The board's columns, which of them fit a given width, and each row's cell texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.display import format_age, state_label

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


COLUMNS: tuple[Column, ...] = (
    Column("state", "State", 12, 12, 12, 100),
    Column("label", "Label", 16, 24, 40, 96),
    Column("account", "Account", 10, 16, 22, 55),
    Column("publish", "Publish ID", 10, 20, 24, 70),
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

    def comfortable(c: Column) -> int:
        return min(c.comfort, max(c.min_width, wanted.get(c.key, c.comfort)))

    def whole(c: Column) -> int:
        """The width at which every value of the column shows whole (up to its maximum)."""
        return min(c.max_width, max(c.min_width, wanted.get(c.key, c.comfort)))

    # Optional columns leave as soon as the essential ones cannot be comfortable...
    while sum(comfortable(c) + GAP for c in cols) - GAP > width:
        optional = [c for c in cols if c.keep < 50]
        if not optional:
            break
        cols.remove(min(optional, key=lambda c: c.keep))
    # ... and the rest only when not even their minimum widths fit.
    while len(cols) > 2 and sum(c.min_width + GAP for c in cols) - GAP > width:
        cols.remove(min((c for c in cols if c.key != "state"), key=lambda c: c.keep))
    widths = {c.key: c.min_width for c in cols}
    room = width - sum(widths.values()) - GAP * (len(cols) - 1)
    by_key = {c.key: c for c in cols}

    def grow(key: str, want: int) -> None:
        nonlocal room
        if key in widths:
            extra = max(0, min(room, want - widths[key]))
            widths[key] += extra
            room -= extra

    by_use = sorted(cols, key=lambda c: GROW_ORDER.index(c.key))
    # 1. every column but Detail to its comfortable width, most useful first;
    for c in by_use:
        if c.key != "detail":
            grow(c.key, comfortable(c))
    # 2. the Label whole: Detail grows past its minimum (below the Label's) only after this;
    if "label" in by_key:
        grow("label", whole(by_key["label"]))
    # 3. the Detail to its comfortable width, then the others to their longest values;
    if "detail" in by_key:
        grow("detail", by_key["detail"].comfort)
    for c in by_use:
        if c.key != "detail":
            grow(c.key, whole(c))
    # 4. and the Detail takes whatever is left.
    if "detail" in widths:
        widths["detail"] += max(0, room)
    return Layout(tuple(cols), tuple(widths[c.key] for c in cols))


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
