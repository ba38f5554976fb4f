"""The shift-handoff report: what it lists, in which order, each format, and `wahdx-tui report`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wahdx_tui.cli as cli
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS, Category
from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.reports.handoff import (
    FIELDS,
    STUCK_HINT,
    HandoffItem,
    build_handoff,
    render_csv,
    render_json,
    render_markdown,
)
from wahdx_tui.core.store.protocol import scope_for
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.url import default_store_path
from wahdx_tui.core.watchlist.reader import Watchlist, parse_watchlist
from wahdx_tui.sim.faults import HOSTILE_PAYLOADS

WAHDX_TUI = Path(sys.executable).with_name("wahdx-tui")
BASE = "https://api.wahdx.com"
SCOPE = scope_for(BASE)
NOW = 1_700_000_000.0
MIN = 60.0
WATCHLIST = """
settings:
  interval: 15
posts:
  - {accountId: acc_tiktok_main, publishId: tok_expired, label: "Teaser | part 1"}
  - {accountId: acc_tiktok_main, publishId: acked, label: "=HYPERLINK(\\"http://evil\\")"}
  - {accountId: acc_ig_brand, publishId: hostile, mediaType: photo, label: "<b>Carousel</b>"}
  - {accountId: acc_ig_brand, publishId: long_queued, label: Queued forever}
  - {accountId: acc_ig_brand, publishId: short_processing, label: Processing a bit}
  - {accountId: acc_fb_page, publishId: long_processing, label: Processing forever}
  - {accountId: acc_fb_page, publishId: published, label: Done}
  - {accountId: acc_fb_page, publishId: fresh_queued, label: Just queued}
  - {accountId: acc_fb_page, publishId: never_seen, label: Not in history}
"""
HOSTILE_ERROR = (
    "internal error: ![x](https://t.example/p.png) pipe | break \x1b[31m<script>alert(1)</script>\u202e "
    + " ".join(HOSTILE_PAYLOADS[:10])
)


def key(publish: str) -> PostKey:
    account = {
        "tok_expired": "acc_tiktok_main",
        "acked": "acc_tiktok_main",
        "hostile": "acc_ig_brand",
        "long_queued": "acc_ig_brand",
        "short_processing": "acc_ig_brand",
    }.get(publish, "acc_fb_page")
    return (account, publish)


def fill(store: SqliteStore, now: float = NOW) -> None:
    def put(publish: str, state: State, ago: float, error: str | None = None) -> None:
        k = key(publish)
        store.record(
            SCOPE,
            [PostStatus(k, state, state.value.upper(), None, error, now - MIN)],
            [Transition(k, None, state, now - ago)],
        )

    put("tok_expired", State.FAILED, 50 * MIN, "access token expired: reconnect")
    put("acked", State.FAILED, 120 * MIN, "caption over 2200 characters")
    store.set_ack(SCOPE, key("acked"), "asked | Sam to shorten it", now - 100 * MIN)
    put("hostile", State.FAILED, 40 * MIN, HOSTILE_ERROR)
    put("long_queued", State.QUEUED, 90 * MIN)
    put("short_processing", State.PROCESSING, 10 * MIN)
    put("long_processing", State.PROCESSING, 20 * MIN)
    put("published", State.PUBLISHED, 200 * MIN)
    put("fresh_queued", State.QUEUED, 5 * MIN)
    # not in the watchlist: never reported
    store.record(
        SCOPE,
        [PostStatus(("other", "x"), State.FAILED, "FAILED", None, "boom", now)],
        [Transition(("other", "x"), None, State.FAILED, now - 500 * MIN)],
    )
    # another API: never reported
    store.record(
        scope_for("https://staging.wahdx.com"),
        [PostStatus(key("published"), State.FAILED, "FAILED", None, "x", now)],
        [Transition(key("published"), None, State.FAILED, now - 500 * MIN)],
    )


@pytest.fixture
def watchlist() -> Watchlist:
    return parse_watchlist(WATCHLIST)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "history.sqlite3")
    fill(s)
    return s


def test_build_orders_unreviewed_then_acked_then_stuck(
    store: SqliteStore, watchlist: Watchlist
) -> None:
    items = build_handoff(store, SCOPE, watchlist, NOW)
    assert [(i.post.publish_id, i.kind, i.acked) for i in items] == [
        ("tok_expired", "failed", False),  # oldest unreviewed failure first
        ("hostile", "failed", False),
        ("acked", "failed", True),
        ("long_queued", "stuck", False),  # queued 90 min > 30
        ("long_processing", "stuck", False),  # processing 20 min > 15
    ]
    first = items[0]
    assert first.category is Category.ACCOUNT and first.hint == HINTS[Category.ACCOUNT]
    assert first.since == NOW - 50 * MIN and first.state is State.FAILED
    assert first.error == "access token expired: reconnect"
    acked = items[2]
    assert acked.note == "asked | Sam to shorten it" and acked.category is Category.CAPTION
    stuck = items[3]
    assert stuck.state is State.QUEUED and stuck.hint == STUCK_HINT and stuck.note == ""


def test_stuck_thresholds_come_from_the_watchlist_settings(store: SqliteStore) -> None:
    tight = parse_watchlist(
        WATCHLIST.replace("interval: 15", "stuck_processing_minutes: 5\n  stuckQueuedMinutes: 120")
    )
    items = build_handoff(store, SCOPE, tight, NOW)
    stuck = [i.post.publish_id for i in items if i.kind == "stuck"]
    assert stuck == ["long_processing", "short_processing"]  # queued 90 min < 120


def test_a_new_failure_after_an_ack_is_unreviewed_again(
    store: SqliteStore, watchlist: Watchlist
) -> None:
    k = key("acked")
    store.record(
        SCOPE,
        [PostStatus(k, State.QUEUED, "QUEUED", None, None, NOW)],
        [Transition(k, State.FAILED, State.QUEUED, NOW - 3 * MIN)],
    )
    assert "acked" not in [i.post.publish_id for i in build_handoff(store, SCOPE, watchlist, NOW)]
    store.record(
        SCOPE,
        [PostStatus(k, State.FAILED, "FAILED", None, "too many hashtags", NOW)],
        [Transition(k, State.QUEUED, State.FAILED, NOW - 1 * MIN)],
    )
    items = build_handoff(store, SCOPE, watchlist, NOW)
    again = next(i for i in items if i.post.publish_id == "acked")
    assert not again.acked and again.note == ""
    assert [i.post.publish_id for i in items][:3] == ["tok_expired", "hostile", "acked"]


def _cells(row: str) -> list[str]:
    """Split a markdown table row on pipes that are not backslash-escaped."""
    assert row.startswith("| ") and row.endswith(" |")
    cells, cur, i = [], "", 1
    while i < len(row) - 1:
        c = row[i]
        if c == "\\":
            cur += row[i : i + 2]
            i += 2
            continue
        if c == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    cells.append(cur.strip())
    return cells


def _inert(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text
    assert not any(0x80 <= ord(c) < 0xA0 or (ord(c) < 0x20 and c != "\n") for c in text)
    assert not any(c in text for c in "\u202e\u2066\u200b\ufeff\u200f")


def test_markdown_report(store: SqliteStore, watchlist: Watchlist) -> None:
    items = build_handoff(store, SCOPE, watchlist, NOW)
    text = render_markdown(items, NOW, SCOPE)
    _inert(text)
    lines = text.splitlines()
    assert lines[0] == "# Shift handoff — 2023-11-14T22:13:20Z"
    assert f"API: {SCOPE}" in lines
    assert "**3 failed (2 unreviewed), 2 stuck**" in lines
    rows = [line for line in lines if line.startswith("| ")]
    header, body = rows[0], rows[1:]
    assert _cells(header) == [
        "State",
        "Label",
        "Account",
        "Publish ID",
        "Since",
        "Category",
        "Reason",
        "Ack note",
    ]
    assert len(body) == 5
    for row in body:  # every `|` in a value is escaped: always 8 cells
        assert len(_cells(row)) == 8, row
    first = _cells(body[0])
    assert first[:4] == ["FAILED", "Teaser \\| part 1", "acc_tiktok_main", "tok_expired"]
    assert first[4] == "2023-11-14T21:23:20Z (50m ago)"
    assert first[5] == "account"
    hostile = _cells(body[1])
    assert hostile[1] == "&lt;b&gt;Carousel&lt;/b&gt;"
    assert "pipe \\| break" in hostile[6] and "<script" not in hostile[6]
    assert "\\[link=https://evil.example/\\]click me" in hostile[6]
    assert not re.search(r"(?<!\\)[\[\]<>]", "".join(hostile))  # no links, images or HTML
    acked = _cells(body[2])
    assert acked[0] == "FAILED (acked)" and acked[7] == "asked \\| Sam to shorten it"
    assert _cells(body[3])[0] == "STUCK (queued)" and _cells(body[3])[5] == "stuck"
    assert _cells(body[4])[0] == "STUCK (processing)"
    # hints once per category present, and for stuck posts
    hints = [line for line in lines if line.startswith("- **")]
    assert hints == [
        f"- **{CATEGORY_LABELS[Category.ACCOUNT]}**: {HINTS[Category.ACCOUNT]}",
        f"- **{CATEGORY_LABELS[Category.PLATFORM]}**: {HINTS[Category.PLATFORM]}",
        f"- **{CATEGORY_LABELS[Category.CAPTION]}**: {HINTS[Category.CAPTION]}",
        f"- **stuck**: {STUCK_HINT}",
    ]


def test_markdown_escapes_backslashes_before_pipes() -> None:
    post = parse_watchlist("posts:\n  - {accountId: 'a\\', publishId: 'b\\|c'}").posts[0]
    item = HandoffItem(post, State.FAILED, "failed", NOW, "x\\|y", Category.UNKNOWN, "h", False, "")
    row = next(r for r in render_markdown([item], NOW, SCOPE).splitlines() if "FAILED" in r)
    cells = _cells(row)
    assert len(cells) == 8
    assert cells[2:4] == ["a\\\\", "b\\\\\\|c"]


def test_markdown_empty_report() -> None:
    text = render_markdown([], NOW, SCOPE)
    assert "**0 failed (0 unreviewed), 0 stuck**" in text
    assert "Nothing to hand over" in text and "| State" not in text
    missing = render_markdown([], NOW, SCOPE, history=False)
    assert "No history yet" in missing and "Nothing to hand over" not in missing


def test_csv_report(store: SqliteStore, watchlist: Watchlist) -> None:
    items = build_handoff(store, SCOPE, watchlist, NOW)
    text = render_csv(items)
    _inert(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(FIELDS)
    recs = [dict(zip(FIELDS, r, strict=True)) for r in rows[1:]]
    assert [r["publishId"] for r in recs] == [i.post.publish_id for i in items]
    assert recs[0]["since"] == "2023-11-14T21:23:20Z" and recs[0]["category"] == "account"
    assert recs[0]["acknowledged"] == "no" and recs[2]["acknowledged"] == "yes"
    assert recs[2]["label"].startswith("'=HYPERLINK")  # formula made inert
    assert recs[2]["note"] == "asked | Sam to shorten it"
    assert recs[3]["kind"] == "stuck" and recs[3]["state"] == "queued"
    assert recs[3]["stuck"] == "yes" and recs[0]["stuck"] == "no"
    assert render_csv([]) == ",".join(FIELDS) + "\n"


def test_json_report(store: SqliteStore, watchlist: Watchlist) -> None:
    items = build_handoff(store, SCOPE, watchlist, NOW)
    text = render_json(items)
    assert text.isascii()
    data = json.loads(text)
    assert [d["publishId"] for d in data] == [i.post.publish_id for i in items]
    assert data[0] == {
        "kind": "failed",
        "accountId": "acc_tiktok_main",
        "publishId": "tok_expired",
        "mediaType": None,
        "label": "Teaser | part 1",
        "state": "failed",
        "rawStatus": "FAILED",
        "publicUrl": None,
        "error": "access token expired: reconnect",
        "checkedAt": "2023-11-14T22:12:20Z",
        "since": "2023-11-14T21:23:20Z",
        "category": "account",
        "stuck": False,
        "acknowledged": False,
        "note": None,
        "hint": HINTS[Category.ACCOUNT],
    }
    assert data[1]["error"] == HOSTILE_ERROR  # kept exact, escaped by JSON
    assert render_json([]) == "[]\n"


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WAHDX_BASE_URL", raising=False)
    monkeypatch.delenv("WAHDX_API_KEY", raising=False)
    wl = tmp_path / "watchlist.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    return wl


def test_report_cli_from_the_default_store(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = default_store_path()
    assert str(path).startswith(str(env.parent / "xdg"))
    with SqliteStore(path) as s:
        fill(s, time.time())
    assert cli.main(["report", str(env)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("# Shift handoff — ") and "**3 failed (2 unreviewed), 2 stuck**" in out
    _inert(out)
    assert cli.main(["report", str(env), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["publishId"] for d in data][:3] == ["tok_expired", "hostile", "acked"]
    assert cli.main(["report", str(env), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 6
    # another API: only its own history (one post failed there)
    assert cli.main(["report", str(env), "--base-url", "https://staging.wahdx.com/"]) == 0
    out = capsys.readouterr().out
    assert "API: https://staging.wahdx.com\n" in out
    assert "**1 failed (1 unreviewed), 0 stuck**" in out and "| published |" in out


def test_report_cli_with_history_flag(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite3"
    with SqliteStore(elsewhere) as s:
        fill(s, time.time())
    assert cli.main(["report", str(env), "--history", str(elsewhere), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
    assert not default_store_path().exists()
    # the base URL may come in any spelling: same scope
    args = ["report", str(env), "--history", str(elsewhere), "--base-url", "HTTPS://API.WAHDX.COM/"]
    assert cli.main(args) == 0
    assert "3 failed" in capsys.readouterr().out


def test_report_cli_without_history_creates_nothing(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", str(env)]) == 0
    out, err = capsys.readouterr()
    assert "No history yet" in out and "0 failed" in out
    assert err.startswith("note: no history yet at ")
    assert not (tmp_path / "xdg").exists()
    missing = tmp_path / "missing" / "h.sqlite3"
    assert cli.main(["report", str(env), "--history", str(missing), "--format", "json"]) == 0
    assert capsys.readouterr().out == "[]\n"
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--base-url", "http://api.wahdx.com"], "refusing plain http://"),
        (["--base-url", "ftp://x"], "invalid base URL"),
        (["--history", "GARBAGE"], "not a SQLite database"),
    ],
)
def test_report_cli_bad_input_is_one_error_line(
    env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not sqlite\n" * 100)
    extra = [str(garbage) if e == "GARBAGE" else e for e in extra]
    assert cli.main(["report", str(env), *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]


def test_report_cli_bad_watchlist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wl = tmp_path / "bad.yaml"
    wl.write_text("posts: 3\n", encoding="utf-8")
    assert cli.main(["report", str(wl)]) == 2
    assert cli.main(["report", str(tmp_path / "nope.yaml")]) == 2
    errs = capsys.readouterr().err.strip().splitlines()
    assert len(errs) == 2 and all(re.match(r"error: .*(posts|no such file)", e) for e in errs)


def test_report_cli_bad_format(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["report", str(env), "--format", "xml"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_report_on_a_store_holding_another_apis_history_names_that_url(
    env: Path, tmp_path: Path
) -> None:
    """Not 'Nothing to hand over' and exit 0: this store was filled for another API."""
    other = scope_for("http://ops:s3cret-pw@127.0.0.1:40391/")
    db = tmp_path / "history.sqlite3"
    with SqliteStore(db) as s:
        k = key("tok_expired")
        s.record(other, [PostStatus(k, State.FAILED, "FAILED", None, "x", NOW)], [])
    proc = subprocess.run(
        [str(WAHDX_TUI), "report", str(env), "--history", str(db)],
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line == (
        f"error: the store {db} holds no history for {SCOPE}, but does for"
        " http://127.0.0.1:40391: pass --base-url http://127.0.0.1:40391 (or set"
        " WAHDX_BASE_URL) to report on it"
    )
    assert "s3cret" not in proc.stderr and "ops:" not in proc.stderr
    # With that URL, the report is there.
    proc = subprocess.run(
        [str(WAHDX_TUI), "report", str(env), "--history", str(db), "--base-url", other],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "**1 failed (1 unreviewed), 0 stuck**" in proc.stdout


def test_report_without_a_watchlist_covers_history_that_is_on_no_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store from before the team's list (or with its list not yet synced) holds failures on
    no list: `report` with no WATCHLIST said "Nothing to hand over" there, exit 0."""
    path = tmp_path / "h.sqlite3"
    key: PostKey = ("acc_tiktok_main", "v_pub_7315")
    scope = scope_for("https://api.wahdx.com")
    with SqliteStore(path) as store:
        failed = PostStatus(key, State.FAILED, "failed", None, "access token expired", 100.0)
        store.record(scope, [failed], [Transition(key, None, State.FAILED, 100.0)])
        assert store.listed_posts(scope) == []
    assert cli.main(["report", "--history", str(path), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["accountId"], r["publishId"], r["state"]) for r in records] == [
        ("acc_tiktok_main", "v_pub_7315", "failed")
    ]
