"""The board's state: one row per post, kept sorted and filtered incrementally as statuses arrive."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from wahdx_tui.core.board.sortedview import SortedView, SortTuple
from wahdx_tui.core.board.stuckwatch import Blind, StuckWatch
from wahdx_tui.core.domain.categories import Category, categorize
from wahdx_tui.core.domain.display import STATE_RANK, detail_text
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.domain.sanitize import clean

SORT_COLUMNS = (
    "state",
    "label",
    "account",
    "publish",
    "media",
    "since",
    "checked",
    "category",
    "detail",
)
STATE_FILTERS: tuple[State | None, ...] = (
    None,
    State.FAILED,
    State.PROCESSING,
    State.QUEUED,
    State.PUBLISHED,
    State.UNKNOWN,
)
# Above this share of changed rows a full sort is cheaper than moving rows one by one.
_REBUILD_SHARE = 0.125


@dataclass(slots=True)
class Row:
    """One watched post as the board shows it."""

    post: WatchedPost
    label: str
    account: str
    publish: str
    status: PostStatus | None = None
    state: State = State.UNKNOWN
    since: float | None = None
    checked_at: float | None = None
    from_last_run: bool = False
    unanswered: bool = False  # asked since its last answer, and not answered: shown stale
    acked: bool = False
    note: str = ""
    acked_by: str = ""  # who acknowledged it (user@host), as the store says
    acked_at: float | None = None  # when (epoch seconds)
    stuck: bool = False
    category: Category | None = None
    detail: str = "not checked yet"
    hay: str = ""  # the haystack once asked for ("" until then, and after a change)
    sort_tuple: SortTuple = ()

    @property
    def key(self) -> PostKey:
        """The post's (accountId, publishId)."""
        return self.post.key

    @property
    def haystack(self) -> str:
        """Every column's text, casefolded, for the text filter; made when first asked for
        (only while filtering by text), so 100,000 rows do not each keep one."""
        hay = self.hay
        if not hay:
            hay = self.hay = " ".join(
                (
                    self.label,
                    self.account,
                    self.publish,
                    self.post.media_type or "",
                    self.state.value,
                    self.detail,
                )
            ).casefold()
        return hay

    @property
    def unreviewed_failure(self) -> bool:
        """A failed post nobody has acknowledged yet."""
        return self.state is State.FAILED and not self.acked

    @property
    def unknown_answer(self) -> bool:
        """Answered, but in no state the board knows: the API does not know the post (a typo
        in an ID?), left it out, or said a status word not understood. (Not yet checked is
        UNKNOWN too, but has no `since`: it entered no state from an answer.)"""
        return self.state is State.UNKNOWN and self.since is not None


@dataclass(slots=True)
class Changes:
    """What one apply() changed: rows whose shown data moved, and state transitions."""

    changed: list[PostKey] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    new_failures: list[PostKey] = field(default_factory=list)
    reordered: bool = False


def carries_state(status: PostStatus) -> bool:
    """False for an answer without a state: a post left out of a response, not found, or a
    per-post error."""
    return status.state is not State.UNKNOWN or status.raw_status is not None


def says_nothing(old: PostStatus | None, new: PostStatus) -> bool:
    """True when `new` carries no state while a state is already known: the last known state
    stays, as on a failed pass."""
    return not carries_state(new) and old is not None and old.state is not State.UNKNOWN


def shows_the_same(old: PostStatus | None, new: PostStatus) -> bool:
    """True when the board would show `new` exactly as it shows `old` (times aside)."""
    return (
        old is not None
        and old.state is new.state
        and old.raw_status == new.raw_status
        and old.error == new.error
        and old.public_url == new.public_url
    )


def _make_row(post: WatchedPost) -> Row:
    row = Row(
        post=post,
        label=clean(post.label, 200),
        account=clean(post.account_id, 256),
        publish=clean(post.publish_id, 256),
    )
    _refresh_haystack(row)
    return row


def _refresh_haystack(row: Row) -> None:
    row.hay = ""  # made again when next asked for


def _since(st: PostStatus, now: float | None) -> float:
    """When the post entered its state: the API's own time when it gives a sane one."""
    seen = st.checked_at if now is None else min(now, st.checked_at)
    if st.changed_at is not None and st.changed_at <= seen:
        return st.changed_at
    return seen


