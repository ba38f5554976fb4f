"""Turn any of the API's undocumented response shapes into PostStatus records."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from wahdx_tui.core.domain.errors import ApiError, ResponseShapeError
from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost

_QUEUED = {"queued", "pending", "scheduled", "waiting", "created", "submitted"}
_PROCESSING = {
    "processing",
    "in_progress",
    "in-progress",
    "publishing",
    "uploading",
    "running",
    "send_to_user_inbox",
}
_PUBLISHED = {
    "published",
    "publish_complete",
    "success",
    "succeeded",
    "completed",
    "complete",
    "done",
    "live",
    "posted",
}
_FAILED = {"failed", "failure", "error", "errored", "rejected"}

_CONTAINER_KEYS = ("results", "statuses", "items")
_ACCOUNT_KEYS = ("accountId", "account_id")
_PUBLISH_KEYS = ("publishId", "publish_id")
_STATUS_KEYS = ("status", "state", "publishStatus", "publish_status")
_STATUS_INNER_KEYS = ("status", "code", "name")
_URL_KEYS = (
    "publicUrl",
    "public_url",
    "postUrl",
    "post_url",
    "url",
    "permalink",
    "shareUrl",
    "share_url",
)
_ERROR_KEYS = (
    "error",
    "errorMessage",
    "error_message",
    "failReason",
    "fail_reason",
    "failureReason",
    "failure_reason",
    "reason",
)
_CHANGED_KEYS = (
    "updatedAt",
    "updated_at",
    "statusUpdatedAt",
    "status_updated_at",
    "lastUpdated",
    "last_updated",
)
_CHANGED_KEYSET = frozenset(_CHANGED_KEYS)
_STATUS_KEYSET = frozenset(_STATUS_KEYS)
_URL_KEYSET = frozenset(_URL_KEYS)
_ERROR_KEYSET = frozenset(_ERROR_KEYS)
NOT_RETURNED = "not returned by the API"
_MAX_TEXT = 20_000
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_DIGITS = b"0" * 19  # past 64 bits orjson reads an integer as a float; json as an int
_WORDS: dict[str, str] = {}  # status words the API repeats, each kept once (at most 512)
_SPELLINGS: dict[str, State] = {}  # status spellings seen, and the state each names
_MAX_SPELLINGS = 512


def normalise_state(raw: str) -> State:
    """Map one status spelling to a State, case-insensitively; anything else is UNKNOWN."""
    state = _SPELLINGS.get(raw)
    if state is None:
        state = _normalise_state(raw)
        if len(_SPELLINGS) < _MAX_SPELLINGS and len(raw) <= 64:
            _SPELLINGS[raw] = state
    return state


def _normalise_state(raw: str) -> State:
    s = raw.strip().lower()
    if s in _QUEUED:
        return State.QUEUED
    if s in _PROCESSING or s.startswith("processing_"):
        return State.PROCESSING
    if s in _PUBLISHED:
        return State.PUBLISHED
    if s in _FAILED:
        return State.FAILED
    return State.UNKNOWN


def describe(value: object) -> str:
    """Say briefly what a JSON value is, for error messages that name what was received."""
    if isinstance(value, dict):
        keys = [str(k)[:30] for k in list(value)[:6]]
        more = ", ..." if len(value) > 6 else ""
        return (
            f"a JSON object with keys {', '.join(keys)}{more}" if keys else "an empty JSON object"
        )
    if isinstance(value, list):
        return f"a JSON array of {len(value)} items"
    if isinstance(value, str):
        return f"a JSON string {value[:40]!r}"
    if value is None:
        return "JSON null"
    return f"the JSON value {str(value)[:40]}"


def _text(value: object) -> str | None:
    """A scalar as a string (None for null, containers and empty strings)."""
    if isinstance(value, str):
        return value[:_MAX_TEXT] if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _first(item: Mapping[str, Any], keys: Sequence[str]) -> object:
    get = item.get
    for k in keys:
        value = get(k)
        if value is not None:
            return value
    return None


def _first_text(
    item: Mapping[str, Any], keys: Sequence[str], read: Callable[[object], str | None]
) -> str | None:
    """The first of `keys` whose value reads as non-empty text (an empty one does not hide
    a good value under a later key). Every reader here reads a string as `_text` does."""
    get = item.get
    for k in keys:
        value = get(k)
        if value is not None:
            if value.__class__ is str:
                if value:
                    return value[:_MAX_TEXT]
                continue
            text = read(value)
            if text:
                return text
    return None


def _error_text(value: object) -> str | None:
    if isinstance(value, dict):
        message = _text(value.get("message"))
        code = _text(value.get("code"))
        if message and code:
            return f"{message} ({code})"
        return message or code
    return _text(value)


def _status_text(value: object) -> str | None:
    if isinstance(value, dict):
        return _text(_first(value, _STATUS_INNER_KEYS))
    return _text(value)


def parse_time(value: object) -> float | None:
    """An ISO 8601 time or epoch seconds/milliseconds as epoch seconds; None when unreadable."""
    if value.__class__ is str:
        return _iso_seconds(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not -1e15 < value < 1e15:  # also keeps huge integers away from float()
            return None
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        return seconds if 0 < seconds < 1e10 else None
    if isinstance(value, str):
        return _iso_seconds(value)
    return None


def _iso_seconds(value: str) -> float | None:
    if not 10 <= len(value) <= 40:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = when.timestamp()
    return seconds if 0 < seconds < 1e10 else None


def _envelope_error(body: Mapping[str, Any]) -> None:
    """Raise the API's own error when the envelope says success: false."""
    if body.get("success") is False:
        message = _first_text(body, _ERROR_KEYS, _error_text) or "no error message given"
        raise ApiError(f"the API reported an error: {message[:300]}")


