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


def cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut from the middle ('acc_…main'): IDs that share
    a prefix (acc_tiktok_main, acc_tiktok_creator) stay told apart by their ends."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def cut_words(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, whole words cut from the middle ('connection to
    server … refused'): the start says what happened and the end often why, and no word is
    left half."""
    if len(text) <= limit:
        return text
    if limit < 8:
        return text[: max(0, limit - 1)] + "…" if limit > 0 else ""
    room = limit - 3  # for " … "
    head = text[: room - room // 2]
    if " " in head and not text[len(head)].isspace():
        head = head[: head.rfind(" ")]  # back to the last whole word
    left = room - len(head.rstrip())
    tail = text[len(text) - left :] if left > 0 else ""
    if tail and " " in tail and not text[len(text) - left - 1].isspace():
        tail = tail[tail.find(" ") + 1 :]  # on to the next whole word
    return f"{head.rstrip()} … {tail.lstrip()}".rstrip()
