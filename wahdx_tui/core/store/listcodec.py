"""The team's watchlist in the store: its rows, and what an add or a file's sync writes (both backends)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wahdx_tui.core.domain.model import PostKey, WatchedPost
from wahdx_tui.core.store.codec import Row, Text
from wahdx_tui.core.store.protocol import AddCounts, ListedPost, ListStatus, Origin

LIST_COLUMNS = (
    "account, publish, media_type, label, added_at, added_by, source, status, status_at, why"
)
"""The columns a ListedPost is read from, in `listed_of`'s order."""
_STATUSES: tuple[ListStatus, ...] = ("listed", "retired", "removed")


def listed_of(row: Sequence[object]) -> ListedPost:
    """A list entry from a row of LIST_COLUMNS."""
    account, publish, media, label, added_at, added_by, source, status, status_at, why = row
    return ListedPost(
        WatchedPost(
            str(account), str(publish), media if isinstance(media, str) else None, str(label)
        ),
        float(added_at),  # type: ignore[arg-type]
        str(added_by),
        str(source),
        next((s for s in _STATUSES if s == status), "removed"),
        None if status_at is None else float(status_at),  # type: ignore[arg-type]
        str(why),
    )


def unique(posts: Iterable[WatchedPost]) -> list[WatchedPost]:
    """Each post once, where it first came, with what its last mention said."""
    seen: dict[PostKey, WatchedPost] = {}
    for post in posts:
        seen[post.key] = post
    return list(seen.values())


def unique_keys(posts: Iterable[WatchedPost]) -> list[PostKey]:
    """The posts' keys, each once."""
    return list(dict.fromkeys(p.key for p in posts))


@dataclass(slots=True)
class ListWrite:
    """What one add or sync writes: whole rows to upsert, keys to remove, and the counts."""

    rows: list[ListedPost] = field(default_factory=list)
    removed: list[PostKey] = field(default_factory=list)
    counts: AddCounts = field(default_factory=AddCounts)

    @property
    def empty(self) -> bool:
        """Nothing to write."""
        return not (self.rows or self.removed)


def _relabelled(old: ListedPost, media: str | None, label: str) -> ListedPost:
    post = WatchedPost(old.post.account_id, old.post.publish_id, media, label)
    return ListedPost(post, old.added_at, old.added_by, old.source, old.status, old.status_at)


@dataclass(frozen=True, slots=True)
class ListPlan:
    """One write to the team's watchlist, worked out before it is made: what the store holds
    of the posts concerned (`existing`), who writes and from where (`origin`), and when
    (`now`)."""

    existing: Mapping[PostKey, ListedPost]
    origin: Origin
    now: float

    def _fresh(self, post: WatchedPost) -> ListedPost:
        by, source = self.origin.added_by, self.origin.source
        return ListedPost(post, self.now, by, source, "listed", self.now, "")

    def add(self, posts: Iterable[WatchedPost]) -> ListWrite:
        """`add`: new or brought-back posts from the source; listed ones keep where they came
        from and take the label and media type given (empty: kept)."""
        out = ListWrite()
        added = updated = unchanged = 0
        for post in unique(posts):
            old = self.existing.get(post.key)
            if old is None or not old.listed:
                out.rows.append(self._fresh(post))
                added += 1
                continue
            media = post.media_type or old.post.media_type
            label = post.label or old.post.label
            if media == old.post.media_type and label == old.post.label:
                unchanged += 1
            else:
                out.rows.append(_relabelled(old, media, label))
                updated += 1
        out.counts = AddCounts(added, updated, unchanged)
        return out

    def sync(self, posts: Iterable[WatchedPost]) -> ListWrite:
        """A file's sync: `existing` holds the rows of the posts given and of the source's own;
        the source's own not given are removed."""
        out = ListWrite()
        added = updated = unchanged = 0
        wanted = unique(posts)
        keys = {p.key for p in wanted}
        source = self.origin.source
        for post in wanted:
            old = self.existing.get(post.key)
            if old is None or old.status == "removed":
                out.rows.append(self._fresh(post))
                added += 1
            elif old.source != source or old.status != "listed":
                unchanged += 1  # another source's, or retired: left alone
            elif post.media_type == old.post.media_type and post.label == old.post.label:
                unchanged += 1
            else:
                out.rows.append(_relabelled(old, post.media_type, post.label))
                updated += 1
        out.removed = [
            key
            for key, old in self.existing.items()
            if old.source == source and old.status != "removed" and key not in keys
        ]
        out.counts = AddCounts(added, updated, unchanged, len(out.removed))
        return out


def upsert_rows(sid: int, rev: int, rows: Iterable[ListedPost], text: Text) -> list[Row]:
    """(scope, account, publish, media, label, added_at, added_by, source, status, status_at,
    why, rev) of each entry."""
    return [
        (
            sid,
            text(e.post.account_id),
            text(e.post.publish_id),
            text(e.post.media_type),
            text(e.post.label) or "",
            e.added_at,
            text(e.added_by) or "",
            text(e.source) or "",
            e.status,
            e.status_at,
            text(e.why) or "",
            rev,
        )
        for e in rows
    ]


def status_rows(
    sid: int,
    rev: int,
    keys: Iterable[PostKey],
    status: ListStatus,
    now: float,
    why: str,
    text: Text,
) -> list[Row]:
    """(status, status_at, why, rev, scope, account, publish) for each post."""
    return [(status, now, text(why) or "", rev, sid, text(k[0]), text(k[1])) for k in keys]


def removal_rows(
    sid: int,
    rev: int,
    keys: Iterable[PostKey],
    now: float,
    why: str,
    source: str | None,
    text: Text,
) -> list[Row]:
    """`status_rows` for a removal, each with the source it is limited to (None: any)."""
    return [(*row, source) for row in status_rows(sid, rev, keys, "removed", now, why, text)]
