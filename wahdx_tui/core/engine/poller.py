"""One polling pass at a time: choose which posts are due, check them, report what happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from wahdx_tui.core.api.client import PassResult, WahdxClient
from wahdx_tui.core.api.normalise import LastAnswer
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.settings.table import DEFAULTS

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
    rows: Sequence[Row] = ()
    """The rows asked, in the order asked (empty when the caller gave none)."""

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

    def due(self, rows: Sequence[Row]) -> list[Row]:
        """The rows to check in the next pass; final ones are spread evenly over passes.
        A row shown from the last run, or left unanswered, is due whatever its state."""
        n, every = self.pass_no, self.final_every
        if every == 1 or n == 0:
            return list(rows)
        published, failed = State.PUBLISHED, State.FAILED
        # One comprehension over the rows, states compared by identity: this runs over every
        # post each pass, so it reads each row once and looks nothing up.
        return [
            row
            for i, row in enumerate(rows, n)
            if not ((state := row.state) is published or state is failed)
            or row.from_last_run
            or row.unanswered
            or not i % every
        ]

    async def poll(
        self,
        rows: Sequence[Row],
        *,
        everything: bool = False,
        keep: bool = False,
    ) -> PollReport:
        """Check the due posts of `rows` (all of them when `everything`) in one pass. With
        `keep`, a row's status is handed back as it is where the API's answer did not change
        (see `parse_batch`)."""
        due = rows if everything else self.due(rows)
        chosen = [row.post for row in due]
        # Each post's last status beside it, taken now: the parser compares without a lookup.
        last: LastAnswer | None = [row.status for row in due] if keep else None
        started = time.time()
        result = await self.client.check_posts(chosen, last)
        report = PollReport(
            result=result,
            asked=len(chosen),
            skipped=len(rows) - len(chosen),
            started=started,
            finished=time.time(),
            pass_no=self.pass_no,
            rows=due,
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
