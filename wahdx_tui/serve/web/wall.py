"""What the wall page shows, read from serve's board: counts, the posts needing someone, accounts
worst first, the failures-per-hour trend and the banners; capped, whatever the board's size."""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wahdx_tui.core.board.accounts import Accounts
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.board.trend import failures_per_hour
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, Category
from wahdx_tui.core.domain.display import state_label
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.team.engine import TeamEngine

ROWS_SHOWN = 60
"""Posts the page lists at most; the rest are counted ('N more') and one filter away."""
ACCOUNTS_SHOWN = 12
TEXT_LIMIT = 300
STATE_WORDS = ("attention", "all", "stuck", *(s.value for s in State))
"""The page's state filter: `attention` (failed, stuck and not known to the API, the
default), `all`, `stuck`, or one state."""

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class WallFilter:
    """Which posts a page lists: a state word (STATE_WORDS), one account, and a text."""

    state: str = "attention"
    account: str = ""
    text: str = ""

    @staticmethod
    def parse(query: Mapping[str, str]) -> WallFilter:
        """From a page's query (`state`, `account`, `q`); ValueError says what is wrong."""
        for name in query:
            if name not in ("state", "account", "q"):
                raise ValueError(f"unknown parameter {clean(name, 40)!r}: use state, account, q")
        state = query.get("state", "attention").strip().lower() or "attention"
        if state not in STATE_WORDS:
            raise ValueError(f"state must be one of {', '.join(STATE_WORDS)}")
        account = query.get("account", "").strip()[:256]
        text = query.get("q", "").strip().casefold()[:200]
        return WallFilter(state, account, text)

    def matches(self, row: Row) -> bool:
        """Whether the row is listed under this filter (the state word aside for attention)."""
        state = self.state
        if state == "stuck" and not row.stuck:
            return False
        if state not in ("attention", "all", "stuck") and row.state.value != state:
            return False
        if self.account and row.post.account_id != self.account:
            return False
        return not self.text or self.text in row.haystack

    def to_json(self) -> Json:
        """As the page shows it back."""
        return {"state": self.state, "account": self.account, "q": self.text}


def needs_someone(row: Row) -> bool:
    """Failed (reviewed or not), stuck, or answered in no known state (the API does not know
    the post: its real state, failed or not, is hidden until someone fixes its IDs): what the
    wall lists first, as the board's summary alarms on each."""
    return row.state is State.FAILED or row.stuck or row.unknown_answer


def _attention_order(row: Row) -> tuple[int, float]:
    """Unreviewed failures newest first, then stuck posts longest first, then posts the API
    does not know longest first, then reviewed failures newest first."""
    since = row.since or 0.0
    if row.unreviewed_failure:
        return (0, -since)
    if row.stuck:
        return (1, since)
    if row.unknown_answer:
        return (2, since)
    return (3, -since)


def row_json(row: Row) -> Json:
    """One post as the page lists it: text only (the page sets it as text, never as HTML)."""
    category = row.category
    return {
        "id": f"{len(row.post.account_id)}:{row.post.account_id}{row.post.publish_id}",
        "state": row.state.value,
        "word": state_label(row.state),
        "label": row.label or row.publish,
        "account": row.account,
        "publish": row.publish,
        "reason": CATEGORY_LABELS[category] if category is not None else "",
        "detail": clean(row.detail, TEXT_LIMIT),
        "since": row.since,
        "acked": row.acked,
        "note": clean(row.note, TEXT_LIMIT),
        "stuck": row.stuck,
        "stale": row.unanswered,
        "not_known": row.unknown_answer,
    }


