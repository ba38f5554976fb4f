"""A base URL trimmed and split once, as the settings check it and the store keys history by it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

_NO_PARTS = SplitResult("", "", "", "", "")


@dataclass(frozen=True, slots=True)
class BaseUrl:
    """A base URL without spaces around it or slashes after it, and what urlsplit reads of it:
    its `host` ('' for none) and `port`; `error` says why it cannot be read (the parts are then
    empty)."""

    text: str
    parts: SplitResult
    host: str = ""
    port: int | None = None
    error: str = ""


def split_base_url(url: str) -> BaseUrl:
    """`url` trimmed and split, its host and port read at once: urlsplit takes a bad port
    quietly and raises only when the port is asked for."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        return BaseUrl(text, parts, parts.hostname or "", parts.port)
    except ValueError as exc:
        return BaseUrl(text, _NO_PARTS, error=str(exc))
