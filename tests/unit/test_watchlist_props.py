"""Property tests: whatever the input, the loader returns a Watchlist or raises WatchlistError."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wahdx_tui.core.watchlist.reader as wl
from wahdx_tui.core.domain.model import MEDIA_TYPES
from wahdx_tui.core.watchlist.reader import Watchlist, WatchlistError, parse_watchlist

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = sorted(set(wl.TOP_KEYS) | set(wl.POST_KEYS) | set(wl.ACCOUNT_KEYS) | set(wl.SETTINGS_KEYS))
YAMLISH = "\n :-[]{}#&*!|>'\"%@`,?~ \t0123456789abcdefxyzé"


def check(text: str | bytes) -> Watchlist | None:
    """Parse; only a Watchlist or a WatchlistError may come out, and both must be sane."""
    try:
        watchlist = parse_watchlist(text, "p.yaml")
    except WatchlistError as error:
        assert error.path == "p.yaml"
        assert str(error).startswith("p.yaml")
        assert error.message
        assert error.column is None or error.line is not None
        assert error.line is None or error.line >= 1
        assert error.column is None or error.column >= 1
        return None
    assert isinstance(watchlist, Watchlist)
    assert watchlist.posts
    keys = [post.key for post in watchlist.posts]
    assert len(keys) == len(set(keys))
    for post in watchlist.posts:
        assert post.account_id and post.publish_id
        assert post.account_id == post.account_id.strip()
        assert len(post.account_id) <= wl.MAX_ID_LENGTH
        assert len(post.publish_id) <= wl.MAX_ID_LENGTH
        assert post.media_type is None or post.media_type in MEDIA_TYPES
        assert len(post.label) <= wl.MAX_LABEL_LENGTH
        assert post.line >= 1
    return watchlist


@SETTINGS
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check(text)


@SETTINGS
@given(st.binary())
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@SETTINGS
@given(st.text(alphabet=YAMLISH, max_size=200))
def test_yaml_punctuation_soup(text: str) -> None:
    check(text)
    check("posts:\n  - " + text)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["video", "PHOTO", "gif", "", "  ", "yes", "~", "007", "acc_1"]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=30,
)


@SETTINGS
@given(structures)
def test_arbitrary_structures(value: Any) -> None:
    check(yaml.safe_dump(value))


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(wl.TOP_KEYS)), structures, max_size=3))
def test_arbitrary_top_level_sections(value: Any) -> None:
    check(yaml.safe_dump(value))


post_values = st.dictionaries(
    st.sampled_from(sorted(wl.POST_KEYS)),
    st.one_of(scalars, st.lists(scalars, max_size=2)),
    max_size=5,
)


@SETTINGS
@given(st.lists(post_values, max_size=8), st.dictionaries(keys, scalars, max_size=3))
def test_almost_valid_posts(posts: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    check(yaml.safe_dump({"posts": posts}))
    check(yaml.safe_dump({"posts": posts, "settings": extra}))


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.:", min_size=1, max_size=20)
valid_posts = st.lists(
    st.fixed_dictionaries(
        {"accountId": ids, "publishId": ids},
        optional={
            "mediaType": st.sampled_from(MEDIA_TYPES),
            "label": st.text(
                alphabet=st.characters(codec="utf-8", categories=["L", "N", "P"]), max_size=40
            ),
        },
    ),
    min_size=1,
    max_size=20,
)


@SETTINGS
@given(valid_posts, st.booleans())
def test_valid_posts_round_trip(posts: list[dict[str, str]], flow: bool) -> None:
    text = yaml.safe_dump({"posts": posts}, default_flow_style=flow, allow_unicode=True)
    watchlist = check(text)
    assert watchlist is not None
    expected: dict[tuple[str, str], dict[str, str]] = {}
    for post in posts:
        expected.setdefault((post["accountId"], post["publishId"]), post)
    assert [p.key for p in watchlist.posts] == list(expected)
    for got, want in zip(watchlist.posts, expected.values(), strict=True):
        assert got.media_type == want.get("mediaType")
        assert got.label == want.get("label", "").strip()
    assert len(watchlist.warnings) == len(posts) - len(expected)
    assert check(text.encode("utf-8")) == watchlist


@SETTINGS
@given(valid_posts, st.data())
def test_mutated_valid_text(posts: list[dict[str, str]], data: st.DataObject) -> None:
    text = yaml.safe_dump({"posts": posts})
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 5))
    insert = data.draw(st.text(alphabet=YAMLISH, max_size=5))
    check(text[:at] + insert + text[at + cut :])
