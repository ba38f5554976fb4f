"""Failure categories: every simulator text and common real-world phrasings land sensibly."""

from __future__ import annotations

import pytest

from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS, Category, categorize
from wahdx_tui.sim import schedule

A, M, C, R, P, U = (
    Category.ACCOUNT,
    Category.MEDIA,
    Category.CAPTION,
    Category.RATE_LIMIT,
    Category.PLATFORM,
    Category.UNKNOWN,
)


def _sim_texts() -> list[str]:
    texts = list(schedule._GENERIC_ERRORS)
    for table in (schedule._PLATFORM_ERRORS, schedule._VIDEO_ERRORS, schedule._PHOTO_ERRORS):
        for group in table.values():
            texts.extend(group)
    return sorted({t.format(ref="0badf00d") for t in texts})


# What each simulator text means; a new text in the simulator must be added here.
SIM_EXPECTED: dict[str, Category] = {
    "access token expired: reconnect the TikTok account": A,
    "access token expired: reconnect the account": A,
    "account restricted by Threads": A,
    "account restricted by the platform": A,
    "account restricted: TikTok limited this account's posting": A,
    "account restricted: action blocked by Instagram": A,
    "account restricted: the Page is unpublished": A,
    "Instagram token expired: reconnect the account": A,
    "Threads token expired: reconnect the account": A,
    "page access token expired: reconnect the Page": A,
    "permission missing: pages_manage_posts": A,
    "caption over 2200 characters": C,
    "text over 500 characters": C,
    "too many hashtags: limit is 30": C,
    "video too long: maximum is 10 minutes": C,
    "video too long: maximum is 240 minutes": C,
    "video too long: maximum is 5 minutes": C,
    "video too long: Reels must be under 90 seconds": C,
    "video too short: minimum is 3 seconds": C,
    "image over 20 MB": M,
    "image over 8 MB": M,
    "photo post needs between 1 and 35 images": M,
    "unsupported aspect ratio: must be between 4:5 and 1.91:1": M,
    "unsupported aspect ratio: use 9:16": M,
    "unsupported image format: use JPEG": M,
    "unsupported image format: use JPEG, PNG or GIF": M,
    "unsupported video codec: use H.264": M,
    "unsupported video codec: use H.264 or HEVC": M,
    "video file over 10 GB": M,
    "rate limited by platform: 250 posts per 24 hours": R,
    "rate limited by platform: application request limit reached": R,
    "rate limited by platform: daily upload cap reached": R,
    "rate limited by platform: try again later": R,
    "spam risk: too many posts in the last 24 hours": R,
    "internal publishing error (ref 0badf00d)": P,
    "media download failed: connection timed out after 30 s": P,
    "media download failed: the source URL returned 403": P,
}


def test_the_expected_table_covers_every_simulator_text() -> None:
    assert set(_sim_texts()) == set(SIM_EXPECTED)


@pytest.mark.parametrize("text", _sim_texts())
def test_every_simulator_failure_text_lands_in_a_known_category(text: str) -> None:
    category = categorize(text)
    assert category is not Category.UNKNOWN
    assert category is SIM_EXPECTED[text]


