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
# Characters that draw nothing, or draw something else than they seem: C0 and C1 controls and
# DEL; every format character (Unicode's Cf: the soft hyphen, bidi embeddings, overrides and
# isolates, zero-width spaces and joiners, invisible operators, Arabic and Syriac marks that
# join their neighbours, tag characters U+E0000-E007F, and the like); and the letters and marks
# that are blank by design (the combining grapheme joiner, Hangul fillers, Khmer inherent
# vowels, Mongolian variation selectors).
_FILLERS = "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0"
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f"
    f"{_FILLERS}]"
)
_PRINTABLE_BLANKS = re.compile(f"[{_FILLERS}\u2800]")
"""The blank characters Python counts as printable (so the fast path must look for them)."""
_NEWLINES = re.compile("[\t\n\u2028\u2029]+")
_LINE_BREAKS = re.compile("[\u2028\u2029]")


def clean(text: object, limit: int | None = None, *, keep_newlines: bool = False) -> str:
    """Return text with escape sequences and control/invisible characters removed.

    Tabs, newlines and the Unicode line and paragraph separators become single spaces unless
    keep_newlines is set (then the separators become newlines); the result is cut to
    at most `limit` characters with a trailing ellipsis.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if (
        s.isprintable()
        and (limit is None or len(s) <= limit)
        and (s.isascii() or not _PRINTABLE_BLANKS.search(s))
    ):
        return s
    s = _ESCAPES.sub("", s)
    s = _INVISIBLE.sub("", s)
    s = s.replace("\u2800", " ")  # the blank braille cell: a space in braille text
    if keep_newlines:
        s = _LINE_BREAKS.sub("\n", s.replace("\t", " "))
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
