"""Alert delivery off the caller's path: a thread per target, bounded retries, honest status."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wahdx_tui.core.alerts.message import AlertMessage
from wahdx_tui.core.alerts.render import duration
from wahdx_tui.core.alerts.targets import Target, scrub
from wahdx_tui.core.settings.secret import ApiKey

log = logging.getLogger("wahdx_tui.alerts")


@dataclass(frozen=True, slots=True)
class Retry:
    """How hard delivery tries: capped exponential backoff for a bounded time."""

    first: float = 2.0
    """Seconds before the first retry; doubled each time."""
    cap: float = 60.0
    """Seconds at most between two attempts."""
    give_up_after: float = 600.0
    """Seconds from the first attempt after which a message is dropped."""
    attempt_timeout: float = 10.0
    """Seconds one attempt may wait to connect, and for each read."""


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """What the board and serve's log say about alerting."""

    targets: int
    last_sent_at: float | None
    """When a message last reached a target (epoch seconds); None before the first."""
    failing: tuple[tuple[str, str], ...] = ()
    """(service, reason) for each target whose last message was dropped."""
    dropped: int = 0
    queued: int = 0

    @property
    def banner(self) -> str | None:
        """ "alerts failing for slack: …" while a target's last message was dropped, else None."""
        if not self.failing:
            return None
        return "alerts failing for " + "; ".join(f"{s}: {r}" for s, r in self.failing)


def limit_timeouts(plugin: Any, seconds: float) -> None:
    """Cap a service's connect and read timeouts, so no attempt blocks longer than `seconds`."""
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        value = getattr(plugin, attr, None)
        if isinstance(value, (int, float)) and not 0 < value <= seconds:
            setattr(plugin, attr, seconds)


def _redact(text: str, secrets: Iterable[ApiKey]) -> str:
    for secret in secrets:
        text = text.replace(secret.reveal(), "***")
    return text


def _reason(result: Any, secrets: Sequence[ApiKey], timeout: float, took: float) -> str:
    import apprise

    for service in result:
        # A read that ran out its timeout is Apprise's "connection error" too; the time tells.
        if service.status == apprise.AppriseResultStatus.TIMEOUT or (
            timeout > 0 and took >= 0.9 * timeout
        ):
            return f"no answer within {timeout:g} s"
        problems = [e.message for e in service.logs() if e.level in ("WARNING", "ERROR")]
        if problems:
            return scrub(str(problems[-1]), secrets)
    return "not delivered"


def attempt(target: Target, message: AlertMessage, secrets: Sequence[ApiKey] = ()) -> str | None:
    """Send one message to one target once; None when it got it, else why not (redacted)."""
    import apprise

    secrets = (*target.secrets, *secrets)
    timeout = float(getattr(target.plugin, "socket_read_timeout", 0) or 0)
    sender = apprise.Apprise(asset=getattr(target.plugin, "asset", None))
    sender.add(target.plugin)
    started = time.monotonic()
    try:
        result = sender.notify(
            body=_redact(message.body, secrets),
            title=_redact(message.title, secrets),
            notify_type=apprise.NotifyType(message.level),
            body_format=apprise.NotifyFormat.TEXT,
        )
    except Exception as exc:  # a plugin bug must not end delivery to the other targets
        return f"delivery failed ({type(exc).__name__})"
    return None if result else _reason(result, secrets, timeout, time.monotonic() - started)