REAL: list[tuple[str, Category]] = [
    # account / token
    ("Error validating access token: Session has expired on Friday, 01-Mar-24", A),
    ("Invalid OAuth access token - Cannot parse access token", A),
    ("(#190) OAuthException: The access token could not be decrypted", A),
    ("access_token_invalid", A),
    ("The access token has been revoked by the user", A),
    ("invalid_grant: refresh token is invalid", A),
    ("401 Unauthorized", A),
    ("HTTP 403 Forbidden", A),
    ("Permission denied", A),
    ("(#200) Requires instagram_content_publish permission", A),
    ("scope_not_authorized", A),
    ("The user has not authorized the application", A),
    ("Account suspended", A),
    ("This account has been disabled", A),
    ("spam_risk_user_banned_from_posting", A),
    ("Please reconnect your account", A),
    ("Authentication failed", A),
    ("Invalid credentials", A),
    ("TokenExpired", A),
    # media format
    ("Unsupported format", M),
    ("The video format is not supported", M),
    ("Invalid aspect ratio 2:1", M),
    ("Resolution too low: minimum 720p", M),
    ("File too large", M),
    ("File size exceeds the 4GB limit", M),
    ("Image dimensions are too small", M),
    ("The frame rate must be between 23 and 60 fps", M),
    ("Video bitrate too high", M),
    ("The media file is corrupted", M),
    ("Could not decode the video stream", M),
    ("invalid media type: image/webp", M),
    ("Carousel must contain 2 to 10 items: too many images", M),
    ("file_format_check_failed", M),
    ("picture_size_check_failed", M),
    # caption / limits
    ("Caption too long", C),
    ("The caption exceeds the maximum length of 2200 characters", C),
    ("Too many hashtags", C),
    ("Too many mentions in caption", C),
    ("Video duration exceeds the maximum allowed", C),
    ("duration_check_failed", C),
    ("Title is too long", C),
    ("Content flagged as spam", C),
    ("Post violates our Community Guidelines", C),
    ("Duplicate post", C),
    # rate limited
    ("Rate limit exceeded", R),
    ("rate_limit_exceeded", R),
    ("Too Many Requests", R),
    ("HTTP 429", R),
    ("status: 429", R),
    ("(#4) Application request limit reached", R),
    ("(#32) Page request limit reached", R),
    ("Quota exceeded for today", R),
    ("Daily post limit reached", R),
    ("Requests are being throttled", R),
    ("spam_risk_too_many_posts", R),
    ("spam_risk_too_many_pending_share", R),
    # platform
    ("Internal Server Error", P),
    ("internal_error", P),
    ("An unknown error occurred", P),
    ("An unexpected error has occurred. Please retry your request later.", P),
    ("Service Unavailable", P),
    ("503 Service Unavailable", P),
    ("HTTP 502 Bad Gateway", P),
    ("Gateway Timeout", P),
    ("Request timed out", P),
    ("timeout", P),
    ("Platform is temporarily unavailable", P),
    ("Something went wrong, please try again", P),
    ("Failed to download media from the provided URL", P),
    ("Could not fetch the video", P),
    ("Connection reset by peer", P),
    ("publishing failed", P),
    ("The platform is under maintenance", P),
    # unknown
    ("", U),
    ("   ", U),
    ("failed", U),
    ("error", U),
    ("zzz", U),
]


@pytest.mark.parametrize(("text", "expected"), REAL)
def test_real_world_phrasings(text: str, expected: Category) -> None:
    assert categorize(text) is expected


def test_none_and_empty_are_unknown() -> None:
    assert categorize(None) is Category.UNKNOWN
    assert categorize(None, None) is Category.UNKNOWN
    assert categorize("", "") is Category.UNKNOWN


def test_raw_status_is_used_when_the_error_says_nothing() -> None:
    assert categorize(None, "TOKEN_EXPIRED") is Category.ACCOUNT
    assert categorize("failed", "RATE_LIMITED") is Category.RATE_LIMIT
    assert categorize(None, "FAILED") is Category.UNKNOWN
    # the error text wins over the status
    assert categorize("caption too long", "RATE_LIMITED") is Category.CAPTION


def test_matching_is_case_insensitive() -> None:
    assert categorize("ACCESS TOKEN EXPIRED") is Category.ACCOUNT
    assert categorize("Rate Limited") is Category.RATE_LIMIT


def test_hostile_and_huge_texts_are_cheap_and_safe() -> None:
    assert categorize("\x1b[31mtoken expired\x1b[0m") is Category.ACCOUNT
    assert categorize("a" * 5_000_000 + " token expired") is Category.UNKNOWN
    assert categorize("\ud800 caption too long") is Category.CAPTION


def test_every_category_has_a_label_and_a_hint() -> None:
    for category in Category:
        assert CATEGORY_LABELS[category].strip()
        hint = HINTS[category]
        assert hint.strip() and hint.endswith(".") and len(hint) < 200
    assert CATEGORY_LABELS[Category.ACCOUNT] == "account / token"
    assert CATEGORY_LABELS[Category.RATE_LIMIT] == "rate limited"
    assert set(CATEGORY_LABELS) == set(HINTS) == set(Category)
