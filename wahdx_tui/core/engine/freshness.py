"""Which answer is newest: a slow pass must not undo a re-check that was asked after it."""

from __future__ import annotations

from collections.abc import Sequence

from wahdx_tui.core.domain.model import PostKey, PostStatus


class Freshness:
    """Orders passes and single-post re-checks by when they were asked, not when they answer.

    Every request gets the next number when it starts. For each re-checked post the number of
    the newest answer applied is kept, and an older answer for it is not applied. Only posts
    re-checked while other requests were in flight are tracked, and only until nothing is in
    flight, so a normal pass costs nothing here.
    """

    def __init__(self) -> None:
        self._seq = 0
        self._pass: int | None = None  # the pass in flight (one at a time)
        self._rechecks: set[int] = set()  # re-checks in flight
        self._applied: dict[PostKey, int] = {}  # re-checked post -> newest answer applied

    @property
    def tracked(self) -> int:
        """How many posts are being tracked (for tests)."""
        return len(self._applied)

    def pass_started(self) -> int:
        """Number a pass as it starts."""
        self._seq += 1
        self._pass = self._seq
        return self._seq

    def recheck_started(self, key: PostKey) -> int:
        """Number a re-check of one post as it starts."""
        self._seq += 1
        self._rechecks.add(self._seq)
        self._applied.setdefault(key, 0)
        return self._seq

    def pass_answered(
        self,
        seq: int,
        answered: Sequence[PostStatus],
        to_apply: list[PostStatus],
        not_answered: list[PostKey],
    ) -> tuple[list[PostStatus], list[PostKey]]:
        """What pass `seq` may still apply and mark unanswered, given newer re-check answers.

        `answered` is every real answer the pass got (changed or not, without the posts in
        `not_answered`): for a re-checked post it is newer than any re-check asked before it.
        """
        if self._pass == seq:
            self._pass = None
        applied = self._applied
        if applied:
            to_apply = [s for s in to_apply if applied.get(s.key, 0) < seq]
            not_answered = [k for k in not_answered if applied.get(k, 0) < seq]
            left_out = set(not_answered)
            for status in answered:
                key = status.key
                if key in applied and key not in left_out and applied[key] < seq:
                    applied[key] = seq
            self._forget()
        return to_apply, not_answered

    def pass_failed(self, seq: int) -> set[PostKey]:
        """Pass `seq` ended without answers; return the posts a newer re-check did answer."""
        if self._pass == seq:
            self._pass = None
        newer = {key for key, applied in self._applied.items() if applied > seq}
        self._forget()
        return newer

    def recheck_answered(self, key: PostKey, seq: int) -> bool:
        """Re-check `seq` answered: whether the board takes it (no newer answer is there)."""
        self._rechecks.discard(seq)
        newest = self._applied.get(key, 0) < seq
        if newest:
            self._applied[key] = seq
        self._forget()
        return newest

    def recheck_failed(self, seq: int) -> None:
        """Re-check `seq` got no answer."""
        self._rechecks.discard(seq)
        self._forget()

    def _forget(self) -> None:
        # With nothing in flight no older answer can come: every later request is newer.
        if self._pass is None and not self._rechecks:
            self._applied.clear()
