"""Which answer is newest: a slow pass must not undo a re-check that was asked after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wahdx_tui.core.model import PostKey, PostStatus


@dataclass(slots=True)
class _Recheck:
    """One re-check of a post: when it was asked, and what has happened since."""

    seq: int
    done: bool = False
    overtaken: bool = False  # a pass asked after it has already answered for the post


class Freshness:
    """Orders passes and single-post re-checks by when they were asked, not when they answer.

    Every request gets the next number when it starts. A pass's answer for a post is dropped
    when a re-check of that post was asked later; a re-check's answer is not applied when a
    pass asked later has already answered for the post. Only re-checked posts are tracked, and
    each only until no older answer can still arrive, so a normal pass costs nothing here.
    """

    def __init__(self) -> None:
        self._seq = 0
        self._pass: int | None = None  # the pass in flight (one at a time)
        self._rechecks: dict[PostKey, _Recheck] = {}

    @property
    def tracked(self) -> int:
        """How many re-checked posts are still being tracked (for tests)."""
        return len(self._rechecks)

    def pass_started(self) -> int:
        """Number a pass as it starts."""
        self._seq += 1
        self._pass = self._seq
        return self._seq

    def recheck_started(self, key: PostKey) -> int:
        """Number a re-check of one post as it starts."""
        self._seq += 1
        self._rechecks[key] = _Recheck(self._seq)
        return self._seq

    def pass_answered(
        self, seq: int, answered: Sequence[PostStatus], to_apply: list[PostStatus]
    ) -> list[PostStatus]:
        """`to_apply` without the posts re-checked since pass `seq` started.

        `answered` is every status the pass got (changed or not): a re-check still in flight
        for one of those posts is older than this answer, so its own answer will not be applied.
        """
        if self._pass == seq:
            self._pass = None
        if not self._rechecks:
            return to_apply
        newer = {key for key, r in self._rechecks.items() if r.seq > seq}
        kept = [s for s in to_apply if s.key not in newer] if newer else to_apply
        pending = {key for key, r in self._rechecks.items() if r.seq < seq and not r.done}
        if pending:
            for key in pending.intersection(s.key for s in answered):
                self._rechecks[key].overtaken = True
        self._forget_done()
        return kept

    def pass_failed(self, seq: int) -> None:
        """Pass `seq` ended without answers."""
        if self._pass == seq:
            self._pass = None
        self._forget_done()

    def _forget_done(self) -> None:
        # Every later pass starts after these re-checks: no answer older than theirs can come.
        for key in [k for k, r in self._rechecks.items() if r.done]:
            del self._rechecks[key]

    def recheck_answered(self, key: PostKey, seq: int) -> bool:
        """Whether re-check `seq`'s answer is the newest for its post, so the board takes it."""
        r = self._rechecks.get(key)
        if r is None or r.seq != seq:
            return False  # a later re-check of the same post is on its way
        r.done = True
        if self._pass is None or self._pass > seq:
            # No pass asked before this re-check can still answer: nothing left to guard.
            del self._rechecks[key]
        return not r.overtaken

    def recheck_failed(self, key: PostKey, seq: int) -> None:
        """Re-check `seq` got no answer: a pass's answer for the post is welcome again."""
        r = self._rechecks.get(key)
        if r is not None and r.seq == seq:
            del self._rechecks[key]
