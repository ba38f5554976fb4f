"""Failure reasons grouped into a few categories, each with a short hint on what to do."""

from __future__ import annotations

import re
from enum import StrEnum

from wahdx_tui.core.domain.sanitize import clean


class Category(StrEnum):
    """What kind of failure a post's error text describes."""

    ACCOUNT = "account"
    """Account or token expired, revoked, restricted, or missing permissions."""
    MEDIA = "media"
    """The media itself: format, codec, aspect ratio, resolution, file size, image count."""
    CAPTION = "caption"
    """Caption or limits: length, hashtags, mentions, duration, content rules."""
    RATE_LIMIT = "rate_limit"
    """Too many posts or requests for now."""
    PLATFORM = "platform"
    """Platform-side error, outage, internal error, timeout or media download failure."""
    UNKNOWN = "unknown"


CATEGORY_LABELS: dict[Category, str] = {
    Category.ACCOUNT: "account / token",
    Category.MEDIA: "media format",
    Category.CAPTION: "caption / limits",
    Category.RATE_LIMIT: "rate limited",
    Category.PLATFORM: "platform error",
    Category.UNKNOWN: "unknown",
}

HINTS: dict[Category, str] = {
    Category.ACCOUNT: (
        "Reconnect the account in Wahdx (granting every permission asked), then re-publish."
    ),
    Category.MEDIA: (
        "Re-export the media in a supported format (e.g. H.264 MP4, JPEG) within the platform's"
        " size, aspect-ratio and resolution limits, then re-publish."
    ),
    Category.CAPTION: (
        "Shorten the caption or trim the video to the platform's limits (length, hashtags,"
        " mentions, duration) and check its content rules, then re-publish."
    ),
    Category.RATE_LIMIT: (
        "Wait for the platform's limit to reset (often 24 h) before re-publishing;"
        " spread posts out."
    ),
    Category.PLATFORM: (
        "Usually temporary: re-publish later; if it persists, check the media URL is reachable"
        " and send the error (with any ref) to Wahdx support."
    ),
    Category.UNKNOWN: (
        "Read the full error in the post's detail; if it is unclear, send it to Wahdx support."
    ),
}

