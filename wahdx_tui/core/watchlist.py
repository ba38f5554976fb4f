"""Load and check the YAML watchlist: which posts to watch, plus optional settings.

The file is read with PyYAML's *event* stream (the C parser when available), never its
object constructor, so no YAML tag can create a Python object. The loader builds its own
small node tree from the events, which keeps the 1-based line and column of every node
and lets it enforce hard limits while parsing: nesting depth, node count and, later,
the number of posts. Together with the file-size limit this keeps hostile input (alias
bombs, deep nesting, binary junk, huge files) to bounded time and memory, and every
problem becomes one :class:`WatchlistError` saying where it is and how to fix it.

Format::

    settings:                 # optional; command-line flags win
      interval: 15
    posts:
      - accountId: acc_tiktok_main
        publishId: v_pub_7301
        mediaType: video      # optional: video | photo
        label: Black Friday teaser
    accounts:                 # optional grouped form
      acc_instagram_brand:
        mediaType: photo      # default for the account's posts
        posts:
          - ig_pub_1
          - {publishId: ig_pub_2, label: Carousel}
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from wahdx_tui.core.model import MEDIA_TYPES, PostKey, WatchedPost
from wahdx_tui.core.sanitize import clean

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_NODES",
    "MAX_POSTS",
    "Watchlist",
    "WatchlistError",
    "WatchlistSettings",
    "load_watchlist",
    "parse_watchlist",
    "sample_watchlist_path",
]

# --- limits (module globals so tests can monkeypatch them) -------------------------------

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest watchlist file accepted, in bytes (checked before reading)."""
MAX_POSTS = 200_000
"""Most post entries (duplicates included) one watchlist may hold."""
MAX_DEPTH = 100
"""Deepest nesting of lists and mappings accepted (a valid watchlist needs 5)."""
MAX_NODES = 3_000_000
"""Most YAML nodes built from one file (200,000 posts of 4 fields need about 1.8 million)."""
MAX_ID_LENGTH = 256
MAX_LABEL_LENGTH = 1000

# --- the keys the format accepts: spelling -> canonical name ----------------------------

TOP_KEYS: dict[str, str] = {"settings": "settings", "posts": "posts", "accounts": "accounts"}
POST_KEYS: dict[str, str] = {
    "accountId": "accountId",
    "account_id": "accountId",
    "publishId": "publishId",
    "publish_id": "publishId",
    "mediaType": "mediaType",
    "media_type": "mediaType",
    "label": "label",
}
ACCOUNT_KEYS: dict[str, str] = {
    "mediaType": "mediaType",
    "media_type": "mediaType",
    "posts": "posts",
}
GROUPED_POST_KEYS: dict[str, str] = {
    key: canon for key, canon in POST_KEYS.items() if canon != "accountId"
}
SETTINGS_KEYS: dict[str, str] = {
    "interval": "interval",
    "batch_size": "batch_size",
    "batchSize": "batch_size",
    "concurrency": "concurrency",
    "final_every": "final_every",
    "finalEvery": "final_every",
    "stuck_queued_minutes": "stuck_queued_minutes",
    "stuckQueuedMinutes": "stuck_queued_minutes",
    "stuck_processing_minutes": "stuck_processing_minutes",
    "stuckProcessingMinutes": "stuck_processing_minutes",
}

# (is an integer, lowest, highest or None, unit shown in messages)
_SETTING_RULES: dict[str, tuple[bool, float, float | None, str]] = {
    "interval": (False, 1, 86400, " seconds"),
    "batch_size": (True, 1, 1000, ""),
    "concurrency": (True, 1, 32, ""),
    "final_every": (True, 1, 1000, ""),
    "stuck_queued_minutes": (False, 0, None, " minutes"),
    "stuck_processing_minutes": (False, 0, None, " minutes"),
}

_NO_POSTS = "no posts: add entries under posts: or accounts:"
_MIB = 1024 * 1024

# --- public types -----------------------------------------------------------------------


