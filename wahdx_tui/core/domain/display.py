"""Plain-text formatting shared by the board and `check`: state labels, ages, detail text."""

from __future__ import annotations

from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.domain.sanitize import clean

STATE_GLYPHS: dict[State, str] = {
    State.FAILED: "✗",
    State.PROCESSING: "◐",
    State.QUEUED: "…",
    State.PUBLISHED: "✓",
    State.UNKNOWN: "?",
}
STATE_RANK: dict[State, int] = {
    State.FAILED: 0,
    State.PROCESSING: 1,
    State.QUEUED: 2,
    State.UNKNOWN: 3,
    State.PUBLISHED: 4,
}


def state_label(state: State) -> str:
    """Glyph and word, e.g. '✗ FAILED'."""
    return f"{STATE_GLYPHS[state]} {state.value.upper()}"


def format_age(seconds: float | None) -> str:
    """A coarse age that changes at most once a minute: '<1m', '12m', '3h05m', '2d04h'."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    m = s // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def detail_text(status: PostStatus | None, limit: int | None = None) -> str:
    """The error for a failed or unreadable post, the public URL for a published one."""
    if status is None:
        return "not checked yet"
    if status.state is State.PUBLISHED and status.public_url:
        return clean(status.public_url, limit)
    if status.error:
        return clean(status.error, limit)
    if status.state is State.UNKNOWN and status.raw_status:
        return clean(f"unrecognised status {status.raw_status!r}", limit)
    if status.public_url:
        return clean(status.public_url, limit)
    return ""
