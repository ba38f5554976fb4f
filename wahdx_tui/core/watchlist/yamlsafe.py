"""The bounded YAML composer behind the watchlist: events to a small node tree, safely.

The file is read with PyYAML's *event* stream (the C parser when available), never its
object constructor, so no YAML tag can create a Python object. :func:`compose` builds its
own small node tree from the events, which keeps the 1-based line and column of every node
and enforces hard limits while parsing: nesting depth and node count. :func:`as_utf8`
rejects oversized, binary and non-UTF-8 input before parsing. Together they keep hostile
input (alias bombs, deep nesting, binary junk, huge files) to bounded time and memory, and
every problem becomes one :class:`WatchlistError` saying where it is.

Aliases share nodes: the tree holds each anchored node once, so an alias bomb costs its size
in the file, not its expansion. Whoever walks the tree must bound what it reads from it.
"""

from __future__ import annotations

import contextlib
import re
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

from wahdx_tui.core.domain.errors import WatchlistError

__all__ = [
    "BOOL",
    "DEFAULT_LOADER",
    "FLOAT",
    "INT",
    "NULL",
    "STR",
    "TIMESTAMP",
    "Map",
    "Node",
    "Scalar",
    "Seq",
    "as_utf8",
    "compose",
    "describe",
    "read_float",
    "read_int",
    "scalar_type",
    "show",
    "too_deep",
    "too_large",
]

_MIB = 1024 * 1024

# --- bytes and text checks ---------------------------------------------------------------


def too_deep(max_depth: int) -> str:
    """The message for nesting deeper than ``max_depth`` levels."""
    return f"nesting is too deep (more than {max_depth} levels); a watchlist needs only a few"


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def too_large(path: str, size: int, limit: int) -> WatchlistError:
    """The error for a file of ``size`` bytes (or characters) over ``limit``."""
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


def as_utf8(text: str | bytes, path: str, limit: int) -> bytes:
    """Return ``text`` as UTF-8 bytes, rejecting binary, non-UTF-8 and over ``limit`` bytes."""
    if isinstance(text, str):
        if len(text) > limit:
            raise too_large(path, len(text), limit)
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
        raise too_large(path, len(data), limit)
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

DEFAULT_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
STR = _TAG + "str"
INT = _TAG + "int"
FLOAT = _TAG + "float"
BOOL = _TAG + "bool"
NULL = _TAG + "null"
TIMESTAMP = _TAG + "timestamp"
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, TIMESTAMP})
_IMPLICIT: dict[str | None, list[tuple[str, re.Pattern[str]]]] = dict(
    yaml.resolver.Resolver.yaml_implicit_resolvers
)
_WILDCARD = _IMPLICIT.get(None, [])


class Scalar:
    """A scalar as written: its text, explicit tag if any, plain or quoted, and position."""

    __slots__ = ("col", "line", "plain", "tag", "value")

    def __init__(self, value: str, tag: str | None, plain: bool, line: int, col: int) -> None:
        self.value = value
        self.tag = tag
        self.plain = plain
        self.line = line
        self.col = col


class _Collection:
    """A list or a mapping: its ``items`` in file order, its position, and ``done`` once its
    end was read (an alias to an unfinished one is a cycle)."""

    __slots__ = ("col", "done", "items", "line")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[Node] = []
        self.line = line
        self.col = col
        self.done = False


class Seq(_Collection):
    """A list."""

    __slots__ = ()


class Map(_Collection):
    """A mapping, its keys and values alternating in ``items`` (key, value, key, value, ...)."""

    __slots__ = ()


Node = Scalar | Seq | Map


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _tag_error(path: str, mark: Any, tag: str) -> WatchlistError:
    return WatchlistError(
        path,
        mark.line + 1,
        mark.column + 1,
        f"tag {show(_show_tag(tag))} is not allowed: tags like !!python/object are not allowed"
        " in a watchlist; remove the tag",
    )


_REPEATED = frozenset({"accountId", "account_id", "mediaType", "media_type"})


