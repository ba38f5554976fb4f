"""What the engine reports to the faces that show it: one value per pass, re-check or reload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wahdx_tui.core.board.state import Changes
from wahdx_tui.core.domain.model import PostKey, PostStatus

PassKind = Literal["ok", "left_out", "partial", "down", "failed"]


@dataclass(frozen=True, slots=True)
class PassOutcome:
    """One pass, as applied: what changed on the board and what the API did or did not answer.

    `changes` holds the changed rows, the transitions (as stored) and the new failures;
    `unanswered` the posts marked stale by this pass; `stuck` the posts newly flagged stuck.
    """

    number: int  # passes run so far, this one included
    changes: Changes = field(default_factory=Changes)
    unanswered: list[PostKey] = field(default_factory=list)
    stuck: list[PostKey] = field(default_factory=list)
    asked: int = 0
    answered: int = 0
    left_out: int = 0  # posts a complete answer said nothing about
    not_checked: int = 0  # posts a failed batch could not check
    error: str | None = None  # why the pass did not run, or the first error of a partial one
    ran: bool = True  # False when the pass could not run at all (key rejected, API down)
    key_rejected: bool = False
    team_failures: list[PostKey] = field(default_factory=list)  # other boards' posts, newly failed

    @property
    def kind(self) -> PassKind:
        """ok, left_out (complete but posts missing), partial, down (no answer) or failed."""
        if not self.ran:
            return "failed"
        if self.not_checked == 0:
            return "left_out" if self.left_out else "ok"
        return "partial" if self.answered else "down"

    @property
    def first(self) -> bool:
        """The first pass of this run (its failures are a backlog, not news)."""
        return self.number == 1


@dataclass(frozen=True, slots=True)
class RecheckOutcome:
    """One post re-checked through the single-status endpoint.

    `newest` is False when an answer asked after this one is already on the board.
    """

    key: PostKey
    status: PostStatus | None
    error: str | None = None
    newest: bool = True
    changes: Changes = field(default_factory=Changes)


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    """The last run's states put on the board at start (or why they could not be read)."""

    restored: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """A new watchlist taken in (posts added and removed, what its settings changed), or why
    the edit was refused and the last good list kept (`error`)."""

    added: int = 0
    removed: int = 0
    said: list[str] = field(default_factory=list)  # one phrase per setting that changed
    interval_changed: bool = False
    error: str | None = None
