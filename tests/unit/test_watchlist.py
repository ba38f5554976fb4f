"""The YAML watchlist loader: shapes, errors with positions, warnings, limits, sample, schema."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import random
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import wahdx_tui.core.watchlist.reader as wl
from wahdx_tui.core.domain.model import MEDIA_TYPES, WatchedPost
from wahdx_tui.core.watchlist.reader import (
    Watchlist,
    WatchlistError,
    WatchlistSettings,
    load_watchlist,
    parse_watchlist,
    sample_watchlist_path,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "wahdx_tui" / "data" / "watchlist.schema.json"
C_LOADER = getattr(yaml, "CSafeLoader", None)


def err(text: str | bytes, path: str = "w.yaml") -> WatchlistError:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(text, path)
    return info.value


def one(text: str) -> WatchedPost:
    (post,) = parse_watchlist(text).posts
    return post


@pytest.fixture(params=["c", "python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the C parser and with PyYAML's pure-Python parser."""
    if request.param == "c":
        if C_LOADER is None:
            pytest.skip("PyYAML built without libyaml")
        monkeypatch.setattr(wl, "_LOADER", C_LOADER)
    else:
        monkeypatch.setattr(wl, "_LOADER", yaml.SafeLoader)
    yield request.param


# --- shapes ----------------------------------------------------------------------------


def test_posts_form(loader: str) -> None:
    text = """\
# yaml-language-server: $schema=./watchlist.schema.json
posts:
  - accountId: acc_tiktok_main
    publishId: v_pub_7301
    mediaType: video
    label: Black Friday teaser
  - accountId: acc_threads_news
    publishId: th_pub_1
"""
    watchlist = parse_watchlist(text, "w.yaml")
    assert isinstance(watchlist, Watchlist)
    assert watchlist.path == "w.yaml"
    assert watchlist.posts == (
        WatchedPost("acc_tiktok_main", "v_pub_7301", "video", "Black Friday teaser", 3),
        WatchedPost("acc_threads_news", "th_pub_1", None, "", 7),
    )
    assert watchlist.settings == WatchlistSettings()
    assert watchlist.warnings == ()


def test_grouped_form(loader: str) -> None:
    text = """\
accounts:
  acc_ig_brand:
    mediaType: photo
    posts:
      - ig_pub_1
      - {publishId: ig_pub_2, label: Carousel, mediaType: video}
      - publishId: ig_pub_3
        label: Plain
  acc_fb_store:
    posts: [fb_1]
"""
    assert parse_watchlist(text).posts == (
        WatchedPost("acc_ig_brand", "ig_pub_1", "photo", "", 5),
        WatchedPost("acc_ig_brand", "ig_pub_2", "video", "Carousel", 6),
        WatchedPost("acc_ig_brand", "ig_pub_3", "photo", "Plain", 7),
        WatchedPost("acc_fb_store", "fb_1", None, "", 10),
    )


def test_both_forms_keep_file_order() -> None:
    text = """\
accounts:
  acc_a:
    posts: [p1]
posts:
  - {accountId: acc_b, publishId: p2}
"""
    assert [p.key for p in parse_watchlist(text).posts] == [("acc_a", "p1"), ("acc_b", "p2")]
    text = "posts: [{accountId: acc_b, publishId: p2}]\naccounts: {acc_a: {posts: [p1]}}\n"
    assert [p.key for p in parse_watchlist(text).posts] == [("acc_b", "p2"), ("acc_a", "p1")]


def test_snake_case_aliases() -> None:
    text = """\
posts:
  - account_id: acc
    publish_id: pub
    media_type: Photo
accounts:
  acc2:
    media_type: VIDEO
    posts:
      - {publish_id: pub2, media_type: photo}
      - pub3
"""
    assert [(p.key, p.media_type) for p in parse_watchlist(text).posts] == [
        (("acc", "pub"), "photo"),
        (("acc2", "pub2"), "photo"),
        (("acc2", "pub3"), "video"),
    ]


def test_numeric_ids_become_strings_as_written() -> None:
    text = """\
posts:
  - {accountId: 12345, publishId: 007}
  - {accountId: 12345, publishId: 1.50}
  - {accountId: 12345, publishId: 2024-11-29}
  - {accountId: 12345, publishId: 0x1F}
accounts:
  678:
    posts: [42]
"""
    assert [p.key for p in parse_watchlist(text).posts] == [
        ("12345", "007"),
        ("12345", "1.50"),
        ("12345", "2024-11-29"),
        ("12345", "0x1F"),
        ("678", "42"),
    ]