def compose(
    data: bytes, path: str, *, max_depth: int, max_nodes: int, loader: Any = DEFAULT_LOADER
) -> Node | None:
    """Build the node tree from the YAML events of ``data``, at most ``max_depth`` levels deep
    and ``max_nodes`` nodes; ``None`` for an empty document. ``loader`` picks PyYAML's parser.
    """
    root: Node | None = None
    stack: list[Seq | Map] = []
    anchors: dict[str, Node] = {}
    count = 0
    documents = 0
    keys: dict[str, str] = {}
    last_line, line = -1, 0
    events: Any = yaml.parse(data, Loader=loader)  # a generator of events: no objects built
    try:
        with contextlib.closing(events):
            for event in events:
                kind = type(event)
                node: Node
                if kind is ScalarEvent:
                    tag = event.tag
                    mark = event.start_mark
                    if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
                        raise _tag_error(path, mark, tag)
                    value = event.value
                    parent = stack[-1] if stack else None
                    if parent.__class__ is Map and len(keys) < 1024:
                        # Keys, and values of keys like accountId: a 100,000-post file repeats
                        # a handful of them, each kept once.
                        items = parent.items
                        if not len(items) % 2 or (
                            items[-1].__class__ is Scalar and items[-1].value in _REPEATED
                        ):
                            value = keys.setdefault(value, value)
                    if mark.line != last_line:
                        last_line, line = mark.line, mark.line + 1  # one int per line
                    node = Scalar(value, tag, event.implicit[0], line, mark.column + 1)
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
                        raise WatchlistError(
                            path, mark.line + 1, mark.column + 1, too_deep(max_depth)
                        )
                    container: Seq | Map = (Map if is_map else Seq)(mark.line + 1, mark.column + 1)
                    node = container
                elif kind is AliasEvent:
                    target = anchors.get(event.anchor)
                    mark = event.start_mark
                    name = show(event.anchor)[1:-1]
                    if target is None:
                        raise WatchlistError(
                            path,
                            mark.line + 1,
                            mark.column + 1,
                            f"unknown alias *{name}: define &{name} before using it",
                        )
                    if not isinstance(target, Scalar) and not target.done:
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
        raise _syntax_error(path, exc, max_depth) from None
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


def _syntax_error(path: str, exc: yaml.MarkedYAMLError, max_depth: int) -> WatchlistError:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
        return WatchlistError(path, line, column, too_deep(max_depth))
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


# --- reading scalars as the safe loader would --------------------------------------------

_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def scalar_type(node: Scalar) -> str:
    """The YAML type tag of a scalar (``STR``, ``INT``...), resolved as the safe loader would."""
    tag = node.tag
    if tag is not None and tag != "!":
        return tag
    if not node.plain:
        return STR
    value = node.value
    for resolved, regexp in _IMPLICIT.get(value[0] if value else "", _WILDCARD):
        if regexp.match(value):
            return resolved
    return STR


def show(value: str, limit: int = 60) -> str:
    """``repr`` of ``value``, cut to ``limit`` characters with ``...``."""
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)


def describe(node: Node) -> str:
    """What a node is, for messages: ``a list``, ``a boolean (yes)``, ``a string ('x')``."""
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    kind = scalar_type(node)
    if kind == NULL:
        return "null (nothing)"
    if kind == BOOL:
        return f"a boolean ({node.value})"
    if kind in (INT, FLOAT):
        return f"a number ({show(node.value)[1:-1]})"
    if kind == TIMESTAMP:
        return f"a date ({node.value})"
    return f"a string ({show(node.value)})"


def read_int(node: Scalar) -> int:
    """The integer a YAML int scalar means (``0x1f``, ``1_000``...); ValueError if none."""
    return int(_CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode(INT, node.value)))


def read_float(node: Scalar) -> float:
    """The number a YAML float scalar means (``.5``, ``1e3``, ``.inf``); ValueError if none."""
    return float(_CONSTRUCTOR.construct_yaml_float(yaml.ScalarNode(FLOAT, node.value)))