def _looks_like_item(value: object) -> bool:
    return isinstance(value, dict) and any(
        k in value for k in (*_STATUS_KEYS, *_PUBLISH_KEYS, "success")
    )


def extract_items(body: object) -> list[tuple[str | None, object]]:
    """Find the per-post items in a batch body, each with the map key it was found under."""
    if isinstance(body, list):
        return [(None, item) for item in body]
    if not isinstance(body, dict):
        raise ResponseShapeError(f"unexpected response: {describe(body)}")
    _envelope_error(body)
    node: object = body
    if "data" in body:
        node = body["data"]
        if isinstance(node, list):
            return [(None, item) for item in node]
    if isinstance(node, dict):
        for key in _CONTAINER_KEYS:
            inner = node.get(key)
            if isinstance(inner, list):
                return [(None, item) for item in inner]
            if isinstance(inner, dict):
                node = inner
                break
        # A map keyed by publishId: every value an item object or a status string.
        pairs = [(k, v) for k, v in node.items() if k not in ("success", "meta", "count")]
        if pairs and all(isinstance(k, str) and isinstance(v, dict | str) for k, v in pairs):
            return [(str(k), v) for k, v in pairs]
    raise ResponseShapeError(f"unexpected response: {describe(body)}")


def status_from_item(item: object, key: PostKey, checked_at: float) -> PostStatus:
    """Read one item (an object, or a bare status string) into a PostStatus for `key`."""
    if item.__class__ is dict:
        return _status_of(item, key, checked_at)
    if isinstance(item, str):
        raw = item[:_MAX_TEXT]
        return PostStatus(key, normalise_state(raw), raw, None, None, checked_at, item)
    if not isinstance(item, dict):
        return PostStatus(
            key, State.UNKNOWN, None, None, f"unreadable item: {describe(item)}", checked_at, item
        )
    return _status_of(item, key, checked_at)


