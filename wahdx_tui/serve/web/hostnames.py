"""Whether a request's Host name is loopback: looked up off the event loop, remembered a minute."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from wahdx_tui.core.settings.apiaccess import is_ip_address, is_loopback_host, is_loopback_name

REMEMBER_FOR = 60.0
"""Seconds a name's answer is kept: /etc/hosts or DNS may change what it points at."""
NAMES_KEPT = 256
"""Names remembered at most (the oldest answer goes first): a client inventing names under
.localhost costs lookups, never memory."""


class LoopbackNames:
    """Answers whether a Host is loopback. An address or a name that is not `localhost` or
    under `.localhost` is answered by how it is written; such a name is resolved on a worker
    thread (a slow resolver must not stall serve's loop, which also runs the poller) and the
    answer kept for REMEMBER_FOR seconds."""

    def __init__(
        self,
        resolve: Callable[[str], bool] = is_loopback_host,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._clock = clock
        self._known: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    async def is_loopback(self, host: str) -> bool:
        """Whether `host` (no port; brackets allowed around IPv6) reaches only this machine."""
        if not is_loopback_name(host):
            return False
        name = host.strip("[]").lower().rstrip(".")
        if is_ip_address(name):
            return True
        now = self._clock()
        known = self._known.get(name)
        if known is not None and now - known[1] < REMEMBER_FOR:
            return known[0]
        answer = await asyncio.to_thread(self._resolve, name)
        self._known[name] = (answer, self._clock())
        self._known.move_to_end(name)
        while len(self._known) > NAMES_KEPT:
            self._known.popitem(last=False)
        return answer
