"""Property tests: no JSON value crashes the normaliser, no bytes crash the decoder, and
`sanitize.clean` never lets a terminal control through."""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wahdx_tui.core.api.normalise import decode_json, parse_batch, parse_single, value_budget
from wahdx_tui.core.domain.errors import ApiError
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean

T = 1_700_000_000.0
POOL = [
    WatchedPost("acc_tiktok_main", "v_pub_1", "video"),
    WatchedPost("acc_ig_brand", "v_pub_1", "photo"),  # same publishId, other account
    WatchedPost("acc_ig_brand", "ig_2"),
    WatchedPost("acc_threads", "th_3", None, "label"),
    WatchedPost("123", "456"),
]
FIELD_NAMES = [
    "success",
    "data",
    "results",
    "statuses",
    "items",
    "meta",
    "count",
    "accountId",
    "account_id",
    "publishId",
    "publish_id",
    "mediaType",
    "status",
    "state",
    "publishStatus",
    "publish_status",
    "code",
    "name",
    "message",
    "publicUrl",
    "public_url",
    "postUrl",
    "post_url",
    "url",
    "permalink",
    "shareUrl",
    "share_url",
    "error",
    "errorMessage",
    "error_message",
    "failReason",
    "fail_reason",
    "failureReason",
    "failure_reason",
    "reason",
    *{p.account_id for p in POOL},
    *{p.publish_id for p in POOL},
]
WORDS = [
    "published",
    "PUBLISH_COMPLETE",
    "Failed",
    "queued",
    "processing_upload",
    "SEND_TO_USER_INBOX",
    "in-progress",
    "weird",
    "https://example.com/p/1",
    "",
    *FIELD_NAMES,
]

keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(WORDS),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=6),
    ),
    max_leaves=25,
)
requested = st.lists(st.sampled_from(POOL), max_size=4, unique_by=lambda p: p.key)

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_statuses(result: list[PostStatus], posts: list[WatchedPost]) -> None:
    assert isinstance(result, list)
    assert [s.key for s in result] == [p.key for p in posts]
    for s in result:
        assert isinstance(s, PostStatus)
        assert isinstance(s.state, State)
        for text in (s.raw_status, s.public_url, s.error):
            assert text is None or isinstance(text, str)
        if s.state is State.UNKNOWN:
            # an unknown post always says why: an error, or the raw status it could not read
            assert s.error is not None or s.raw_status is not None


@PROPS
@given(body=json_values, posts=requested)
@example(body={"success": True, "data": {"results": {"v_pub_1": "published"}}}, posts=POOL[:2])
@example(body={"data": {"ig_2": {"status": {"code": "Failed"}}}}, posts=POOL)
@example(body=[{"status": "live"}, {"state": "x"}], posts=POOL[:2])
def test_parse_batch_never_crashes(body: object, posts: list[WatchedPost]) -> None:
    try:
        result = parse_batch(body, posts, T)
    except ApiError:
        return
    check_statuses(result, posts)


@PROPS
@given(body=json_values, post=st.sampled_from(POOL))
@example(body={"success": True, "data": "OK"}, post=POOL[0])
@example(body={"data": {"status": [], "error": {"message": {}}}}, post=POOL[0])
def test_parse_single_never_crashes(body: object, post: WatchedPost) -> None:
    try:
        status = parse_single(body, post, T)
    except ApiError:
        return
    check_statuses([status], [post])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values, posts=requested)
def test_json_round_trip_never_crashes(body: object, posts: list[WatchedPost]) -> None:
    """What the client really sees: bytes through decode_json, then the parsers."""
    content = json.dumps(body).encode()
    try:
        decoded = decode_json(content)
        result = parse_batch(decoded, posts, T)
    except ApiError:
        return
    check_statuses(result, posts)


@settings(max_examples=500, deadline=None)
@given(content=st.binary(max_size=200))
@example(content=b"")
@example(content=b"\xef\xbb\xbf{}")
@example(content=b"NaN")
@example(content=b'{"a": Infinity}')
@example(content=b"9" * 5000)
def test_decode_json_on_arbitrary_bytes(content: bytes) -> None:
    try:
        decode_json(content)
    except ApiError as exc:
        assert "malformed JSON" in str(exc)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='[]{}":,0123456789.eE+-tfnrulsa \\\n', max_size=60))
def test_decode_json_on_json_like_text(text: str) -> None:
    with contextlib.suppress(ApiError):
        decode_json(text.encode())