def _status_of(item: dict[str, Any], key: PostKey, checked_at: float) -> PostStatus:
    """An item object's PostStatus: the usual keys looked at first, absent ones skipped with
    one set test each, and otherwise every spelling in order."""
    raw_status = item.get("status")
    if raw_status.__class__ is str and raw_status:
        word = _WORDS.get(raw_status)
        if word is not None:
            raw_status = item["status"] = word  # the board keeps the item: one string per word
        else:
            raw_status = raw_status[:_MAX_TEXT]
            if len(raw_status) <= 64 and len(_WORDS) < _MAX_SPELLINGS:
                _WORDS[raw_status] = raw_status
    elif _STATUS_KEYSET.isdisjoint(item):
        raw_status = None
    else:
        raw_status = _first_text(item, _STATUS_KEYS, _status_text)
    url = None if _URL_KEYSET.isdisjoint(item) else _first_text(item, _URL_KEYS, _text)
    error = None if _ERROR_KEYSET.isdisjoint(item) else _first_text(item, _ERROR_KEYS, _error_text)
    if item.get("success") is False:
        return PostStatus(
            key,
            State.UNKNOWN,
            raw_status,
            url,
            error or "the API reported an error",
            checked_at,
            item,
            None,
            True,
        )
    state = normalise_state(raw_status) if raw_status is not None else State.UNKNOWN
    if raw_status is None and error is None:
        error = "no status in the response"
    changed = item.get("updatedAt")
    if changed is not None or not _CHANGED_KEYSET.isdisjoint(item):
        changed = parse_time(changed if changed is not None else _first(item, _CHANGED_KEYS))
    return PostStatus(key, state, raw_status, url, error, checked_at, item, changed, True)


LastAnswer = Sequence[PostStatus | None]
"""Each requested post's last status (None where it has none), in the order asked: lets a
parser keep statuses whose item did not change."""


def _item_ids(item: object, map_key: str | None) -> tuple[str | None, str | None]:
    if not isinstance(item, dict):
        return None, map_key
    account = _first_text(item, _ACCOUNT_KEYS, _text)
    publish = _first_text(item, _PUBLISH_KEYS, _text) or map_key
    return account, publish


def parse_batch(
    body: object,
    requested: Sequence[WatchedPost],
    checked_at: float,
    last: LastAnswer | None = None,
) -> list[PostStatus]:
    """Match a batch body to the requested posts; a post missing from it comes back UNKNOWN.

    `last` gives each requested post's last status, in `requested`'s order: where the API's
    item for a post is the item that status was read from, that very status comes back (its
    `checked_at` is then when it was first read, and the caller knows when it asked)."""
    if last is not None and len(last) != len(requested):
        raise ValueError("last must give one status (or None) per requested post")
    items = extract_items(body)
    if len(items) == len(requested):
        matched = _in_order(items, requested, checked_at, last)
        if matched is not None:
            return matched
    wanted = {p.key for p in requested}
    by_key: dict[PostKey, PostStatus] = {}
    by_publish: dict[str, list[PostKey]] = {}
    for p in requested:
        by_publish.setdefault(p.publish_id, []).append(p.key)
    ids = [_item_ids(item, map_key) for map_key, item in items]
    if len(items) == len(requested) and all(a is None and p is None for a, p in ids):
        for post, (_, item) in zip(requested, items, strict=True):
            by_key[post.key] = status_from_item(item, post.key, checked_at)
    else:
        for (_, item), (account, publish) in zip(items, ids, strict=True):
            if publish is None:
                continue
            if account is not None:
                key = (account, publish)
                if key not in wanted:
                    continue
            else:
                candidates = by_publish.get(publish, [])
                if len(candidates) != 1:
                    continue
                key = candidates[0]
            if key not in by_key:
                by_key[key] = status_from_item(item, key, checked_at)
    return [
        by_key.get(p.key) or PostStatus(p.key, State.UNKNOWN, None, None, NOT_RETURNED, checked_at)
        for p in requested
    ]


