"""The alerting core as the engine calls it: facts in, few grouped messages out, sent off-path."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Protocol

from wahdx_tui.core.alerts.alertsettings import AlertSettings
from wahdx_tui.core.alerts.delivery import DeliveryStatus, Notifier, Retry, send_test
from wahdx_tui.core.alerts.facts import AlertPost, ApiState
from wahdx_tui.core.alerts.message import AlertMessage
from wahdx_tui.core.alerts.policy import AlertPolicy
from wahdx_tui.core.alerts.render import notify_test_message
from wahdx_tui.core.alerts.targets import NO_TARGETS, Target, load_targets
from wahdx_tui.core.domain.errors import ConfigError


class MessageSink(Protocol):
    """Where decided messages go (the Notifier)."""

    def send(self, message: AlertMessage) -> None:
        """Take the message for delivery; must not block."""

    def status(self) -> DeliveryStatus:
        """How delivery is going."""

    def close(self, timeout: float = 5.0) -> bool:
        """Wait at most `timeout` s for messages in flight."""


class Alerter:
    """Feeds facts to the policy and its messages to delivery; safe to call from any thread.

    Each method takes the time as epoch seconds and returns the messages it handed on (for a
    log line or a test); none waits for the network.
    """

    def __init__(
        self, settings: AlertSettings, sink: MessageSink, *, tz: tzinfo | None = None
    ) -> None:
        self._policy = AlertPolicy(settings, tz=tz)
        self._sink = sink
        self._lock = threading.Lock()

    def failures(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """Posts that turned failed in this pass (report each transition once)."""
        with self._lock:
            return self._hand_on(self._policy.failures(list(posts), now))

    def stuck(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """Posts newly found stuck in this pass."""
        with self._lock:
            return self._hand_on(self._policy.stuck(list(posts), now))

    def api_state(
        self, state: ApiState, now: float, since: float | None = None
    ) -> list[AlertMessage]:
        """ "ok", "down" or "key_rejected" after a pass; `since`: when the trouble began."""
        with self._lock:
            return self._hand_on(self._policy.api_state(state, now, since))

    def unacknowledged(self, posts: Iterable[AlertPost], now: float) -> list[AlertMessage]:
        """The whole current set of failed posts nobody acknowledged (for reminders)."""
        with self._lock:
            return self._hand_on(self._policy.unacknowledged(list(posts), now))

    def tick(self, now: float) -> list[AlertMessage]:
        """Let time pass (call every few seconds, and after each pass)."""
        with self._lock:
            return self._hand_on(self._policy.tick(now))

    def status(self) -> DeliveryStatus:
        """Targets, when the last alert went out, and the failing banner if any."""
        return self._sink.status()

    def close(self, timeout: float = 5.0) -> bool:
        """Wait at most `timeout` s for messages in flight; True when all were delivered."""
        return self._sink.close(timeout)

    def _hand_on(self, messages: list[AlertMessage]) -> list[AlertMessage]:
        for message in messages:
            self._sink.send(message)
        return messages


def open_alerter(
    settings: AlertSettings,
    notify_config: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    tz: tzinfo | None = None,
    retry: Retry | None = None,
) -> Alerter | None:
    """An Alerter on the configured targets (their secrets registered for log redaction), or
    None when no target is configured. Raises ConfigError for a bad URL or config file."""
    targets = load_targets(notify_config, env)
    if not targets:
        return None
    return Alerter(settings, Notifier(targets, retry=retry), tz=tz)


def notify_test(
    notify_config: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 10.0
) -> list[tuple[Target, str | None]]:
    """Send one test message to each configured target: per target None (got it) or why not.

    Raises ConfigError when no target is configured, or for a bad URL or config file."""
    targets = load_targets(notify_config, env)
    if not targets:
        raise ConfigError(NO_TARGETS)
    message = notify_test_message(socket.gethostname(), time.time())
    return list(zip(targets, send_test(targets, message, timeout), strict=True))
