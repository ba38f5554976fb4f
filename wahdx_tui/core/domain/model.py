"""The status model: post states, watched posts and one observed status."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PostKey = tuple[str, str]
"""(accountId, publishId): the identity of a watched post."""


class State(StrEnum):
    """A post's publishing state, normalised from whatever the API spelled."""

    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True for states a post does not normally leave (published, failed)."""
        return self in (State.PUBLISHED, State.FAILED)


MEDIA_TYPES = ("video", "photo")


@dataclass(frozen=True, slots=True)
class WatchedPost:
    """One entry of the watchlist: which post to watch and how to show it."""

    account_id: str
    publish_id: str
    media_type: str | None = None
    label: str = ""
    line: int = 0
    key: PostKey = field(init=False, repr=False, compare=False)
    """The post's identity: (accountId, publishId); made once, as it is asked for every pass."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.account_id, self.publish_id))


@dataclass(frozen=True, slots=True)
class PostStatus:
    """What the API said about one post at one moment."""

    key: PostKey
    state: State
    raw_status: str | None = None
    public_url: str | None = None
    error: str | None = None
    checked_at: float = 0.0
    raw: Any = field(default=None, compare=False)
    changed_at: float | None = None
    """When the API says the post's status last changed (epoch seconds), if it says."""
    read_from_raw: bool = field(default=False, compare=False, repr=False)
    """Made by this process's parser from `raw` and the key alone: the same item for the same
    post reads as this status again, so a pass may keep it instead of reading the item."""
