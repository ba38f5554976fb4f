"""Write check results as a text table, JSON or CSV; every untrusted string made inert."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, categorize
from wahdx_tui.core.domain.display import detail_text, state_label
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean

Record = dict[str, str | bool | None]

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
    "since",
    "category",
    "stuck",
    "acknowledged",
    "note",
)
"""The fields of a post's record in every output: `check --format json|csv`, the board's export
(x / X) and `report --format csv|json` (which adds `kind` first and `hint` last)."""
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


def category_name(status: PostStatus) -> str | None:
    """A failed post's category, as every output names it (None for a post not failed)."""
    if status.state is not State.FAILED:
        return None
    return CATEGORY_LABELS[categorize(status.error, status.raw_status)]


def record(
    post: WatchedPost,
    status: PostStatus,
    row: Row | None = None,
    *,
    since: float | None = None,
    stuck: bool = False,
) -> Record:
    """One post as every output's record (FIELDS), raw strings kept (JSON escapes them); what
    the board knows of it besides the answer (since when, stuck, acknowledged, note) from its
    `row` when given, else `since` and `stuck`."""
    checked = row.checked_at if row is not None and row.checked_at else status.checked_at
    return {
        "accountId": post.account_id,
        "publishId": post.publish_id,
        "mediaType": post.media_type,
        "label": post.label,
        "state": status.state.value,
        "rawStatus": status.raw_status,
        "publicUrl": status.public_url,
        "error": status.error,
        # The row's own time: a status kept from an unchanged answer says when it was first read.
        "checkedAt": iso_time(checked),
        "since": iso_time(row.since if row is not None else since),
        "category": category_name(status),
        "stuck": row.stuck if row is not None else stuck,
        "acknowledged": row.acked if row is not None else False,
        "note": (row.note or None) if row is not None else None,
    }


Shown = Mapping[PostKey, Row]
"""The board's rows by post, for what a check pass found besides the answers (stuck, since)."""


def to_json(rows: Sequence[tuple[WatchedPost, PostStatus]], shown: Shown | None = None) -> str:
    """A JSON array of records; non-ASCII and control characters escaped."""
    board = shown or {}
    return records_json([record(p, s, board.get(p.key)) for p, s in rows])


def records_json(records: Sequence[Mapping[str, str | int | None]]) -> str:
    """Records as a JSON array; non-ASCII and control characters escaped."""
    return json.dumps(records, ensure_ascii=True, indent=2) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these (after spaces) is read as a formula by a spreadsheet."""


def csv_cell(value: str | int | None) -> str:
    """A spreadsheet-safe cell (every CSV this program writes: check's, report's, the board's
    export): controls removed, and a cell that could start a formula prefixed with a single
    quote, as OWASP's CSV-injection guidance says (`-1+HYPERLINK(...)` is a formula too, so
    numbers are no exception); yes/no for flags, and counts as they are."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    text = clean(value) if value else ""
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def records_csv(
    records: Sequence[Mapping[str, str | int | None]], fields: Sequence[str] = FIELDS
) -> str:
    """Records as CSV with a header row; cells cleaned of control characters and formula
    prefixes, flags as yes / no."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for rec in records:
        writer.writerow([csv_cell(rec[f]) for f in fields])
    return out.getvalue()


def to_csv(rows: Sequence[tuple[WatchedPost, PostStatus]], shown: Shown | None = None) -> str:
    """CSV with a header row (see `records_csv`)."""
    board = shown or {}
    return records_csv([record(p, s, board.get(p.key)) for p, s in rows])


def summary_line(statuses: Sequence[PostStatus]) -> str:
    """'25 posts: 2 failed, 4 processing, ...' in board order."""
    counts = Counter(s.state for s in statuses)
    order = (State.FAILED, State.PROCESSING, State.QUEUED, State.PUBLISHED, State.UNKNOWN)
    parts = [f"{counts[st]} {st.value}" for st in order if counts[st]]
    return f"{len(statuses)} posts: " + (", ".join(parts) if parts else "none")


def _state_text(status: PostStatus, row: Row | None) -> str:
    """'✗ FAILED', or '⚠ PROCESSING' for a stuck post, as the board says it."""
    text = state_label(status.state)
    return "⚠" + text[1:] if row is not None and row.stuck else text


def to_table(
    rows: Sequence[tuple[WatchedPost, PostStatus]],
    *,
    color: bool = False,
    width: int = 120,
    shown: Shown | None = None,
) -> str:
    """An aligned plain-text table, state first, the detail cut to the terminal's width."""
    headers = ("STATE", "LABEL", "ACCOUNT", "PUBLISH ID", "DETAIL")
    board = shown or {}
    body = [
        (
            _state_text(s, board.get(p.key)),
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
