"""What every store backend offers (SQLite, PostgreSQL): the protocol and its value types."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from wahdx_tui.core.domain.errors import WahdxError
from wahdx_tui.core.domain.model import PostKey, PostStatus, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.domain.urls import split_base_url

MAX_RAW_BYTES = 64 * 1024
"""Largest raw payload kept per post, as JSON text; bigger ones are stored as null."""
KEEP_EVENTS = 100_000
ACK_SINCE_SLACK = 0.001  # seconds: a `since` read back from the store is the same moment
REFRESH_KEEP = 1000
"""Refresh requests kept per scope (older ones, and any older than REFRESH_MAX_AGE, go)."""
REFRESH_MAX_AGE = 3600.0
BOARD_FORGET_AFTER = 86400.0
"""A board not heard from for this long is forgotten when another board registers."""
ListStatus = Literal["listed", "retired", "removed"]
"""Where a post stands on the team's watchlist: watched, retired (finished; `add` brings it
back), or removed (taken off the list)."""


class StoreError(WahdxError):
    """The store cannot be opened, read or written; one clear line says why (never a password)."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Everything written to a scope after a cursor, and the cursor to ask from next time.

    `acks` maps a post to its acknowledgement, or to None when it was withdrawn (by an
    operator or by a new failure). `reset` is True when the cursor asked from is not from
    this store's history (a replaced file): the changes are then everything, to replace
    what the caller holds rather than merge into it.
    """

    posts: dict[PostKey, StoredPost] = field(default_factory=dict)
    acks: dict[PostKey, Ack | None] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    cursor: int = 0
    reset: bool = False
    listed: dict[PostKey, ListedPost] = field(default_factory=dict)
    """The team's watchlist entries added, changed, retired or removed after the cursor."""

    @property
    def empty(self) -> bool:
        """True when nothing was written after the cursor."""
        return not (self.posts or self.acks or self.transitions or self.listed)


@dataclass(frozen=True, slots=True)
class HistoryRows:
    """Rows of one scope's history as another store holds them, for `import_history` to write
    exactly as given: last payloads, transitions and acknowledgements."""

    posts: Sequence[StoredPost] = ()
    transitions: Sequence[Transition] = ()
    acks: Sequence[Ack] = ()


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds (or asks for) a lease: a unique id per process run, its host and pid."""

    id: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """A lease as the store last recorded it; `expired` is judged by the store's one clock.

    Times are epoch seconds on the store's clock (the database server's on PostgreSQL).
    A released lease reads as expired at the moment it was released.
    """

    holder_id: str
    host: str
    pid: int
    renewed_at: float
    expires_at: float
    expired: bool
    status: str = ""  # what the holder says with each renewal (core/team.py PollerWord)


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """A board asked the poller to check posts now: `keys` None means every post."""

    id: int
    keys: tuple[PostKey, ...] | None
    requester: str
    at: float


@dataclass(frozen=True, slots=True)
class BoardInfo:
    """A board that registered the posts it watches, and when it was last heard from."""

    board_id: str
    host: str
    registered_at: float
    """When it last registered: a new set of posts is a new time."""
    seen_at: float


@dataclass(frozen=True, slots=True)
class ListedPost:
    """A post on the team's watchlist: what to watch, and when, by whom and from where
    (`source`: `add`, `board`, `http`, `file HOST:PATH`) it was added; with its status
    and since when (`status_at`) and why (`why`) it has had it."""

    post: WatchedPost
    added_at: float
    added_by: str
    source: str
    status: ListStatus = "listed"
    status_at: float | None = None
    why: str = ""

    @property
    def key(self) -> PostKey:
        """The post's (accountId, publishId)."""
        return self.post.key

    @property
    def listed(self) -> bool:
        """Whether the post is watched now (neither retired nor removed)."""
        return self.status == "listed"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who puts posts on the team's watchlist (`added_by`: user@host, or the service), and from
    where (`source`: `add`, `board`, `http`, `file HOST:PATH`)."""

    source: str
    added_by: str


@dataclass(frozen=True, slots=True)
class AddCounts:
    """What a write to the team's watchlist did, post by post."""

    added: int = 0
    """New on the list, or brought back (it was retired or removed)."""
    updated: int = 0
    """On the list already; its label or media type changed."""
    unchanged: int = 0
    removed: int = 0
    """Taken off the list (a file's sync, or `remove`)."""

    def __str__(self) -> str:
        said = f"{self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged"
        return f"{said}, {self.removed:,} removed" if self.removed else said


