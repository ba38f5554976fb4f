"""Write check results as a text table, JSON or CSV; every untrusted string made inert."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from wahdx_tui.core.domain.display import detail_text, state_label
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean

FORMATS = ("table", "json", "csv")
FIELDS = (
    "accountId",
    "publishId",
    "mediaType",
    "label",
    "state",
    "rawStatus",
    "publicUrl",
    "error",
    "checkedAt",
)
_ANSI_STATE = {
    State.FAILED: "\x1b[1;31m",
    State.PROCESSING: "\x1b[33m",
    State.QUEUED: "\x1b[36m",
    State.PUBLISHED: "\x1b[32m",
    State.UNKNOWN: "\x1b[35m",
}


def iso_time(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC, or None."""
    if not ts:
        return None
    try:
        when = datetime.fromtimestamp(ts, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def record(post: WatchedPost, status: PostStatus) -> dict[str, str | None]:
    """One result as the JSON/CSV record, raw strings kept (JSON escapes them)."""
    return {
        "accountId": post.account_id,
        "publishId": post.publish_id,
        "mediaType": post.media_type,
        "label": post.label,
        "state": status.state.value,
        "rawStatus": status.raw_status,
        "publicUrl": status.public_url,
        "error": status.error,
        "checkedAt": iso_time(status.checked_at),
    }


def to_json(rows: Sequence[tuple[WatchedPost, PostStatus]]) -> str:
    """A JSON array of records; non-ASCII and control characters escaped."""
    return json.dumps([record(p, s) for p, s in rows], ensure_ascii=True, indent=2) + "\n"


def csv_cell(value: str | bool | None) -> str:
    """A spreadsheet-safe cell: controls removed, formula prefixes defused, yes/no for flags."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = clean(value) if value else ""
    # A cell starting with these is read as a formula by spreadsheets.
    if text[:1] in ("=", "+", "@", "-") and not text[1:2].isdigit():
        text = "'" + text
    return text


def to_csv(rows: Sequence[tuple[WatchedPost, PostStatus]]) -> str:
    """CSV with a header row; cells cleaned of control characters and formula prefixes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for p, s in rows:
        rec = record(p, s)
        writer.writerow([csv_cell(rec[f]) for f in FIELDS])
    return out.getvalue()


def summary_line(statuses: Sequence[PostStatus]) -> str:
    """'25 posts: 2 failed, 4 processing, ...' in board order."""
    counts = Counter(s.state for s in statuses)
    order = (State.FAILED, State.PROCESSING, State.QUEUED, State.PUBLISHED, State.UNKNOWN)
    parts = [f"{counts[st]} {st.value}" for st in order if counts[st]]
    return f"{len(statuses)} posts: " + (", ".join(parts) if parts else "none")


def to_table(
    rows: Sequence[tuple[WatchedPost, PostStatus]], *, color: bool = False, width: int = 120
) -> str:
    """An aligned plain-text table, state first, the detail cut to the terminal's width."""
    headers = ("STATE", "LABEL", "ACCOUNT", "PUBLISH ID", "DETAIL")
    body = [
        (
            state_label(s.state),
            clean(p.label, 40),
            clean(p.account_id, 32),
            clean(p.publish_id, 32),
            detail_text(s, 400),
        )
        for p, s in rows
    ]
    widths = [max([len(headers[i])] + [len(r[i]) for r in body]) for i in range(4)]
    used = sum(widths) + 2 * 4
    detail_width = max(20, width - used)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, (*widths, 0), strict=True)).rstrip()]
    for (p, s), r in zip(rows, body, strict=True):
        del p
        cells = [r[i].ljust(widths[i]) for i in range(4)]
        if color:
            cells[0] = f"{_ANSI_STATE[s.state]}{cells[0]}\x1b[0m"
        detail = r[4] if len(r[4]) <= detail_width else r[4][: detail_width - 1] + "…"
        lines.append("  ".join([*cells, detail]).rstrip())
    lines.append("")
    lines.append(summary_line([s for _, s in rows]))
    return "\n".join(lines) + "\n"