class WatchlistError(Exception):
    """One clear, user-facing error: ``str()`` is ``'FILE:LINE:COL: message'``.

    ``line`` and ``column`` are 1-based; ``':LINE:COL'`` is left out when unknown.
    """

    path: str
    line: int | None
    column: int | None
    message: str

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        return f"{_where(self.path, self.line, self.column)}: {self.message}"


@dataclass(frozen=True, slots=True)
class WatchlistSettings:
    """Optional settings from the file's ``settings:`` block; ``None`` means not set."""

    interval: float | None = None
    batch_size: int | None = None
    concurrency: int | None = None
    final_every: int | None = None
    stuck_queued_minutes: float | None = None
    stuck_processing_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class Watchlist:
    """A checked watchlist: its posts in file order (duplicates dropped), settings, warnings."""

    path: str
    posts: tuple[WatchedPost, ...]
    settings: WatchlistSettings
    warnings: tuple[str, ...]


def sample_watchlist_path() -> Path:
    """The sample watchlist bundled with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "sample_watchlist.yaml"


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and check the watchlist file at ``path``; raise :class:`WatchlistError` if bad."""
    name = os.fspath(path)
    limit = MAX_FILE_BYTES
    try:
        with open(name, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise _too_large(name, size, limit)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise WatchlistError(name, None, None, "no such file: check the path") from None
    except IsADirectoryError:
        raise WatchlistError(
            name, None, None, "is a directory: give the path of a watchlist .yaml file"
        ) from None
    except PermissionError:
        raise WatchlistError(
            name, None, None, "permission denied: make the file readable, or copy it"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WatchlistError(name, None, None, f"cannot read the file: {reason}") from None
    if len(data) > limit:
        raise _too_large(name, len(data), limit)
    return parse_watchlist(data, name)


def parse_watchlist(text: str | bytes, path: str = "<watchlist>") -> Watchlist:
    """Check watchlist YAML ``text`` (named ``path`` in messages) and return the Watchlist."""
    data = _as_utf8(text, path)
    enabled = gc.isenabled()
    gc.disable()  # the tree is acyclic; collecting while building it only costs time
    try:
        root = _compose(data, path)
        return _Reader(path).read(root)
    except RecursionError:
        raise WatchlistError(path, None, None, _too_deep()) from None
    finally:
        if enabled:
            gc.enable()


# --- bytes and text checks ---------------------------------------------------------------


def _where(path: str, line: int | None, column: int | None) -> str:
    if line is None:
        return path
    if column is None:
        return f"{path}:{line}"
    return f"{path}:{line}:{column}"


def _too_deep() -> str:
    return f"nesting is too deep (more than {MAX_DEPTH} levels); a watchlist needs only a few"


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def _too_large(path: str, size: int, limit: int) -> WatchlistError:
    return WatchlistError(
        path,
        None,
        None,
        f"file is too large: {_size(size)} ({size:,} bytes); the limit is {_size(limit)}"
        " — split the watchlist into several files",
    )


def _not_text(path: str, text: str, index: int, what: str) -> WatchlistError:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return WatchlistError(
        path, line, column, f"not a text file: {what}; a watchlist is UTF-8 YAML text"
    )


def _as_utf8(text: str | bytes, path: str) -> bytes:
    """Return ``text`` as UTF-8 bytes, rejecting oversized, binary and non-UTF-8 input."""
    limit = MAX_FILE_BYTES
    if isinstance(text, str):
        if len(text) > limit:
            raise _too_large(path, len(text), limit)
        nul = text.find("\x00")
        if nul >= 0:
            raise _not_text(path, text, nul, "it contains NUL characters")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            char = f"U+{ord(text[exc.start]):04X}"
            raise _not_text(path, text, exc.start, f"invalid character {char}") from None
    else:
        data = bytes(text)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise WatchlistError(
                path, None, None, "not a text file: it looks like UTF-16; save it as UTF-8"
            )
        nul = data.find(b"\x00")
        if nul >= 0:
            prefix = data[:nul].decode("utf-8", "replace")
            raise _not_text(path, prefix, len(prefix), "it contains NUL bytes (binary data?)")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = data[: exc.start].decode("utf-8", "replace")
            raise _not_text(
                path, prefix, len(prefix), f"invalid UTF-8 byte 0x{data[exc.start]:02x}"
            ) from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit)
    return data


# YAML's printable set (from PyYAML's reader); anything else is rejected by the parser.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _reader_error(path: str, data: bytes, exc: yaml.reader.ReaderError) -> WatchlistError:
    text = data.decode("utf-8", "replace")
    match = _NON_PRINTABLE.search(text)
    if match is not None:
        code = ord(match.group())
        what = "control" if code < 0x20 or 0x7F <= code <= 0x9F else "non-printable"
        return _not_text(path, text, match.start(), f"{what} character U+{code:04X}")
    return WatchlistError(path, None, None, f"not a text file: {exc.reason}")


# --- events -> a small node tree ---------------------------------------------------------

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_INT = _TAG + "int"
_FLOAT = _TAG + "float"
_BOOL = _TAG + "bool"
_NULL = _TAG + "null"
_TIMESTAMP = _TAG + "timestamp"
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP})
_IMPLICIT: dict[str | None, list[tuple[str, re.Pattern[str]]]] = dict(
    yaml.resolver.Resolver.yaml_implicit_resolvers
)
_WILDCARD = _IMPLICIT.get(None, [])