# First match wins, so the order matters: a media *download* failure is the platform's
# problem, "rate limited by platform" is a rate limit, "account restricted by the platform"
# an account problem, and a video's duration is a limit even though "format" may appear.
_STATUS = r"(?:http|status|error|code|response)\s*:?\s*"
_RULES: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.PLATFORM,
        (
            r"\bdownload(?:ing)? (?:failed|error|timed out)",
            r"\b(?:failed|unable|could not|couldn t|cannot|can t) (?:to )?(?:download|fetch)",
            r"\bsource url\b",
            r"\bmedia url\b.*\b(?:unreachable|not reachable|not accessible|returned)",
        ),
    ),
    (
        Category.RATE_LIMIT,
        (
            r"\brate ?limit",
            r"\btoo many (?:requests|posts|uploads|calls|attempts|pending)",
            rf"\b{_STATUS}429\b",
            r"\b429 too many\b",
            r"\bquota\b",
            r"\b(?:daily|hourly|weekly|upload|post|posting|publish|request|api|call|rate)"
            r" (?:limit|cap)\b",
            r"\bthrottl",
            r"\bslow down\b",
            r"\bposts? per (?:day|hour|\d+ hours?)\b",
            r"\blimit (?:reached|exceeded)\b.*\b(?:try|wait)\b",
        ),
    ),
    (
        Category.ACCOUNT,
        (
            r"\btoken\b",
            r"\boauth",
            r"\bsession\b.{0,40}\b(?:expired|invalid|revoked)\b",
            r"\b(?:re ?)?authori[sz](?:e|ation|ed)\b",
            r"\bunauthori[sz]ed\b",
            r"\bnot authori[sz]ed\b",
            r"\bauthenticat",
            r"\bcredentials?\b",
            r"\bpermissions?\b",
            r"\bscopes?\b",
            r"\breconnect",
            r"\bre ?link\b",
            r"\bforbidden\b",
            rf"\b{_STATUS}40[13]\b",
            r"\binvalid grant\b",
            r"\brevoked\b",
            r"\blogin required\b|\blogged out\b",
            r"\b(?:account|page|user|profile|channel)\b.{0,40}\b(?:restricted|suspended|disabled"
            r"|banned|locked|blocked|deactivated|deleted|disconnected|not connected"
            r"|not found|unpublished|checkpoint)",
            r"\b(?:restricted|suspended|disabled|banned|locked|deactivated|disconnected)"
            r" (?:account|page|user|profile)\b",
            r"\baction blocked\b",
            r"\bbanned from posting\b",
        ),
    ),
    (
        Category.CAPTION,
        (
            r"\bcaption",
            r"\bhashtags?\b",
            r"\bmentions?\b",
            r"\bcharacters?\b",
            r"\btoo (?:long|short)\b",
            r"\bduration\b",
            r"\b(?:max(?:imum)?|min(?:imum)?) length\b",
            r"\blength (?:limit|exceeded)\b",
            r"\btitle\b",
            r"\bdescription\b",
            r"\btext\b.*\b(?:long|over|exceed)",
            r"\bspam\b",
            r"\bduplicate\b",
            r"\b(?:community )?guidelines?\b",
            r"\bpolicy\b|\bviolat",
            r"\bbanned (?:word|term|phrase)s?\b",
            r"\bprohibited\b",
            r"\blinks? (?:are )?not allowed\b",
        ),
    ),
    (
        Category.MEDIA,
        (
            r"\bunsupported\b",
            r"\bnot supported\b",
            r"\bformat\b",
            r"\bcodec",
            r"\baspect ?ratio\b",
            r"\bresolution\b",
            r"\bdimensions?\b",
            r"\b(?:width|height)\b",
            r"\bframe ?rate\b|\bfps\b",
            r"\bbit ?rate\b",
            r"\bfile size\b|\bfile (?:is )?too (?:large|big)\b",
            r"\btoo (?:large|big|small)\b",
            r"\b\d+(?: \d+)? ?[kmgt]i?b\b",
            r"\b(?:images?|photos?|pictures?|slides?|carousel)\b",
            r"\b(?:corrupt|damaged|unreadable|decod|transcod|encod)",
            r"\binvalid (?:media|video|image|file)\b",
            r"\bthumbnail\b|\bcover\b",
            r"\baudio\b",
            r"\bmime\b|\bmedia type\b",
        ),
    ),
    (
        Category.PLATFORM,
        (
            r"\binternal\b",
            r"\bserver error\b",
            rf"\b{_STATUS}5\d\d\b",
            r"\b5\d\d (?:internal|bad|service|gateway)\b",
            r"\bbad gateway\b|\bgateway\b",
            r"\btime ?out\b|\btimed out\b",
            r"\bunavailable\b",
            r"\boutage\b|\bmaintenance\b|\bdegraded\b",
            r"\bplatform\b",
            r"\b(?:unknown|unexpected|transient|temporary|generic) error\b",
            r"\btemporar",
            r"\bsomething went wrong\b",
            r"\btry again\b",
            r"\b(?:network|connection|upstream|socket|dns)\b",
            r"\b(?:processing|publishing|upload) (?:failed|error)\b",
            r"\bfailed to (?:process|publish|upload)\b",
        ),
    ),
)
_COMPILED: tuple[tuple[Category, re.Pattern[str]], ...] = tuple(
    (category, re.compile("|".join(f"(?:{p})" for p in patterns))) for category, patterns in _RULES
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s_\-./'’]+")
MAX_TEXT = 2000
"""Only the first characters of a reason are read: keeps hostile megabyte texts cheap."""


def _normalise(text: str) -> str:
    """Split camelCase and snake_case, lower-case, and make every separator one space."""
    text = _CAMEL.sub(" ", clean(text[:MAX_TEXT]))
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def _match(text: str | None) -> Category:
    if not text:
        return Category.UNKNOWN
    norm = _normalise(text)
    if not norm:
        return Category.UNKNOWN
    for category, pattern in _COMPILED:
        if pattern.search(norm):
            return category
    return Category.UNKNOWN


def categorize(error: str | None, raw_status: str | None = None) -> Category:
    """The category of a failure from its error text, else from the API's raw status."""
    category = _match(error)
    if category is Category.UNKNOWN:
        category = _match(raw_status)
    return category