def test_ids_and_labels_are_stripped() -> None:
    post = one("posts:\n  - {accountId: '  acc ', publishId: \" pub\\t\", label: '  Hi  '}\n")
    assert (post.account_id, post.publish_id, post.label) == ("acc", "pub", "Hi")


def test_labels() -> None:
    assert one("posts: [{accountId: a, publishId: b, label: 42}]").label == "42"
    assert one("posts: [{accountId: a, publishId: b, label: }]").label == ""
    assert one("posts: [{accountId: a, publishId: b, label: null}]").label == ""
    # terminal escapes are removed whole; a newline reads as a space
    assert one('posts: [{accountId: a, publishId: b, label: "A\\e[31mB\\nC"}]').label == "AB C"
    assert one("posts: [{accountId: a, publishId: b, label: 'x'}]").label == "x"
    long_label = "L" * wl.MAX_LABEL_LENGTH
    assert one(f"posts: [{{accountId: a, publishId: b, label: {long_label}}}]").label == long_label


@pytest.mark.parametrize(
    ("written", "expected"),
    [("video", "video"), ("VIDEO", "video"), ("Photo", "photo"), ("'photo'", "photo"), ("", None)],
)
def test_media_type_normalised(written: str, expected: str | None) -> None:
    post = one(f"posts:\n  - accountId: a\n    publishId: b\n    mediaType: {written}\n")
    assert post.media_type == expected
    assert expected is None or expected in MEDIA_TYPES


def test_settings_snake_and_camel_case() -> None:
    text = """\
settings:
  interval: 15
  batchSize: 50
  concurrency: 4
  final_every: 10
  stuckQueuedMinutes: 30
  stuck_processing_minutes: 12.5
posts: [{accountId: a, publishId: b}]
"""
    settings = parse_watchlist(text).settings
    assert settings == WatchlistSettings(15.0, 50, 4, 10, 30.0, 12.5)
    assert isinstance(settings.interval, float)
    assert isinstance(settings.batch_size, int)
    assert isinstance(settings.stuck_queued_minutes, float)


def test_settings_may_be_empty_or_null() -> None:
    for block in ("settings:\n", "settings: {}\n", "settings:\n  interval:\n"):
        text = block + "posts: [{accountId: a, publishId: b}]\n"
        assert parse_watchlist(text).settings == WatchlistSettings()


def test_settings_bounds_are_inclusive() -> None:
    text = """\
settings: {interval: 86400, batch_size: 1000, concurrency: 32, final_every: 1}
posts: [{accountId: a, publishId: b}]
"""
    assert parse_watchlist(text).settings == WatchlistSettings(86400.0, 1000, 32, 1)
    text = "settings: {interval: 1, batch_size: 1, concurrency: 1}\naccounts: {a: {posts: [b]}}"
    assert parse_watchlist(text).settings == WatchlistSettings(1.0, 1, 1)


def test_null_sections_beside_posts() -> None:
    text = "settings:\naccounts:\nposts:\n  - {accountId: a, publishId: b}\n"
    assert len(parse_watchlist(text).posts) == 1
    text = "accounts:\n  a:\n    posts:\n  b:\n    posts: [c]\n"
    assert [p.key for p in parse_watchlist(text).posts] == [("b", "c")]


def test_anchors_and_aliases_are_followed() -> None:
    text = """\
settings: {interval: &fifteen 15, concurrency: 2}
posts:
  - &first {accountId: acc, publishId: p1, label: *fifteen}
accounts:
  acc_x: &group {mediaType: photo, posts: [q1, q2]}
  acc_y: *group
"""
    watchlist = parse_watchlist(text)
    assert watchlist.settings.interval == 15.0
    assert watchlist.posts[0].label == "15"
    assert [p.key for p in watchlist.posts[1:]] == [
        ("acc_x", "q1"),
        ("acc_x", "q2"),
        ("acc_y", "q1"),
        ("acc_y", "q2"),
    ]


def test_bytes_input_bom_and_crlf() -> None:
    text = "\ufeffposts:\r\n  - accountId: ac\u00e7\r\n    publishId: p\u00fcb\r\n"
    post = parse_watchlist(text.encode("utf-8")).posts[0]
    assert (post.account_id, post.publish_id, post.line) == ("ac\u00e7", "p\u00fcb", 2)
    assert parse_watchlist(text).posts == parse_watchlist(text.encode("utf-8")).posts


def test_explicit_standard_tags_are_fine() -> None:
    post = one("posts: [{accountId: !!str 12, publishId: !!int 34, label: !!str yes}]")
    assert (post.account_id, post.publish_id, post.label) == ("12", "34", "yes")


def test_quoted_booleans_and_nulls_are_ids() -> None:
    post = one("posts: [{accountId: 'yes', publishId: 'null', label: 'true'}]")
    assert (post.account_id, post.publish_id, post.label) == ("yes", "null", "true")


