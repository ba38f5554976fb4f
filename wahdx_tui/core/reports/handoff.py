"""The shift-handoff report: unresolved failures and stuck posts from the history, no API call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS, Category, categorize
from wahdx_tui.core.domain.display import format_age
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.reports.checkresults import FIELDS as POST_FIELDS
from wahdx_tui.core.reports.checkresults import (
    Record,
    iso_time,
    record,
    records_csv,
    records_json,
)
from wahdx_tui.core.store.protocol import Store
from wahdx_tui.core.watchlist.reader import Watchlist, stuck_thresholds

FORMATS = ("markdown", "csv", "json")
STUCK_HINT = (
    "Check the post in Wahdx: if it has not moved, re-publish it; several stuck at once"
    " usually means a platform slowdown."
)
FIELDS = ("kind", *POST_FIELDS, "hint")
"""A post's record as every output gives it (core/output.py), with `kind` (failed or stuck)
first and what to do last."""


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
    status: PostStatus | None = None
    """The post's last answer as stored (for the raw status, URL and time checked)."""


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
                stored.status(),
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
                stored.status(),
            )
            ranked.append((2, stored.since, order, item))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


def history_elsewhere(store: Store, scope: str) -> list[str]:
    """When the store holds no posts under `scope`, the API base URLs it holds posts for
    (demo runs left out): the report was asked about another API than the one recorded.
    Empty when `scope` has posts, or nothing else has. Scopes are normalised base URLs, so
    they carry no user or password."""
    if store.last_posts(scope):
        return []
    return [
        other
        for other in store.scopes()
        if other != scope and not other.startswith("sim://") and store.last_posts(other)
    ]


def elsewhere_error(location: str, scope: str, others: Sequence[str]) -> str:
    """The one line saying the store holds another API's history, and how to report on it."""
    named = ", ".join(clean(o, 200) for o in others[:3])
    if len(others) > 3:
        named += f" (and {len(others) - 3} more)"
    which = clean(others[0], 200) if len(others) == 1 else "one of them"
    return (
        f"the store {location} holds no history for {clean(scope, 200)}, but does for {named}:"
        f" pass --base-url {which} (or set WAHDX_BASE_URL) to report on it"
    )


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


def _record(item: HandoffItem) -> Record:
    """The item as every output's record (core/output.py), with its kind and hint."""
    post = item.post
    status = item.status or PostStatus(post.key, item.state, None, None, item.error)
    rec = record(post, status, since=item.since, stuck=item.kind == "stuck")
    rec.update(acknowledged=item.acked, note=item.note or None)
    return {"kind": item.kind, **rec, "hint": item.hint}


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
    return records_csv([_record(i) for i in items], FIELDS)


def render_json(items: Sequence[HandoffItem]) -> str:
    """A JSON array of records; non-ASCII and control characters escaped, times ISO 8601 UTC."""
    return records_json([_record(i) for i in items])