class Board(SortedView[PostKey, "Row"]):
    """Rows keyed by post, a sorted list of them, and the filtered view the table shows."""

    SORT_COLUMNS = SORT_COLUMNS

    def __init__(
        self, posts: Iterable[WatchedPost] = (), *, sort: str = "state", reverse: bool = False
    ) -> None:
        super().__init__(sort, reverse)
        self.posts: list[WatchedPost] = []
        self.state_filter: State | None = None
        self.category_filter: Category | None = None
        self.account_filter: str | None = None  # one account's posts only (exact id)
        self._counts: Counter[State] = Counter()
        self._unreviewed = 0
        self._stuck = 0
        self._unknown = 0
        self._unanswered = 0
        self.generation = 0
        """Bumped when rows are added or removed: Row objects held from before may then no
        longer be this board's own (a post removed and added again has a new row)."""
        self._stuck_watch = StuckWatch()
        self.set_posts(posts)

    # -- the view -------------------------------------------------------------------------

    # -- counts ---------------------------------------------------------------------------

    def counts(self) -> Counter[State]:
        """How many posts are in each state."""
        return Counter(self._counts)

    @property
    def unreviewed(self) -> int:
        """Failed posts not yet acknowledged."""
        return self._unreviewed

    @property
    def stuck(self) -> int:
        """Posts flagged as stuck."""
        return self._stuck

    @property
    def unknown(self) -> int:
        """Posts the API answered about in no known state (`Row.unknown_answer`)."""
        return self._unknown

    @property
    def unanswered(self) -> int:
        """Posts shown stale: asked since their last answer, and not answered."""
        return self._unanswered

    def _count(self, row: Row, sign: int) -> None:
        """Add (sign=1) or remove (sign=-1) a row's share of every counter."""
        self._counts[row.state] += sign
        self._unreviewed += sign * row.unreviewed_failure
        self._stuck += sign * row.stuck
        self._unknown += sign * row.unknown_answer

    # -- sorting and filtering ------------------------------------------------------------

    def _rank(self, row: Row) -> float:
        if row.unknown_answer:
            return 0.25  # after the unreviewed failures, before the acknowledged ones
        rank = float(STATE_RANK[row.state])
        if row.state is State.FAILED and row.acked:
            rank += 0.5
        elif row.stuck:
            rank -= 0.25
        return rank

    def _tuple(self, row: Row) -> SortTuple:
        col = self.sort_column
        rank = self._rank(row)
        tail = (row.label.casefold(), row.account, row.publish, row.key)
        if col == "state":
            return (rank, *tail)
        if col == "label":
            return (row.label.casefold(), rank, row.account, row.publish, row.key)
        if col == "account":
            return (row.account, rank, *tail)
        if col == "publish":
            return (row.publish, row.account, row.key)
        if col == "media":
            return (row.post.media_type or "~", rank, *tail)
        if col == "since":
            return (-(row.since or -math.inf), rank, *tail)
        if col == "checked":
            return (-(row.checked_at or -math.inf), rank, *tail)
        if col == "category":
            return (row.category or "~", rank, *tail)
        return (row.detail.casefold(), rank, *tail)

    def _matches(self, row: Row) -> bool:
        if self.state_filter is not None and row.state is not self.state_filter:
            return False
        if self.category_filter is not None and row.category is not self.category_filter:
            return False
        if self.account_filter is not None and row.post.account_id != self.account_filter:
            return False
        return super()._matches(row)

    def _filtering(self) -> bool:
        return (
            self.state_filter is not None
            or self.category_filter is not None
            or self.account_filter is not None
            or bool(self.text_filter)
        )

    def set_state_filter(self, state: State | None) -> None:
        """Show only posts in `state` (None for all)."""
        self.state_filter = state
        self._refilter()

    def set_category_filter(self, category: Category | None) -> None:
        """Show only failed posts whose reason falls in `category` (None for all)."""
        self.category_filter = category
        self._refilter()

    def set_account_filter(self, account_id: str | None) -> None:
        """Show only the posts of one account (its exact id; None for all)."""
        self.account_filter = account_id
        self._refilter()

    # -- updates --------------------------------------------------------------------------

    def set_posts(self, posts: Iterable[WatchedPost]) -> tuple[int, int]:
        """Replace the watched posts, keeping what is known of those that stay; (added, removed)."""
        new = list(posts)
        keys = {p.key for p in new}
        removed = [k for k in self.rows if k not in keys]
        for k in removed:
            gone = self.rows.pop(k)
            self._count(gone, -1)
            self._unanswered -= gone.unanswered
        added = 0
        for post in new:
            row = self.rows.get(post.key)
            if row is None:
                row = self.rows[post.key] = _make_row(post)
                self._count(row, 1)
                self._stuck_watch.changed(row)
                added += 1
            elif row.post != post:
                row.post = post
                row.label = clean(post.label, 200)
                _refresh_haystack(row)
        self.posts = new
        if added or removed:
            self.generation += 1
        self._rebuild()
        return added, len(removed)

    def mark_unanswered(self, keys: Iterable[PostKey] | None = None) -> None:
        """Posts asked for and not answered (every post when `keys` is None) are shown stale
        until an answer for them arrives."""
        rows = self.rows
        if keys is None:
            for row in rows.values():
                row.unanswered = True
            self._unanswered = len(rows)
            return
        for key in keys:
            found = rows.get(key)
            if found is not None and not found.unanswered:
                found.unanswered = True
                self._unanswered += 1

    def mark_answered(self) -> None:
        """Every post is as fresh as its source says (an attached board's poller answered)."""
        if self._unanswered:
            for row in self.rows.values():
                row.unanswered = False
            self._unanswered = 0

    def any_unanswered(self) -> bool:
        """Whether any post is shown stale (a kept count, not a scan)."""
        return self._unanswered > 0

    def _answered(self, row: Row) -> None:
        """An answer for the row arrived: it is neither from the last run nor stale."""
        row.from_last_run = False
        if row.unanswered:
            row.unanswered = False
            self._unanswered -= 1

    @staticmethod
    def absorb_kept(
        rows: Sequence[Row], statuses: Sequence[PostStatus], checked_at: float
    ) -> list[PostStatus]:
        """The shortcut for answers that repeat the last: with `statuses` given beside the
        rows asked (`rows[i]` asked for `statuses[i]`), a row whose status is the very one
        answered (kept by the parser) was checked at `checked_at`; the other statuses come
        back for `absorb_unchanged`. Identity makes it safe: a status beside the wrong row is
        never its status, so it only goes the long way. The rows must still be the boards'
        own (no `generation` moved since they were taken)."""
        rest: list[PostStatus] = []
        for row, st in zip(rows, statuses, strict=True):
            if row.status is st and not row.unanswered:
                row.checked_at = checked_at
                row.from_last_run = False
            else:
                rest.append(st)
        return rest

    def absorb_unchanged(
        self,
        statuses: Sequence[PostStatus],
        unanswered: list[PostKey] | None = None,
        checked_at: float | None = None,
        asked_at: float | None = None,
    ) -> list[PostStatus]:
        """Record the check time of posts whose status is as shown; return those that changed.

        This is the O(n) part of a refresh; callers run it in slices between frames so that
        apply() only ever sees the few statuses that really changed. Posts the answer said
        nothing about (left out of it) keep their state and go into `unanswered`. A status
        that is the row's own (the answer repeated the last one) was checked at `checked_at`
        (now, if not given). A kept status that no longer is the row's own (a re-check or
        another process answered while the pass ran) and differs from it is returned with
        `checked_at` as its time, not the older one of when it was first read (it is older
        than `asked_at`, when the pass began), so the row's times do not move back.
        """
        get = self.rows.get
        changed: list[PostStatus] = []
        unknown = State.UNKNOWN
        stale_answered = 0
        kept_at = time.time() if checked_at is None else checked_at
        # says_nothing, shows_the_same and _answered, inlined: this runs for every answer.
        for st in statuses:
            row = get(st.key)
            if row is None:
                continue
            old = row.status
            if old is st:  # the same answer as last time, kept by the parser
                row.checked_at = kept_at
                row.from_last_run = False
                if row.unanswered:
                    row.unanswered = False
                    stale_answered += 1
                continue
            state = st.state
            if old is None:
                changed.append(st)
                continue
            raw_status = st.raw_status
            if state is unknown and raw_status is None and old.state is not unknown:
                if unanswered is not None:
                    unanswered.append(st.key)
                continue
            if (
                old.state is state
                and old.raw_status == raw_status
                and old.error == st.error
                and old.public_url == st.public_url
            ):
                row.status = st
                # Never back (`st` may be a kept status older than a re-check that agreed),
                # but for a time restored from the last run, which may come from another clock.
                if row.from_last_run or st.checked_at > (row.checked_at or 0):
                    row.checked_at = st.checked_at
                row.from_last_run = False
                if row.unanswered:
                    row.unanswered = False
                    stale_answered += 1
            else:
                if asked_at is not None and st.read_from_raw and st.checked_at < asked_at:
                    st = replace(st, checked_at=kept_at)
                changed.append(st)
        self._unanswered -= stale_answered
        return changed

    def apply(self, statuses: Sequence[PostStatus], now: float | None = None) -> Changes:
        """Take a pass's statuses; return what changed. Rows not in `statuses` are left alone."""
        changes = Changes()
        touched: list[tuple[Row, SortTuple, bool]] = []
        for st in statuses:
            row = self.rows.get(st.key)
            if row is None:
                continue
            old = row.status
            if says_nothing(old, st):
                continue
            row.checked_at = st.checked_at
            self._answered(row)
            if shows_the_same(old, st):
                row.status = st
                continue
            was_shown = self._shown is not None and self._matches(row)
            old_sort = row.sort_tuple
            previous = row.state if old is not None else None
            row.status = st
            if previous is not st.state or row.since is None:
                self._count(row, -1)
                row.state = st.state
                row.since = _since(st, now)
                changes.transitions.append(Transition(row.key, previous, st.state, row.since))
                if st.state is State.FAILED:
                    row.acked = False
                    changes.new_failures.append(row.key)
                if st.state not in (State.QUEUED, State.PROCESSING):
                    row.stuck = False
                self._count(row, 1)
                self._stuck_watch.changed(row)
            row.detail = detail_text(st, 500)
            row.category = (
                categorize(st.error, st.raw_status) if row.state is State.FAILED else None
            )
            _refresh_haystack(row)
            changes.changed.append(row.key)
            touched.append((row, old_sort, was_shown))
        many = len(touched) > max(16, len(self.rows) * _REBUILD_SHARE)
        if many or (self.sort_column == "checked" and statuses):
            self._rebuild()
            changes.reordered = True
        else:
            for row, old_sort, was_shown in touched:
                row.sort_tuple = self._tuple(row)
                if row.sort_tuple != old_sort or self._shown is not None:
                    self._move(row, old_sort, was_shown)
                    changes.reordered = changes.reordered or row.sort_tuple != old_sort
        return changes

    def set_flags(
        self,
        key: PostKey,
        *,
        acked: bool | None = None,
        stuck: bool | None = None,
        note: str | None = None,
    ) -> Row | None:
        """Change a row's review flags and move it where its new flags sort it."""
        row = self.rows.get(key)
        if row is None:
            return None
        was_shown = self._shown is not None and self.index_of(row.key) is not None
        old = row.sort_tuple
        self._count(row, -1)
        if acked is not None:
            row.acked = acked
        if stuck is not None:
            row.stuck = stuck
        if note is not None:
            row.note = note
        self._count(row, 1)
        _refresh_haystack(row)
        row.sort_tuple = self._tuple(row)
        self._move(row, old, was_shown)
        return row

    def set_ack(self, key: PostKey, ack: Ack | None) -> Row | None:
        """Show the row acknowledged (its note, who and when), or not (None)."""
        row = self.set_flags(key, acked=ack is not None, note=ack.note if ack else "")
        if row is not None:
            row.acked_by, row.acked_at = (ack.by, ack.at) if ack else ("", None)
        return row

    def take_ack(self, key: PostKey, ack: Ack | None) -> bool:
        """An acknowledgement as the store now has it, from any board (None: withdrawn): a
        failed row shows it, a later note replacing an earlier one. True when the row changed."""
        row = self.rows.get(key)
        if row is None:
            return False
        if ack is None:
            if not row.acked:
                return False
        elif row.state is not State.FAILED or (
            row.acked and (row.note, row.acked_by, row.acked_at) == (ack.note, ack.by, ack.at)
        ):
            return False
        self.set_ack(key, ack)
        return True

    def restore(
        self,
        stored: Mapping[PostKey, StoredPost],
        acks: Mapping[PostKey, Ack],
        *,
        last_run: bool = True,
    ) -> int:
        """Show the stored states of posts not yet answered here; return how many. They are
        the last run's (`last_run`: not yet checked in this run), or the team poller's own."""
        restored = 0
        for key, sp in stored.items():
            row = self.rows.get(key)
            if row is None or row.status is not None:
                continue
            self._count(row, -1)
            row.status = sp.status()
            row.state = sp.state
            row.since = sp.since
            row.checked_at = sp.checked_at
            row.from_last_run = last_run
            row.detail = detail_text(row.status, 500)
            row.category = categorize(sp.error, sp.raw_status) if sp.state is State.FAILED else None
            ack = acks.get(key)
            if ack is not None and sp.state is State.FAILED:
                row.acked, row.note, row.acked_by, row.acked_at = True, ack.note, ack.by, ack.at
            self._count(row, 1)
            _refresh_haystack(row)
            self._stuck_watch.changed(row)
            restored += 1
        if restored:
            self._rebuild()
        return restored

    def find_stuck(
        self, now: float, limits: Mapping[State, float], blind: Blind | None = None
    ) -> list[PostKey]:
        """Flag posts longer than `limits[state]` seconds in a state, not counting the time
        `blind` says nobody could see them; return the newly stuck.

        Only rows whose time has come or that changed since the last call are looked at
        (core/stuckwatch.py); the first call, and one with other limits, looks at all."""
        return self._stuck_watch.look(self.rows, now, limits, self._flag_stuck, blind)

    def _flag_stuck(self, row: Row, stuck: bool) -> None:
        self.set_flags(row.key, stuck=stuck)

    def states(self) -> dict[PostKey, State]:
        """Each post's last known state (for the poller's choice of due posts)."""
        return {k: r.state for k, r in self.rows.items()}
