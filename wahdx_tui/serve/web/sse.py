"""Server-sent events for the wall: a snapshot when a page connects, then only what changed.

Pages with the same filter share one view; after each change the hub works out, once per
view, what differs from what those pages last got (counts, rows added, changed or gone, their
order, accounts, trend, banners), encodes it once, and queues the same bytes to each page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import orjson

from wahdx_tui.serve.web.wall import Json, WallFilter, WallModel

log = logging.getLogger("wahdx_tui.serve.web")
QUEUE_MAX = 64  # events a slow page may fall behind before it is dropped (it reconnects)
COALESCE = 0.05  # seconds: changes this close together go out as one event


def event(name: str, data: Json) -> bytes:
    """One SSE event (orjson writes no newline inside the data line)."""
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass(slots=True, eq=False)
class Page:
    """One connected page: its queue of encoded events (None: the stream ends)."""

    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))


@dataclass(slots=True)
class View:
    """Pages with one filter, and what they were last sent."""

    wanted: WallFilter
    pages: set[Page] = field(default_factory=set)
    common: Json = field(default_factory=dict)
    rows: dict[str, Json] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    more: int = 0

    def snapshot(self) -> Json:
        """Everything these pages show, as a page that just connected gets it."""
        return {
            **self.common,
            "filter": self.wanted.to_json(),
            "rows": [self.rows[i] for i in self.order],
            "more": self.more,
            "now": time.time(),  # the page's ages are on serve's clock
        }

    def take(self, common: Json, listed: list[Json], more: int) -> Json:
        """Make `common`, `listed` and `more` what the pages have; return what differs."""
        delta: Json = {k: v for k, v in common.items() if self.common.get(k) != v}
        self.common = common
        new = {row["id"]: row for row in listed}
        upsert = [row for i, row in new.items() if self.rows.get(i) != row]
        gone = [i for i in self.rows if i not in new]
        order = list(new)
        if upsert:
            delta["upsert"] = upsert
        if gone:
            delta["remove"] = gone
        if order != self.order:
            delta["order"] = order
        if more != self.more:
            delta["more"] = more
        self.rows, self.order, self.more = new, order, more
        return delta


class Hub:
    """Every connected page, grouped by filter, fed from the wall model after each change."""

    def __init__(self, wall: WallModel) -> None:
        self.wall = wall
        self.views: dict[WallFilter, View] = {}
        self.sent = 0  # events queued (for tests and the bench)
        self._pending: asyncio.TimerHandle | None = None
        self._rows_moved = False
        self._closed = False

    @property
    def pages(self) -> int:
        """Pages connected now."""
        return sum(len(v.pages) for v in self.views.values())

    def join(self, wanted: WallFilter) -> Page:
        """A page connects: it gets the snapshot of its view first."""
        view = self.views.get(wanted)
        if view is None:
            view = self.views[wanted] = View(wanted)
            view.take(self.wall.common(), *self.wall.listed(wanted))
        page = Page()
        page.queue.put_nowait(event("snapshot", view.snapshot()))
        view.pages.add(page)
        return page

    def leave(self, wanted: WallFilter, page: Page) -> None:
        """A page went away; a view without pages is forgotten."""
        view = self.views.get(wanted)
        if view is None:
            return
        view.pages.discard(page)
        if not view.pages:
            del self.views[wanted]

    def changed(self, *, rows: bool = True) -> None:
        """Something the pages show may have changed (`rows`: posts too, not only the
        banners): send it soon, coalesced."""
        self._rows_moved = self._rows_moved or rows
        if self._pending is None and self.views and not self._closed:
            self._pending = asyncio.get_running_loop().call_later(COALESCE, self.flush)

    def flush(self) -> None:
        """Work out each view's delta and queue it to its pages."""
        self._pending = None
        rows, self._rows_moved = self._rows_moved, False
        if not self.views:
            return
        try:
            common = self.wall.common()
            for view in list(self.views.values()):
                if rows:
                    listed, more = self.wall.listed(view.wanted)
                else:
                    listed, more = [view.rows[i] for i in view.order], view.more
                delta = view.take(common, listed, more)
                if delta:
                    self._send(view, event("delta", delta))
        except Exception:  # a bug here must never stop serve's loop
            log.exception("internal error while updating the wall pages")

    def _send(self, view: View, data: bytes) -> None:
        """Queue `data` to each page of the view; a page too far behind is dropped."""
        for page in list(view.pages):
            try:
                page.queue.put_nowait(data)
                self.sent += 1
            except asyncio.QueueFull:  # too slow: drop it; its browser reconnects afresh
                view.pages.discard(page)
                _end(page)

    def close(self) -> None:
        """serve is stopping: end every stream."""
        self._closed = True
        if self._pending is not None:
            self._pending.cancel()
        for view in self.views.values():
            for page in view.pages:
                _end(page)
        self.views.clear()


def _end(page: Page) -> None:
    """Mark the page's stream to end, making room in its queue if need be."""
    queue = page.queue
    while True:  # make room for the end mark
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            queue.get_nowait()
