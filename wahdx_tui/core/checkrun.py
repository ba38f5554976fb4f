"""One `check` pass from start to finish, without any UI: watchlist in, results and exit code out."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.client import ClientOptions, WahdxClient
from wahdx_tui.core.errors import ApiError
from wahdx_tui.core.model import PostStatus, State, WatchedPost
from wahdx_tui.core.secret import ApiKey

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
    posts: list[WatchedPost], base_url: str, api_key: ApiKey | str, options: ClientOptions
) -> CheckOutcome:
    """Check every post once; exit 0 when none failed, 1 when any failed, 2 when incomplete."""
    async with WahdxClient(base_url, api_key, options) as client:
        try:
            result = await client.check_posts(posts)
        except ApiError as exc:
            return CheckOutcome([], EXIT_INCOMPLETE, str(exc))
        except Exception as exc:  # never a traceback: one line, exit 2
            return CheckOutcome([], EXIT_INCOMPLETE, f"internal error: {exc.__class__.__name__}")
    by_key = {s.key: s for s in result.statuses}
    rows: list[tuple[WatchedPost, PostStatus]] = []
    for post in posts:
        status = by_key.get(post.key)
        if status is None:
            status = PostStatus(post.key, State.UNKNOWN, None, None, "could not be checked")
        rows.append((post, status))
    if not result.complete:
        reason = result.errors[0] if result.errors else "unknown error"
        if not result.statuses:
            return CheckOutcome(
                [], EXIT_INCOMPLETE, f"API unreachable at {base_url}: {reason}; check the base URL"
            )
        return CheckOutcome(
            rows,
            EXIT_INCOMPLETE,
            f"{len(result.failed)} of {len(posts)} posts could not be checked: {reason}",
        )
    failed = any(s.state is State.FAILED for _, s in rows)
    return CheckOutcome(rows, EXIT_FAILED_POSTS if failed else EXIT_OK)