def test_max_length_id_is_accepted() -> None:
    long_id = "x" * wl.MAX_ID_LENGTH
    assert one(f"posts: [{{accountId: {long_id}, publishId: b}}]").account_id == long_id


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_post_warns_and_keeps_the_first() -> None:
    text = """\
posts:
  - accountId: acc
    publishId: pub
    label: first
  - accountId: other
    publishId: pub
  - accountId: acc
    publishId: pub
    label: second
"""
    watchlist = parse_watchlist(text, "w.yaml")
    assert [(p.key, p.label) for p in watchlist.posts] == [
        (("acc", "pub"), "first"),
        (("other", "pub"), ""),
    ]
    assert watchlist.warnings == (
        "w.yaml:7:5: duplicate post acc/pub (first at line 2); watched once",
    )


def test_duplicate_across_forms() -> None:
    text = """\
posts:
  - {accountId: acc, publishId: pub}
accounts:
  acc:
    posts:
      - other
      - pub
"""
    watchlist = parse_watchlist(text, "w.yaml")
    assert len(watchlist.posts) == 2
    assert watchlist.warnings == (
        "w.yaml:7:9: duplicate post acc/pub (first at line 2); watched once",
    )


# --- errors: each names file, line and column ------------------------------------------

ERRORS = [
    # YAML syntax
    ("posts:\n  - accountId: a: b\n", 2, 17, "YAML syntax error: mapping values are not allowed"),
    ("posts:\n\t- a\n", 2, 1, "not tabs"),
    ("posts:\n  - {accountId: 'a, publishId: b}\n", 3, 1, "YAML syntax error"),
    ("posts: [a, b\n", 2, 1, "YAML syntax error"),
    ("posts: [{accountId: a, publishId: b}]\n---\nposts: []\n", 2, 1, "more than one YAML doc"),
    # top level
    (
        "- a\n- b\n",
        1,
        1,
        "the top level must be a mapping with posts: and/or accounts:, got a list",
    ),
    ("just text\n", 1, 1, "the top level must be a mapping"),
    ("42\n", 1, 1, "got a number (42)"),
    # empty
    ("{}\n", 1, 1, "no posts: add entries under posts: or accounts:"),
    ("posts: []\n", 1, 1, "no posts: add entries under posts: or accounts:"),
    ("settings: {interval: 5}\nposts:\n", 2, 1, "no posts"),
    ("accounts:\n  acc:\n    posts: []\n", 1, 1, "no posts"),
    ("~\n", 1, 1, "no posts"),
    # unknown keys
    ("posts:\n  - acountId: a\n    publishId: b\n", 2, 5, "did you mean 'accountId'?"),
    ("posts:\n  - account_Id: a\n", 2, 5, "unknown key 'account_Id' in a post entry: did you mean"),
    ("posts:\n  - zzz: a\n", 2, 5, "allowed keys: accountId, publishId, mediaType, label"),
    ("post:\n  - {accountId: a, publishId: b}\n", 1, 1, "did you mean 'posts'?"),
    ("xyz: 1\n", 1, 1, "unknown key 'xyz' in the top level; allowed keys: settings, posts"),
    ("settings:\n  intervall: 5\n", 2, 3, "did you mean 'interval'?"),
    ("settings:\n  batchsize: 5\n", 2, 3, "did you mean 'batch_size'?"),
    ("settings:\n  colour: red\n", 2, 3, "allowed keys: interval, batch_size, concurrency"),
    ("accounts:\n  a:\n    post: [b]\n", 3, 5, "in account 'a': did you mean 'posts'?"),
    ("accounts:\n  a:\n    posts:\n      - {publishId: b, lable: c}\n", 4, 24, "'label'?"),
    ("accounts:\n  a:\n    posts:\n      - {accountId: a, publishId: b}\n", 4, 10, "accountId is"),
    ("posts:\n  - <<: {accountId: a}\n    publishId: b\n", 2, 5, "merge keys (<<)"),
    ("posts:\n  - [a]: b\n", 2, 5, "keys in a post entry must be plain words, got a list"),
    # duplicate keys
    ("posts: []\nposts: []\n", 2, 1, "duplicate key 'posts' in the top level (first at line 1)"),
    ("posts:\n  - accountId: a\n    account_id: b\n", 3, 5, "'account_id' repeats 'accountId'"),
    ("accounts:\n  a: {posts: [x]}\n  a: {posts: [y]}\n", 3, 3, "account 'a' is listed twice"),
    # missing ids
    ("posts:\n  - publishId: b\n", 2, 5, "post entry is missing accountId: add 'accountId: "),
    ("posts:\n  - accountId: a\n", 2, 5, "post entry is missing publishId: add 'publishId: "),
    ("accounts:\n  a:\n    posts:\n      - {label: x}\n", 4, 9, "missing publishId"),
    # bad id values
    (
        "posts:\n  - accountId: [a]\n    publishId: b\n",
        2,
        16,
        "accountId must be a string, got a list",
    ),
    (
        "posts:\n  - accountId: a\n    publishId: {x: 1}\n",
        3,
        16,
        "publishId must be a string, got a ",
    ),
    ("posts:\n  - accountId: a\n    publishId:\n", 3, 15, "publishId must be a string, got null"),
    ("posts:\n  - accountId: yes\n    publishId: b\n", 2, 16, "got a boolean (yes): put the id in"),
    ("posts:\n  - accountId: ''\n    publishId: b\n", 2, 16, "accountId is empty"),
    ("posts:\n  - accountId: '   '\n    publishId: b\n", 2, 16, "accountId is empty"),
    ('posts:\n  - {accountId: a, publishId: "b\\tc"}\n', 2, 31, "non-printing character"),
    ("accounts:\n  [a]: {posts: [b]}\n", 2, 3, "the account id must be a string, got a list"),
    ("accounts:\n  a:\n    posts: [[b]]\n", 3, 13, "must be a publish id or a mapping with pub"),
    ("accounts:\n  a:\n    posts: [true]\n", 3, 13, "publishId must be a string, got a boolean"),
    # media type and label
    (
        "posts:\n  - {accountId: a, publishId: b, mediaType: gif}\n",
        2,
        45,
        "use one of video, photo",
    ),
    ("posts:\n  - {accountId: a, publishId: b, mediaType: [video]}\n", 2, 45, "got a list"),
    ("accounts:\n  a:\n    mediaType: reel\n    posts: [b]\n", 3, 16, "unknown mediaType 'reel'"),
    ("posts:\n  - {accountId: a, publishId: b, label: [x]}\n", 2, 41, "label must be text, got a"),
    ("posts:\n  - {accountId: a, publishId: b, label: no}\n", 2, 41, "got a boolean (no)"),
    # wrong container shapes
    ("posts:\n  - hello\n", 2, 5, "a post entry must be a mapping with accountId and publishId"),
    ("posts:\n  - 12\n", 2, 5, "a post entry must be a mapping"),
    ("posts:\n  - [a, b]\n", 2, 5, "a post entry must be a mapping"),
    ("posts:\n  accountId: a\n", 2, 3, "posts must be a list of entries"),
    ("posts: hello\n", 1, 8, "posts must be a list of entries"),
    ("accounts: [a]\n", 1, 11, "accounts must be a mapping of account id"),
    ("accounts:\n  a:\n", 2, 3, "account 'a' must be a mapping with posts:"),
    ("accounts:\n  a: [b]\n", 2, 6, "account 'a' must be a mapping with posts:"),
    ("accounts:\n  a:\n    mediaType: photo\n", 3, 5, "account 'a' has no posts: add 'posts:'"),
    ("accounts:\n  a:\n    posts: b\n", 3, 12, "posts of account 'a' must be a list"),
    ("settings: [1]\n", 1, 11, "settings must be a mapping like 'interval: 15', got a list"),
    # settings values
    (
        "settings:\n  interval: 0\n",
        2,
        13,
        "interval must be a number from 1 to 86400 seconds, got 0",
    ),
    ("settings:\n  interval: 86401\n", 2, 13, "from 1 to 86400 seconds, got 86401"),
    ("settings:\n  interval: '15'\n", 2, 13, "interval must be a number from 1 to 86400 seconds,"),
    ("settings:\n  interval: 15s\n", 2, 13, "got a string ('15s')"),
    ("settings:\n  interval: .inf\n", 2, 13, "got .inf"),
    ("settings:\n  interval: true\n", 2, 13, "got a boolean (true)"),
    ("settings:\n  interval: [1]\n", 2, 13, "got a list"),
    ("settings:\n  batch_size: 0\n", 2, 15, "batch_size must be a whole number from 1 to 1000"),
    ("settings:\n  batchSize: 1001\n", 2, 14, "batchSize must be a whole number from 1 to 1000"),
    ("settings:\n  batch_size: 2.5\n", 2, 15, "got a number (2.5)"),
    ("settings:\n  concurrency: 33\n", 2, 16, "concurrency must be a whole number from 1 to 32"),
    ("settings:\n  concurrency: -1\n", 2, 16, "got -1"),
    ("settings:\n  finalEvery: 0\n", 2, 15, "finalEvery must be a whole number from 1 to 1000"),
    ("settings:\n  stuckQueuedMinutes: 0\n", 2, 23, "must be a number greater than 0 minutes"),
    ("settings:\n  stuck_processing_minutes: -2.5\n", 2, 29, "greater than 0 minutes, got -2.5"),
    ("settings:\n  stuck_queued_minutes: .nan\n", 2, 25, "greater than 0 minutes, got .nan"),
    ("settings:\n  batch_size: !!int xyz\n", 2, 15, "batch_size must be a whole number"),
    # tags and aliases
    ('x: !!python/object/apply:os.system ["echo hi"]\n', 1, 4, "tags like !!python/object are not"),
    ("posts:\n  - !!python/object:os.Foo {a: 1}\n", 2, 5, "tag '!!python/object:os.Foo' is not"),
    ("posts:\n  - {accountId: !custom a, publishId: b}\n", 2, 17, "tag '!custom' is not allowed"),
    ("posts:\n  - {accountId: !!binary YWJj, publishId: b}\n", 2, 17, "tag '!!binary' is not"),
    ("posts: !!set {a: null}\n", 1, 8, "tag '!!set' is not allowed"),
    ("posts: !!map [a]\n", 1, 8, "tag '!!map' is not allowed"),
    ("posts: [*nowhere]\n", 1, 9, "unknown alias *nowhere: define &nowhere before using it"),
    ("posts: &loop [*loop]\n", 1, 15, "alias *loop refers to a node that contains it"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), ERRORS)
