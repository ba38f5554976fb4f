"""The simulator's truth: each post's deterministic timeline from (seed, accountId, publishId)."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from urllib.parse import quote

from wahdx_tui.core.domain.model import PostKey, State

QUEUED_RANGE = (3.0, 40.0)
PROCESSING_RANGE = (5.0, 90.0)
FAIL_RATE = 0.15
STUCK_RATE = 0.04
EARLY_RATE = 0.3
"""Share of configured posts given a long head start, so the board has final states at once."""
MAX_HEAD_START = 120.0

_GENERIC_ERRORS = (
    "media download failed: the source URL returned 403",
    "media download failed: connection timed out after 30 s",
    "rate limited by platform: try again later",
    "account restricted by the platform",
    "access token expired: reconnect the account",
    "internal publishing error (ref {ref})",
)
_PLATFORM_ERRORS: dict[str, tuple[str, ...]] = {
    "tiktok": (
        "access token expired: reconnect the TikTok account",
        "caption over 2200 characters",
        "spam risk: too many posts in the last 24 hours",
        "account restricted: TikTok limited this account's posting",
        "rate limited by platform: daily upload cap reached",
    ),
    "instagram": (
        "unsupported aspect ratio: must be between 4:5 and 1.91:1",
        "caption over 2200 characters",
        "Instagram token expired: reconnect the account",
        "account restricted: action blocked by Instagram",
        "too many hashtags: limit is 30",
    ),
    "threads": (
        "text over 500 characters",
        "Threads token expired: reconnect the account",
        "rate limited by platform: 250 posts per 24 hours",
        "account restricted by Threads",
    ),
    "facebook": (
        "page access token expired: reconnect the Page",
        "permission missing: pages_manage_posts",
        "account restricted: the Page is unpublished",
        "rate limited by platform: application request limit reached",
    ),
}
_VIDEO_ERRORS: dict[str, tuple[str, ...]] = {
    "tiktok": (
        "video too long: maximum is 10 minutes",
        "video too short: minimum is 3 seconds",
        "unsupported video codec: use H.264",
        "unsupported aspect ratio: use 9:16",
    ),
    "instagram": (
        "video too long: Reels must be under 90 seconds",
        "unsupported video codec: use H.264 or HEVC",
    ),
    "threads": ("video too long: maximum is 5 minutes",),
    "facebook": ("video too long: maximum is 240 minutes", "video file over 10 GB"),
}
_PHOTO_ERRORS: dict[str, tuple[str, ...]] = {
    "tiktok": ("photo post needs between 1 and 35 images", "image over 20 MB"),
    "instagram": ("image over 8 MB", "unsupported image format: use JPEG"),
    "threads": ("image over 8 MB",),
    "facebook": ("unsupported image format: use JPEG, PNG or GIF",),
}
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_NOT_HANDLE = frozenset(
    {"tiktok", "instagram", "threads", "facebook", "ig", "fb", "tt", "acc", "acct", "account"}
)


@dataclass(frozen=True, slots=True)
class Timeline:
    """How one post moves: queued for a while, processing for a while, then its outcome."""

    queued_for: float
    processing_for: float
    outcome: State
    error: str | None
    public_url: str | None


def _rng(seed: int, key: PostKey, salt: str) -> random.Random:
    digest = hashlib.blake2b(
        f"{seed}\x00{key[0]}\x00{key[1]}\x00{salt}".encode("utf-8", "surrogatepass"),
        digest_size=8,
    ).digest()
    return random.Random(int.from_bytes(digest, "big"))


def platform_of(account_id: str) -> str:
    """The platform an accountId names: tiktok, instagram, threads or facebook (tiktok if none)."""
    a = account_id.lower()
    if "tiktok" in a:
        return "tiktok"
    if "threads" in a:
        return "threads"
    if "instagram" in a or re.search(r"(?<![a-z])ig(?![a-z])", a):
        return "instagram"
    if "facebook" in a or re.search(r"(?<![a-z])fb(?![a-z])", a):
        return "facebook"
    return "tiktok"


def handle_of(account_id: str) -> str:
    """A plausible public handle for an account: its id without platform words or junk."""
    tokens = [t for t in _TOKEN_SPLIT.split(account_id.lower()) if t]
    kept = [t for t in tokens if t not in _NOT_HANDLE]
    return "_".join(kept or tokens) or "account"


def public_url_for(key: PostKey, media_type: str | None) -> str:
    """The public URL a published post would have on its platform."""
    account_id, publish_id = key
    handle = quote(handle_of(account_id), safe="")
    pid = quote(publish_id, safe="")
    platform = platform_of(account_id)
    if platform == "instagram":
        return f"https://www.instagram.com/p/{pid}/"
    if platform == "threads":
        return f"https://www.threads.net/@{handle}/post/{pid}"
    if platform == "facebook":
        return f"https://www.facebook.com/{handle}/posts/{pid}"
    kind = "photo" if (media_type or "").lower() == "photo" else "video"
    return f"https://www.tiktok.com/@{handle}/{kind}/{pid}"


def _error_for(rng: random.Random, key: PostKey, media_type: str | None) -> str:
    platform = platform_of(key[0])
    media = (media_type or "").lower()
    pool = _PLATFORM_ERRORS[platform] + _GENERIC_ERRORS
    if media == "photo":
        pool += _PHOTO_ERRORS[platform]
    elif media == "video" or (platform == "tiktok" and not media):
        pool += _VIDEO_ERRORS[platform]
    return rng.choice(pool).format(ref=f"{rng.getrandbits(32):08x}")


def timeline_for(seed: int, key: PostKey, media_type: str | None) -> Timeline:
    """The timeline of one post: a pure function of (seed, key) plus media type for texts."""
    rng = _rng(seed, key, "timeline")
    queued_for = round(rng.uniform(*QUEUED_RANGE), 3)
    processing_for = round(rng.uniform(*PROCESSING_RANGE), 3)
    roll = rng.random()
    text_rng = _rng(seed, key, "text")
    if roll < STUCK_RATE / 2:
        return Timeline(queued_for, processing_for, State.QUEUED, None, None)
    if roll < STUCK_RATE:
        return Timeline(queued_for, processing_for, State.PROCESSING, None, None)
    if roll < STUCK_RATE + FAIL_RATE:
        error = _error_for(text_rng, key, media_type)
        return Timeline(queued_for, processing_for, State.FAILED, error, None)
    return Timeline(
        queued_for, processing_for, State.PUBLISHED, None, public_url_for(key, media_type)
    )


def head_start_for(seed: int, key: PostKey) -> float:
    """Sim seconds a configured post has already lived at server start (0–120 s)."""
    rng = _rng(seed, key, "head-start")
    if rng.random() < EARLY_RATE:
        return round(rng.uniform(MAX_HEAD_START / 2, MAX_HEAD_START), 3)
    return round(rng.uniform(0.0, 8.0), 3)


def state_at(t: Timeline, elapsed: float) -> State:
    """The post's state `elapsed` sim seconds after it was first seen."""
    if t.outcome is State.QUEUED or elapsed < t.queued_for:
        return State.QUEUED
    if t.outcome is State.PROCESSING or elapsed < t.queued_for + t.processing_for:
        return State.PROCESSING
    return t.outcome


def last_transition_at(t: Timeline, elapsed: float) -> float:
    """Elapsed sim seconds at which the post entered its current state (0 while queued)."""
    state = state_at(t, elapsed)
    if state is State.QUEUED:
        return 0.0
    if state is State.PROCESSING:
        return t.queued_for
    return t.queued_for + t.processing_for