@settings(max_examples=300, deadline=None)
@given(body=json_values, asked=st.integers(min_value=0, max_value=3))
def test_a_budget_for_the_posts_asked_keeps_what_fits_and_reads_valid_json(
    body: object, asked: int
) -> None:
    """Read with a budget, an answer within it is read whole, and one past it is cut to a
    head that is itself valid JSON: never another error, never more values than the budget
    (plus the brackets closed)."""
    content = json.dumps(body).encode()
    budget = value_budget(asked) // 256  # small, so that hypothesis' values go past it
    try:
        decoded = decode_json(content, budget)
    except ApiError:
        return
    count = content.count(b",") + content.count(b"[") + content.count(b"{")
    if count <= budget:
        assert json.dumps(decoded) == json.dumps(decode_json(content))  # NaN is not NaN
    else:
        again = json.dumps(decoded).encode()
        assert again.count(b",") + again.count(b"[") + again.count(b"{") <= 2 * budget + 2


def test_decode_json_deep_nesting() -> None:
    for content in (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[" * 100_000,
    ):
        try:
            decode_json(content)
        except ApiError:
            continue


# ----- sanitize.clean -----------------------------------------------------------------------

_C0_C1 = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
_BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
BLANKS = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\u2800", "\uffa0"}
"""Letters and marks that draw nothing (Hangul fillers, the blank braille cell, ...)."""
UNSEEN = frozenset(
    chr(c)
    for c in range(0x110000)
    if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp") or chr(c) in BLANKS
)
"""Every control, format character (soft hyphen, tags U+E0000-E007F, bidi, zero-width),
line and paragraph separator, and blank letter this Python knows of."""
FORBIDDEN = _C0_C1 | _BIDI | _ZERO_WIDTH | UNSEEN
TRICKY = [
    "\x1b",
    "\x1b[",
    "\x1b]",
    "\x1b\\",
    "\x07",
    "\x9b",
    "\x9c",
    "\x9d",
    "\x90",
    "[31m",
    "]0;",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\ud800",
    "\u2028",
    "\u2029",
    "\u00ad",
    "\U000e0041",
    "\U000e007f",
    "\u3164",
    "\u115f",
    "\ufeff",
    "\u2800",
    "全",
    "🙂",
    "[bold]",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(st.characters(codec=None), max_size=5)),
    max_size=30,
).map("".join)
any_text = st.one_of(st.text(), hostile_text)


@settings(max_examples=400, deadline=None)
@given(text=any_text, limit=st.one_of(st.none(), st.integers(min_value=1, max_value=80)))
@example(text="\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\", limit=None)
@example(text="\x1b[2J\x1b[H\x1b[31mred", limit=3)
@example(text="\u202egnp.exe\u202c", limit=None)
def test_clean_leaves_no_controls_and_honours_limit(text: str, limit: int | None) -> None:
    out = clean(text, limit)
    assert isinstance(out, str)
    assert not (set(out) & FORBIDDEN), repr(out)
    assert "\x1b" not in out
    out.encode("utf-8")  # no lone surrogates left
    if limit is not None:
        assert len(out) <= limit


@settings(max_examples=300, deadline=None)
@given(text=any_text)
def test_clean_keep_newlines_allows_only_newline(text: str) -> None:
    out = clean(text, keep_newlines=True)
    assert not (set(out) & (FORBIDDEN - {"\n"})), repr(out)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec=None)).filter(str.isprintable))
def test_clean_keeps_printable_text_unchanged(text: str) -> None:
    assert clean(text) == "".join(c for c in text if c not in UNSEEN).replace("\u2800", " ")


def test_clean_removes_every_invisible_character_even_from_printable_text() -> None:
    """U+2028/2029, tag characters, the soft hyphen and the Hangul fillers once went through:
    the last ones in text Python calls printable, which clean returned untouched."""
    introducers = {"\x1b", "\x90", "\x98", "\x9b", "\x9d", "\x9e", "\x9f"}  # take more
    for ch in sorted(UNSEEN):
        for text in (f"a{ch}b", f"a{ch}b\x07"):  # the fast path and the slow one
            out = clean(text)
            assert not set(out) & UNSEEN, f"U+{ord(ch):04X} -> {out!r}"
            if ch not in introducers:
                assert out.strip() in ("ab", "a b"), f"U+{ord(ch):04X} -> {out!r}"
            assert not set(clean(text, keep_newlines=True)) & (UNSEEN - {"\n"})
    assert clean("line\u2028para\u2029end", keep_newlines=True) == "line\npara\nend"
    assert clean("\u3164\u3164", 10) == "" and clean("name\u3164") == "name"
    assert clean("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f") == "🏴"


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_clean_accepts_any_value(value: object) -> None:
    out = clean(value, 50)
    assert len(out) <= 50
    assert not (set(out) & FORBIDDEN)


def test_clean_limit_zero() -> None:
    assert len(clean("abc", 0)) <= 0


def test_no_escape_regex_left_in_output_of_osc() -> None:
    out = clean("before\x1b]0;title\x07after\x1b[1;31mred\x1b[0m")
    assert out == "beforeafterred"
    assert not re.search(r"\x1b|\x07", out)
