"""The board's link to its store: reads and writes on one thread, in order, off the UI loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.store.protocol import Store, StoreError

_T = TypeVar("_T")
EVENTS_KEPT = 5000
EVENTS_ON_DISK = 100_000
UNSAVED_KEPT = 100_000  # transitions held for the next try while the store refuses writes
PRUNE_EVERY = 3600.0  # seconds between prunes of the file while the board runs
SaveDone = Callable[[str | None], None]
_Ack = tuple[str | None, float, float | None]  # note (None: cleared), when, the failure's since
_Write = tuple[list[PostStatus], list[Transition], dict[PostKey, _Ack]]


class StoreWriter:
    """Wraps a Store for one API scope; keeps the newest transitions in memory for the log."""

    def __init__(self, store: Store | None, scope: str, events_kept: int = EVENTS_KEPT) -> None:
        self.store = store
        self.scope = scope
        self.events: deque[Transition] = deque(maxlen=events_kept)  # newest first
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wahdx-history")
        self.on_saved: SaveDone | None = None  # hears how each write ended (history thread)
        self.error: str | None = None  # why the last write failed, if it did
        self.dropped = 0  # transitions dropped, oldest first, beyond UNSAVED_KEPT waiting
        self._inbox: deque[_Write] = deque()  # queued writes, taken by the history thread
        self._pruned_at = time.monotonic()  # load() prunes as the board opens
        self._flush_queued = False
        # What a failed write could not store, tried again with the next one (history thread).
        self._unsaved_posts: dict[PostKey, PostStatus] = {}
        self._unsaved_events: deque[Transition] = deque(maxlen=UNSAVED_KEPT)
        self._unsaved_acks: dict[PostKey, _Ack] = {}

    async def _run(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def call(self, fn: Callable[[], _T]) -> _T:
        """Run another store call on the history thread, in order with the writes."""
        return await self._run(fn)

    async def load(self) -> tuple[dict[PostKey, StoredPost], dict[PostKey, Ack]]:
        """The last run's posts and acknowledgements; the newest events into memory."""
        store = self.store
        if store is None:
            return {}, {}

        def load() -> tuple[dict[PostKey, StoredPost], dict[PostKey, Ack], list[Transition]]:
            # A board left running for weeks must not grow its file without end.
            store.prune(self.scope, keep_events=EVENTS_ON_DISK)
            return store.last_posts(self.scope), store.acks(self.scope), store.events(self.scope)

        posts, acks, events = await self._run(load)
        self.events.extend(events)
        return posts, acks

    @property
    def unsaved(self) -> int:
        """Transitions waiting for the store to take writes again."""
        return len(self._unsaved_events)

    def save(
        self,
        changed: Sequence[PostStatus],
        transitions: Sequence[Transition],
        shown: Sequence[Transition] | None = None,
    ) -> None:
        """Remember a pass: in memory at once, and queued for disk in order before returning.

        `shown` are the transitions for the event log in memory (default: all of them; a team
        poller writes other boards' posts too). A write the store refuses is kept and tried
        again with the next pass (and at close); `on_saved` hears how each write ended.
        """
        events = transitions if shown is None else shown
        self.events.extendleft(sorted(events, key=lambda t: t.at))
        if self.store is not None and (changed or transitions or self._waiting()):
            self._queue((list(changed), list(transitions), {}))  # no news still retries

    def save_ack(
        self, key: PostKey, note: str | None, at: float, since: float | None = None
    ) -> None:
        """Queue an acknowledgement (`note`), or its removal (None), like `save`. `since` is
        when the acknowledged failure began: a store that has seen the post fail again since
        then keeps the new failure unreviewed (an ack that waited out an outage)."""
        if self.store is not None:
            self._queue(([], [], {key: (note, at, since)}))

    def _queue(self, item: _Write) -> None:
        # Writes wait in the inbox and one flush at a time takes them all, so a store that is
        # slow to refuse (a lock held elsewhere) cannot pile up work that quitting must drain.
        self._inbox.append(item)
        if not self._flush_queued:
            self._flush_queued = True
            self._pool.submit(self._flush)

    def _waiting(self) -> bool:
        return bool(self._unsaved_events or self._unsaved_posts or self._unsaved_acks)

    def _flush(self) -> None:
        """On the history thread: write what the inbox holds and what earlier writes left."""
        self._flush_queued = False  # first: a write queued from now on gets a flush of its own
        while self._inbox:
            changed, transitions, acks = self._inbox.popleft()
            for status in changed:
                self._unsaved_posts[status.key] = status
            for tr in transitions:
                if tr.new is State.FAILED:
                    # A new failure re-opens the post: an acknowledgement made before it and
                    # still waiting must not be written after it.
                    self._unsaved_acks.pop(tr.key, None)
            overflow = len(self._unsaved_events) + len(transitions) - UNSAVED_KEPT
            if overflow > 0:
                self._drop_oldest(overflow, transitions)
            self._unsaved_events.extend(transitions)
            self._unsaved_acks.update(acks)
        if not self._waiting():
            return
        store = self.store
        assert store is not None
        said = self.on_saved  # read once: close() may clear it meanwhile
        try:
            if self._unsaved_posts or self._unsaved_events:
                posts = list(self._unsaved_posts.values())
                store.record(self.scope, posts, self._unsaved_events)
                self._unsaved_posts.clear()
                self._unsaved_events.clear()
            while self._unsaved_acks:
                key, (note, at, since) = next(iter(self._unsaved_acks.items()))
                if note is None:
                    store.clear_ack(self.scope, key)
                else:
                    store.set_ack(self.scope, key, note, at, since)
                del self._unsaved_acks[key]
        except StoreError as exc:
            self.error = str(exc)  # kept, and tried again with the next write
        except Exception as exc:  # a bug: retrying the same data would only fail again
            lost = len(self._unsaved_events)
            self._unsaved_posts.clear()
            self._unsaved_events.clear()
            self._unsaved_acks.clear()
            self.error = None  # nothing is left waiting on it
            if said is not None:
                said(f"internal error: {exc!r}; {lost:,} changes not saved")
            return
        else:
            self.error = None
            self._prune_now_and_then(store)
        if said is not None:
            said(self.error)

    def _drop_oldest(self, count: int, incoming: list[Transition]) -> None:
        """Make room by dropping the oldest waiting transitions (history thread)."""
        self.dropped += count
        waiting = self._unsaved_events
        for _ in range(count):
            gone = waiting.popleft() if waiting else incoming.pop(0)
            if gone.new is State.FAILED:
                # Its write would have re-opened the post (dropping an older acknowledgement on
                # disk): do that by hand, unless the post was acknowledged again after it.
                self._unsaved_acks.setdefault(gone.key, (None, gone.at, None))

    def _prune_now_and_then(self, store: Store) -> None:
        """Keep the file bounded while a board runs for weeks, not only at each start."""
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            with contextlib.suppress(StoreError):  # tried again after the next interval
                store.prune(self.scope, keep_events=EVENTS_ON_DISK)

    @property
    def unsaved_acks(self) -> int:
        """Acknowledgements waiting for the store to take writes again."""
        return len(self._unsaved_acks)

    async def trail(self, key: PostKey) -> list[Transition]:
        """A post's transitions, oldest first (from memory when there is no store)."""
        store = self.store
        if store is None:
            return sorted((t for t in self.events if t.key == key), key=lambda t: t.at)
        return await self._run(lambda: store.trail(self.scope, key))

    def close(self) -> None:
        """Finish queued writes, try once more what the store refused, and close the store.

        Afterwards `unsaved` and `error` say what could not be written, for the last word.
        """
        if self.store is not None:
            self.on_saved = None  # the board is going: nobody to tell
            self._pool.submit(self._flush)  # queued after any flush: it runs last
        self._pool.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
