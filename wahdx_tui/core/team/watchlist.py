"""The team's watchlist as a process follows it: what a board shows, what the poller polls,
when finished posts retire, and who and where a change comes from."""

from __future__ import annotations

import os
import socket
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from wahdx_tui.core.domain.model import PostKey, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.settings.table import DEFAULTS, Settings
from wahdx_tui.core.store.protocol import ListedPost


def file_source(path: str) -> str:
    """The source a watchlist file's posts are kept under: ``file HOST:/absolute/path``, so
    two hosts with a file of the same name are two sources."""
    return clean(f"file {socket.gethostname()}:{os.path.abspath(path)}", 1000)


RETIRE_LOOK_MAX = 60.0  # seconds between looks for posts to retire, at most


@dataclass(frozen=True, slots=True)
class Retirement:
    """When finished posts retire, in seconds (0: never)."""

    published_after: float = DEFAULTS.retire_published_after
    failed_after: float = DEFAULTS.retire_failed_after

    @staticmethod
    def of(settings: Settings) -> Retirement:
        """From resolved settings."""
        return settings.into(Retirement, prefix="retire_")

    def cutoffs(self, now: float) -> tuple[float | None, float | None]:
        """(published before, acknowledged before): what retires at `now` (None: nothing)."""
        published = now - self.published_after if self.published_after > 0 else None
        failed = now - self.failed_after if self.failed_after > 0 else None
        return published, failed

    def look_every(self) -> float:
        """Seconds between the poller's looks for posts to retire: a tenth of the shortest
        time set, from 1 s to RETIRE_LOOK_MAX (each look reads the whole list)."""
        times = [t for t in (self.published_after, self.failed_after) if t > 0]
        return min(RETIRE_LOOK_MAX, max(1.0, min(times, default=RETIRE_LOOK_MAX) / 10))


@dataclass(frozen=True, slots=True)
class ListNews:
    """What a look at the team's watchlist changed on a board: posts new to it (shown or
    polled), and whether the rows shown changed at all."""

    new: tuple[WatchedPost, ...] = ()
    shown_changed: bool = False
    restored: tuple[PostKey, ...] = ()  # gained rows that start from the store's state


class TeamList:
    """The team's watchlist as one process follows it: which posts its board shows (a file's,
    or the list's, of some accounts only), which its poller polls, and how many retired."""

    def __init__(self, path: str, accounts: Collection[str] = ()) -> None:
        self.path = path
        self.source = file_source(path) if path else None
        self.accounts = frozenset(accounts)
        self.entries: dict[PostKey, ListedPost] = {}  # listed or retired (removed ones go)
        self._file_posts: tuple[WatchedPost, ...] = ()
        self._retired: int | None = None  # counted when next asked for
        self._polled: list[WatchedPost] | None = None  # made when next asked for
        self._retired_keys: set[PostKey] | None = None
        self.version = 0  # moves on with every change: the poller re-reads the union then only
        self.shows_file = True  # False: a file synced in, but the whole list shown (serve)

    @property
    def file_posts(self) -> tuple[WatchedPost, ...]:
        """The posts of this process's watchlist file, as last read."""
        return self._file_posts

    @file_posts.setter
    def file_posts(self, posts: tuple[WatchedPost, ...]) -> None:
        self._file_posts = posts
        self._retired = None
        self.version += 1

    @property
    def own_file(self) -> bool:
        """Whether this process shows a watchlist file of its own (else the team's list: a
        board without a file, or `serve`, whose wall and metrics are the team's)."""
        return bool(self.path) and self.shows_file

    def clear(self) -> None:
        """Forget every entry (the store was replaced: its list comes next)."""
        self.entries.clear()
        self._retired = self._polled = self._retired_keys = None
        self.version += 1

    def take(self, entries: Iterable[ListedPost]) -> bool:
        """Take in list entries read from the store; True when any of them changed."""
        changed = False
        for entry in entries:
            old = self.entries.get(entry.key)
            if entry.status == "removed":
                changed = self.entries.pop(entry.key, None) is not None or changed
            elif old != entry:
                self.entries[entry.key] = entry
                changed = True
        if changed:  # what is made from the entries is made again when next asked for
            self._retired = self._polled = self._retired_keys = None
            self.version += 1
        return changed

    def _mine(self, account: str) -> bool:
        return not self.accounts or account in self.accounts

    def retired_keys(self) -> set[PostKey]:
        """The posts retired from the list (a board may still have them registered); made
        once after each change, as the poller asks every pass."""
        if self._retired_keys is None:
            self._retired_keys = {k for k, e in self.entries.items() if e.status == "retired"}
        return self._retired_keys

    def polled(self) -> list[WatchedPost]:
        """Every listed post: the poller asks for all of them, whatever a board shows (made
        once after each change; the caller does not change it)."""
        if self._polled is None:
            self._polled = [e.post for e in self.entries.values() if e.listed]
        return self._polled

    def shown(self) -> list[WatchedPost]:
        """The posts this board shows: its file's (but retired ones), or the team's list; of
        the accounts asked for only, when some were."""
        if self.own_file:
            entries = self.entries
            posts = [p for p in self.file_posts if (e := entries.get(p.key)) is None or e.listed]
        else:
            posts = self.polled()
        return [p for p in posts if self._mine(p.account_id)] if self.accounts else posts

    def retired(self) -> int:
        """How many posts this board would show but for their retirement (counted once
        after each change: the summary asks every second)."""
        if self._retired is None:
            self._retired = self._count_retired()
        return self._retired

    def _count_retired(self) -> int:
        if self.own_file:
            keys = {p.key for p in self.file_posts if self._mine(p.account_id)}
            return sum(1 for k in keys if (e := self.entries.get(k)) and e.status == "retired")
        return sum(
            1
            for e in self.entries.values()
            if e.status == "retired" and self._mine(e.post.account_id)
        )
