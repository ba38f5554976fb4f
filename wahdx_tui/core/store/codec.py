"""Values to database columns and SQL parameter rows, and rows back to values (shared by backends)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from wahdx_tui.core.domain.model import PostKey, PostStatus, State, WatchedPost
from wahdx_tui.core.domain.records import Ack, StoredPost, Transition
from wahdx_tui.core.store.protocol import MAX_RAW_BYTES, FeedPage

Text = Callable[[str | None], str | None]
"""How a backend makes a string storable: clean_text (SQLite) or pg_text (PostgreSQL)."""
Row = tuple[object, ...]

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


# -- the parameters of the writes (each backend's SQL takes them in this order) --------------


def last_moves(transitions: Iterable[Transition]) -> dict[PostKey, float]:
    """When each post last moved in a pass (its new `since`); a later transition wins."""
    return {tr.key: tr.at for tr in transitions}


def post_values(post: PostStatus | StoredPost, text: Text) -> Row:
    """(account, publish, state, raw_status, public_url, error, checked_at) as stored."""
    return (
        text(post.key[0]),
        text(post.key[1]),
        post.state.value,
        text(post.raw_status),
        text(post.public_url),
        text(post.error),
        post.checked_at,
    )


def copy_rows(sid: int, rev: int, posts: Iterable[StoredPost], text: Text) -> list[Row]:
    """A copied post each: (scope, *post_values, since, raw, rev)."""
    return [(sid, *post_values(p, text), p.since, raw_json(p.raw), rev) for p in posts]


def event_rows(sid: int, rev: int, transitions: Iterable[Transition], text: Text) -> list[Row]:
    """A transition each: (scope, account, publish, old, new, at, rev)."""
    return [
        (
            sid,
            text(tr.key[0]),
            text(tr.key[1]),
            tr.old.value if tr.old is not None else None,
            tr.new.value,
            tr.at,
            rev,
        )
        for tr in transitions
    ]


def since_rows(
    sid: int, rev: int, moves: Mapping[PostKey, float], written: Collection[PostKey], text: Text
) -> list[Row]:
    """The posts that moved but whose payload was not written: (since, rev, scope, account, publish)."""
    return [(at, rev, sid, text(k[0]), text(k[1])) for k, at in moves.items() if k not in written]


def failed_keys(transitions: Iterable[Transition]) -> set[PostKey]:
    """The posts a pass moved into FAILED: their acknowledgements are withdrawn."""
    return {tr.key for tr in transitions if tr.new is State.FAILED}


def key_rows(sid: int, keys: Iterable[PostKey], text: Text) -> list[Row]:
    """A post each: (scope, account, publish)."""
    return [(sid, text(k[0]), text(k[1])) for k in keys]


def ack_row(sid: int, rev: int, ack: Ack, text: Text) -> Row:
    """(scope, account, publish, note, at, rev) of an acknowledgement."""
    return (sid, text(ack.key[0]), text(ack.key[1]), text(ack.note) or "", ack.at, rev)


def board_post_rows(board: str | None, posts: Iterable[WatchedPost], text: Text) -> list[Row]:
    """A watched post each, in the board's order: (board, account, publish, media, label, i)."""
    return [
        (
            board,
            text(p.account_id),
            text(p.publish_id),
            text(p.media_type),
            text(p.label) or "",
            i,
        )
        for i, p in enumerate(posts)
    ]


# -- rows read back ----------------------------------------------------------------------------


def post_of(row: Sequence[object]) -> StoredPost:
    """A stored post from (account, publish, state, raw_status, public_url, error, checked_at,
    since, raw); a text column holding anything but text reads as None."""
    account, publish, state, raw_status, public_url, error, checked, since, raw = row
    return StoredPost(
        (str(account), str(publish)),
        to_state(str(state)),
        raw_status if isinstance(raw_status, str) else None,
        public_url if isinstance(public_url, str) else None,
        error if isinstance(error, str) else None,
        float(checked),  # type: ignore[arg-type]
        float(since),  # type: ignore[arg-type]
        raw_value(raw if isinstance(raw, str) else None),
    )


def transition_of(account: str, publish: str, old: str | None, new: str, at: float) -> Transition:
    """A transition from (account, publish, old, new, at)."""
    return Transition(
        (account, publish), to_state(old) if old is not None else None, to_state(new), at
    )


def changes_of(
    posts: Iterable[Sequence[Any]],
    events: Iterable[Sequence[Any]],
    acks: Iterable[Sequence[Any]],
    clears: Iterable[Sequence[Any]],
    cursor: int,
    reset: bool,
) -> FeedPage:
    """The change feed from its rows: posts (as post_of), events (as transition_of),
    acks (account, publish, note, at) and withdrawn acks (account, publish)."""
    ack_changes: dict[PostKey, Ack | None] = {(a, p): None for a, p in clears}
    for a, p, note, at in acks:
        ack_changes[(a, p)] = Ack((a, p), note, at)
    return FeedPage(
        posts={p.key: p for p in map(post_of, posts)},
        acks=ack_changes,
        transitions=[transition_of(*e) for e in events],
        cursor=cursor,
        reset=reset,
    )
