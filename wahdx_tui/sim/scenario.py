"""The demo scenario: a morning that shows the point at the first refresh, scripted per seed.

At the first answer an account has an expired token (every post of it failed, one after the
other over the last hours), one post was refused for its aspect ratio, one for its text, one
has been processing for over 20 minutes (stuck), most are published with public URLs, and a
few are queued and move through processing to published, or failed, over the next minute.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from wahdx_tui.core.domain.model import PostKey, State, WatchedPost
from wahdx_tui.sim.schedule import Timeline, platform_of, public_url_for

SCENARIOS = ("random", "demo")
"""random: each post's own timeline from the seed (the tests' default); demo: the script."""

MINUTE = 60.0
HOUR = 3600.0
MOVING = 5
"""Posts queued at start that end within the first minute (the last of them failed)."""

TOKEN_EXPIRED: dict[str, str] = {
    "tiktok": "access token expired: reconnect the TikTok account",
    "instagram": "Instagram token expired: reconnect the account",
    "threads": "Threads token expired: reconnect the account",
    "facebook": "page access token expired: reconnect the Page",
}
ASPECT_RATIO: dict[str, str] = {
    "tiktok": "unsupported aspect ratio: use 9:16",
    "instagram": "unsupported aspect ratio: must be between 4:5 and 1.91:1",
    "threads": "unsupported aspect ratio: use between 10:16 and 3:1",
    "facebook": "unsupported aspect ratio: use between 9:16 and 16:9",
}
TEXT_TOO_LONG: dict[str, str] = {
    "tiktok": "caption over 2200 characters",
    "instagram": "caption over 2200 characters",
    "threads": "text over 500 characters",
    "facebook": "text over 63206 characters",
}
RATE_LIMITED: dict[str, str] = {
    "tiktok": "rate limited by platform: daily upload cap reached",
    "instagram": "rate limited by platform: 25 posts per 24 hours",
    "threads": "rate limited by platform: 250 posts per 24 hours",
    "facebook": "rate limited by platform: application request limit reached",
}


@dataclass(frozen=True, slots=True)
class Script:
    """One post's scripted life: its timeline, and how long it had lived at server start."""

    timeline: Timeline
    head_start: float


def _rng(seed: int, salt: str) -> random.Random:
    digest = hashlib.blake2b(f"demo\x00{seed}\x00{salt}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _ended(outcome: State, ago: float, rng: random.Random, **texts: str | None) -> Script:
    """A post that reached `outcome` `ago` seconds before the server started."""
    queued = round(rng.uniform(5.0, 60.0), 3)
    processing = round(rng.uniform(20.0, 120.0), 3)
    timeline = Timeline(queued, processing, outcome, texts.get("error"), texts.get("url"))
    return Script(timeline, round(queued + processing + ago, 3))


def _expired_account(seed: int, accounts: dict[str, list[WatchedPost]], total: int) -> str | None:
    """The account whose token expired: one with a few posts (2 to 4), not most of the board."""
    if len(accounts) < 2:
        return None
    most = max(2, min(4, total // 4))
    fitting = sorted(a for a, posts in accounts.items() if 2 <= len(posts) <= most)
    fitting = fitting or sorted(a for a, posts in accounts.items() if len(posts) <= most)
    return _rng(seed, "expired").choice(fitting) if fitting else None


def _roles(order: list[WatchedPost]) -> dict[PostKey, str]:
    """Who plays what, in `order` and as far as there are posts: the aspect ratio, the stuck
    post, a mover, one left published, the text too long (on another account than the aspect
    ratio's: failures spread as in real life), more movers; the rest stay published."""
    free = list(order)
    roles: dict[PostKey, str] = {}

    def take(role: str, post: WatchedPost | None = None) -> WatchedPost | None:
        if not free:
            return None
        post = post or free[0]
        free.remove(post)
        if role != "published":
            roles[post.key] = role
        return post

    aspect = take("aspect")
    take("stuck")
    take("moving")
    take("published")
    if aspect is not None:
        other = next((p for p in free if p.account_id != aspect.account_id), None)
        if other is not None:
            take("text", other)
    for _ in range(MOVING - 1):
        take("moving")
    return roles


def demo_scripts(seed: int, posts: Sequence[WatchedPost]) -> dict[PostKey, Script]:
    """Every post's script: a pure function of the seed and the watchlist."""
    unique = list({p.key: p for p in posts}.values())
    by_account: dict[str, list[WatchedPost]] = {}
    for post in unique:
        by_account.setdefault(post.account_id, []).append(post)
    scripts: dict[PostKey, Script] = {}
    rng = _rng(seed, "times")

    expired = _expired_account(seed, by_account, len(unique))
    rest = [p for p in unique if p.account_id != expired]
    if expired is None and rest:
        # One account only (or none small enough): the token expires on one post.
        expired_posts, rest = rest[:1], rest[1:]
    else:
        expired_posts = by_account.get(expired or "", [])
    # The token expired some hours ago; each post published since then failed in turn.
    for i, post in enumerate(expired_posts):
        ago = (len(expired_posts) - i) * rng.uniform(35.0, 80.0) * MINUTE
        error = TOKEN_EXPIRED[platform_of(post.account_id)]
        scripts[post.key] = _ended(State.FAILED, ago, rng, error=error)

    _rng(seed, "roles").shuffle(rest)
    roles = _roles(rest)
    moving_done = 0
    moving_total = sum(role == "moving" for role in roles.values())
    for post in rest:
        role = roles.get(post.key, "published")
        platform = platform_of(post.account_id)
        if role == "aspect":
            ago = rng.uniform(25.0, 50.0) * MINUTE
            scripts[post.key] = _ended(State.FAILED, ago, rng, error=ASPECT_RATIO[platform])
        elif role == "text":
            ago = rng.uniform(2.0, 5.0) * HOUR
            scripts[post.key] = _ended(State.FAILED, ago, rng, error=TEXT_TOO_LONG[platform])
        elif role == "stuck":
            queued = round(rng.uniform(10.0, 40.0), 3)
            processing_since = rng.uniform(21.0, 28.0) * MINUTE
            timeline = Timeline(queued, 0.0, State.PROCESSING, None, None)
            scripts[post.key] = Script(timeline, round(queued + processing_since, 3))
        elif role == "moving":
            moving_done += 1
            last = moving_done == moving_total
            # Staggered: each a few seconds after the last, all final within 60 s.
            queued = round(4.0 + 6.0 * moving_done + rng.uniform(0.0, 3.0), 3)
            processing = round(rng.uniform(10.0, 55.0 - queued), 3)
            outcome = State.FAILED if last and moving_total > 1 else State.PUBLISHED
            timeline = Timeline(
                queued,
                processing,
                outcome,
                RATE_LIMITED[platform] if outcome is State.FAILED else None,
                public_url_for(post.key, post.media_type) if outcome is State.PUBLISHED else None,
            )
            scripts[post.key] = Script(timeline, 0.0)
        else:
            ago = rng.uniform(3.0 * MINUTE, 6.0 * HOUR)
            url = public_url_for(post.key, post.media_type)
            scripts[post.key] = _ended(State.PUBLISHED, ago, rng, url=url)
    return scripts
