"""The facts the alerting core is told about: posts that failed or got stuck, and API states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ApiState = Literal["ok", "down", "key_rejected"]
"""How the API answered the last pass: normally, not at all, or by rejecting the key."""

API_STATES: tuple[ApiState, ...] = ("ok", "down", "key_rejected")


@dataclass(frozen=True, slots=True)
class AlertPost:
    """One post as an alert names it; every text field is untrusted and sanitised on render."""

    account: str
    """The account's id or label (from the watchlist)."""
    publish_id: str
    label: str = ""
    """The post's label from the watchlist; empty when it has none."""
    category: str | None = None
    """A `core.categories.Category` value; None to work it out from `error`."""
    hint: str | None = None
    """What to do about it; None for the category's own hint."""
    error: str | None = None
    """The API's error text, as it said it."""
    public_url: str | None = None
    """The published post's URL, where the API gave one."""
    state: str | None = None
    """For a stuck post: the state it is stuck in (queued, processing)."""

    @property
    def key(self) -> tuple[str, str]:
        """The post's identity: (account, publish ID)."""
        return (self.account, self.publish_id)
