"""Read the watchlist format: which posts to watch, plus optional settings.

The YAML is composed into a small node tree by :mod:`wahdx_tui.core.watchlist.yamlsafe`, which keeps
hostile input (alias bombs, deep nesting, binary junk, huge files) to bounded time and
memory; this module walks that tree, bounds the number of posts (aliases may repeat a list)
and turns every problem into one :class:`WatchlistError` saying where it is and how to fix it.
The ``settings:`` keys, bounds and messages come from :mod:`wahdx_tui.core.settings.table`.

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

import difflib
import gc
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wahdx_tui.core.domain.errors import WatchlistError, position
from wahdx_tui.core.domain.model import MEDIA_TYPES, PostKey, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.settings.secretfile import NotRegularFile, read_regular_file
from wahdx_tui.core.settings.table import (
    FILE_KEYS,
    SETTING,
    QuietHours,
    Setting,
    WatchlistSettings,
    parse_duration,
    parse_quiet,
    resolve_settings,
)
from wahdx_tui.core.watchlist import yamlsafe
from wahdx_tui.core.watchlist.yamlsafe import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    STR,
    Map,
    Node,
    Scalar,
    Seq,
    describe,
    scalar_type,
    show,
    too_deep,
    too_large,
)

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
_LOADER: Any = yamlsafe.DEFAULT_LOADER
"""PyYAML's parser to read with: the C one when built (tests switch to the Python one)."""

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
SETTINGS_KEYS: dict[str, str] = dict(FILE_KEYS)

_NO_POSTS = "no posts: add entries under posts: or accounts:"

# The composer's names as they were before it moved to yamlsafe (the tests reach them).
_Map, _Seq, _too_large = Map, Seq, too_large

# --- public types -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Watchlist:
    """A checked watchlist: its posts in file order (duplicates dropped), settings, warnings."""

    path: str
    posts: tuple[WatchedPost, ...]
    settings: WatchlistSettings
    warnings: tuple[str, ...]