class Notifier:
    """Hands messages to a thread per target; send() never blocks on the network.

    A failed attempt is retried with capped backoff until Retry.give_up_after, then the message
    is dropped with a log line and the target reported in status().banner until it next gets one.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        retry: Retry | None = None,
        max_queue: int = 100,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._targets = tuple(targets)
        self._retry = retry or Retry()
        self._max_queue = max_queue
        self._clock, self._wall = clock, wall
        self._secrets = tuple(
            sorted({s for t in targets for s in t.secrets}, key=lambda s: -len(s.reveal()))
        )
        self._cond = threading.Condition()
        self._queues: dict[int, deque[AlertMessage]] = {t.index: deque() for t in self._targets}
        self._busy: set[int] = set()
        self._failing: dict[int, tuple[str, str]] = {}
        self._last_sent_at: float | None = None
        self._dropped = 0
        self._closing_at: float | None = None
        self._threads = []
        for target in self._targets:
            limit_timeouts(target.plugin, self._retry.attempt_timeout)
            thread = threading.Thread(
                target=self._run, args=(target,), name=f"wahdx-alerts-{target.index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    @property
    def targets(self) -> tuple[Target, ...]:
        """Where messages go."""
        return self._targets

    def send(self, message: AlertMessage) -> None:
        """Queue the message for every target that takes its kind; returns at once."""
        with self._cond:
            if self._closing_at is not None:
                log.warning("alert not sent: delivery is closing (%s)", message.kind)
                return
            for target in self._targets:
                if not target.takes(message.route):
                    continue
                queue = self._queues[target.index]
                if len(queue) >= self._max_queue:
                    queue.popleft()
                    self._dropped += 1
                    log.warning("alert queue full for %s: oldest message dropped", target.display)
                queue.append(message)
            self._cond.notify_all()

    def status(self) -> DeliveryStatus:
        """Targets, the last delivery, and which targets are failing."""
        with self._cond:
            return DeliveryStatus(
                targets=len(self._targets),
                last_sent_at=self._last_sent_at,
                failing=tuple(self._failing[i] for i in sorted(self._failing)),
                dropped=self._dropped,
                queued=sum(len(q) for q in self._queues.values()) + len(self._busy),
            )

    def close(self, timeout: float = 5.0) -> bool:
        """Wait at most `timeout` s for messages in flight; True when every one was delivered."""
        deadline = self._clock() + max(0.0, timeout)
        with self._cond:
            if self._closing_at is None:
                self._closing_at = deadline
            dropped_before = self._dropped
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(max(0.0, deadline - self._clock()))
        with self._cond:
            stranded = sum(len(q) for q in self._queues.values()) + len(self._busy)
            for queue in self._queues.values():
                queue.clear()
            if stranded:
                self._dropped += stranded
                log.warning("%d alert(s) still undelivered when quitting: dropped", stranded)
            return self._dropped == dropped_before

    # -- worker ----------------------------------------------------------------------------

    def _run(self, target: Target) -> None:
        queue = self._queues[target.index]
        while True:
            with self._cond:
                while not queue and self._closing_at is None:
                    self._cond.wait()
                if not queue or (
                    self._closing_at is not None and self._clock() >= self._closing_at
                ):
                    return
                message = queue.popleft()
                self._busy.add(target.index)
            try:
                self._deliver(target, message)
            finally:
                with self._cond:
                    self._busy.discard(target.index)
                    self._cond.notify_all()

    def _deliver(self, target: Target, message: AlertMessage) -> None:
        started = self._clock()
        tries = 0
        while True:
            tries += 1
            reason = attempt(target, message, self._secrets)
            if reason is None:
                with self._cond:
                    self._last_sent_at = self._wall()
                    self._failing.pop(target.index, None)
                log.info("alert (%s) sent to %s", message.kind, target.display)
                return
            log.info("alert to %s failed (attempt %d): %s", target.display, tries, reason)
            delay = min(self._retry.cap, self._retry.first * 2 ** (tries - 1))
            if not self._wait_to_retry(started, delay):
                with self._cond:
                    self._dropped += 1
                    self._failing[target.index] = (target.service, reason)
                log.warning(
                    "alert (%s) dropped for %s after %d attempts in %s: %s",
                    message.kind,
                    target.display,
                    tries,
                    duration(self._clock() - started),
                    reason,
                )
                return

    def _wait_to_retry(self, started: float, delay: float) -> bool:
        """Wait `delay` s for the next attempt; False when that would pass the give-up time or
        the closing deadline (which close() may set during the wait)."""
        wake = self._clock() + delay
        with self._cond:
            while True:
                limit = started + self._retry.give_up_after
                if self._closing_at is not None:
                    limit = min(limit, self._closing_at)
                if wake > limit:
                    return False
                left = wake - self._clock()
                if left <= 0:
                    return True
                self._cond.wait(left)


def send_test(
    targets: Sequence[Target], message: AlertMessage, timeout: float = 10.0
) -> list[str | None]:
    """Send `message` to every target at once, one attempt each; per target None (got it) or
    why not. Returns within about `timeout` s even when a target hangs."""
    results: list[str | None] = [f"no answer within {timeout:g} s"] * len(targets)

    def one(i: int, target: Target) -> None:
        results[i] = attempt(target, message)

    threads = []
    for i, target in enumerate(targets):
        limit_timeouts(target.plugin, timeout)
        thread = threading.Thread(target=one, args=(i, target), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout + 1.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return list(results)