def test_errors_name_file_line_and_column(text: str, line: int, column: int, message: str) -> None:
    error = err(text, "w.yaml")
    assert message in error.message
    assert (error.path, error.line, error.column) == ("w.yaml", line, column)
    assert str(error) == f"w.yaml:{line}:{column}: {error.message}"


def test_error_without_position_omits_line_and_column() -> None:
    for text in ("", "# only a comment\n", b"", "\n\n"):
        error = err(text, "w.yaml")
        assert (error.line, error.column) == (None, None)
        assert str(error) == "w.yaml: no posts: add entries under posts: or accounts:"


def test_error_is_an_exception_with_fields_and_pickles() -> None:
    error = WatchlistError("f.yaml", 3, 7, "something is wrong")
    assert isinstance(error, Exception)
    assert str(error) == "f.yaml:3:7: something is wrong"
    assert str(WatchlistError("f.yaml", 3, None, "m")) == "f.yaml:3: m"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, copy.column, copy.message) == (
        "f.yaml",
        3,
        7,
        "something is wrong",
    )


def test_unknown_media_type_lists_the_allowed_ones() -> None:
    error = err("posts: [{accountId: a, publishId: b, mediaType: GIF}]")
    assert all(kind in error.message for kind in MEDIA_TYPES)
    assert "'GIF'" in error.message


