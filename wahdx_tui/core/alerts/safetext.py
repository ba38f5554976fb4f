"""Make untrusted text inert in a chat message: no mentions, no markup, no links that render."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from wahdx_tui.core.domain.sanitize import clean, is_web_url

# Each character that starts a mention, markup, a link or an entity in some service (Slack
# mrkdwn, Discord and Teams markdown, Telegram, HTML) becomes a look-alike that means nothing.
# One character for one, so a cut text keeps its length.
_LOOKALIKES = str.maketrans(
    {
        "@": "\uff20",  # ＠ : @channel, @here, @everyone, @user
        "<": "\u2039",  # ‹ : <!channel>, <@U123>, <#C123>, <url|text>, HTML tags
        ">": "\u203a",  # › : the same, and block quotes
        "&": "\uff06",  # ＆ : HTML and Slack entities such as &lt;
        "*": "\u2217",  # ∗ : bold
        "_": "\u02cd",  # ˍ : italic
        "`": "\u02cb",  # ˋ : code
        "~": "\u02dc",  # ˜ : strike-through
        "[": "\u2045",  # ⁅ : markdown links [text](url)
        "]": "\u2046",  # ⁆
        "|": "\u00a6",  # ¦ : Slack link text, Discord spoilers, tables
        "\\": "\u29f5",  # ⧵ : escapes
    }
)
# "://" starts a link that most services turn clickable; a fraction slash keeps it readable.
_SCHEME = re.compile(r":/(?=/)")
_SAFE_ID = re.compile(r"[A-Za-z0-9]+(?:(?:[.:-]+|_)[A-Za-z0-9]+)*")
_URL_SAFE = "-._:/?#=&%+,;!$'()"
MAX_URL = 500


def safe_text(text: object, limit: int) -> str:
    """Untrusted text as one inert line of at most `limit` characters."""
    s = clean(text, limit)
    if not s.isascii():  # invisible format characters clean() leaves: soft hyphens, tag chars
        s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    s = s.translate(_LOOKALIKES)
    return _SCHEME.sub(":\u2044", s)


def safe_id(text: object, limit: int = 80) -> str:
    """An identifier kept as typed when it is plain (letters, digits, inner . : - _), else inert.

    An underscore between letters or digits renders in no service, and publish IDs must stay
    copyable.
    """
    s = clean(text, limit)
    if _SAFE_ID.fullmatch(s):
        return s
    return safe_text(s, limit)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with every character that could end it or start markup percent-encoded."""
    if not url or not is_web_url(url) or len(url) > MAX_URL:
        return None
    # quote() never encodes "~", which strikes text through in some services.
    return quote(url, safe=_URL_SAFE).replace("~", "%7E")
