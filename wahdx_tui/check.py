"""One `check` pass from start to finish through the engine: watchlist in, results and exit code out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wahdx_tui.core.api.client import ClientEvent, ClientOptions, client_factory
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.display import detail_text
from wahdx_tui.core.domain.errors import trouble_advice, trouble_line
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.watchlist.reader import Watchlist

EXIT_OK = 0
EXIT_FAILED_POSTS = 1
EXIT_INCOMPLETE = 2


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """Results in watchlist order, the exit code, and an error line when the run was incomplete."""

    rows: list[tuple[WatchedPost, PostStatus]]
    exit_code: int
    error: str | None = None
    warning: str | None = None
    """Said on stderr besides the results: posts the API answered about in no known state."""
    shown: Mapping[PostKey, Row] = field(default_factory=dict)
    """The board's rows: what the pass found besides the answers (stuck, since when)."""


class Trying:
    """Says once (through `say`, one line) that `check` is still trying the API: at its first
    retry or rate limit when `at_first_retry` (an operator watching a terminal), else only
    when no answer came within `after` seconds (a log read later)."""

    def __init__(
        self, say: Callable[[str], None], base_url: str, *, at_first_retry: bool, after: float
    ) -> None:
        self.say = say
        self.base_url = base_url
        self.at_first_retry = at_first_retry
        self.after = after
        self.said = False
        self.last: str | None = None

    def event(self, event: ClientEvent) -> None:
        """A retry or a rate limit: remember why, and say so now when watched."""
        if event.kind in ("retry", "rate_limited"):
            self.last = clean(event.message, 200)
            if self.at_first_retry:
                self.tell()

    def tell(self) -> None:
        """Say it (once): where, and the last reason for trying again."""
        if not self.said:
            self.said = True
            why = f": {self.last}" if self.last else ": no answer yet"
            self.say(f"still trying {self.base_url}{why}…")


async def run_check(
    watchlist: Watchlist,
    base_url: str,
    api_key: ApiKey | str,
    options: ClientOptions,
    trying: Trying | None = None,
) -> CheckOutcome:
    """Check every post once; exit 0 when every post is in a known state and none failed, 1
    when any failed or is unknown (not known to the API, or a status not understood), 2 when
    the run was incomplete. `trying` says meanwhile that the API is being tried again."""
    posts = watchlist.posts
    engine = Engine(watchlist, client_factory(base_url, api_key, options))
    timer = None
    if trying is not None:
        engine.on_client_event = trying.event
        timer = asyncio.get_running_loop().call_later(trying.after, trying.tell)
    try:
        outcome = await engine.run_pass(everything=True)
    finally:
        if timer is not None:
            timer.cancel()
        await engine.aclose()
    if not outcome.ran:
        return CheckOutcome([], EXIT_INCOMPLETE, outcome.error)
    shown = engine.board.rows
    rows: list[tuple[WatchedPost, PostStatus]] = []
    for post in posts:
        status = shown[post.key].status
        if status is None:
            status = PostStatus(post.key, State.UNKNOWN, None, None, "could not be checked")
        rows.append((post, status))
    if outcome.kind in ("partial", "down"):
        reason = outcome.error or "unknown error"
        if not outcome.answered:
            return CheckOutcome(
                [], EXIT_INCOMPLETE, trouble_line(outcome.trouble, base_url, reason)
            )
        return CheckOutcome(
            rows,
            EXIT_INCOMPLETE,
            f"{outcome.not_checked} of {len(posts)} posts could not be checked: {reason};"
            f" {trouble_advice(outcome.trouble)}",
        )
    failed = any(s.state is State.FAILED for _, s in rows)
    unknown = [(p, s) for p, s in rows if s.state is State.UNKNOWN]
    code = EXIT_FAILED_POSTS if failed or unknown else EXIT_OK
    return CheckOutcome(rows, code, warning=unknown_warning(unknown, len(rows)), shown=shown)


def unknown_warning(unknown: list[tuple[WatchedPost, PostStatus]], total: int) -> str | None:
    """'3 of 25 posts are in no known state …', naming the first, or None when there are none:
    a post the API does not know is most often a typo in its IDs, and must not read as good news."""
    if not unknown:
        return None
    post, status = unknown[0]
    why = detail_text(status, 120) or "no state"
    first = f"{clean(post.account_id, 80)} / {clean(post.publish_id, 80)}: {why}"
    return (
        f"{len(unknown)} of {total} posts are in no known state (the API does not know them,"
        f" left them out, or said a status not understood), e.g. {first}; check their"
        " accountId and publishId in the watchlist"
    )