def scope_for(base_url: str) -> str:
    """The normalised base URL (lower-case scheme and host, no trailing slash) a history is kept under."""
    base = split_base_url(base_url)
    scheme, host, port = base.parts.scheme.lower(), base.host, base.port
    if base.error or not scheme or not host:
        return base.text
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{base.parts.path.rstrip('/')}"


class Store(Protocol):
    """A store shared by a poller and its boards; SQLite and PostgreSQL behave the same.

    Every method raises StoreError (one line, no password) when the store cannot do it.
    Methods taking `now` use the caller's clock when given, else the store's own clock
    (the server's on PostgreSQL, so hosts with skewed clocks agree).
    """

    readonly: bool
    notices: tuple[str, ...]
    """What opening it did that the operator should hear of once (a file made owner-only)."""

    @property
    def location(self) -> str:
        """Where the store is, fit to show: a path, or postgresql://user@host/db."""
        ...

    def close(self) -> None:
        """Close the store; later calls raise StoreError."""
        ...

    def replaced(self) -> str | None:
        """What became of the store under this process, in words ('was deleted', 'was
        replaced by another file'), or None while it is the one opened. Cheap: asked every
        few seconds. A server's database is never replaced under its connection: None."""
        return None

    def reopen(self) -> None:
        """Open the store again after `replaced` said it was (raises StoreError)."""
        return None

    def stop_waiting(self) -> None:
        """Wait no longer for a lock another process holds, now or later: a call waiting for
        one raises StoreError at once (a stop's deadline has come, see Engine.aclose). A
        store whose waits are bounded by its own timeouts may leave this as it is."""
        return None

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...

    # -- history --------------------------------------------------------------------------

    def record(
        self, scope: str, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """Store one pass in one transaction: last payloads, transitions, re-opened failures."""
        ...

    def set_ack(
        self,
        scope: str,
        key: PostKey,
        note: str,
        at: float,
        since: float | None = None,
        by: str = "",
    ) -> None:
        """Acknowledge a post `by` an operator (replacing any earlier acknowledgement, whoever
        wrote it: the last write wins). With `since` (when the acknowledged failure began),
        nothing is written when the post has entered a state since then: it failed again, or
        moved on, and the new failure stays unreviewed."""
        ...

    def clear_ack(self, scope: str, key: PostKey) -> None:
        """Withdraw the acknowledgement of a post, if any."""
        ...

    def prune(
        self, scope: str, keep_events: int = KEEP_EVENTS, older_than: float | None = None
    ) -> int:
        """Drop the oldest transitions beyond the newest `keep_events`, and with `older_than`
        (epoch seconds) every transition from before it, and the watchlist's removed entries
        too; return how many transitions went."""
        ...

    def last_posts(
        self, scope: str, keys: Collection[PostKey] | None = None
    ) -> dict[PostKey, StoredPost]:
        """The last payload recorded for every post of the scope (only of `keys` when given:
        a board that gains posts looks up what the poller already knows of them)."""
        ...

    def trail(self, scope: str, key: PostKey, limit: int = 50) -> list[Transition]:
        """The post's last `limit` transitions, oldest first."""
        ...

    def events(self, scope: str, limit: int = 1000) -> list[Transition]:
        """The last `limit` transitions across all posts, newest first."""
        ...

    def acks(self, scope: str, keys: Collection[PostKey] | None = None) -> dict[PostKey, Ack]:
        """Every acknowledgement of the scope (only of `keys` when given)."""
        ...

    def failures_per_hour(
        self, scope: str, since: float, until: float, account: str | None = None
    ) -> list[int]:
        """Transitions into FAILED per hour from `since` (one count per started hour)."""
        ...

    def scopes(self) -> list[str]:
        """Every scope the store holds anything for."""
        ...

    def import_history(self, scope: str, rows: HistoryRows) -> int:
        """Write rows exactly as given (a copy); a transition already there is skipped.

        Returns how many transitions were new. Running it twice changes nothing.
        """
        ...

    # -- the change feed --------------------------------------------------------------------

    def cursor(self, scope: str) -> int:
        """The scope's current revision: take it before reading a snapshot, then follow."""
        ...

    def changes_since(self, scope: str, cursor: int) -> FeedPage:
        """Everything written after `cursor` (0: everything); cheap when nothing changed."""
        ...

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to `timeout` s; True when another connection may have written.

        True on the first call (nothing is known yet), after the store reconnects, and
        now and then on PostgreSQL in case a notification was lost. Call it from one
        thread of its own; it does not hold up the store's other calls.
        """
        ...

    def now(self) -> float:
        """The store's clock, epoch seconds (the server's on PostgreSQL)."""
        ...

    # -- the poller lease -----------------------------------------------------------------

    def try_lease(self, name: str, holder: LeaseHolder, ttl: float, status: str = "") -> bool:
        """Take the lease when free or expired, renew it when ours; False when another holds it.

        `status` is kept with the lease for its readers (the holder's word on the API).

        Raises StoreError when the store cannot be asked: the holder must then stop polling.
        """
        ...

    def release_lease(self, name: str, holder_id: str) -> None:
        """Let the lease go at once if `holder_id` holds it."""
        ...

    def lease_info(self, name: str) -> LeaseInfo | None:
        """The lease as recorded, or None when nobody ever held it."""
        ...

    # -- refresh requests ---------------------------------------------------------------------

    def request_refresh(self, scope: str, keys: Sequence[PostKey] | None, requester: str) -> int:
        """Ask the poller to check `keys` now (None: every post); returns the request's id."""
        ...

    def take_refresh_requests(self, scope: str, after: int) -> list[RefreshRequest]:
        """Requests with an id above `after`, oldest first (the poller remembers the last)."""
        ...

    # -- boards and what they watch -------------------------------------------------------------

    def register_board(
        self,
        scope: str,
        board_id: str,
        host: str,
        posts: Sequence[WatchedPost],
        now: float | None = None,
    ) -> None:
        """Say which posts a board watches (replacing what it said before)."""
        ...

    def heartbeat_board(self, board_id: str, now: float | None = None) -> bool:
        """Say the board is alive; False when the store does not know it (register again)."""
        ...

    def unregister_board(self, board_id: str) -> None:
        """Forget a board and what it watched."""
        ...

    def watched_posts(
        self, scope: str, alive_within: float, now: float | None = None
    ) -> list[WatchedPost]:
        """The union of the posts live boards watch, each once, in first-registered order."""
        ...

    def boards(self, scope: str, alive_within: float, now: float | None = None) -> list[BoardInfo]:
        """The boards heard from within `alive_within` seconds."""
        ...

    # -- the team's watchlist -------------------------------------------------------------------

    def add_watched(
        self, scope: str, posts: Sequence[WatchedPost], origin: Origin, now: float | None = None
    ) -> AddCounts:
        """Put posts on the team's watchlist in one transaction (idempotent).

        A post already listed keeps its source and when and by whom it was added; its label
        and media type are replaced when given (an empty label or None keeps the old one).
        A retired or removed post is listed again, as added from `origin`.
        """
        ...

    def sync_watched(
        self, scope: str, posts: Sequence[WatchedPost], origin: Origin, now: float | None = None
    ) -> AddCounts:
        """Make the posts on the list from `origin.source` be `posts` (a watchlist file, as it
        now reads).

        Posts not on the list are added from `origin`; the source's own posts take the label
        and media type given (an empty label clears it) and those no longer given are
        removed; posts added from elsewhere are left alone, and the source's retired posts
        stay retired.
        """
        ...

    def remove_watched(self, scope: str, keys: Sequence[PostKey], now: float | None = None) -> int:
        """Take posts off the list, whoever put them there (`remove`, the HTTP DELETE); returns
        how many left it. Their history stays. (A file's sync takes off only that file's.)"""
        ...

    def retire_watched(
        self, scope: str, keys: Sequence[PostKey], why: str, now: float | None = None
    ) -> int:
        """Retire listed posts (`why` says by whom or for what); returns how many."""
        ...

    def retire_finished(
        self,
        scope: str,
        published_before: float | None,
        acknowledged_before: float | None,
        now: float | None = None,
    ) -> list[PostKey]:
        """Retire the listed posts published before `published_before`, and the failed ones
        acknowledged before `acknowledged_before` (None: none of that kind); an
        unacknowledged failure is never retired. Returns the posts retired."""
        ...

    def listed_posts(self, scope: str, *, retired: bool = False) -> list[ListedPost]:
        """The team's watchlist in the order added; with `retired`, retired posts too."""
        ...

    def import_listed(self, scope: str, entries: Sequence[ListedPost]) -> None:
        """Write list entries exactly as given (a copy), replacing the target's for a post."""
        ...
