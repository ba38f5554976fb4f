"""The shift-handoff report: unresolved failures and stuck posts from the history, no API call."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS, Category, categorize
from wahdx_tui.core.domain.display import format_age
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.reports.checkresults import csv_cell, iso_time
from wahdx_tui.core.settings.table import resolve_settings
from wahdx_tui.core.store.protocol import Store
from wahdx_tui.core.watchlist.reader import Watchlist

FORMATS = ("markdown", "csv", "json")
STUCK_HINT = (
    "Check the post in Wahdx: if it has not moved, re-publish it; several stuck at once"
    " usually means a platform slowdown."
)
FIELDS = (
    "kind",
    "state",
    "label",
    "accountId",
    "publishId",
    "mediaType",
    "since",
    "category",
    "reason",
    "acked",
    "ackNote",
    "hint",
)


@dataclass(frozen=True, slots=True)
class HandoffItem:
    """One post to hand over: failed (reviewed or not) or stuck in queued/processing."""

    post: WatchedPost
    state: State
    kind: str
    """"failed" or "stuck"."""
    since: float
    error: str | None
    category: Category
    hint: str
    acked: bool
    note: str


def stuck_thresholds(watchlist: Watchlist) -> dict[State, float]:
    """Seconds a post may stay queued or processing before it counts as stuck."""
    settings = resolve_settings(watchlist.settings, {})
    return {
        State.QUEUED: 60.0 * settings.stuck_queued_minutes,
        State.PROCESSING: 60.0 * settings.stuck_processing_minutes,
    }


def build_handoff(store: Store, scope: str, watchlist: Watchlist, now: float) -> list[HandoffItem]:
    """Unreviewed failures, then acknowledged ones, then stuck posts; oldest first in each."""
    last = store.last_posts(scope)
    acks = store.acks(scope)
    limits = stuck_thresholds(watchlist)
    ranked: list[tuple[int, float, int, HandoffItem]] = []
    for order, post in enumerate(watchlist.posts):
        stored = last.get(post.key)
        if stored is None:
            continue
        category = categorize(stored.error, stored.raw_status)
        if stored.state is State.FAILED:
            ack = acks.get(post.key)
            item = HandoffItem(
                post,
                stored.state,
                "failed",
                stored.since,
                stored.error,
                category,
                HINTS[category],
                ack is not None,
                ack.note if ack is not None else "",
            )
            ranked.append((1 if ack is not None else 0, stored.since, order, item))
        elif stored.state in limits and now - stored.since > limits[stored.state]:
            item = HandoffItem(
                post,
                stored.state,
                "stuck",
                stored.since,
                stored.error,
                category,
                STUCK_HINT,
                False,
                "",
            )
            ranked.append((2, stored.since, order, item))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


# -- shared ---------------------------------------------------------------------------------


def _state_text(item: HandoffItem) -> str:
    if item.kind == "stuck":
        return f"STUCK ({item.state.value})"
    return "FAILED (acked)" if item.acked else "FAILED"


def _summary(items: Sequence[HandoffItem]) -> str:
    failed = [i for i in items if i.kind == "failed"]
    unreviewed = sum(not i.acked for i in failed)
    stuck = len(items) - len(failed)
    return f"{len(failed)} failed ({unreviewed} unreviewed), {stuck} stuck"


def _record(item: HandoffItem) -> dict[str, str | bool | None]:
    post = item.post
    return {
        "kind": item.kind,
        "state": item.state.value,
        "label": post.label,
        "accountId": post.account_id,
        "publishId": post.publish_id,
        "mediaType": post.media_type,
        "since": iso_time(item.since),
        "category": item.category.value,
        "reason": item.error,
        "acked": item.acked,
        "ackNote": item.note,
        "hint": item.hint,
    }


# -- markdown -------------------------------------------------------------------------------


def _md(text: object, limit: int | None = None) -> str:
    """Untrusted text made inert for a markdown table cell: no cell breaks, links or HTML."""
    s = clean(text, limit)
    for char in "\\|[]":
        s = s.replace(char, "\\" + char)
    return s.replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(
    items: Sequence[HandoffItem], now: float, scope: str, *, history: bool = True
) -> str:
    """The report as markdown: heading, summary, one table row per post, hints per category."""
    lines = [
        f"# Shift handoff — {iso_time(now) or '?'}",
        "",
        f"API: {_md(scope, 300)}",
        "",
    ]
    if not history:
        lines += [
            "No history yet: run `wahdx-tui watch` (or `demo`) to start recording.",
            "",
        ]
    lines += [f"**{_summary(items)}**", ""]
    if not items:
        if history:
            lines += ["Nothing to hand over: no unresolved failures or stuck posts.", ""]
        return "\n".join(lines)
    lines += [
        "| State | Label | Account | Publish ID | Since | Category | Reason | Ack note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in items:
        post = item.post
        since = f"{iso_time(item.since) or '?'} ({format_age(now - item.since)} ago)"
        reason = item.error if item.kind == "failed" else f"{item.state.value} for too long"
        cells = (
            _state_text(item),
            _md(post.label, 120) or "—",
            _md(post.account_id, 256),
            _md(post.publish_id, 256),
            since,
            CATEGORY_LABELS[item.category] if item.kind == "failed" else "stuck",
            _md(reason, 500) or "—",
            _md(item.note, 500) if item.acked else "",
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## What to do", ""]
    seen = dict.fromkeys(i.category for i in items if i.kind == "failed")
    for category in seen:
        lines.append(f"- **{CATEGORY_LABELS[category]}**: {HINTS[category]}")
    if any(i.kind == "stuck" for i in items):
        lines.append(f"- **stuck**: {STUCK_HINT}")
    lines.append("")
    return "\n".join(lines)


# -- csv and json ---------------------------------------------------------------------------


def render_csv(items: Sequence[HandoffItem]) -> str:
    """CSV with a header row; cells cleaned of control characters and formula prefixes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for item in items:
        rec = _record(item)
        writer.writerow([csv_cell(rec[f]) for f in FIELDS])
    return out.getvalue()


def render_json(items: Sequence[HandoffItem]) -> str:
    """A JSON array of records; non-ASCII and control characters escaped, times ISO 8601 UTC."""
    return json.dumps([_record(i) for i in items], ensure_ascii=True, indent=2) + "\n"