class _Scalar:
    __slots__ = ("col", "line", "plain", "tag", "value")

    def __init__(self, value: str, tag: str | None, plain: bool, line: int, col: int) -> None:
        self.value = value
        self.tag = tag
        self.plain = plain
        self.line = line
        self.col = col


class _Seq:
    __slots__ = ("col", "done", "items", "line")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[_Node] = []
        self.line = line
        self.col = col
        self.done = False


class _Map:
    __slots__ = ("col", "done", "items", "line")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[_Node] = []  # key, value, key, value, ...
        self.line = line
        self.col = col
        self.done = False


_Node = _Scalar | _Seq | _Map


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _tag_error(path: str, mark: Any, tag: str) -> WatchlistError:
    return WatchlistError(
        path,
        mark.line + 1,
        mark.column + 1,
        f"tag {_show(_show_tag(tag))} is not allowed: tags like !!python/object are not allowed"
        " in a watchlist; remove the tag",
    )


def _compose(data: bytes, path: str) -> _Node | None:
    """Build the node tree from the YAML events, enforcing depth and node-count limits."""
    max_depth = MAX_DEPTH
    max_nodes = MAX_NODES
    root: _Node | None = None
    stack: list[_Seq | _Map] = []
    anchors: dict[str, _Node] = {}
    count = 0
    documents = 0
    events: Any = yaml.parse(data, Loader=_LOADER)  # a generator of events: no objects built
    try:
        with contextlib.closing(events):
            for event in events:
                kind = type(event)
                node: _Node
                if kind is ScalarEvent:
                    tag = event.tag
                    mark = event.start_mark
                    if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
                        raise _tag_error(path, mark, tag)
                    node = _Scalar(
                        event.value, tag, event.implicit[0], mark.line + 1, mark.column + 1
                    )
                elif kind is MappingEndEvent or kind is SequenceEndEvent:
                    stack.pop().done = True
                    continue
                elif kind is MappingStartEvent or kind is SequenceStartEvent:
                    tag = event.tag
                    mark = event.start_mark
                    is_map = kind is MappingStartEvent
                    if (
                        tag is not None
                        and tag != "!"
                        and tag != _TAG + ("map" if is_map else "seq")
                    ):
                        raise _tag_error(path, mark, tag)
                    if len(stack) >= max_depth:
                        raise WatchlistError(path, mark.line + 1, mark.column + 1, _too_deep())
                    container: _Seq | _Map = (_Map if is_map else _Seq)(
                        mark.line + 1, mark.column + 1
                    )
                    node = container
                elif kind is AliasEvent:
                    target = anchors.get(event.anchor)
                    mark = event.start_mark
                    name = _show(event.anchor)[1:-1]
                    if target is None:
                        raise WatchlistError(
                            path,
                            mark.line + 1,
                            mark.column + 1,
                            f"unknown alias *{name}: define &{name} before using it",
                        )
                    if not isinstance(target, _Scalar) and not target.done:
                        raise WatchlistError(
                            path,
                            mark.line + 1,
                            mark.column + 1,
                            f"alias *{name} refers to a node that contains it",
                        )
                    node = target
                elif kind is DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        mark = event.start_mark
                        raise WatchlistError(
                            path,
                            mark.line + 1,
                            mark.column + 1,
                            "more than one YAML document ('---'): put everything in one",
                        )
                    continue
                else:
                    continue
                count += 1
                if count > max_nodes:
                    raise WatchlistError(
                        path,
                        node.line,
                        node.col,
                        f"too much data: more than {max_nodes:,} YAML nodes;"
                        " split the watchlist into several files",
                    )
                if kind is not AliasEvent and event.anchor is not None:
                    anchors[event.anchor] = node
                if stack:
                    stack[-1].items.append(node)
                elif root is None:
                    root = node
                    if kind is not MappingStartEvent:
                        return root  # not a mapping: an error whatever follows, so stop here
                if kind is MappingStartEvent or kind is SequenceStartEvent:
                    stack.append(container)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(path, exc) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(path, data, exc) from None
    except yaml.YAMLError as exc:
        raise WatchlistError(path, None, None, f"YAML error: {exc}") from None
    return root


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "put quotes around a value that contains ': '"),
    ("cannot start any token", "indent with spaces, not tabs; quote values starting with @ or `"),
    ("could not find expected ':'", "each line of a mapping needs 'key: value'"),
    ("expected <block end>", "check the indentation of this line"),
    ("did not find expected key", "check the indentation of this line"),
    ("did not find expected '-'", "check the indentation of this line"),
    ("unexpected end of stream", "a quote or bracket is not closed"),
    ("unknown escape character", "use single quotes, or write the backslash twice"),
)


