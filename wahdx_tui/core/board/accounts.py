"""The accounts aggregate: one row per account, kept up to date row change by row change."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wahdx_tui.core.board.sortedview import SortedView, SortTuple
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, Category
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.domain.sanitize import clean

ACCOUNT_SORT_COLUMNS = (
    "unreviewed",
    "account",
    "platform",
    "posts",
    "failed",
    "stuck",
    "processing",
    "queued",
    "published",
    "reason",
)
"""What the accounts view sorts by; the first, unreviewed, is "worst first"."""
PLATFORMS = ("tiktok", "instagram", "threads", "facebook")
REASON_LIMIT = 160

_HOSTS: tuple[tuple[str, str], ...] = (
    ("tiktok.com", "tiktok"),
    ("instagram.com", "instagram"),
    ("threads.net", "threads"),
    ("threads.com", "threads"),
    ("facebook.com", "facebook"),
    ("fb.com", "facebook"),
    ("fb.watch", "facebook"),
)
_NAME_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"tiktok|(?<![a-z])tt(?![a-z])"), "tiktok"),
    (re.compile(r"instagram|insta(?![a-z])|(?<![a-z])ig(?![a-z])"), "instagram"),
    (re.compile(r"threads"), "threads"),
    (re.compile(r"facebook|(?<![a-z])fb(?![a-z])"), "facebook"),
)


def platform_from_url(url: str | None) -> str | None:
    """The platform a public URL is on, from its host (www.tiktok.com -> tiktok), or None."""
    if not url or len(url) > 4096:
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return None
    for domain, platform in _HOSTS:
        if host == domain or host.endswith("." + domain):
            return platform
    return None


def platform_from_name(account_id: str) -> str | None:
    """The platform an account id names (acc_tiktok_main -> tiktok), or None."""
    name = account_id[:256].casefold()
    for pattern, platform in _NAME_WORDS:
        if pattern.search(name):
            return platform
    return None


@dataclass(frozen=True, slots=True)
class _Share:
    """What one post adds to its account's counters."""

    state: State
    unreviewed: bool
    stuck: bool
    not_known: bool
    category: Category | None
    reason: str
    url_platform: str | None


def _share(row: Row) -> _Share:
    failed = row.state is State.FAILED
    url = row.status.public_url if row.status is not None else None
    return _Share(
        state=row.state,
        unreviewed=row.unreviewed_failure,
        stuck=row.stuck,
        not_known=row.unknown_answer,
        category=(row.category or Category.UNKNOWN) if failed else None,
        reason=clean(row.detail, REASON_LIMIT) if failed else "",
        url_platform=platform_from_url(url),
    )


@dataclass(slots=True)
class AccountRow:
    """One account as the accounts view shows it."""

    account_id: str
    """The id as the watchlist spells it (what a posts-view filter matches)."""
    account: str
    """The id made inert for the terminal."""
    name_platform: str | None
    platform: str = ""
    posts: int = 0
    counts: Counter[State] = field(default_factory=Counter)
    unreviewed: int = 0
    stuck: int = 0
    not_known: int = 0
    """Posts the API answered about in no known state (`Row.unknown_answer`)."""
    category: Category | None = None
    """The most common failure category among the account's failed posts."""
    reason: str = ""
    """The most common error text within that category."""
    category_count: int = 0
    haystack: str = ""
    sort_tuple: SortTuple = ()
    _categories: Counter[Category] = field(default_factory=Counter)
    _reasons: Counter[tuple[Category, str]] = field(default_factory=Counter)
    _url_platforms: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        """Failed posts, reviewed or not."""
        return self.counts[State.FAILED]

    def count(self, state: State) -> int:
        """Posts in `state`."""
        return self.counts[state]

    def _add(self, share: _Share, sign: int) -> None:
        self.posts += sign
        self.counts[share.state] += sign
        self.unreviewed += sign * share.unreviewed
        self.stuck += sign * share.stuck
        self.not_known += sign * share.not_known
        if share.category is not None:
            self._categories[share.category] += sign
            self._reasons[(share.category, share.reason)] += sign
        if share.url_platform is not None:
            self._url_platforms[share.url_platform] += sign

    def _settle(self) -> None:
        """Derive platform, top reason and search text from the counters (O(its reasons))."""
        for counter in (self.counts, self._categories, self._reasons, self._url_platforms):
            for k in [k for k, n in counter.items() if n <= 0]:
                del counter[k]
        if self._url_platforms:
            # The most seen host wins; ties go to the first platform in PLATFORMS order.
            self.platform = max(
                PLATFORMS, key=lambda p: (self._url_platforms.get(p, 0), -PLATFORMS.index(p))
            )
        else:
            self.platform = self.name_platform or ""
        if self._categories:
            self.category, self.category_count = min(
                self._categories.items(), key=lambda kv: (-kv[1], kv[0].value)
            )
            self.reason = min(
                ((n, text) for (cat, text), n in self._reasons.items() if cat is self.category),
                key=lambda nt: (-nt[0], nt[1]),
            )[1]
        else:
            self.category, self.category_count, self.reason = None, 0, ""
        label = CATEGORY_LABELS[self.category] if self.category is not None else ""
        self.haystack = " ".join((self.account, self.platform, label, self.reason)).casefold()


