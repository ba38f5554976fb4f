"""Make untrusted text (from the API or the watchlist) inert before it reaches a terminal."""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC
# (ESC P/X/^/_ ... ST), and two-character escapes. Their 8-bit C1 forms are matched too.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?              # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])      # OSC, DCS, SOS, PM, APC ...
      .*?(?:\x07|\x1b\\|\x9c|$)                   # ... up to BEL or ST (or the end)
    | \x1b[ -/]*[0-~]?                             # other ESC sequences
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, and zero-width characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_NEWLINES = re.compile(r"[\t\n]+")


def clean(text: object, limit: int | None = None, *, keep_newlines: bool = False) -> str:
    """Return text with escape sequences and control/invisible characters removed.

    Tabs and newlines become single spaces unless keep_newlines is set; the result is cut to
    at most `limit` characters with a trailing ellipsis.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() and (limit is None or len(s) <= limit):
        return s
    s = _ESCAPES.sub("", s)
    s = _INVISIBLE.sub("", s)
    if keep_newlines:
        s = s.replace("\t", " ")
    else:
        s = _NEWLINES.sub(" ", s)
    # Lone surrogates cannot be encoded for a terminal; replace them.
    s = s.encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…" if limit > 0 else ""
    return s


def is_web_url(text: str | None) -> bool:
    """True when text is an http(s) URL without whitespace or control characters."""
    if not text or len(text) > 4096:
        return False
    lower = text[:8].lower()
    if not (lower.startswith("https://") or lower.startswith("http://")):
        return False
    return text.isprintable() and not any(c.isspace() for c in text)
