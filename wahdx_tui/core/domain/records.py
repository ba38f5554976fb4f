"""What is recorded of a post over time: its transitions, last payload and acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.domain.model import PostKey, PostStatus, State


@dataclass(frozen=True, slots=True)
class Transition:
    """A post moved from `old` (None when first seen) to `new` at `at` (epoch seconds)."""

    key: PostKey
    old: State | None
    new: State
    at: float


@dataclass(frozen=True, slots=True)
class StoredPost:
    """The last payload recorded for a post, and since when it has been in its state."""

    key: PostKey
    state: State
    raw_status: str | None
    public_url: str | None
    error: str | None
    checked_at: float
    since: float
    raw: object

    def status(self) -> PostStatus:
        """The last answer as the store keeps it, changed (into its state) at `since`."""
        return PostStatus(
            self.key,
            self.state,
            self.raw_status,
            self.public_url,
            self.error,
            self.checked_at,
            self.raw,
            changed_at=self.since,
        )


@dataclass(frozen=True, slots=True)
class Ack:
    """An operator's acknowledgement of a failed post, with an optional note: `by` whom (their
    user@host, "" when written before the store kept it) and `at` when (epoch seconds)."""

    key: PostKey
    note: str
    at: float
    by: str = ""
