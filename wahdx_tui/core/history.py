"""The board's link to its store: reads and writes on one thread, in order, off the UI loop."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from wahdx_tui.core.model import PostKey, PostStatus
from wahdx_tui.core.store import Ack, Store, StoredPost, StoreError, Transition

_T = TypeVar("_T")
EVENTS_KEPT = 5000
EVENTS_ON_DISK = 100_000
UNSAVED_KEPT = 100_000  # transitions held for the next try while the store refuses writes
SaveDone = Callable[[str | None], None]


class History:
    """Wraps a Store for one API scope; keeps the newest transitions in memory for the log."""

    def __init__(self, store: Store | None, scope: str, events_kept: int = EVENTS_KEPT) -> None:
        self.store = store
        self.scope = scope
        self.events: deque[Transition] = deque(maxlen=events_kept)  # newest first
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wahdx-history")
        # What a failed write could not store, tried again with the next one (history thread).
        self._unsaved_posts: dict[PostKey, PostStatus] = {}
        self._unsaved_events: deque[Transition] = deque(maxlen=UNSAVED_KEPT)
        self._unsaved_acks: dict[PostKey, tuple[str | None, float]] = {}  # note None: cleared

    async def _run(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

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
        self, changed: Sequence[PostStatus], transitions: Sequence[Transition], done: SaveDone
    ) -> bool:
        """Remember a pass: in memory at once, and queued for disk in order before returning.

        A write the store refuses is kept and tried again with the next pass (and at close).
        `done(error or None)` is called on the history thread once the write ends; returns
        False, without calling it, when there is nothing to write.
        """
        self.events.extendleft(sorted(transitions, key=lambda t: t.at))
        if self.store is None or not (changed or transitions or self._waiting()):
            return False  # (a pass with no news still retries what is waiting)
        self._pool.submit(self._write, list(changed), list(transitions), {}, done)
        return True

    def save_ack(self, key: PostKey, note: str | None, at: float, done: SaveDone) -> bool:
        """Queue an acknowledgement (`note`), or its removal (None), like `save`."""
        if self.store is None:
            return False
        self._pool.submit(self._write, [], [], {key: (note, at)}, done)
        return True

    def _waiting(self) -> bool:
        return bool(self._unsaved_events or self._unsaved_posts or self._unsaved_acks)

    def _write(
        self,
        changed: list[PostStatus],
        transitions: list[Transition],
        acks: dict[PostKey, tuple[str | None, float]],
        done: SaveDone | None,
    ) -> None:
        """On the history thread: write this and whatever earlier writes left waiting."""
        store = self.store
        assert store is not None
        for status in changed:
            self._unsaved_posts[status.key] = status
        self._unsaved_events.extend(transitions)
        self._unsaved_acks.update(acks)
        try:
            if self._unsaved_posts or self._unsaved_events:
                posts = list(self._unsaved_posts.values())
                store.record(self.scope, posts, self._unsaved_events)
                self._unsaved_posts.clear()
                self._unsaved_events.clear()
            while self._unsaved_acks:
                key, (note, at) = next(iter(self._unsaved_acks.items()))
                if note is None:
                    store.clear_ack(self.scope, key)
                else:
                    store.set_ack(self.scope, key, note, at)
                del self._unsaved_acks[key]
        except Exception as exc:  # StoreError, or a bug: either way keep the data and say so
            if done is not None:
                done(str(exc) if isinstance(exc, StoreError) else f"internal error: {exc!r}")
            return
        if done is not None:
            done(None)

    async def record(
        self, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """`save`, awaited: raises StoreError if the store refused (the write stays queued)."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[str | None] = loop.create_future()

        def done(error: str | None) -> None:
            loop.call_soon_threadsafe(ended.set_result, error)

        if self.save(changed, transitions, done):
            error = await ended
            if error is not None:
                raise StoreError(error)

    def _retry_unsaved(self) -> None:
        if self._waiting():
            self._write([], [], {}, None)

    async def trail(self, key: PostKey) -> list[Transition]:
        """A post's transitions, oldest first (from memory when there is no store)."""
        store = self.store
        if store is None:
            return sorted((t for t in self.events if t.key == key), key=lambda t: t.at)
        return await self._run(lambda: store.trail(self.scope, key))

    def close(self) -> None:
        """Finish queued writes, try once more what the store refused, and close the store."""
        if self.store is not None:
            self._pool.submit(self._retry_unsaved)
        self._pool.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