def test_long_id_error_gives_length_and_limit() -> None:
    long_id = "a" * 300
    error = err(f"posts:\n  - accountId: {long_id}\n    publishId: b\n")
    assert (error.line, error.column) == (2, 16)
    assert "300" in error.message
    assert "256" in error.message


def test_long_label_error_gives_length_and_limit() -> None:
    error = err(f"posts:\n  - {{accountId: a, publishId: b, label: {'x' * 1001}}}\n")
    assert (error.line, error.column) == (2, 41)
    assert "1,001" in error.message
    assert "1000" in error.message


def test_very_long_unknown_key_skips_difflib_but_is_reported_short() -> None:
    key = "accountIdd" * 100_000
    error = err(f"posts:\n  - ? {key}\n    : a\n")
    assert (error.line, error.column) == (2, 7)
    assert "unknown key" in error.message
    assert len(error.message) < 300


def test_errors_come_from_both_parsers_alike(loader: str) -> None:
    for text, line, column, message in ERRORS:
        error = err(text)
        assert message in error.message, (loader, text)
        assert (error.line, error.column) == (line, column), (loader, text)


# --- files -------------------------------------------------------------------------------


def test_load_watchlist_from_path_and_pathlike(tmp_path: Path) -> None:
    file = tmp_path / "mine.yaml"
    file.write_text("posts:\n  - {accountId: a, publishId: b}\n", encoding="utf-8")
    for given in (file, str(file)):
        watchlist = load_watchlist(given)
        assert watchlist.path == str(file)
        assert [p.key for p in watchlist.posts] == [("a", "b")]


