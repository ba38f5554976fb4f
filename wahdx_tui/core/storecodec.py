"""How values are turned into what a database column can hold, and back (shared by backends)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from wahdx_tui.core.model import PostKey, State, WatchedPost
from wahdx_tui.core.storeapi import MAX_RAW_BYTES

_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII = json.JSONEncoder(default=str, ensure_ascii=True, separators=(",", ":")).encode


def to_state(value: str) -> State:
    """The state a stored text names; UNKNOWN for anything else."""
    try:
        return State(value)
    except ValueError:
        return State.UNKNOWN


def raw_json(raw: object) -> str | None:
    """The payload as JSON text, or None when it cannot be encoded or is over the cap."""
    if raw is None:
        return None
    try:
        text = _ENCODE(raw)
        if text.isascii():
            size = len(text)
        else:
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError:  # lone surrogates: escape them instead
                text = _ENCODE_ASCII(raw)
                size = len(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if size <= MAX_RAW_BYTES else None


def raw_value(text: str | None) -> object:
    """The payload back from its JSON text (None when unreadable)."""
    if text is None:
        return None
    try:
        value: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value


def clean_text(value: str | None) -> str | None:
    """A string SQLite can store: lone surrogates replaced."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def pg_text(value: str | None) -> str | None:
    """A string PostgreSQL can store: lone surrogates and NUL characters replaced."""
    value = clean_text(value)
    if value is not None and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def keys_json(keys: Sequence[PostKey] | None) -> str | None:
    """A list of post keys as JSON text (None stays None: every post)."""
    if keys is None:
        return None
    return _ENCODE_ASCII([[a, p] for a, p in keys])


def keys_value(text: str | None) -> tuple[PostKey, ...] | None:
    """Post keys back from their JSON text; unreadable entries are skipped."""
    if text is None:
        return None
    value = raw_value(text)
    out: list[PostKey] = []
    if isinstance(value, list):
        for item in value:
            if (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], str)
            ):
                out.append((item[0], item[1]))
    return tuple(out)


def hour_buckets(rows: Sequence[tuple[int, int]], since: float, until: float) -> list[int]:
    """Counts per started hour from `since` to `until`, from (bucket, count) rows."""
    if until <= since:
        return []
    size = math.ceil((until - since) / 3600)
    out = [0] * size
    for bucket, count in rows:
        if 0 <= bucket < size:
            out[bucket] += int(count)
    return out


def union_posts(rows: Sequence[tuple[str, str, str | None, str]]) -> list[WatchedPost]:
    """Each post once, in the order first listed; a media type any board gave is kept."""
    seen: dict[PostKey, WatchedPost] = {}
    for account, publish, media_type, label in rows:
        key = (account, publish)
        found = seen.get(key)
        if found is None:
            seen[key] = WatchedPost(account, publish, media_type, label)
        elif found.media_type is None and media_type is not None:
            seen[key] = WatchedPost(account, publish, media_type, found.label or label)
    return list(seen.values())