@dataclass(slots=True)
class AccountChanges:
    """What one update touched: the accounts whose rows changed, and whether any moved."""

    changed: list[str] = field(default_factory=list)
    reordered: bool = False


class Accounts(SortedView[str, "AccountRow"]):
    """Every account of the board, sorted and filtered; fed the board's changed rows.

    `update(rows)` takes the rows that changed (a pass's `Changes.changed`, a `set_flags`,
    a newly stuck post) and moves only their accounts; nothing is rebuilt per pass.
    """

    SORT_COLUMNS = ACCOUNT_SORT_COLUMNS

    def __init__(
        self, rows: Iterable[Row] = (), *, sort: str = "unreviewed", reverse: bool = False
    ) -> None:
        super().__init__(sort, reverse)
        self._shares: dict[PostKey, _Share] = {}
        self.reset(rows)

    # -- sorting --------------------------------------------------------------------------

    def _tuple(self, row: AccountRow) -> SortTuple:
        worst = (-row.unreviewed, -row.stuck, -row.failed)
        tail = (row.account.casefold(), row.account_id)
        col = self.sort_column
        if col == "unreviewed":
            return (*worst, *tail)
        if col == "account":
            return tail
        if col == "platform":
            return (row.platform or "~", *worst, *tail)
        if col == "posts":
            return (-row.posts, *worst, *tail)
        if col == "failed":
            return (-row.failed, -row.unreviewed, -row.stuck, *tail)
        if col == "stuck":
            return (-row.stuck, -row.unreviewed, -row.failed, *tail)
        if col in ("processing", "queued", "published"):
            return (-row.counts[State(col)], *worst, *tail)
        return (row.category or "~", row.reason.casefold(), *worst, *tail)

    # -- updates --------------------------------------------------------------------------

    def reset(self, rows: Iterable[Row]) -> None:
        """Rebuild from every row of the board (at start, after a restore or a reload)."""
        self.rows.clear()
        self._shares.clear()
        for row in rows:
            share = self._shares[row.key] = _share(row)
            self._account(row)._add(share, 1)
        for account in self.rows.values():
            account._settle()
        self._rebuild()

    def _account(self, row: Row) -> AccountRow:
        account_id = row.post.account_id
        account = self.rows.get(account_id)
        if account is None:
            account = self.rows[account_id] = AccountRow(
                account_id, row.account, platform_from_name(account_id)
            )
        return account

    def update(self, rows: Iterable[Row]) -> AccountChanges:
        """Fold in rows that changed (or are new); only their accounts are touched."""
        touched: dict[str, SortTuple | None] = {}
        for row in rows:
            share = _share(row)
            old = self._shares.get(row.key)
            if old == share:
                continue
            account_id = row.post.account_id
            existing = self.rows.get(account_id)
            touched.setdefault(account_id, existing.sort_tuple if existing else None)
            account = self._account(row)
            if old is not None:
                account._add(old, -1)
            account._add(share, 1)
            self._shares[row.key] = share
        return self._settle_touched(touched)

    def remove(self, keys: Iterable[PostKey]) -> AccountChanges:
        """Forget posts no longer watched; an account without posts leaves the view."""
        touched: dict[str, SortTuple | None] = {}
        for key in keys:
            old = self._shares.pop(key, None)
            account = self.rows.get(key[0])
            if old is None or account is None:
                continue
            touched.setdefault(key[0], account.sort_tuple)
            account._add(old, -1)
        return self._settle_touched(touched)

    def _settle_touched(self, touched: dict[str, SortTuple | None]) -> AccountChanges:
        changes = AccountChanges()
        for account_id, old_sort in touched.items():
            account = self.rows[account_id]
            was_shown = old_sort is not None and self._was_shown(old_sort)
            changes.changed.append(account_id)
            if account.posts <= 0:
                del self.rows[account_id]
                if old_sort is not None:
                    self._forget(old_sort, was_shown)
                changes.reordered = True
                continue
            account._settle()
            account.sort_tuple = self._tuple(account)
            self._move(account, old_sort, was_shown)
            changes.reordered = changes.reordered or account.sort_tuple != old_sort
        return changes