def test_load_watchlist_errors_name_the_file(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("posts:\n  - {accountId: a}\n", encoding="utf-8")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(file)
    assert str(info.value).startswith(f"{file}:2:5: post entry is missing publishId")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(WatchlistError) as info:
        load_watchlist(missing)
    assert info.value.path == str(missing)
    assert info.value.line is None
    assert "no such file" in str(info.value)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError) as info:
        load_watchlist(tmp_path)
    assert "is a directory" in str(info.value)


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """A FIFO in the watchlist's place once hung `check` until something wrote to it."""
    fifo = tmp_path / "watch.yaml"
    os.mkfifo(fifo)
    said: list[str] = []

    def load() -> None:
        try:
            load_watchlist(fifo)
        except WatchlistError as exc:
            said.append(str(exc))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(60)  # a bound for a failure, not a goal: the refusal takes no waiting
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY))  # the writer it waits for, so it can end
        pytest.fail("the reader waited on the FIFO for a writer")
    assert said == [f"{fifo}: is a FIFO (named pipe): give the path of a watchlist .yaml file"]


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "secret.yaml"
    file.write_text("posts: []\n", encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(wl, "read_regular_file", refuse)
    with pytest.raises(WatchlistError) as info:
        load_watchlist(file)
    assert str(info.value).startswith(f"{file}: permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    file = tmp_path / "secret.yaml"
    file.write_text("posts: []\n", encoding="utf-8")
    file.chmod(0)
    with pytest.raises(WatchlistError, match="permission denied"):
        load_watchlist(file)


def test_other_os_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wl, "read_regular_file", broken)
    with pytest.raises(WatchlistError, match="cannot read the file: Input/output error"):
        load_watchlist(tmp_path / "x.yaml")


# --- hostile input -----------------------------------------------------------------------


def test_file_size_limit_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wl, "MAX_FILE_BYTES", 1024)
    file = tmp_path / "big.yaml"
    file.write_text("posts:\n" + "  - {accountId: a, publishId: b}\n" * 100, encoding="utf-8")
    size = file.stat().st_size
    with pytest.raises(WatchlistError) as info:
        load_watchlist(file)
    message = str(info.value)
    assert message.startswith(f"{file}: file is too large")
    assert f"{size:,} bytes" in message
    assert "the limit is 1.0 KiB" in message


def test_default_size_limit_is_64_mib() -> None:
    assert wl.MAX_FILE_BYTES == 64 * 1024 * 1024
    assert "64.0 MiB" in str(wl._too_large("f", 70 * 1024 * 1024, wl.MAX_FILE_BYTES))


def test_size_limit_for_text_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wl, "MAX_FILE_BYTES", 100)
    text = "posts: [{accountId: a, publishId: b}]\n# " + "x" * 100
    for given in (text, text.encode()):
        assert "file is too large" in err(given).message
    # 60 characters, but 120 bytes in UTF-8
    assert "file is too large" in err("# " + "\u00e9" * 60).message


def test_binary_junk_is_not_a_text_file() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    assert err(png).message.startswith("not a text file")
    rng = random.Random(1234)
    for _ in range(20):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        with contextlib.suppress(WatchlistError):
            parse_watchlist(junk)


def test_nul_bytes() -> None:
    error = err(b"posts:\n  - a\x00b\n")
    assert (error.line, error.column) == (2, 6)
    assert "not a text file" in error.message
    assert "not a text file" in err("posts: [a\x00]").message


def test_invalid_utf8() -> None:
    error = err(b"posts:\n  - {accountId: caf\xe9, publishId: b}\n")
    assert (error.line, error.column) == (2, 20)
    assert error.message.startswith("not a text file: invalid UTF-8 byte 0xe9")


def test_utf16_is_named() -> None:
    data = "posts: []".encode("utf-16")
    assert "UTF-16" in err(data).message


def test_control_characters_and_surrogates() -> None:
    error = err("posts:\n  - {accountId: a\x07b, publishId: c}\n")
    assert (error.line, error.column) == (2, 18)
    assert "control character U+0007" in error.message
    error = err("posts:\n  - \ud800\n")
    assert (error.line, error.column) == (2, 5)
    assert "not a text file" in error.message
    error = err("posts: [a\ufffe]\n")
    assert (error.line, error.column) == (1, 10)
    assert "non-printable character U+FFFE" in error.message