def _in_order(
    items: list[tuple[str | None, object]],
    requested: Sequence[WatchedPost],
    checked_at: float,
    last: LastAnswer | None,
) -> list[PostStatus] | None:
    """The usual answer, read fast: item i names requested post i by its camelCase ids.
    None when any item does not, for the general matching to decide (a post asked twice then
    gets its first item twice; here each its own, and both name it).
    An item equal to the one the post's last status was read from gives that status back."""
    out: list[PostStatus] = []
    befores = [None] * len(requested) if last is None else last
    for (_, item), post, before in zip(items, requested, befores, strict=True):
        if item.__class__ is not dict:
            return None
        get = item.get
        account, publish = post.account_id, post.publish_id
        if get("accountId") != account or get("publishId") != publish:
            return None
        # One comparison in C instead of reading the item: most answers repeat the last.
        # (Python's equality: an API that swapped `false` for 0, or 500 for 500.0, in an
        # otherwise equal item would keep the old reading; none is known to.)
        if before is not None and before.read_from_raw and before.raw == item:
            out.append(before)
            continue
        # The board keeps this item as the post's last answer: equal strings are shared.
        item["accountId"], item["publishId"] = account, publish
        media = get("mediaType")
        if media is not None and media == post.media_type:
            item["mediaType"] = post.media_type
        out.append(_status_of(item, post.key, checked_at))
    return out


def parse_single(body: object, post: WatchedPost, checked_at: float) -> PostStatus:
    """Read the single-status endpoint's body for one post."""
    if isinstance(body, dict):
        _envelope_error(body)
        data = body.get("data", body)
        if _looks_like_item(data):
            return status_from_item(data, post.key, checked_at)
    return parse_batch(body, [post], checked_at)[0]


VALUES_PER_POST = 256
"""JSON values an answer may hold per post asked (a usual item holds about 15): past that,
the rest of the answer is not read (`decode_json`'s `max_values`)."""
VALUES_SLACK = 1024
"""Values any answer may hold besides: its envelope, an error, a short list of anything."""
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)
_CLOSER = {ord("["): b"]", ord("{"): b"}"}
_MAX_DEPTH = 1024


def value_budget(asked: int) -> int:
    """How many JSON values an answer about `asked` posts is read up to."""
    return VALUES_SLACK + VALUES_PER_POST * max(1, asked)


def _within(content: bytes, max_values: int) -> bytes:
    """`content`, or when it may hold more than `max_values` values (commas and brackets,
    counted in C), its head up to a comma past that many, with the brackets then open
    closed: what is beyond is never parsed, so memory follows what was asked, not what came.
    ResponseShapeError when no such head can be found (nesting past any answer's)."""
    if content.count(b",") + content.count(b"[") + content.count(b"{") <= max_values:
        return content
    open_: list[int] = []
    seen = 0
    for token in _TOKEN.finditer(content):
        first = content[token.start()]
        if first == 0x2C:  # ','
            if seen >= max_values:
                closers = b"".join(_CLOSER[b] for b in reversed(open_))
                return content[: token.start()] + closers
        elif first in _CLOSER:
            open_.append(first)
            if len(open_) > _MAX_DEPTH:
                break
        elif first != 0x22:  # ']' or '}'
            if open_:
                open_.pop()
            continue
        seen += 1
        if seen > 2 * max_values:
            break
    else:
        return content  # the counts were commas inside strings: the answer is small enough
    raise ResponseShapeError(
        f"unreadable response: over {max_values:,} JSON values nested or unseparated"
    )


def decode_json(content: bytes, max_values: int | None = None) -> object:
    """Parse a body as JSON, turning every failure (deep nesting included) into ResponseShapeError.

    With `max_values`, a body holding more values than that is read only up to them (see
    `value_budget`): items beyond the posts asked for are dropped before they are parsed.

    orjson reads the usual body in under half the time. What it refuses (a BOM, NaN, other
    encodings, lone surrogates) is read as the json module reads it, and so is a body with a
    run of 19 digits or more, which could be an integer orjson would turn into a float."""
    if max_values is not None:
        content = _within(content, max_values)
    if _LONG_DIGITS not in content.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:
        head = content[:60].decode("utf-8", "replace")
        raise ResponseShapeError(
            f"malformed JSON in the response ({exc.__class__.__name__}): {head!r}"
        ) from None
