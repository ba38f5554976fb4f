"""Whether a request's Host name is loopback: looked up off the event loop, remembered a minute."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from wahdx_tui.core.settings.apiaccess import is_ip_address, is_loopback_host, is_loopback_name

REMEMBER_FOR = 60.0
"""Seconds a loopback answer is kept: /etc/hosts or DNS may change what a name points at."""
REMEMBER_REFUSAL_FOR = 5.0
"""Seconds a refusal is kept: a lookup that failed once must not shut `localhost` out long."""
NAMES_KEPT = 256
"""Names remembered at most (the oldest answer goes first): a client inventing names under
.localhost costs lookups, never memory."""
LOOKUPS_AT_ONCE = 4
"""Lookups running at most; a new name beyond them is refused rather than queued."""


class LoopbackNames:
    """Answers whether a Host is loopback. An address, or a name that is not `localhost` or
    under `.localhost`, is answered by how it is written. Such a name is resolved on a daemon
    thread of its own: a resolver that hangs stalls neither serve's loop (which also runs the
    poller) nor the thread pool the team engine renews its lease on, and never holds up an
    exit. One lookup per name runs at a time, at most LOOKUPS_AT_ONCE in all, and the answer
    is kept (REMEMBER_FOR, or REMEMBER_REFUSAL_FOR when it was no)."""

    def __init__(
        self,
        resolve: Callable[[str], bool] = is_loopback_host,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._clock = clock
        self._known: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        self._running: dict[str, asyncio.Future[bool]] = {}

    async def is_loopback(self, host: str) -> bool:
        """Whether `host` (no port; brackets allowed around IPv6) reaches only this machine."""
        if not is_loopback_name(host):
            return False
        name = host.strip("[]").lower().rstrip(".")
        if is_ip_address(name):
            return True
        known = self._known.get(name)
        if known is not None:
            answer, until = known
            if self._clock() < until:
                return answer
        running = self._running.get(name)
        if running is None:
            if len(self._running) >= LOOKUPS_AT_ONCE:
                return False  # too many names at once: refused, never queued
            running = self._running[name] = self._look_up(name)
        # Shielded: a request that goes away must not cancel the lookup others wait on.
        return await asyncio.shield(running)

    def _look_up(self, name: str) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()

        def run() -> None:
            try:
                answer: bool | None = self._resolve(name)
            except Exception:  # not an answer: refused this time, and not remembered
                answer = None
            with contextlib.suppress(RuntimeError):  # the loop closed while the lookup ran
                loop.call_soon_threadsafe(self._settle, name, future, answer)

        threading.Thread(target=run, name="wahdx-hostname", daemon=True).start()
        return future

    def _settle(self, name: str, future: asyncio.Future[bool], answer: bool | None) -> None:
        del self._running[name]
        if answer is not None:
            keep = REMEMBER_FOR if answer else REMEMBER_REFUSAL_FOR
            self._known[name] = (answer, self._clock() + keep)
            self._known.move_to_end(name)
            while len(self._known) > NAMES_KEPT:
                self._known.popitem(last=False)
        if not future.done():
            future.set_result(bool(answer))