class WallModel:
    """The wall's view of serve's board, kept current from the rows each change names.

    The accounts aggregate (core/board/accounts.py, as the board's accounts view keeps it) and the
    set of posts needing someone are updated per changed row; only a restore, a reload or a
    disagreement with the board's own counters rescans every row.
    """

    def __init__(self, engine: TeamEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.accounts = Accounts()
        self.attention: set[PostKey] = set()
        self.rescans = 0
        self._trend_key: tuple[int, int, object] | None = None
        self._trend: list[int] = []
        self.reset()

    # -- keeping up -----------------------------------------------------------------------

    def reset(self) -> None:
        """Every row again (at start, after a restore or a reload)."""
        rows = self.engine.board.rows.values()
        self.accounts.reset(rows)
        self.attention = {row.key for row in rows if needs_someone(row)}
        self.rescans += 1

    def update(self, keys: Iterable[PostKey]) -> None:
        """Fold in the rows of `keys` (changed, or no longer on the board)."""
        rows = self.engine.board.rows
        present: list[Row] = []
        gone: list[PostKey] = []
        for key in keys:
            row = rows.get(key)
            if row is None:
                gone.append(key)
                self.attention.discard(key)
                continue
            present.append(row)
            if needs_someone(row):
                self.attention.add(key)
            else:
                self.attention.discard(key)
        if gone:
            self.accounts.remove(gone)
        if present:
            self.accounts.update(present)
        if not self.agrees():
            self.reset()

    def agrees(self) -> bool:
        """Whether the aggregate's totals are the board's own counters (O(accounts))."""
        board = self.engine.board
        counts: Counter[State] = Counter()
        unreviewed = stuck = not_known = 0
        for account in self.accounts.rows.values():
            counts.update(account.counts)
            unreviewed += account.unreviewed
            stuck += account.stuck
            not_known += account.not_known
        theirs = +board.counts()
        return (
            +counts == theirs
            and unreviewed == board.unreviewed
            and stuck == board.stuck
            and not_known == board.unknown
            # No failed or unknown row is stuck (the flag clears when a post leaves queued or
            # processing), so the three never overlap.
            and len(self.attention) == theirs[State.FAILED] + board.stuck + board.unknown
        )

    # -- what the page shows --------------------------------------------------------------

    def counts(self) -> Json:
        """Posts per state, failures reviewed or not, stuck and stale posts, and the unknown
        ones the API answered about (`not_known`; the rest are not checked yet)."""
        board = self.engine.board
        counts = board.counts()
        failed = counts[State.FAILED]
        return {
            **{state.value: counts[state] for state in State},
            "total": len(board.rows),
            "unreviewed": board.unreviewed,
            "acknowledged": failed - board.unreviewed,
            "stuck": board.stuck,
            "stale": board.unanswered,
            "not_known": board.unknown,
        }

    def worst_accounts(self) -> list[Json]:
        """The accounts worst first (most unreviewed failures, most stuck, most failed)."""
        accounts = self.accounts
        shown: list[Json] = []
        for i in range(min(ACCOUNTS_SHOWN, len(accounts))):
            account = accounts.row_at(i)
            category = account.category
            shown.append(
                {
                    "account": account.account,
                    "id": account.account_id,
                    "platform": account.platform or "",
                    "posts": account.posts,
                    "failed": account.failed,
                    "unreviewed": account.unreviewed,
                    "stuck": account.stuck,
                    "reason": CATEGORY_LABELS[category] if category is not None else "",
                    "detail": clean(account.reason, TEXT_LIMIT),
                }
            )
        return shown

    def trend(self) -> list[int]:
        """Failures per hour over the last 24 hours, oldest first (from the event log)."""
        events = self.engine.history.events
        now = self.clock()
        newest = events[0] if events else None
        key = (len(events), int(now // 60), newest)
        if key != self._trend_key:
            self._trend_key = key
            self._trend = failures_per_hour(events, now)
        return self._trend

    def banners(self) -> list[Json]:
        """What is wrong beyond single posts: the store, the poller, the API (worst first)."""
        engine = self.engine
        said: list[Json] = []
        store = engine.store_down_since
        if store is not None:
            said.append({"kind": "store", "since": store, "text": "store unreachable"})
        gone = engine.poller_gone_since
        if gone is not None:
            said.append({"kind": "poller", "since": gone, "text": "no poller"})
        health = engine.health
        if health.state == "down":
            said.append(
                {
                    "kind": "api",
                    "since": health.down_since,
                    "text": f"API DOWN: {clean(health.last_error or 'no answer', TEXT_LIMIT)}",
                }
            )
        elif health.state == "retrying":
            said.append(
                {
                    "kind": "retrying",
                    "since": None,
                    "text": f"API retrying: {clean(health.last_error or '', TEXT_LIMIT)}",
                }
            )
        return said

    def meta(self) -> Json:
        """Where the states come from and when the last complete pass ended."""
        engine = self.engine
        return {
            "role": "holder" if engine.polls_api else "standby",
            "via": clean(engine.via, 120),
            "last_pass": engine.health.last_success,
            "interval": engine.interval,
        }

    def common(self) -> Json:
        """Everything every page shows, whatever its filter."""
        return {
            "counts": self.counts(),
            "accounts": self.worst_accounts(),
            "trend": self.trend(),
            "banners": self.banners(),
            "meta": self.meta(),
        }

    def listed(self, wanted: WallFilter) -> tuple[list[Json], int]:
        """The posts a page lists under `wanted` (at most ROWS_SHOWN) and how many more match."""
        rows = self.engine.board.rows
        if wanted.state == "attention":
            found = [rows[k] for k in self.attention if k in rows]
            if wanted.account or wanted.text:
                found = [row for row in found if wanted.matches(row)]
            top = heapq.nsmallest(ROWS_SHOWN, found, key=_attention_order)
            return [row_json(row) for row in top], len(found) - len(top)
        shown: list[Json] = []
        more = 0
        board = self.engine.board
        for key in board.keys_in_view():  # the board's own order: failed first
            row = rows[key]
            if not wanted.matches(row):
                continue
            if len(shown) < ROWS_SHOWN:
                shown.append(row_json(row))
            else:
                more += 1
        return shown, more


def is_failure_category(text: str) -> Category | None:
    """A failure category by its value (`media`) or its words (`media format`), else None."""
    text = text.strip().casefold()
    for category in Category:
        if text in (category.value, CATEGORY_LABELS[category].casefold()):
            return category
    return None
