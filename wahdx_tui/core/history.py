"""The board's link to its store: reads and writes on one thread, in order, off the UI loop."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from wahdx_tui.core.model import PostKey, PostStatus
from wahdx_tui.core.store import Ack, Store, StoredPost, Transition

_T = TypeVar("_T")
EVENTS_KEPT = 5000
EVENTS_ON_DISK = 100_000


class History:
    """Wraps a Store for one API scope; keeps the newest transitions in memory for the log."""

    def __init__(self, store: Store | None, scope: str, events_kept: int = EVENTS_KEPT) -> None:
        self.store = store
        self.scope = scope
        self.events: deque[Transition] = deque(maxlen=events_kept)  # newest first
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wahdx-history")

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

    async def record(
        self, changed: Sequence[PostStatus], transitions: Sequence[Transition]
    ) -> None:
        """Remember changed payloads and transitions (in memory at once, on disk in order)."""
        self.events.extendleft(sorted(transitions, key=lambda t: t.at))
        store = self.store
        if store is not None and (changed or transitions):
            await self._run(lambda: store.record(self.scope, changed, transitions))

    async def trail(self, key: PostKey) -> list[Transition]:
        """A post's transitions, oldest first (from memory when there is no store)."""
        store = self.store
        if store is None:
            return sorted((t for t in self.events if t.key == key), key=lambda t: t.at)
        return await self._run(lambda: store.trail(self.scope, key))

    async def set_ack(self, key: PostKey, note: str, at: float) -> None:
        """Persist an acknowledgement."""
        store = self.store
        if store is not None:
            await self._run(lambda: store.set_ack(self.scope, key, note, at))

    async def clear_ack(self, key: PostKey) -> None:
        """Persist the removal of an acknowledgement."""
        store = self.store
        if store is not None:
            await self._run(lambda: store.clear_ack(self.scope, key))

    def close(self) -> None:
        """Finish pending writes and close the store."""
        self._pool.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
