"""The normaliser: every response shape, status spelling, id form and field type of issue #2 §3."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from wahdx_tui.core.api.normalise import (
    NOT_RETURNED,
    decode_json,
    normalise_state,
    parse_batch,
    parse_single,
    value_budget,
)
from wahdx_tui.core.domain.errors import ApiError, ResponseShapeError
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost

T = 1_700_000_000.5
A = WatchedPost("acc_tiktok_main", "v_pub_7301", "video", "teaser")
B = WatchedPost("acc_ig_brand", "ig_pub_2", "photo", "carousel")
C = WatchedPost("acc_threads_news", "th_pub_3")
POSTS = [A, B, C]

URL_A = "https://www.tiktok.com/@main/video/v_pub_7301"
ERROR_B = "unsupported aspect ratio: must be between 4:5 and 1.91:1"


def item(post: WatchedPost, status: Any = "published", **extra: Any) -> dict[str, Any]:
    return {"accountId": post.account_id, "publishId": post.publish_id, "status": status, **extra}


def three_items() -> list[dict[str, Any]]:
    """A published, B failed, C processing; given in reverse order to defeat position matching."""
    return [
        item(C, "processing"),
        item(B, "failed", error=ERROR_B),
        item(A, "published", publicUrl=URL_A),
    ]


def assert_three(result: list[PostStatus]) -> None:
    assert [s.key for s in result] == [A.key, B.key, C.key]
    assert [s.state for s in result] == [State.PUBLISHED, State.FAILED, State.PROCESSING]
    assert result[0].public_url == URL_A
    assert result[1].error == ERROR_B
    assert [s.raw_status for s in result] == ["published", "failed", "processing"]
    assert all(s.checked_at == T for s in result)


def one(body: object, post: WatchedPost = A) -> PostStatus:
    """Parse a batch body asked for a single post."""
    result = parse_batch(body, [post], T)
    assert len(result) == 1
    assert result[0].key == post.key
    return result[0]


# ----- containers ---------------------------------------------------------------------------

LIST_SHAPES: dict[str, Callable[[list[Any]], object]] = {
    "top-level list": lambda items: items,
    "envelope data list": lambda items: {"success": True, "data": items},
    "data list, no success": lambda items: {"data": items},
    "results at top": lambda items: {"results": items},
    "statuses at top": lambda items: {"statuses": items},
    "items at top": lambda items: {"items": items},
    "envelope results at top": lambda items: {"success": True, "results": items, "count": 3},
    "data.results": lambda items: {"success": True, "data": {"results": items}},
    "data.statuses": lambda items: {"success": True, "data": {"statuses": items}},
    "data.items": lambda items: {"data": {"items": items}},
    "data.results with meta": lambda items: {
        "success": True,
        "data": {"results": items, "count": 3},
        "meta": {"page": 1},
    },
}


@pytest.mark.parametrize("shape", list(LIST_SHAPES))
def test_list_containers(shape: str) -> None:
    body = LIST_SHAPES[shape](three_items())
    assert_three(parse_batch(body, POSTS, T))


def keyed(items: list[dict[str, Any]], keep_ids: bool) -> dict[str, Any]:
    out = {}
    for it in items:
        value = dict(it)
        if not keep_ids:
            del value["accountId"], value["publishId"]
        out[it["publishId"]] = value
    return out


MAP_SHAPES: dict[str, Callable[[list[Any]], object]] = {
    "map at top, values with ids": lambda items: keyed(items, True),
    "map at top, values without ids": lambda items: keyed(items, False),
    "map under data, values with ids": lambda items: {"success": True, "data": keyed(items, True)},
    "map under data, values without ids": lambda items: {
        "success": True,
        "data": keyed(items, False),
    },
    "map under data.results": lambda items: {"data": {"results": keyed(items, False)}},
    "map under results": lambda items: {"results": keyed(items, False)},
}


@pytest.mark.parametrize("shape", list(MAP_SHAPES))
def test_maps_keyed_by_publish_id(shape: str) -> None:
    body = MAP_SHAPES[shape](three_items())
    assert_three(parse_batch(body, POSTS, T))


@pytest.mark.parametrize("under_data", [False, True])
def test_map_of_bare_status_strings(under_data: bool) -> None:
    statuses = {C.publish_id: "PROCESSING_UPLOAD", A.publish_id: "Published", B.publish_id: "x"}
    body: object = {"success": True, "data": statuses} if under_data else statuses
    result = parse_batch(body, POSTS, T)
    assert [s.key for s in result] == [A.key, B.key, C.key]
    assert [s.state for s in result] == [State.PUBLISHED, State.UNKNOWN, State.PROCESSING]
    assert [s.raw_status for s in result] == ["Published", "x", "PROCESSING_UPLOAD"]


def test_list_of_bare_status_strings_matches_by_position() -> None:
    result = parse_batch(["published", "FAILED", "queued"], POSTS, T)
    assert [s.state for s in result] == [State.PUBLISHED, State.FAILED, State.QUEUED]


def test_map_values_of_two_posts_sharing_a_publish_id_are_not_guessed() -> None:
    twin = WatchedPost("acc_other", A.publish_id)
    result = parse_batch({A.publish_id: "published"}, [A, twin], T)
    assert [s.state for s in result] == [State.UNKNOWN, State.UNKNOWN]
    assert all(s.error == NOT_RETURNED for s in result)


def test_empty_item_list_reports_every_post_missing() -> None:
    result = parse_batch({"success": True, "data": []}, POSTS, T)
    assert [s.state for s in result] == [State.UNKNOWN] * 3
    assert [s.error for s in result] == [NOT_RETURNED] * 3
    assert [s.key for s in result] == [A.key, B.key, C.key]


def test_no_posts_requested_gives_an_empty_list() -> None:
    assert parse_batch({"success": True, "data": []}, [], T) == []


# ----- envelope errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("invalid request: checks must be a list", "invalid request: checks must be a list"),
        ({"message": "quota exceeded", "code": "Q42"}, "quota exceeded (Q42)"),
        ({"message": "quota exceeded"}, "quota exceeded"),
        ({"code": 503}, "503"),
        (None, "no error message given"),
    ],
)
def test_success_false_envelope_raises_api_error_with_the_message(
    error: object, expected: str
) -> None:
    body: dict[str, Any] = {"success": False}
    if error is not None:
        body["error"] = error
    with pytest.raises(ApiError) as info:
        parse_batch(body, POSTS, T)
    assert expected in str(info.value)
    with pytest.raises(ApiError) as info:
        parse_single(body, A, T)
    assert expected in str(info.value)


def test_success_false_envelope_wins_over_data() -> None:
    with pytest.raises(ApiError, match="maintenance"):
        parse_batch({"success": False, "error": "maintenance", "data": three_items()}, POSTS, T)


def test_envelope_error_message_is_bounded() -> None:
    with pytest.raises(ApiError) as info:
        parse_batch({"success": False, "error": "x" * 100_000}, POSTS, T)
    assert len(str(info.value)) < 1000


# ----- ids and matching ---------------------------------------------------------------------


@pytest.mark.parametrize("account_key", ["accountId", "account_id"])
@pytest.mark.parametrize("publish_key", ["publishId", "publish_id"])
def test_item_ids_camel_and_snake(account_key: str, publish_key: str) -> None:
    items = [
        {account_key: p.account_id, publish_key: p.publish_id, "status": s}
        for p, s in ((C, "processing"), (A, "published"), (B, "failed"))
    ]
    result = parse_batch({"data": items}, POSTS, T)
    assert [s.state for s in result] == [State.PUBLISHED, State.FAILED, State.PROCESSING]


def test_matching_by_pair_when_publish_ids_repeat_across_accounts() -> None:
    twin = WatchedPost("acc_other", A.publish_id)
    items = [item(twin, "failed"), item(A, "published")]
    result = parse_batch(items, [A, twin], T)
    assert [(s.key, s.state) for s in result] == [
        (A.key, State.PUBLISHED),
        (twin.key, State.FAILED),
    ]


def test_matching_by_publish_id_alone_when_unique() -> None:
    items = [{"publishId": p.publish_id, "status": s} for p, s in ((C, "queued"), (A, "done"))]
    result = parse_batch(items, POSTS, T)
    assert [s.state for s in result] == [State.PUBLISHED, State.UNKNOWN, State.QUEUED]
    assert result[1].error == NOT_RETURNED


def test_publish_id_alone_is_not_guessed_when_two_requested_posts_share_it() -> None:
    twin = WatchedPost("acc_other", A.publish_id)
    result = parse_batch([{"publishId": A.publish_id, "status": "published"}], [A, twin], T)
    assert [s.state for s in result] == [State.UNKNOWN, State.UNKNOWN]


def test_matching_by_position_when_ids_absent_and_lengths_agree() -> None:
    items = [{"status": "published"}, {"state": "failed"}, {"publishStatus": "pending"}]
    result = parse_batch({"success": True, "data": items}, POSTS, T)
    assert [s.key for s in result] == [A.key, B.key, C.key]
    assert [s.state for s in result] == [State.PUBLISHED, State.FAILED, State.QUEUED]


def test_no_position_matching_when_lengths_differ() -> None:
    items = [{"status": "published"}, {"status": "failed"}]
    result = parse_batch(items, POSTS, T)
    assert [s.state for s in result] == [State.UNKNOWN] * 3
    assert [s.error for s in result] == [NOT_RETURNED] * 3


def test_unmatched_items_are_ignored() -> None:
    items = [
        item(WatchedPost("acc_stranger", "zzz"), "failed"),
        item(WatchedPost("acc_wrong", A.publish_id), "failed"),  # right publishId, wrong account
        {"accountId": B.account_id, "status": "failed"},  # no publishId at all
        {"publishId": "not_asked", "status": "failed"},
        item(A, "published"),
        item(C, "queued"),
    ]
    result = parse_batch({"results": items}, POSTS, T)
    assert [s.key for s in result] == [A.key, B.key, C.key]
    assert [s.state for s in result] == [State.PUBLISHED, State.UNKNOWN, State.QUEUED]
    assert result[1].error == NOT_RETURNED


def test_first_item_for_a_post_wins() -> None:
    result = parse_batch([item(A, "published"), item(A, "failed")], [A], T)
    assert result[0].state is State.PUBLISHED


def test_missing_post_is_unknown_not_returned() -> None:
    result = parse_batch([item(A, "published"), item(C, "queued")], POSTS, T)
    missing = result[1]
    assert missing.key == B.key
    assert missing.state is State.UNKNOWN
    assert missing.error == "not returned by the API"
    assert missing.raw_status is None
    assert missing.public_url is None
    assert missing.checked_at == T


def test_numeric_ids_match_their_text() -> None:
    post = WatchedPost("123", "456")
    result = parse_batch([{"accountId": 123, "publishId": 456, "status": "live"}], [post], T)
    assert result[0].state is State.PUBLISHED


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("post not found", "post not found"),
        ({"message": "post not found", "code": "E404"}, "post not found (E404)"),
        (None, "the API reported an error"),
    ],
)
def test_item_success_false_is_unknown_with_its_error(error: object, expected: str) -> None:
    failing: dict[str, Any] = {"accountId": B.account_id, "publishId": B.publish_id}
    failing["success"] = False
    if error is not None:
        failing["error"] = error
    result = parse_batch([item(A), failing, item(C, "queued")], POSTS, T)
    assert result[1].state is State.UNKNOWN
    assert result[1].error == expected
    assert result[0].state is State.PUBLISHED
    assert result[2].state is State.QUEUED


def test_item_success_false_with_a_status_stays_unknown() -> None:
    bad = item(A, "published", success=False, error="stale data")
    status = one([bad])
    assert status.state is State.UNKNOWN
    assert status.error == "stale data"


def test_item_success_true_is_read_normally() -> None:
    assert one([item(A, "failed", success=True, error="boom")]).state is State.FAILED


# ----- status fields and spellings ----------------------------------------------------------

STATUS_KEYS = ["status", "state", "publishStatus"]


@pytest.mark.parametrize("status_key", STATUS_KEYS)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: s,
        lambda s: {"status": s},
        lambda s: {"code": s},
        lambda s: {"name": s},
        lambda s: {"status": None, "code": s, "description": "ignored"},
    ],
    ids=["string", "obj.status", "obj.code", "obj.name", "obj.null-status.code"],
)
def test_status_location_and_form(status_key: str, wrap: Callable[[str], object]) -> None:
    body = [{"accountId": A.account_id, "publishId": A.publish_id, status_key: wrap("FAILED")}]
    status = one(body)
    assert status.state is State.FAILED
    assert status.raw_status == "FAILED"


SPELLINGS: dict[State, list[str]] = {
    State.QUEUED: ["queued", "pending", "scheduled", "waiting", "created", "submitted"],
    State.PROCESSING: [
        "processing",
        "in_progress",
        "in-progress",
        "publishing",
        "uploading",
        "running",
        "send_to_user_inbox",
    ],
    State.PUBLISHED: [
        "published",
        "publish_complete",
        "success",
        "succeeded",
        "completed",
        "complete",
        "done",
        "live",
        "posted",
    ],
    State.FAILED: ["failed", "failure", "error", "errored", "rejected"],
}


def mixed_case(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


CASES: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "mixed": mixed_case,
}
SPELLING_CASES = [
    pytest.param(state, word, case, id=f"{state.value}-{word}-{case}")
    for state, words in SPELLINGS.items()
    for word in words
    for case in CASES
]


@pytest.mark.parametrize(("state", "word", "case"), SPELLING_CASES)
def test_every_spelling_in_any_case(state: State, word: str, case: str) -> None:
    raw = CASES[case](word)
    assert normalise_state(raw) is state
    status = one({"data": [item(A, raw)]})
    assert status.state is state
    assert status.raw_status == raw  # the spelling as sent is kept
    assert one({"data": [item(A, {"code": raw})]}).state is state


@pytest.mark.parametrize(
    "raw", ["processing_upload", "PROCESSING_DOWNLOAD", "Processing_Transcode", "processing_"]
)
def test_processing_prefix(raw: str) -> None:
    assert normalise_state(raw) is State.PROCESSING
    assert one([item(A, raw)]).state is State.PROCESSING


@pytest.mark.parametrize(
    "raw", ["archived", "DRAFT", "processingupload", "pre_processing", "publish", "ok", "0", "🙂"]
)
def test_unknown_spelling_is_unknown_with_raw_kept(raw: str) -> None:
    assert normalise_state(raw) is State.UNKNOWN
    status = one([item(A, raw)])
    assert status.state is State.UNKNOWN
    assert status.raw_status == raw
    assert status.error is None


def test_item_without_any_status_is_unknown_and_says_so() -> None:
    status = one([{"accountId": A.account_id, "publishId": A.publish_id}])
    assert status.state is State.UNKNOWN
    assert status.error
    assert status.raw_status is None


def test_item_without_status_but_with_an_error_keeps_the_error() -> None:
    status = one([{"accountId": A.account_id, "publishId": A.publish_id, "reason": "gone"}])
    assert status.state is State.UNKNOWN
    assert status.error == "gone"


# ----- URL and error fields -----------------------------------------------------------------

URL_KEYS = [
    "publicUrl",
    "public_url",
    "postUrl",
    "post_url",
    "url",
    "permalink",
    "shareUrl",
    "share_url",
]
ERROR_KEYS = [
    "error",
    "errorMessage",
    "error_message",
    "failReason",
    "fail_reason",
    "failureReason",
    "failure_reason",
    "reason",
]


@pytest.mark.parametrize("key", URL_KEYS)
def test_every_url_key(key: str) -> None:
    status = one([item(A, "published", **{key: URL_A})])
    assert status.public_url == URL_A
    assert status.state is State.PUBLISHED


@pytest.mark.parametrize("key", ERROR_KEYS)
def test_every_error_key(key: str) -> None:
    status = one([item(A, "failed", **{key: ERROR_B})])
    assert status.error == ERROR_B
    assert status.state is State.FAILED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"message": "token expired", "code": "AUTH_1"}, "token expired (AUTH_1)"),
        ({"message": "token expired"}, "token expired"),
        ({"code": "AUTH_1"}, "AUTH_1"),
        ({"code": 401}, "401"),
        ({"message": "token expired", "code": None, "extra": [1]}, "token expired"),
    ],
)
def test_error_as_object(value: object, expected: str) -> None:
    assert one([item(A, "failed", error=value)]).error == expected


def test_null_fields_fall_through_to_the_next_key() -> None:
    body = [
        item(
            A,
            None,
            state="published",
            publicUrl=None,
            shareUrl=URL_A,
            error=None,
            failReason="note",
        )
    ]
    status = one(body)
    assert status.state is State.PUBLISHED
    assert status.public_url == URL_A
    assert status.error == "note"


@pytest.mark.parametrize(
    ("fields", "attr", "expected"),
    [
        ({"status": "failed", "error": "", "failReason": ERROR_B}, "error", ERROR_B),
        ({"status": "published", "publicUrl": "", "shareUrl": URL_A}, "public_url", URL_A),
        ({"status": "", "state": "published"}, "raw_status", "published"),
    ],
    ids=["error", "url", "status"],
)
def test_empty_string_does_not_hide_a_later_key(
    fields: dict[str, Any], attr: str, expected: str
) -> None:
    body = [{"accountId": A.account_id, "publishId": A.publish_id, **fields}]
    assert getattr(one(body), attr) == expected


def test_long_texts_are_bounded() -> None:
    status = one([item(A, "x" * 100_000, error="e" * 100_000, publicUrl="u" * 100_000)])
    assert status.raw_status is not None and len(status.raw_status) <= 20_000
    assert status.error is not None and len(status.error) <= 20_000
    assert status.public_url is not None and len(status.public_url) <= 20_000


def test_raw_item_is_kept() -> None:
    it = item(A, "published", extra={"x": 1})
    assert one([it]).raw == it


# ----- wrong types never crash --------------------------------------------------------------

WRONG_VALUES = [
    0,
    -1,
    3.5,
    1e308,
    True,
    False,
    None,
    "",
    [],
    ["published"],
    [{"status": "published"}],
    {},
    {"status": {"status": {"code": []}}},
    {"message": ["x"], "code": {"a": 1}},
    {"status": 1, "code": None, "name": True},
]
FIELDS = [
    "accountId",
    "account_id",
    "publishId",
    "publish_id",
    "success",
    *STATUS_KEYS,
    *URL_KEYS,
    *ERROR_KEYS,
]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", WRONG_VALUES, ids=lambda v: json.dumps(v)[:30])
def test_wrong_types_in_any_field_never_crash(field: str, value: object) -> None:
    it = item(A, "published", publicUrl=URL_A)
    it[field] = value
    for body in ([it], {"data": [it]}, {"data": {A.publish_id: it}}):
        result = parse_batch(body, [A, B], T)
        assert [s.key for s in result] == [A.key, B.key]
        assert all(isinstance(s.state, State) for s in result)
        for s in result:
            for text in (s.raw_status, s.public_url, s.error):
                assert text is None or isinstance(text, str)
    single = parse_single({"success": True, "data": it}, A, T)
    assert single.key == A.key


@pytest.mark.parametrize("value", [0, 2.5, True, None, [], [[1]], ""], ids=repr)
def test_wrong_item_types_in_a_list_are_unknown(value: object) -> None:
    result = parse_batch([value, item(B, "published")], [A, B], T)
    assert result[0].state is State.UNKNOWN
    assert result[1].state is State.PUBLISHED
    lone = one([value])  # ids absent, lengths agree: read by position
    assert lone.state is State.UNKNOWN
    if value != "":
        assert lone.error


def test_numbers_and_booleans_as_status_are_unknown_but_kept() -> None:
    assert one([item(A, 3)]).raw_status == "3"
    assert one([item(A, True)]).state is State.UNKNOWN
    assert one([item(A, 1.5)]).state is State.UNKNOWN


# ----- anything else is a shape error naming what was received -------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (None, "null"),
        (42, "42"),
        (1.5, "1.5"),
        ("OK", "OK"),
        (True, "True"),
        ({}, "empty"),
        ({"success": True}, "success"),
        ({"success": True, "data": "OK"}, "data"),
        ({"success": True, "data": None}, "data"),
        ({"success": True, "data": 7}, "data"),
        ({"data": {"results": 5}}, "data"),
        ({"results": 5}, "results"),
        ({"foo": 1, "bar": [2]}, "foo"),
        ({"pub_1": [1]}, "pub_1"),
        ({"pub_1": "published", "pub_2": 3}, "pub_1"),
        ({"meta": {"page": 1}}, "meta"),
    ],
    ids=repr,
)
def test_anything_else_is_a_shape_error_naming_what_was_received(body: object, named: str) -> None:
    with pytest.raises(ResponseShapeError) as info:
        parse_batch(body, POSTS, T)
    message = str(info.value)
    assert named in message
    assert len(message) < 500


def test_shape_error_is_an_api_error() -> None:
    assert issubclass(ResponseShapeError, ApiError)


def test_shape_error_names_at_most_a_few_keys() -> None:
    body = {f"k{i}": [i] for i in range(50)}
    with pytest.raises(ResponseShapeError) as info:
        parse_batch(body, POSTS, T)
    assert "k0" in str(info.value)
    assert "k40" not in str(info.value)


# ----- the single endpoint ------------------------------------------------------------------

SINGLE_SHAPES: dict[str, object] = {
    "envelope with item": {"success": True, "data": item(A, "published", publicUrl=URL_A)},
    "bare item": item(A, "published", publicUrl=URL_A),
    "item without ids": {"status": "published", "publicUrl": URL_A},
    "data item without ids": {"data": {"state": {"code": "PUBLISHED"}, "url": URL_A}},
    "data item with publishStatus": {"data": {"publishStatus": "live", "permalink": URL_A}},
    "data item with snake ids": {
        "data": {"account_id": A.account_id, "publish_id": A.publish_id, "state": "done"},
    },
    "list of one": [item(A, "published", publicUrl=URL_A)],
    "data list of one": {"success": True, "data": [{"status": "published"}]},
    "data.results": {"data": {"results": [item(A, "published")]}},
    "map by publishId": {"data": {A.publish_id: {"status": "complete"}}},
    "map of status string": {A.publish_id: "posted"},
}


@pytest.mark.parametrize("shape", list(SINGLE_SHAPES))
def test_parse_single_shapes(shape: str) -> None:
    status = parse_single(SINGLE_SHAPES[shape], A, T)
    assert status.key == A.key
    assert status.state is State.PUBLISHED
    assert status.checked_at == T


def test_parse_single_item_error() -> None:
    body = {"success": True, "data": item(A, "failed", failure_reason=ERROR_B)}
    status = parse_single(body, A, T)
    assert status.state is State.FAILED
    assert status.error == ERROR_B


def test_parse_single_item_success_false() -> None:
    body = {"data": {"success": False, "error": {"message": "post not found", "code": 404}}}
    status = parse_single(body, A, T)
    assert status.state is State.UNKNOWN
    assert status.error == "post not found (404)"


def test_parse_single_other_post_in_a_list_is_not_returned() -> None:
    status = parse_single([item(B, "published"), item(C, "failed")], A, T)
    assert status.state is State.UNKNOWN
    assert status.error == NOT_RETURNED


@pytest.mark.parametrize(
    "body",
    [None, 42, "published", {}, {"success": True, "data": None}, {"data": 5}, {"foo": [1]}],
    ids=repr,
)
def test_parse_single_rejects_other_shapes(body: object) -> None:
    with pytest.raises(ResponseShapeError):
        parse_single(body, A, T)


def test_parse_single_rejects_a_string_data_like_parse_batch() -> None:
    body = {"success": True, "data": "OK"}
    with pytest.raises(ResponseShapeError):
        parse_batch(body, [A], T)
    with pytest.raises(ResponseShapeError):
        parse_single(body, A, T)


# ----- decode_json --------------------------------------------------------------------------


def test_decode_json_valid() -> None:
    assert decode_json(b'{"success": true, "data": [1, 2.5, null, "x"]}') == {
        "success": True,
        "data": [1, 2.5, None, "x"],
    }
    assert decode_json('"caf\u00e9"'.encode()) == "café"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   ",
        b'{"success": true, "data": [',
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        b"\xff\xfe\xfa\x00garbage",
        b'{"a": "\xff"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000,
        b"1" * 5000,  # over Python's int-digits limit
        b"{'single': 'quotes'}",
    ],
    ids=lambda c: repr(c[:20]),
)
def test_decode_json_malformed_is_a_shape_error(content: bytes) -> None:
    with pytest.raises(ResponseShapeError) as info:
        decode_json(content)
    message = str(info.value)
    assert "malformed JSON" in message
    assert len(message) < 300


# ----- an answer far larger than what was asked --------------------------------------------


def flooded(items: list[dict[str, Any]], size: int, envelope: bool = True) -> bytes:
    """The items, then `{}` up to about `size` bytes: `[{},{},...]` as a hostile API sends."""
    head = json.dumps(items, separators=(",", ":")).encode()[:-1]
    junk = b"," + b"{}," * (size // 3) + b"{}"
    body = head + junk + b"]"
    return b'{"success":true,"data":' + body + b"}" if envelope else body


def test_items_beyond_what_was_asked_are_dropped_while_parsing_not_after() -> None:
    """16 MiB of `[{},{},...]` once took serve to 1.3 GB: each empty item is a dict of 64
    bytes and more. Read for the posts asked, at most a few hundred values per post are
    parsed: the memory follows what was asked, not what came."""
    content = flooded(three_items(), 4 * 1024 * 1024)
    tracemalloc.start()
    try:
        result = parse_batch(decode_json(content, value_budget(len(POSTS))), POSTS, T)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_three(result)  # the real items, ahead of the junk, are all read
    assert peak < 512 * 1024, f"{peak:,} bytes to read an answer about {len(POSTS)} posts"


@pytest.mark.parametrize("envelope", [True, False])
def test_a_flooded_answer_is_cut_to_its_head_and_still_read(envelope: bool) -> None:
    content = flooded(three_items(), 300_000, envelope)
    decoded = decode_json(content, value_budget(3))
    items = decoded["data"] if isinstance(decoded, dict) else decoded
    assert isinstance(items, list)
    assert 3 < len(items) <= value_budget(3)
    assert items[:3] == three_items()
    assert (decoded["success"] is True) if isinstance(decoded, dict) else True


def test_commas_inside_texts_do_not_cut_a_small_answer() -> None:
    error = "a, b, c, " * 2000  # far more commas than a budget of 3 posts, all inside a text
    body = {"data": [item(A), item(B, "failed", error=error), item(C, "queued")]}
    content = json.dumps(body).encode()
    assert decode_json(content, value_budget(3)) == body


def test_nesting_past_any_answer_is_refused_without_reading_it() -> None:
    with pytest.raises(ResponseShapeError, match="unreadable response"):
        decode_json(b"[" * 5_000_000 + b"]" * 5_000_000, value_budget(3))


def in_order_body() -> dict[str, Any]:
    """The usual answer: A, B, C in the order asked, A's change time given."""
    return {
        "success": True,
        "data": [
            item(A, "published", publicUrl=URL_A, updatedAt="2026-12-01T09:00:00Z"),
            item(B, "failed", error=ERROR_B),
            item(C, "processing"),
        ],
    }