def check_id(text: str, field: str) -> str:
    """An account or publish id as given, stripped; ValueError saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ValueError(f"{field} is empty: write the id")
    if len(text) > MAX_ID_LENGTH:
        raise ValueError(f"{field} is {len(text):,} characters long; the limit is {MAX_ID_LENGTH}")
    if not text.isprintable():
        raise ValueError(f"{field} contains a control or non-printing character: remove it")
    return text


def check_media_type(text: str) -> str:
    """``video`` or ``photo`` (any case, spaces around); ValueError for anything else."""
    value = text.strip().lower()
    if value in MEDIA_TYPES:
        return MEDIA_TYPES[MEDIA_TYPES.index(value)]  # one string for every post
    raise ValueError(f"unknown mediaType {show(text)}: use one of {', '.join(MEDIA_TYPES)}")


def check_label(text: str) -> str:
    """A label made inert and stripped; ValueError when it is too long."""
    if not text.isprintable():
        # Whole escape sequences go, not just their ESC byte; tabs and newlines read as spaces.
        text = clean(text)
    text = text.strip()
    if len(text) > MAX_LABEL_LENGTH:
        raise ValueError(f"label is {len(text):,} characters long; the limit is {MAX_LABEL_LENGTH}")
    return text


def sample_watchlist_path() -> Path:
    """The sample watchlist bundled with the package."""
    return Path(__file__).resolve().parents[2] / "data" / "sample_watchlist.yaml"


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and check the watchlist file at ``path``; raise :class:`WatchlistError` if bad."""
    name = os.fspath(path)
    limit = MAX_FILE_BYTES
    try:
        data, st = read_regular_file(name, limit)
    except FileNotFoundError:
        raise WatchlistError(name, None, None, "no such file: check the path") from None
    except NotRegularFile as exc:  # a FIFO is refused, never waited on
        raise WatchlistError(
            name, None, None, f"is {exc.kind}: give the path of a watchlist .yaml file"
        ) from None
    except PermissionError:
        raise WatchlistError(
            name, None, None, "permission denied: make the file readable, or copy it"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WatchlistError(name, None, None, f"cannot read the file: {reason}") from None
    if st.st_size > limit or len(data) > limit:
        raise too_large(name, max(st.st_size, len(data)), limit)
    return parse_watchlist(data, name)


def parse_watchlist(text: str | bytes, path: str = "<watchlist>") -> Watchlist:
    """Check watchlist YAML ``text`` (named ``path`` in messages) and return the Watchlist."""
    data = yamlsafe.as_utf8(text, path, MAX_FILE_BYTES)
    enabled = gc.isenabled()
    gc.disable()  # the tree is acyclic; collecting while building it only costs time
    try:
        root = _compose(data, path)
        return _Reader(path).read(root)
    except RecursionError:
        raise WatchlistError(path, None, None, too_deep(MAX_DEPTH)) from None
    finally:
        if enabled:
            gc.enable()


def _compose(data: bytes, path: str) -> Node | None:
    """The node tree of ``data``, within this module's limits and with its parser."""
    return yamlsafe.compose(data, path, max_depth=MAX_DEPTH, max_nodes=MAX_NODES, loader=_LOADER)


# --- the node tree -> a Watchlist ----------------------------------------------------------


def _own(text: str) -> str:
    """A copy of a string the node tree holds, so that freeing the tree frees its memory
    (Python returns memory to the system only in whole arenas, which kept strings pin)."""
    return "".join((text[:1], text[1:])) if len(text) > 1 else text


class _Reader:
    """Walk the node tree, collecting posts and settings or raising WatchlistError."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.posts: list[WatchedPost] = []
        self.first: dict[PostKey, int] = {}
        self.accounts: dict[str, str] = {}
        self.warnings: list[str] = []
        self.entries = 0
        self.settings = WatchlistSettings()

    def error(self, node: Node | None, message: str) -> WatchlistError:
        if node is None:
            return WatchlistError(self.path, None, None, message)
        return WatchlistError(self.path, node.line, node.col, message)

    # top level

    def read(self, root: Node | None) -> Watchlist:
        if root is None:
            raise self.error(None, _NO_POSTS)
        if not isinstance(root, Map):
            if isinstance(root, Scalar) and scalar_type(root) == NULL:
                raise self.error(root, _NO_POSTS)
            raise self.error(
                root,
                "the top level must be a mapping with posts: and/or accounts:,"
                f" got {describe(root)}",
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
        self, node: Map, allowed: Mapping[str, str], where: str
    ) -> dict[str, tuple[Scalar, Node]]:
        """The mapping's entries by canonical key, in file order; reject unknown keys."""
        out: dict[str, tuple[Scalar, Node]] = {}
        items = node.items
        for i in range(0, len(items), 2):
            key = items[i]
            if not isinstance(key, Scalar):
                raise self.error(key, f"keys in {where} must be plain words, got {describe(key)}")
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

    def unknown_key(self, key: Scalar, allowed: Mapping[str, str], where: str) -> WatchlistError:
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
                key, f"unknown key {show(text)} in {where}: did you mean {close[0]!r}?"
            )
        names = ", ".join(dict.fromkeys(allowed.values()))
        if allowed is SETTINGS_KEYS:
            names += " (camelCase also accepted)"
        elif allowed is not TOP_KEYS:
            names += " (snake_case also accepted)"
        return self.error(key, f"unknown key {show(text)} in {where}; allowed keys: {names}")

    # values

    def read_id(self, node: Node, field: str) -> str:
        if isinstance(node, Scalar):
            kind = scalar_type(node)
            if kind in (NULL, BOOL):
                hint = "put the id in quotes" if kind == BOOL else f"write the id after '{field}:'"
                raise self.error(node, f"{field} must be a string, got {describe(node)}: {hint}")
            try:
                return check_id(node.value, field)
            except ValueError as exc:
                raise self.error(node, str(exc)) from None
        raise self.error(node, f"{field} must be a string, got {describe(node)}")

    def read_media_type(self, node: Node) -> str | None:
        allowed = ", ".join(MEDIA_TYPES)
        if isinstance(node, Scalar):
            if scalar_type(node) == NULL:
                return None
            try:
                if node.tag is None or node.tag in ("!", STR):
                    return check_media_type(node.value)
                raise ValueError(f"unknown mediaType {show(node.value)}: use one of {allowed}")
            except ValueError as exc:
                raise self.error(node, f"{exc} (or leave it out)") from None
        raise self.error(node, f"mediaType must be one of {allowed}, got {describe(node)}")

    def read_label(self, node: Node) -> str:
        if isinstance(node, Scalar):
            kind = scalar_type(node)
            if kind == NULL:
                return ""
            if kind == BOOL:
                raise self.error(
                    node, f"label must be text, got {describe(node)}: put it in quotes"
                )
            try:
                text = check_label(node.value)
            except ValueError as exc:
                raise self.error(node, str(exc)) from None
            return text
        raise self.error(node, f"label must be text, got {describe(node)}")

    # posts

    def read_entry(
        self, item: Node, account: str | None, default_media: str | None, where: str
    ) -> None:
        """One post entry: under ``posts:`` (``account`` None: the entry names it) or in an
        account's ``posts:``, where a bare publish id is an entry too.
        """
        self.entries += 1
        if self.entries > MAX_POSTS:
            raise self.error(
                item,
                f"too many posts: more than {MAX_POSTS:,}; split the watchlist into several files",
            )
        if account is not None and isinstance(item, Scalar):
            self.add(item, account, self.read_id(item, "publishId"), default_media, "")
            return
        if not isinstance(item, Map):
            wanted = (
                "a mapping with accountId and publishId"
                if account is None
                else "a publish id or a mapping with publishId"
            )
            raise self.error(item, f"a post entry must be {wanted}, got {describe(item)}")
        fields = self.fields(item, POST_KEYS if account is None else GROUPED_POST_KEYS, where)
        for name in ("accountId", "publishId") if account is None else ("publishId",):
            if name not in fields:
                raise self.error(
                    item, f"post entry is missing {name}: add '{name}: <{name[:-2]} id>'"
                )
        if account is None:
            account = self.read_id(fields["accountId"][1], "accountId")
        publish = self.read_id(fields["publishId"][1], "publishId")
        media = fields.get("mediaType")
        label = fields.get("label")
        self.add(
            item,
            account,
            publish,
            self.read_media_type(media[1]) if media else default_media,
            self.read_label(label[1]) if label else "",
        )

    def add(
        self, node: Node, account: str, publish: str, media_type: str | None, label: str
    ) -> None:
        key = (account, publish)
        first = self.first.get(key)
        if first is not None:
            self.warnings.append(
                f"{position(self.path, node.line, node.col)}: duplicate post {account}/{publish}"
                f" (first at line {first}); watched once"
            )
            return
        self.first[key] = node.line
        known = self.accounts.get(account)
        if known is None:
            known = self.accounts[account] = _own(account)
        self.posts.append(WatchedPost(known, _own(publish), media_type, _own(label), node.line + 0))

    def read_posts(self, node: Node) -> None:
        if isinstance(node, Scalar) and scalar_type(node) == NULL:
            return
        if not isinstance(node, Seq):
            hint = " (for posts grouped by account use accounts:)" if isinstance(node, Map) else ""
            raise self.error(
                node,
                f"posts must be a list of entries, each starting with '- ', got {describe(node)}"
                + hint,
            )
        for item in node.items:
            self.read_entry(item, None, None, "a post entry")

    def read_accounts(self, node: Node) -> None:
        if isinstance(node, Scalar) and scalar_type(node) == NULL:
            return
        if not isinstance(node, Map):
            raise self.error(
                node,
                "accounts must be a mapping of account id to {mediaType, posts},"
                f" got {describe(node)}",
            )
        seen: dict[str, int] = {}
        items = node.items
        for i in range(0, len(items), 2):
            key, value = items[i], items[i + 1]
            account = self.read_id(key, "the account id")
            if account in seen:
                raise self.error(
                    key,
                    f"account {show(account)} is listed twice (first at line {seen[account]});"
                    " merge the two",
                )
            seen[account] = key.line
            where = f"account {show(account)}"
            if not isinstance(value, Map):
                raise self.error(
                    value if not isinstance(value, Scalar) or value.value else key,
                    f"{where} must be a mapping with posts: (a list of publish ids),"
                    f" got {describe(value)}",
                )
            fields = self.fields(value, ACCOUNT_KEYS, where)
            media_field = fields.get("mediaType")
            default_media = self.read_media_type(media_field[1]) if media_field else None
            posts_field = fields.get("posts")
            if posts_field is None:
                raise self.error(value, f"{where} has no posts: add 'posts:' with its publish ids")
            posts = posts_field[1]
            if isinstance(posts, Scalar) and scalar_type(posts) == NULL:
                continue
            if not isinstance(posts, Seq):
                raise self.error(
                    posts, f"posts of {where} must be a list of publish ids, got {describe(posts)}"
                )
            entry = f"a post entry of {where}"
            for item in posts.items:
                self.read_entry(item, account, default_media, entry)

    # settings

    def read_settings(self, node: Node) -> WatchlistSettings:
        if isinstance(node, Scalar) and scalar_type(node) == NULL:
            return WatchlistSettings()
        if not isinstance(node, Map):
            raise self.error(
                node, f"settings must be a mapping like 'interval: 15', got {describe(node)}"
            )
        values: dict[str, Any] = {}
        for name, (key, value) in self.fields(node, SETTINGS_KEYS, "settings").items():
            values[name] = self.read_setting(key.value, SETTING[name], value)
        return WatchlistSettings(**values)

    def read_setting(
        self, shown: str, setting: Setting, node: Node
    ) -> int | float | QuietHours | None:
        """One value of ``settings:``, checked against its row of the settings table."""
        bad = f"{shown} must be {setting.wanted}, got"
        if not isinstance(node, Scalar):
            raise self.error(node, f"{bad} {describe(node)}")
        kind = scalar_type(node)
        if kind == NULL:
            return None
        if setting.kind == "quiet" or (setting.kind == "duration" and kind == STR):
            if kind != STR:
                raise self.error(node, f"{bad} {describe(node)}")
            try:
                if setting.kind == "duration":
                    seconds = parse_duration(node.value)
                    if not setting.accepts(seconds):
                        raise ValueError("")
                    return seconds
                return parse_quiet(node.value)
            except ValueError as exc:
                reason = f": {exc}" if str(exc) else ""
                raise self.error(node, f"{bad} {show(node.value)}{reason}") from None
        number: float | int
        try:
            if kind == INT:
                number = yamlsafe.read_int(node)
            elif kind == FLOAT and setting.kind in ("float", "duration"):
                number = yamlsafe.read_float(node)
            else:
                raise self.error(node, f"{bad} {describe(node)}")
        except ValueError:
            raise self.error(node, f"{bad} {describe(node)}") from None
        if setting.kind in ("float", "duration"):
            try:
                number = float(number)
            except OverflowError:  # a whole number too large for a float: out of range
                number = math.inf
        if not setting.accepts(number):
            raise self.error(node, f"{bad} {show(node.value.strip())[1:-1]}")
        return number


def stuck_thresholds(watchlist: Watchlist) -> dict[State, float]:
    """Seconds a post may stay queued or processing before it counts as stuck."""
    settings = resolve_settings(watchlist.settings, {})
    return {
        State.QUEUED: 60.0 * settings.stuck_queued_minutes,
        State.PROCESSING: 60.0 * settings.stuck_processing_minutes,
    }
