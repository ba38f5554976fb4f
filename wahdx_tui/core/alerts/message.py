"""One alert message as it is sent: its kind, title, plain-text body and level."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Level = Literal["info", "success", "warning", "failure"]
"""Apprise's notification types."""


class Kind(StrEnum):
    """What an alert is about; a target's tags of these names limit it to those kinds."""

    FAILED = "failures"
    STUCK = "stuck"
    API_DOWN = "api_down"
    API_BACK = "api_back"
    KEY_REJECTED = "key_rejected"
    REMINDER = "reminders"
    HELD = "held"
    DIGEST = "digest"
    TEST = "test"
    FAILED_RESOLVED = "failures_resolved"
    STUCK_RESOLVED = "stuck_resolved"


ROUTE_TAGS: dict[Kind, str] = {
    Kind.FAILED: "failures",
    Kind.STUCK: "stuck",
    Kind.API_DOWN: "api",
    Kind.API_BACK: "api",
    Kind.KEY_REJECTED: "api",
    Kind.REMINDER: "reminders",
    Kind.FAILED_RESOLVED: "failures",  # an all-clear goes where its alert went
    Kind.STUCK_RESOLVED: "stuck",
}
"""The tag that routes each kind; kinds not named here (summaries, tests) go to every target."""

ROUTES = frozenset(ROUTE_TAGS.values())


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """A rendered message: plain text, already made inert; sent as Apprise body_format text."""

    kind: Kind
    title: str
    body: str
    level: Level

    @property
    def route(self) -> str | None:
        """The tag that selects targets for this message; None for every target."""
        return ROUTE_TAGS.get(self.kind)
