"""A board's or poller's place in a team store: the lease, its registration, the poller's word."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass

from wahdx_tui.core.health import Health, HealthState
from wahdx_tui.core.model import WatchedPost
from wahdx_tui.core.storeapi import LeaseHolder, LeaseInfo, Store, StoreError

LEASE_TTL = 10.0
"""A holder's lease expires this long after its last renewal: a dead poller's standby takes
over within LEASE_TTL + RENEW_EVERY (under 15 s)."""
RENEW_EVERY = 3.0
BOARD_ALIVE = 90.0  # a board not heard from for this long is left out of the union
HEARTBEAT_EVERY = 20.0


def lease_name(scope: str) -> str:
    """One poller per API (the rate limit is the API key's): the lease is named by the scope."""
    return f"poller {scope}"


def new_holder() -> LeaseHolder:
    """This process run: a unique id, the host name and the pid."""
    return LeaseHolder(uuid.uuid4().hex, socket.gethostname(), os.getpid())


@dataclass(frozen=True, slots=True)
class PollerWord:
    """What the poller says of the API with each renewal of its lease."""

    api: HealthState = "starting"
    down_since: float | None = None
    error: str | None = None
    last_pass: float | None = None  # when its last complete pass ended
    interval: float = 15.0

    def encode(self) -> str:
        """As the lease row keeps it (JSON; never a key or a URL with credentials)."""
        return json.dumps(
            {
                "api": self.api,
                "down_since": self.down_since,
                "error": self.error,
                "last_pass": self.last_pass,
                "interval": self.interval,
            }
        )

    @staticmethod
    def decode(text: str | None) -> PollerWord:
        """Read it back; anything unreadable is a poller that has said nothing yet."""
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return PollerWord()
        if not isinstance(data, dict):
            return PollerWord()

        def number(name: str) -> float | None:
            value = data.get(name)
            return float(value) if isinstance(value, int | float) else None

        api = data.get("api")
        error = data.get("error")
        states: tuple[HealthState, ...] = ("starting", "ok", "retrying", "down")
        return PollerWord(
            api=next((s for s in states if s == api), "starting"),
            down_since=number("down_since"),
            error=error if isinstance(error, str) else None,
            last_pass=number("last_pass"),
            interval=number("interval") or 15.0,
        )

    @staticmethod
    def of(health: Health, interval: float) -> PollerWord:
        """The poller's health, as it tells the boards."""
        return PollerWord(
            health.state, health.down_since, health.last_error, health.last_success, interval
        )


@dataclass(slots=True)
class TeamLink:
    """One process's link to the team store for one API scope.

    `can_poll` is False for a board without a key or started `--view-only`: it never takes
    the lease. Every call here blocks on the store: run them off the event loop.
    """

    store: Store
    scope: str
    can_poll: bool
    holder: LeaseHolder
    board_id: str
    holding: bool = False
    lease: LeaseInfo | None = None  # as last read
    renewed: float = 0.0  # monotonic time of the last renewal the store took

    @property
    def name(self) -> str:
        """The lease's name."""
        return lease_name(self.scope)

    def upkeep(self, word: PollerWord) -> bool:
        """Renew the lease when held, or take it when free and this process may poll; read it
        either way. Returns whether this process holds it now. Raises StoreError."""
        store = self.store
        try:
            if self.holding or self.can_poll:
                info = store.lease_info(self.name)
                free = info is None or info.expired or info.holder_id == self.holder.id
                took = free and store.try_lease(self.name, self.holder, LEASE_TTL, word.encode())
                self.holding = took
                if took:
                    self.renewed = time.monotonic()
            self.lease = store.lease_info(self.name)
        except StoreError:
            # The store cannot be asked. Nobody can take the lease before it runs out, so
            # the holder keeps polling until then (a short restart costs nothing), and
            # stops a second early, before any standby could take over.
            if self.holding and time.monotonic() - self.renewed > LEASE_TTL - 1.0:
                self.holding = False
            raise
        return self.holding

    def register(self, posts: list[WatchedPost]) -> None:
        """Say which posts this process watches, so the poller polls them too."""
        self.store.register_board(self.scope, self.board_id, self.holder.host, posts)

    def heartbeat(self, posts: list[WatchedPost]) -> None:
        """Say this process is alive (registering again if the store forgot it)."""
        if not self.store.heartbeat_board(self.board_id):
            self.register(posts)

    def leave(self) -> None:
        """Let the lease go (a standby takes over at once) and forget the registration."""
        if self.holding:
            self.store.release_lease(self.name, self.holder.id)
            self.holding = False
        self.store.unregister_board(self.board_id)