def test_garbage_collector_state_is_restored() -> None:
    assert gc.isenabled()
    parse_watchlist("posts: [{accountId: a, publishId: b}]")
    assert gc.isenabled()
    err("posts: [")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_watchlist("posts: [{accountId: a, publishId: b}]")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_python_tags_never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[object] = []
    monkeypatch.setattr(os, "system", lambda *args: called.append(args))
    for text in (
        '!!python/object/apply:os.system ["echo hi"]\n',
        'posts: !!python/object/apply:os.system ["echo hi"]\n',
        "posts:\n  - accountId: !!python/object/apply:os.system ['echo hi']\n    publishId: b\n",
        "posts: [{accountId: !!python/name:os.system '', publishId: b}]\n",
    ):
        assert "tags like !!python/object are not allowed" in err(text).message
    assert called == []


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs(loader: str) -> None:
    started = time.perf_counter()
    root = wl._compose(BILLION_LAUGHS.encode(), "w.yaml")
    # aliases share nodes: the tree holds each node once, not 9**9 "lol"s
    seen: set[int] = set()
    todo: list[object] = [root]
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            if isinstance(node, (wl._Seq, wl._Map)):
                todo.extend(node.items)
    assert len(seen) < 150
    grouped = "accounts:\n" + "".join(
        f"  acc_{line[0]}: {{posts: {line[3:]}}}\n" for line in BILLION_LAUGHS.splitlines()
    )
    for text in (
        BILLION_LAUGHS,
        BILLION_LAUGHS.replace("a: &a", "posts: &a", 1),
        BILLION_LAUGHS + "posts: *i\n",
        grouped,
        grouped.replace("lol", "{publishId: lol}"),
    ):
        assert err(text).line is not None
    assert time.perf_counter() - started < 5


def test_alias_fan_out_is_bounded_by_the_post_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1000 accounts x 1000 posts through aliases would be a million entries
    ids = ", ".join(f"p{i}" for i in range(1000))
    lines = ["accounts:", f"  acc0: &group {{posts: [{ids}]}}"]
    lines += [f"  acc{i}: *group" for i in range(1, 1000)]
    text = "\n".join(lines) + "\n"
    monkeypatch.setattr(wl, "MAX_POSTS", 5000)
    error = err(text)
    assert "too many posts: more than 5,000" in error.message
    assert (error.line, error.column) == (2, 25)


def test_too_many_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wl, "MAX_POSTS", 3)
    text = "posts:\n" + "".join(f"  - {{accountId: a, publishId: p{i}}}\n" for i in range(4))
    error = err(text)
    assert (error.line, error.column) == (5, 5)
    assert "too many posts" in error.message
    assert "split the watchlist" in error.message
    assert len(parse_watchlist(text.rsplit("  -", 1)[0]).posts) == 3


def test_default_post_limit() -> None:
    assert wl.MAX_POSTS == 200_000


def test_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wl, "MAX_NODES", 50)
    text = "posts:\n" + "".join(f"  - {{accountId: a, publishId: p{i}}}\n" for i in range(20))
    assert "too much data" in err(text).message


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,
        "posts: " + "[" * 10_000,
        "posts: " + "[" * 150 + "]" * 150,
        "posts: " + "{a: " * 10_000,
        "posts:\n" + "".join("  " * (i + 1) + "- \n" for i in range(150)),
        "posts:\n" + "".join(" " * (i + 2) + f"k{i}:\n" for i in range(150)),
        "posts:\n  " + "- " * 5000 + "x\n",
    ],
    ids=["brackets", "brackets-in-posts", "closed", "braces", "dashes", "indent", "compact"],
)
def test_deep_nesting(text: str, loader: str) -> None:
    started = time.perf_counter()
    error = err(text)
    assert time.perf_counter() - started < 5
    if text.startswith("posts:"):
        assert "nesting is too deep" in error.message
        assert error.line is not None


def test_nesting_at_the_limit_is_only_a_shape_error() -> None:
    depth = wl.MAX_DEPTH - 1  # posts mapping + 99 lists
    error = err("posts: " + "[" * depth + "]" * depth)
    assert "a post entry must be a mapping" in error.message


def test_recursion_error_becomes_a_watchlist_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(data: bytes, path: str) -> None:
        raise RecursionError

    monkeypatch.setattr(wl, "_compose", explode)
    assert "nesting is too deep" in err("posts: []").message


def test_ten_thousand_posts_load_quickly() -> None:
    lines = ["posts:"]
    for i in range(10_000):
        lines += [
            f"  - accountId: acc_tiktok_{i % 7}",
            f"    publishId: v_pub_{i}",
            "    mediaType: video",
            f"    label: Post number {i}",
        ]
    text = "\n".join(lines) + "\n"
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        watchlist = parse_watchlist(text)
        best = min(best, time.perf_counter() - started)
    assert len(watchlist.posts) == 10_000
    assert watchlist.posts[-1].line == 39_998
    if C_LOADER is not None:
        assert best < 1.0


# --- sample and schema -------------------------------------------------------------------