def _syntax_error(path: str, exc: yaml.MarkedYAMLError) -> WatchlistError:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
        return WatchlistError(path, line, column, _too_deep())
    message = f"YAML syntax error: {problem}"
    context_mark = exc.context_mark
    if exc.context and exc.problem:
        message += f" ({exc.context}"
        if context_mark is not None and context_mark.line + 1 != line:
            message += f" at line {context_mark.line + 1}"
        message += ")"
    for needle, hint in _SYNTAX_HINTS:
        if needle in problem:
            message += f": {hint}"
            break
    else:
        message += ": check the YAML near this position"
    return WatchlistError(path, line, column, message)


# --- the node tree -> a Watchlist ----------------------------------------------------------

_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _type(node: _Scalar) -> str:
    """The YAML type of a scalar, resolved as PyYAML's safe loader would."""
    tag = node.tag
    if tag is not None and tag != "!":
        return tag
    if not node.plain:
        return _STR
    value = node.value
    for resolved, regexp in _IMPLICIT.get(value[0] if value else "", _WILDCARD):
        if regexp.match(value):
            return resolved
    return _STR


def _show(value: str, limit: int = 60) -> str:
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)


def _describe(node: _Node) -> str:
    if isinstance(node, _Map):
        return "a mapping"
    if isinstance(node, _Seq):
        return "a list"
    kind = _type(node)
    if kind == _NULL:
        return "null (nothing)"
    if kind == _BOOL:
        return f"a boolean ({node.value})"
    if kind in (_INT, _FLOAT):
        return f"a number ({_show(node.value)[1:-1]})"
    if kind == _TIMESTAMP:
        return f"a date ({node.value})"
    return f"a string ({_show(node.value)})"