def test_an_answer_that_repeats_the_last_gives_back_the_same_statuses() -> None:
    first = parse_batch(in_order_body(), POSTS, T)
    again = parse_batch(in_order_body(), POSTS, T + 15, first)
    assert all(a is b for a, b in zip(again, first, strict=True))
    assert again[0].changed_at == first[0].changed_at is not None


def test_an_item_that_changed_in_any_field_is_read_again() -> None:
    first = parse_batch(in_order_body(), POSTS, T)
    last = {s.key: s for s in first}
    body = in_order_body()
    body["data"][0]["updatedAt"] = "2026-12-01T09:05:00Z"  # only the change time moved
    body["data"][1]["error"] = "the video is too long"
    again = parse_batch(body, POSTS, T + 15, first)
    assert again[0] is not last[A.key] and again[0].checked_at == T + 15
    assert again[0].changed_at == (last[A.key].changed_at or 0) + 300
    assert again[1].error == "the video is too long"
    assert again[2] is last[C.key]


def test_a_status_not_read_from_its_item_here_is_never_kept_for_an_equal_item() -> None:
    """A status restored from the store (or another process's answer) was not read by this
    parser: an equal item is read afresh, so what this version reads from it is shown."""
    body = in_order_body()
    stored = PostStatus(A.key, State.UNKNOWN, "published", None, None, T, body["data"][0])
    again = parse_batch(in_order_body(), POSTS, T + 15, [stored, None, None])
    assert again[0] is not stored
    assert again[0].state is State.PUBLISHED and again[0].public_url == URL_A


def test_a_last_list_of_the_wrong_length_is_refused() -> None:
    """`last` pairs with the requested posts by position: a list of another length is a bug
    in the caller, which would pair statuses with the wrong posts."""
    first = parse_batch(in_order_body(), POSTS, T)
    with pytest.raises(ValueError, match="one status"):
        parse_batch(in_order_body(), POSTS, T + 15, first[:2])


def test_a_post_asked_twice_gets_an_answer_each_time() -> None:
    body = {"data": [item(A, "published"), item(A, "published")]}
    got = parse_batch(body, [A, A], T)
    assert [s.key for s in got] == [A.key, A.key]
    assert all(s.state is State.PUBLISHED for s in got)