def test_sample_watchlist() -> None:
    path = sample_watchlist_path()
    assert path == ROOT / "wahdx_tui" / "data" / "sample_watchlist.yaml"
    watchlist = load_watchlist(path)
    assert 20 <= len(watchlist.posts) <= 30
    assert watchlist.warnings == ()
    assert watchlist.settings.interval == 15
    assert watchlist.settings.batch_size == 50
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./watchlist.schema.json"
    raw = yaml.safe_load(text)
    assert raw["posts"]
    assert raw["accounts"]
    accounts = {p.account_id for p in watchlist.posts}
    for platform in ("tiktok", "instagram", "threads", "facebook"):
        assert any(platform in account for account in accounts), platform
    assert all(p.label for p in watchlist.posts if "instagram" not in p.account_id)
    assert all(p.media_type for p in watchlist.posts if "tiktok" in p.account_id)
    labels = {p.label for p in watchlist.posts}
    assert "Black Friday teaser" in labels
    assert "Cyber Monday carousel" in labels


def test_top_level_symlinks() -> None:
    for name in ("sample_watchlist.yaml", "watchlist.schema.json"):
        link = ROOT / name
        assert link.is_symlink(), name
        assert os.readlink(link) == f"wahdx_tui/data/{name}"
        assert link.resolve() == (ROOT / "wahdx_tui" / "data" / name).resolve()


def load_schema() -> dict[str, object]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def props(schema: object) -> set[str]:
    assert isinstance(schema, dict)
    return set(schema["properties"])


def test_schema_is_json_schema_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # every local $ref resolves
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    for ref in re.findall(r'"\$ref": "#/([^"]*)"', text):
        node: object = schema
        for part in ref.split("/"):
            assert isinstance(node, dict)
            node = node[part]


def test_schema_keys_match_the_loader() -> None:
    schema = load_schema()
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    assert props(schema) == set(wl.TOP_KEYS)
    assert props(defs["post"]) == set(wl.POST_KEYS)
    assert props(defs["settings"]) == set(wl.SETTINGS_KEYS)
    assert props(defs["account"]) == set(wl.ACCOUNT_KEYS)
    grouped = [s for s in defs["groupedPost"]["anyOf"] if s.get("type") == "object"]
    assert props(grouped[0]) == set(wl.GROUPED_POST_KEYS)
    assert set(wl.SETTINGS_KEYS.values()) == set(WatchlistSettings.__dataclass_fields__)


def test_schema_limits_match_the_loader() -> None:
    schema = load_schema()
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    id_string = next(s for s in defs["id"]["anyOf"] if s.get("type") == "string")
    assert id_string["maxLength"] == wl.MAX_ID_LENGTH
    label_string = next(s for s in defs["label"]["anyOf"] if s.get("type") == "string")
    assert label_string["maxLength"] == wl.MAX_LABEL_LENGTH
    pattern = next(s for s in defs["mediaType"]["anyOf"] if s.get("type") == "string")["pattern"]
    for kind in MEDIA_TYPES:
        assert re.search(pattern, kind.upper())
    assert not re.search(pattern, "gif")
    # every numeric setting: the schema's bounds are the loader's bounds
    settings = defs["settings"]["properties"]
    for name, canonical in wl.SETTINGS_KEYS.items():
        rule = settings[name]
        while "$ref" in rule:
            rule = settings[rule["$ref"].rsplit("/", 1)[1]]
        kinds = [s for s in rule["anyOf"] if s.get("type") != "null"]
        if any(s["type"] == "string" for s in kinds):
            continue  # quiet hours or a duration: tests/test_settings.py checks those
        (number,) = kinds

        def setting(value: object, name: str = name) -> str:
            return f"settings: {{{name}: {value}}}\nposts: [{{accountId: a, publishId: b}}]\n"

        if "minimum" in number:
            low, high = number["minimum"], number["maximum"]
            result = parse_watchlist(setting(low)).settings
            assert getattr(result, canonical) == low
            assert getattr(parse_watchlist(setting(high)).settings, canonical) == high
            step = 1 if number["type"] == "integer" else 0.5
            err(setting(low - step))
            err(setting(high + step))
        else:
            assert number["exclusiveMinimum"] == 0
            assert getattr(parse_watchlist(setting(0.5)).settings, canonical) == 0.5
            err(setting(0))
        if number["type"] == "integer":
            err(setting(2.5))


def test_schema_agrees_with_the_loader_on_the_sample() -> None:
    schema = load_schema()
    raw = yaml.safe_load(sample_watchlist_path().read_text(encoding="utf-8"))
    allowed_top = props(schema)
    assert set(raw) <= allowed_top
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    for entry in raw["posts"]:
        assert set(entry) <= props(defs["post"])
    for account in raw["accounts"].values():
        assert set(account) <= props(defs["account"])