class _Reader:
    """Walk the node tree, collecting posts and settings or raising WatchlistError."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.posts: list[WatchedPost] = []
        self.first: dict[PostKey, int] = {}
        self.warnings: list[str] = []
        self.entries = 0
        self.settings = WatchlistSettings()

    def error(self, node: _Node | None, message: str) -> WatchlistError:
        if node is None:
            return WatchlistError(self.path, None, None, message)
        return WatchlistError(self.path, node.line, node.col, message)

    # top level

    def read(self, root: _Node | None) -> Watchlist:
        if root is None:
            raise self.error(None, _NO_POSTS)
        if not isinstance(root, _Map):
            if isinstance(root, _Scalar) and _type(root) == _NULL:
                raise self.error(root, _NO_POSTS)
            raise self.error(
                root,
                "the top level must be a mapping with posts: and/or accounts:,"
                f" got {_describe(root)}",
            )
        fields = self.fields(root, TOP_KEYS, "the top level")
        for name, (_key, value) in fields.items():
            if name == "settings":
                self.settings = self.read_settings(value)
            elif name == "posts":
                self.read_posts(value)
            else:
                self.read_accounts(value)
        if not self.posts:
            where = fields.get("posts") or fields.get("accounts")
            raise self.error(where[0] if where else root, _NO_POSTS)
        return Watchlist(self.path, tuple(self.posts), self.settings, tuple(self.warnings))

    def fields(
        self, node: _Map, allowed: Mapping[str, str], where: str
    ) -> dict[str, tuple[_Scalar, _Node]]:
        """The mapping's entries by canonical key, in file order; reject unknown keys."""
        out: dict[str, tuple[_Scalar, _Node]] = {}
        items = node.items
        for i in range(0, len(items), 2):
            key = items[i]
            if not isinstance(key, _Scalar):
                raise self.error(key, f"keys in {where} must be plain words, got {_describe(key)}")
            name = allowed.get(key.value)
            if name is None:
                raise self.unknown_key(key, allowed, where)
            previous = out.get(name)
            if previous is not None:
                first = previous[0]
                if first.value == key.value:
                    message = f"duplicate key {key.value!r} in {where} (first at line {first.line})"
                else:
                    message = (
                        f"{key.value!r} repeats {first.value!r} (line {first.line}) in {where}"
                    )
                raise self.error(key, message + "; keep only one")
            out[name] = (key, items[i + 1])
        return out

    def unknown_key(self, key: _Scalar, allowed: Mapping[str, str], where: str) -> WatchlistError:
        text = key.value
        if allowed is GROUPED_POST_KEYS and POST_KEYS.get(text) == "accountId":
            return self.error(
                key,
                f"{text} is not allowed in {where}: the account is the key above;"
                " move this entry to posts: to use another account",
            )
        if text == "<<":
            return self.error(key, f"merge keys (<<) are not supported in {where}")
        # difflib only for short keys: its cost grows with the key's length
        close = difflib.get_close_matches(text, list(allowed), n=1) if len(text) <= 64 else []
        if close:
            return self.error(
                key, f"unknown key {_show(text)} in {where}: did you mean {close[0]!r}?"
            )
        names = ", ".join(dict.fromkeys(allowed.values()))
        if allowed is SETTINGS_KEYS:
            names += " (camelCase also accepted)"
        elif allowed is not TOP_KEYS:
            names += " (snake_case also accepted)"
        return self.error(key, f"unknown key {_show(text)} in {where}; allowed keys: {names}")

    # values

    def read_id(self, node: _Node, field: str) -> str:
        if isinstance(node, _Scalar):
            kind = _type(node)
            if kind in (_NULL, _BOOL):
                hint = "put the id in quotes" if kind == _BOOL else f"write the id after '{field}:'"
                raise self.error(node, f"{field} must be a string, got {_describe(node)}: {hint}")
            text = node.value.strip()
            if not text:
                raise self.error(node, f"{field} is empty: write the id")
            if len(text) > MAX_ID_LENGTH:
                raise self.error(
                    node,
                    f"{field} is {len(text):,} characters long; the limit is {MAX_ID_LENGTH}",
                )
            if not text.isprintable():
                raise self.error(
                    node, f"{field} contains a control or non-printing character: remove it"
                )
            return text
        raise self.error(node, f"{field} must be a string, got {_describe(node)}")

    def read_media_type(self, node: _Node) -> str | None:
        allowed = ", ".join(MEDIA_TYPES)
        if isinstance(node, _Scalar):
            value = node.value.strip().lower()
            if value in MEDIA_TYPES and (node.tag is None or node.tag in ("!", _STR)):
                return value
            if _type(node) == _NULL:
                return None
            raise self.error(
                node,
                f"unknown mediaType {_show(node.value)}: use one of {allowed} (or leave it out)",
            )
        raise self.error(node, f"mediaType must be one of {allowed}, got {_describe(node)}")

    def read_label(self, node: _Node) -> str:
        if isinstance(node, _Scalar):
            kind = _type(node)
            if kind == _NULL:
                return ""
            if kind == _BOOL:
                raise self.error(
                    node, f"label must be text, got {_describe(node)}: put it in quotes"
                )
            text = node.value
            if not text.isprintable():
                # Whole escape sequences go, not just their ESC byte; tabs and newlines read as spaces.
                text = clean(text)
            text = text.strip()
            if len(text) > MAX_LABEL_LENGTH:
                raise self.error(
                    node,
                    f"label is {len(text):,} characters long; the limit is {MAX_LABEL_LENGTH}",
                )
            return text
        raise self.error(node, f"label must be text, got {_describe(node)}")

    # posts

    def count_entry(self, node: _Node) -> None:
        self.entries += 1
        if self.entries > MAX_POSTS:
            raise self.error(
                node,
                f"too many posts: more than {MAX_POSTS:,}; split the watchlist into several files",
            )

    def add(
        self, node: _Node, account: str, publish: str, media_type: str | None, label: str
    ) -> None:
        key = (account, publish)
        first = self.first.get(key)
        if first is not None:
            self.warnings.append(
                f"{_where(self.path, node.line, node.col)}: duplicate post {account}/{publish}"
                f" (first at line {first}); watched once"
            )
            return
        self.first[key] = node.line
        self.posts.append(WatchedPost(account, publish, media_type, label, node.line))

    def read_posts(self, node: _Node) -> None:
        if isinstance(node, _Scalar) and _type(node) == _NULL:
            return
        if not isinstance(node, _Seq):
            hint = " (for posts grouped by account use accounts:)" if isinstance(node, _Map) else ""
            raise self.error(
                node,
                f"posts must be a list of entries, each starting with '- ', got {_describe(node)}"
                + hint,
            )
        for item in node.items:
            self.count_entry(item)
            if not isinstance(item, _Map):
                raise self.error(
                    item,
                    "a post entry must be a mapping with accountId and publishId,"
                    f" got {_describe(item)}",
                )
            fields = self.fields(item, POST_KEYS, "a post entry")
            account_field = fields.get("accountId")
            if account_field is None:
                raise self.error(
                    item, "post entry is missing accountId: add 'accountId: <account id>'"
                )
            publish_field = fields.get("publishId")
            if publish_field is None:
                raise self.error(
                    item, "post entry is missing publishId: add 'publishId: <publish id>'"
                )
            account = self.read_id(account_field[1], "accountId")
            publish = self.read_id(publish_field[1], "publishId")
            media = fields.get("mediaType")
            label = fields.get("label")
            self.add(
                item,
                account,
                publish,
                self.read_media_type(media[1]) if media else None,
                self.read_label(label[1]) if label else "",
            )

    def read_accounts(self, node: _Node) -> None:
        if isinstance(node, _Scalar) and _type(node) == _NULL:
            return
        if not isinstance(node, _Map):
            raise self.error(
                node,
                "accounts must be a mapping of account id to {mediaType, posts},"
                f" got {_describe(node)}",
            )
        seen: dict[str, int] = {}
        items = node.items
        for i in range(0, len(items), 2):
            key, value = items[i], items[i + 1]
            account = self.read_id(key, "the account id")
            if account in seen:
                raise self.error(
                    key,
                    f"account {_show(account)} is listed twice (first at line {seen[account]});"
                    " merge the two",
                )
            seen[account] = key.line
            where = f"account {_show(account)}"
            if not isinstance(value, _Map):
                raise self.error(
                    value if not isinstance(value, _Scalar) or value.value else key,
                    f"{where} must be a mapping with posts: (a list of publish ids),"
                    f" got {_describe(value)}",
                )
            fields = self.fields(value, ACCOUNT_KEYS, where)
            media_field = fields.get("mediaType")
            default_media = self.read_media_type(media_field[1]) if media_field else None
            posts_field = fields.get("posts")
            if posts_field is None:
                raise self.error(value, f"{where} has no posts: add 'posts:' with its publish ids")
            posts = posts_field[1]
            if isinstance(posts, _Scalar) and _type(posts) == _NULL:
                continue
            if not isinstance(posts, _Seq):
                raise self.error(
                    posts, f"posts of {where} must be a list of publish ids, got {_describe(posts)}"
                )
            for item in posts.items:
                self.count_entry(item)
                if isinstance(item, _Scalar):
                    publish = self.read_id(item, "publishId")
                    self.add(item, account, publish, default_media, "")
                    continue
                if not isinstance(item, _Map):
                    raise self.error(
                        item,
                        "a post entry must be a publish id or a mapping with publishId,"
                        f" got {_describe(item)}",
                    )
                entry = self.fields(item, GROUPED_POST_KEYS, f"a post entry of {where}")
                publish_field = entry.get("publishId")
                if publish_field is None:
                    raise self.error(
                        item, "post entry is missing publishId: add 'publishId: <publish id>'"
                    )
                publish = self.read_id(publish_field[1], "publishId")
                media = entry.get("mediaType")
                label = entry.get("label")
                self.add(
                    item,
                    account,
                    publish,
                    self.read_media_type(media[1]) if media else default_media,
                    self.read_label(label[1]) if label else "",
                )

    # settings

    def read_settings(self, node: _Node) -> WatchlistSettings:
        if isinstance(node, _Scalar) and _type(node) == _NULL:
            return WatchlistSettings()
        if not isinstance(node, _Map):
            raise self.error(
                node, f"settings must be a mapping like 'interval: 15', got {_describe(node)}"
            )
        values: dict[str, Any] = {}
        for name, (key, value) in self.fields(node, SETTINGS_KEYS, "settings").items():
            values[name] = self.read_setting(key.value, name, value)
        return WatchlistSettings(**values)

    def read_setting(self, shown: str, name: str, node: _Node) -> float | int | None:
        integer, low, high, unit = _SETTING_RULES[name]
        if high is not None:
            wanted = f"{'a whole number' if integer else 'a number'} from {low:g} to {high:g}"
        else:
            wanted = "a number greater than 0"
        wanted += unit
        if not isinstance(node, _Scalar):
            raise self.error(node, f"{shown} must be {wanted}, got {_describe(node)}")
        kind = _type(node)
        if kind == _NULL:
            return None
        number: float | int
        try:
            if kind == _INT:
                number = int(_CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode(kind, node.value)))
            elif kind == _FLOAT and not integer:
                number = float(_CONSTRUCTOR.construct_yaml_float(yaml.ScalarNode(kind, node.value)))
            else:
                raise self.error(node, f"{shown} must be {wanted}, got {_describe(node)}")
        except ValueError:
            raise self.error(node, f"{shown} must be {wanted}, got {_describe(node)}") from None
        too_low = number < low if high is not None else number <= low
        if too_low or (high is not None and number > high) or not math.isfinite(number):
            raise self.error(node, f"{shown} must be {wanted}, got {node.value.strip()}")
        return number if integer else float(number)
