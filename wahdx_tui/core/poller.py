"""One polling pass at a time: choose which posts are due, check them, report what happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wahdx_tui.core.client import PassResult, WahdxClient
from wahdx_tui.core.model import PostKey, State, WatchedPost
from wahdx_tui.core.normalise import LastAnswer
from wahdx_tui.core.settings import DEFAULTS

DEFAULT_FINAL_EVERY = DEFAULTS.final_every
log = logging.getLogger("wahdx_tui.poller")


@dataclass(frozen=True, slots=True)
class PollReport:
    """The outcome of one pass: results, what was asked, and how long it took."""

    result: PassResult
    asked: int
    skipped: int
    started: float
    finished: float
    pass_no: int

    @property
    def duration(self) -> float:
        """Seconds the pass took."""
        return self.finished - self.started


class Poller:
    """Runs passes; posts in a final state are re-checked only every `final_every` passes."""

    def __init__(self, client: WahdxClient, final_every: int = DEFAULT_FINAL_EVERY) -> None:
        self.client = client
        self.final_every = max(1, final_every)
        self.pass_no = 0

    def due(
        self, posts: Sequence[WatchedPost], states: Mapping[PostKey, State]
    ) -> list[WatchedPost]:
        """The posts to check in the next pass; final ones are spread evenly over passes.

        A post without a state in `states` is due, so a caller may leave out every post that
        is not final."""
        n, every = self.pass_no, self.final_every
        if every == 1 or n == 0:
            return list(posts)
        get, published, failed = states.get, State.PUBLISHED, State.FAILED
        # One comprehension, states compared by identity: this runs over every post each pass.
        return [
            post
            for i, post in enumerate(posts, n)
            if ((state := get(post.key)) is not published and state is not failed) or i % every == 0
        ]

    async def poll(
        self,
        posts: Sequence[WatchedPost],
        states: Mapping[PostKey, State] | None = None,
        *,
        everything: bool = False,
        last: LastAnswer | None = None,
    ) -> PollReport:
        """Check the due posts (all of them when `everything`) in one pass; `last` gives each
        post's last status, kept as it is where the API's answer did not change."""
        chosen = list(posts) if everything else self.due(posts, states or {})
        started = time.time()
        result = await self.client.check_posts(chosen, last)
        report = PollReport(
            result=result,
            asked=len(chosen),
            skipped=len(posts) - len(chosen),
            started=started,
            finished=time.time(),
            pass_no=self.pass_no,
        )
        if result.statuses:
            # A pass the API did not answer does not count: posts it skipped stay due.
            self.pass_no += 1
        log.debug(
            "pass %d: %d asked, %d answered, %d not checked, %d skipped, %d requests, %.2f s",
            report.pass_no,
            report.asked,
            len(result.statuses),
            len(result.failed),
            report.skipped,
            result.requests,
            report.duration,
        )
        return report
