"""A board's or poller's place in a team store: the lease, its registration, the poller's word."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass

from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.engine.health import Health, HealthState
from wahdx_tui.core.store.protocol import LeaseHolder, LeaseInfo, Store

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
    last_pass: float | None = None  # when its last complete pass ended (the poller's clock)
    interval: float = 15.0
    pass_age: float | None = None  # seconds from that pass to this renewal: no clock to share
    alert_targets: int | None = None  # where its alerts go (0: none set); None: it did not say
    alert_age: float | None = None  # seconds from its last alert sent to this renewal

    def encode(self) -> str:
        """As the lease row keeps it (JSON; never a key or a URL with credentials)."""
        return json.dumps(
            {
                "api": self.api,
                "down_since": self.down_since,
                "error": self.error,
                "last_pass": self.last_pass,
                "interval": self.interval,
                "pass_age": self.pass_age,
                "alert_targets": self.alert_targets,
                "alert_age": self.alert_age,
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
        targets = number("alert_targets")
        states: tuple[HealthState, ...] = ("starting", "ok", "retrying", "down")
        return PollerWord(
            api=next((s for s in states if s == api), "starting"),
            down_since=number("down_since"),
            error=error if isinstance(error, str) else None,
            last_pass=number("last_pass"),
            interval=number("interval") or 15.0,
            pass_age=number("pass_age"),
            alert_targets=None if targets is None else max(0, int(targets)),
            alert_age=number("alert_age"),
        )

    @staticmethod
    def of(
        health: Health,
        interval: float,
        now: float,
        alerts: tuple[int, float | None] = (0, None),
    ) -> PollerWord:
        """The poller's health, as it tells the boards; `alerts`: how many targets its alerts
        go to, and when it last sent one (epoch seconds, None before the first)."""
        last = health.last_success
        targets, sent = alerts
        return PollerWord(
            health.state,
            health.down_since,
            health.last_error,
            last,
            interval,
            None if last is None else max(0.0, now - last),
            targets,
            None if sent is None else max(0.0, now - sent),
        )

    def late(self, slack: float = 15.0) -> float | None:
        """Seconds the poller is overdue (no complete pass for two intervals and `slack`, as
        when it is paused), or None while it keeps up."""
        if self.api != "ok" or self.pass_age is None:
            return None
        over = self.pass_age - (2 * self.interval + slack)
        return self.pass_age if over > 0 else None


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
    lease: LeaseInfo | None = None  # as last read
    held_until: float = 0.0  # monotonic: this process may poll until then

    @property
    def name(self) -> str:
        """The lease's name."""
        return lease_name(self.scope)

    @property
    def holding(self) -> bool:
        """Whether this process holds the lease now: a deadline, not a flag, so a renewal that
        hangs (a lock, a stalled connection) stops the polling a second before the lease could
        run out and a standby take it, whatever else is slow."""
        return time.monotonic() < self.held_until

    def upkeep(self, word: PollerWord) -> bool:
        """Renew the lease when held, or take it when free and this process may poll; read it
        either way. Returns whether this process holds it now. Raises StoreError (and then
        holds it only until the last renewal runs out: nobody can take it before that, so a
        short store restart costs no pass)."""
        store = self.store
        if self.holding or self.can_poll:
            info = store.lease_info(self.name)
            free = info is None or info.expired or info.holder_id == self.holder.id
            # The deadline counts from before the renewal is sent: the store's expiry is at
            # least that late, however long the call then takes.
            sent = time.monotonic()
            if free and store.try_lease(self.name, self.holder, LEASE_TTL, word.encode()):
                self.held_until = sent + LEASE_TTL - 1.0
            else:
                self.held_until = 0.0
        self.lease = store.lease_info(self.name)
        return self.holding

    def register(self, posts: list[WatchedPost]) -> None:
        """Say which posts this process watches, so the poller polls them too."""
        self.store.register_board(self.scope, self.board_id, self.holder.host, posts)

    def heartbeat(self) -> bool:
        """Say this process is alive; False when the store forgot it (register again)."""
        return self.store.heartbeat_board(self.board_id)

    def leave(self) -> None:
        """Let the lease go (a standby takes over at once) and forget the registration."""
        if self.holding:
            self.held_until = 0.0
            self.store.release_lease(self.name, self.holder.id)
        self.store.unregister_board(self.board_id)
