"""GET /api/v1/posts: the board's posts as JSON, filtered by state, account, failure reason and
acknowledgement, in the board's order (failed first), a page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wahdx_tui.core.board.state import Board, Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, Category
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.serve.web.wall import is_failure_category

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PARAMS = ("state", "account", "reason", "acknowledged", "stuck", "limit", "offset")
Json = dict[str, Any]


def _flag(name: str, text: str) -> bool:
    """true/false (1/0, yes/no); ValueError naming the parameter."""
    word = text.strip().lower()
    if word in ("true", "1", "yes"):
        return True
    if word in ("false", "0", "no"):
        return False
    raise ValueError(f"{name} must be true or false")


def _count(name: str, text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`; ValueError naming the parameter."""
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return int(text)


@dataclass(frozen=True, slots=True)
class PostQuery:
    """One request's filters and page."""

    state: State | None = None
    account: str | None = None
    reason: Category | None = None
    acknowledged: bool | None = None
    stuck: bool | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @staticmethod
    def parse(query: Mapping[str, str]) -> PostQuery:
        """From the query string; ValueError names the parameter and what it takes."""
        for name in query:
            if name not in PARAMS:
                raise ValueError(f"unknown parameter {clean(name, 40)!r}: use {', '.join(PARAMS)}")
        state = None
        if "state" in query:
            try:
                state = State(query["state"].strip().lower())
            except ValueError:
                raise ValueError(
                    f"state must be one of {', '.join(s.value for s in State)}"
                ) from None
        reason = None
        if "reason" in query:
            reason = is_failure_category(query["reason"])
            if reason is None:
                raise ValueError(f"reason must be one of {', '.join(c.value for c in Category)}")
        return PostQuery(
            state=state,
            account=query.get("account"),
            reason=reason,
            acknowledged=_flag("acknowledged", query["acknowledged"])
            if "acknowledged" in query
            else None,
            stuck=_flag("stuck", query["stuck"]) if "stuck" in query else None,
            limit=_count("limit", query["limit"], 1, MAX_LIMIT)
            if "limit" in query
            else DEFAULT_LIMIT,
            offset=_count("offset", query["offset"], 0, 10**9) if "offset" in query else 0,
        )

    def matches(self, row: Row) -> bool:
        """Whether the row passes every filter given."""
        return (
            (self.state is None or row.state is self.state)
            and (self.account is None or row.post.account_id == self.account)
            and (self.reason is None or row.category is self.reason)
            and (
                self.acknowledged is None
                or (row.state is State.FAILED and row.acked == self.acknowledged)
            )
            and (self.stuck is None or row.stuck == self.stuck)
        )


def post_json(row: Row) -> Json:
    """One post as the API gives it (texts made inert: no control or escape characters)."""
    status = row.status
    category = row.category
    return {
        "accountId": row.account,
        "publishId": row.publish,
        "mediaType": row.post.media_type,
        "label": row.label,
        "state": row.state.value,
        "rawStatus": clean(status.raw_status, 200) if status and status.raw_status else None,
        "error": clean(status.error, 1000) if status and status.error else None,
        "publicUrl": clean(status.public_url, 4096) if status and status.public_url else None,
        "reason": category.value if category is not None else None,
        "reasonText": CATEGORY_LABELS[category] if category is not None else None,
        "since": row.since,
        "checkedAt": row.checked_at,
        "acknowledged": row.acked,
        "note": row.note or None,
        "stuck": row.stuck,
        "stale": row.unanswered,
    }


def list_posts(board: Board, query: PostQuery) -> Json:
    """One page of the posts matching `query`, with the total and the next page's offset."""
    rows = board.rows
    matching = [key for key in board.keys_in_view() if query.matches(rows[key])]
    page = matching[query.offset : query.offset + query.limit]
    end = query.offset + len(page)
    return {
        "posts": [post_json(rows[key]) for key in page],
        "total": len(matching),
        "offset": query.offset,
        "limit": query.limit,
        "nextOffset": end if end < len(matching) else None,
    }
