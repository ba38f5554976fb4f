"""One `check` pass from start to finish through the engine: watchlist in, results and exit code out."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.api.client import ClientOptions, client_factory
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
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


async def run_check(
    watchlist: Watchlist, base_url: str, api_key: ApiKey | str, options: ClientOptions
) -> CheckOutcome:
    """Check every post once; exit 0 when none failed, 1 when any failed, 2 when incomplete."""
    posts = watchlist.posts
    engine = Engine(watchlist, client_factory(base_url, api_key, options))
    try:
        outcome = await engine.run_pass(everything=True)
    finally:
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
                [], EXIT_INCOMPLETE, f"API unreachable at {base_url}: {reason}; check the base URL"
            )
        return CheckOutcome(
            rows,
            EXIT_INCOMPLETE,
            f"{outcome.not_checked} of {len(posts)} posts could not be checked: {reason}",
        )
    failed = any(s.state is State.FAILED for _, s in rows)
    return CheckOutcome(rows, EXIT_FAILED_POSTS if failed else EXIT_OK)
