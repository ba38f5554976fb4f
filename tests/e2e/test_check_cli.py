"""`wahdx-tui check` end to end against the simulated API: formats, order, exit codes, one-line
errors, no tracebacks, no key in any output, and inert hostile text."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wahdx_tui.cli as cli
from wahdx_tui.check import Trying
from wahdx_tui.core.api.client import ClientEvent, connect_trouble
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, categorize
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.sim.server import SPELLINGS

FIELDS = [
    "accountId",
    "publishId",
    "mediaType",
    "label",
    "state",
    "rawStatus",
    "publicUrl",
    "error",
    "checkedAt",
    "since",
    "category",
    "stuck",
    "acknowledged",
    "note",
]
ACCOUNTS = ("acc_tiktok_main", "acc_ig_brand", "acc_threads_news", "acc_fb_page")
FINAL = 100_000.0
WAHDX_TUI = Path(sys.executable).with_name("wahdx-tui")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
_CONTROLS = {chr(c) for c in range(0x20)} - {"\n"} | {chr(c) for c in range(0x7F, 0xA0)}
_BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}
FORBIDDEN = _CONTROLS | _BIDI | {"\u200b", "\ufeff"}


def make_posts(n: int) -> list[WatchedPost]:
    return [
        WatchedPost(
            ACCOUNTS[i % len(ACCOUNTS)],
            f"pub_{i:04d}",
            ("video", "photo", None)[i % 3],
            f"Campaign post {i}",
        )
        for i in range(n)
    ]


def write_watchlist(
    path: Path, posts: list[WatchedPost], settings: dict[str, int] | None = None
) -> str:
    lines = []
    if settings:
        lines.append("settings:")
        lines += [f"  {k}: {v}" for k, v in settings.items()]
    lines.append("posts:")
    for p in posts:
        lines.append(f"  - accountId: {json.dumps(p.account_id)}")
        lines.append(f"    publishId: {json.dumps(p.publish_id)}")
        if p.media_type:
            lines.append(f"    mediaType: {p.media_type}")
        if p.label:
            lines.append(f"    label: {json.dumps(p.label)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


class FrozenClock:
    def __call__(self) -> float:
        return 5_000.0


POSTS = make_posts(30)


def start_sim(faults: Faults | None = None) -> SimServer:
    sim = SimServer(SimConfig(posts=POSTS, clock=FrozenClock(), faults=faults or Faults()))
    sim.start()
    sim.advance(FINAL)
    return sim


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    server = start_sim()
    monkeypatch.setenv("WAHDX_API_KEY", server.api_key)
    monkeypatch.setenv("WAHDX_BASE_URL", server.base_url)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield server
    server.stop()


@pytest.fixture
def watchlist(tmp_path: Path) -> str:
    return write_watchlist(tmp_path / "watch.yaml", POSTS)


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str, out: str, *secrets: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for text in (err, out):
        assert "Traceback" not in text
        for secret in secrets:
            assert secret not in text
    return lines[0]


def truth_states(sim: SimServer, posts: list[WatchedPost]) -> list[State]:
    states = [sim.truth(p.key) for p in posts]
    assert all(s is not None for s in states)
    return states  # type: ignore[return-value]


# ----- formats ------------------------------------------------------------------------------


def test_json_output(sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, watchlist, "--format", "json")
    truths = truth_states(sim, POSTS)
    assert State.FAILED in truths  # the seed's schedule fails at least one post
    assert code == 1
    assert err == ""
    records = json.loads(out)
    assert [list(r) for r in records] == [FIELDS] * len(POSTS)
    assert [(r["accountId"], r["publishId"]) for r in records] == [p.key for p in POSTS]
    for post, truth, rec in zip(POSTS, truths, records, strict=True):
        timeline = sim.timeline(post.key)
        assert timeline is not None
        assert rec["state"] == truth.value
        assert rec["rawStatus"] == SPELLINGS["vendor"][truth]
        assert rec["mediaType"] == post.media_type
        assert rec["label"] == post.label
        assert ISO_Z.match(rec["checkedAt"])
        if truth is State.PUBLISHED:
            assert rec["publicUrl"] == timeline.public_url
            assert rec["error"] is None
        if truth is State.FAILED:
            assert rec["error"] == timeline.error
            assert rec["publicUrl"] is None
            assert rec["category"] == CATEGORY_LABELS[categorize(timeline.error)]
        else:
            assert rec["category"] is None
        assert rec["stuck"] is False  # nothing has waited long: the sim started a minute ago
        assert ISO_Z.match(rec["since"])
    assert sim.stats.batch_requests == 1
    assert sim.stats.single_requests == 0


def test_exit_0_when_no_post_failed(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fine = [
        p for p, s in zip(POSTS, truth_states(sim, POSTS), strict=True) if s is not State.FAILED
    ]
    path = write_watchlist(tmp_path / "fine.yaml", fine)
    code, out, err = run_main(capsys, path, "--format", "json")
    assert code == 0
    assert err == ""
    assert len(json.loads(out)) == len(fine)


def test_csv_output(sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, watchlist, "--format", "csv")
    assert code == 1
    assert err == ""
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == FIELDS
    assert [(r[0], r[1]) for r in rows[1:]] == [p.key for p in POSTS]
    assert [r[4] for r in rows[1:]] == [s.value for s in truth_states(sim, POSTS)]
    assert all(ISO_Z.match(r[8]) for r in rows[1:])


def test_table_output(sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, watchlist)
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["STATE", "LABEL", "ACCOUNT", "PUBLISH", "ID", "DETAIL"]
    assert "\x1b" not in out  # not a terminal: no colour
    truths = truth_states(sim, POSTS)
    body = lines[1 : 1 + len(POSTS)]
    for post, truth, line in zip(POSTS, truths, body, strict=True):
        assert truth.value.upper() in line
        assert post.label in line
        assert post.publish_id in line
        timeline = sim.timeline(post.key)
        assert timeline is not None
        if truth is State.FAILED:
            assert timeline.error is not None and timeline.error[:30] in line
        if truth is State.PUBLISHED:
            assert timeline.public_url is not None and timeline.public_url[:30] in line
    assert lines[-1].startswith(f"{len(POSTS)} posts:")
    assert "failed" in lines[-1]


def test_watchlist_settings_and_flags(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_watchlist(tmp_path / "s.yaml", POSTS, {"batch_size": 7})
    run_main(capsys, path, "--format", "json")
    assert sim.stats.batch_requests == 5  # ceil(30 / 7)
    sim.stats.reset()
    run_main(capsys, path, "--format", "json", "--batch-size", "10")
    assert sim.stats.batch_requests == 3  # the flag wins


def test_base_url_flag(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAHDX_BASE_URL", "https://api.wahdx.invalid")
    code, out, _ = run_main(capsys, watchlist, "--format", "json", "--base-url", sim.base_url)
    assert code == 1
    assert len(json.loads(out)) == len(POSTS)


def test_api_key_file(
    sim: SimServer,
    watchlist: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(sim.api_key + "\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("WAHDX_API_KEY")
    code, out, err = run_main(
        capsys, watchlist, "--format", "json", "--api-key-file", str(key_file)
    )
    assert code == 1
    assert sim.api_key not in out + err


def test_a_post_the_api_does_not_know_is_unknown_and_exit_1(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_watchlist(tmp_path / "u.yaml", [WatchedPost("acc_tiktok_main", "ghost")])
    code, out, err = run_main(capsys, path, "--format", "json")
    (record,) = json.loads(out)
    assert code == 1  # a typo in an ID is a problem to see, not good news
    assert record["state"] == "unknown"
    assert record["error"] == "post not found"
    assert err.startswith("warning: 1 of 1 posts are in no known state")
    assert "acc_tiktok_main / ghost: post not found" in err


# ----- exit 2: the run could not complete ---------------------------------------------------


def test_bad_watchlist_names_file_line_and_column(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "posts:\n  - accountId: acc_tiktok_main\n    publishId: p1\n  - accountId: acc_ig\n"
    )
    code, out, err = run_main(capsys, str(path))
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert re.match(rf"^error: {re.escape(str(path))}:4:\d+: ", line), line
    assert "publishId" in line
    assert sim.stats.requests == 0


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("posts:\n  - accountId: a\n    publishId: [x\n", r":\d+:\d+", "YAML"),
        ("posts:\n  - accountId: a\n    publishId: p\n    mediaType: reel\n", ":4:16", "mediaType"),
        ("posts:\n  - accountId: a\n    publishId: p\n    lable: x\n", ":4:5", "did you mean"),
        ("posts: []\n", r":1:\d+", "no posts"),
    ],
    ids=["yaml-syntax", "media-type", "unknown-key", "empty"],
)
def test_other_bad_watchlists(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
    words: str,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run_main(capsys, str(path))
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert re.match(rf"^error: {re.escape(str(path))}{where}: ", line), line
    assert words in line


def test_missing_watchlist_file(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "nope.yaml")
    code, out, err = run_main(capsys, path)
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert path in line and "no such file" in line


def test_no_key(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WAHDX_API_KEY")
    code, out, err = run_main(capsys, watchlist)
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert "WAHDX_API_KEY" in line
    assert out == ""
    assert sim.stats.requests == 0


def test_key_rejected(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "wx_wrong_key_5d1e0c"
    monkeypatch.setenv("WAHDX_API_KEY", wrong)
    code, out, err = run_main(capsys, watchlist, "--format", "json")
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key, wrong)
    assert "API key rejected" in line
    assert sim.stats.requests == 1  # no retries


def test_key_revoked(sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]) -> None:
    sim.faults.revoked = True
    code, out, err = run_main(capsys, watchlist)
    assert code == 2
    assert "API key rejected" in assert_one_error_line(err, out, sim.api_key)


def test_key_file_readable_by_others(
    sim: SimServer,
    watchlist: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(sim.api_key)
    key_file.chmod(0o644)
    code, out, err = run_main(capsys, watchlist, "--api-key-file", str(key_file))
    assert code == 2
    assert "chmod 600" in assert_one_error_line(err, out, sim.api_key)


def client_options_with(monkeypatch: pytest.MonkeyPatch, **changed: Any) -> None:
    """`check` makes its client's options from the settings as always, then with `changed`."""
    made = cli.client_options
    monkeypatch.setattr(
        cli, "client_options", lambda settings: dataclasses.replace(made(settings), **changed)
    )


def test_api_unreachable(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Same retries as production, shorter backoff so the test stays fast.
    client_options_with(monkeypatch, backoff_base=0.01)
    sim.stop()
    code, out, err = run_main(capsys, watchlist, "--format", "json")
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert "unreachable" in line
    assert "attempts" in line


def test_some_posts_not_checked_is_exit_2(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_options_with(monkeypatch, max_attempts=1, backoff_base=0.01)
    sim.faults.error_rate = 0.5
    sim.faults.seed = 0  # three of the six requests answer 500
    code, out, err = run_main(capsys, watchlist, "--format", "json", "--batch-size", "5")
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert re.match(r"^error: 15 of 30 posts could not be checked: HTTP 500", line), line
    records = json.loads(out)
    assert [(r["accountId"], r["publishId"]) for r in records] == [p.key for p in POSTS]
    unchecked = [r for r in records if r["error"] == "could not be checked"]
    assert len(unchecked) == 15
    assert all(r["state"] == "unknown" for r in unchecked)


@pytest.mark.parametrize("how", ["env", "flag"])
def test_plain_http_to_a_remote_host(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    argv = [watchlist]
    if how == "env":
        monkeypatch.setenv("WAHDX_BASE_URL", "http://api.wahdx.com")
    else:
        argv += ["--base-url", "http://api.wahdx.com"]
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    line = assert_one_error_line(err, out, sim.api_key)
    assert "api.wahdx.com" in line and "https://" in line
    assert out == ""


def test_base_url_httpx_rejects_is_one_line(
    sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(capsys, watchlist, "--base-url", "https://ex☃.com")
    assert code == 2
    assert_one_error_line(err, out, sim.api_key)


def test_non_ascii_key_is_one_line(
    sim: SimServer,
    watchlist: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAHDX_API_KEY", "wx_clé_secrète")
    code, out, err = run_main(capsys, watchlist)
    assert code == 2
    assert_one_error_line(err, out, "wx_clé_secrète")


# ----- hostile text -------------------------------------------------------------------------


@pytest.fixture
def hostile_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    server = start_sim(Faults(hostile=True))
    monkeypatch.setenv("WAHDX_API_KEY", server.api_key)
    monkeypatch.setenv("WAHDX_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_hostile_text_is_inert_in_table_and_csv(
    hostile_sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code, out, err = run_main(capsys, watchlist, "--format", fmt)
    # Statuses with escapes appended are not understood: unknown, said, and exit 1.
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith("warning: ") and "unrecognised status" in line
    bad = sorted({f"U+{ord(c):04X}" for c in out + err if c in FORBIDDEN})
    assert bad == []
    assert len(out.splitlines()) >= len(POSTS) + 1


def test_hostile_text_is_escaped_in_json(
    hostile_sim: SimServer, watchlist: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(capsys, watchlist, "--format", "json")
    assert not set(out) & FORBIDDEN
    assert out.isascii()
    records = json.loads(out)
    texts = "".join(
        (r["rawStatus"] or "") + (r["error"] or "") + (r["publicUrl"] or "") for r in records
    )
    assert "\x1b" in texts  # the raw values survive, escaped
    assert "\\u001b" in out
    assert code == (1 if any(r["state"] == "failed" for r in records) else 0)


# ----- the real console script --------------------------------------------------------------


def run_script(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert WAHDX_TUI.exists(), WAHDX_TUI
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    return subprocess.run(
        [str(WAHDX_TUI), "check", *argv],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_subprocess_json(sim: SimServer, watchlist: str) -> None:
    env = {"WAHDX_API_KEY": sim.api_key, "WAHDX_BASE_URL": sim.base_url}
    proc = run_script(watchlist, "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    records = json.loads(proc.stdout)
    assert [list(r) for r in records] == [FIELDS] * len(POSTS)
    assert [r["state"] for r in records] == [s.value for s in truth_states(sim, POSTS)]
    assert sim.api_key not in proc.stdout


def test_subprocess_a_mistyped_account_is_exit_1_and_said(tmp_path: Path) -> None:
    """Every post published, one account mistyped: not a clean bill of health."""
    posts = make_posts(6)
    with SimServer(SimConfig(posts=posts, clock=FrozenClock())) as server:
        server.advance(FINAL)
        typo = [*posts[:5], WatchedPost("acc_tiktok_mian", posts[5].publish_id)]
        path = write_watchlist(tmp_path / "typo.yaml", typo)
        env = {"WAHDX_API_KEY": server.api_key, "WAHDX_BASE_URL": server.base_url}
        proc = run_script(path, "--format", "csv", env=env)
        known = [server.truth(p.key) for p in posts[:5]]
    assert State.FAILED not in known
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("warning: 1 of 6 posts are in no known state")
    assert "acc_tiktok_mian / pub_0005: post not found" in line
    assert "check their accountId and publishId" in line
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["state"] for r in rows][-1] == "unknown"


def test_subprocess_posts_left_out_of_the_answer_are_exit_1(tmp_path: Path) -> None:
    posts = make_posts(6)
    path = write_watchlist(tmp_path / "w.yaml", posts)
    faults = Faults(missing_rate=0.5, seed=3)
    with SimServer(SimConfig(posts=posts, clock=FrozenClock(), faults=faults)) as server:
        server.advance(FINAL)
        known = [server.truth(p.key) for p in posts]
        env = {"WAHDX_API_KEY": server.api_key, "WAHDX_BASE_URL": server.base_url}
        proc = run_script(path, "--format", "json", env=env)
    assert State.FAILED not in known
    left_out = [r for r in json.loads(proc.stdout) if r["state"] == "unknown"]
    assert left_out, "the seed should leave posts out"
    assert proc.returncode == 1, proc.stderr
    assert f"warning: {len(left_out)} of 6 posts are in no known state" in proc.stderr


def test_subprocess_key_rejected(sim: SimServer, watchlist: str) -> None:
    wrong = "wx_wrong_subprocess_key"
    proc = run_script(watchlist, env={"WAHDX_API_KEY": wrong, "WAHDX_BASE_URL": sim.base_url})
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr, proc.stdout, wrong, sim.api_key)
    assert "API key rejected" in line


def test_subprocess_a_fifo_for_a_watchlist_is_one_error_line(
    sim: SimServer, tmp_path: Path
) -> None:
    """It hung until something wrote to the FIFO; now it is refused unopened for reading."""
    fifo = tmp_path / "watch.yaml"
    os.mkfifo(fifo)
    proc = run_script(str(fifo), env={"WAHDX_API_KEY": sim.api_key, "WAHDX_BASE_URL": sim.base_url})
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr, proc.stdout, sim.api_key)
    assert line == f"error: {fifo}: is a FIFO (named pipe): give the path of a watchlist .yaml file"


def test_subprocess_no_key(sim: SimServer, watchlist: str) -> None:
    proc = run_script(watchlist, "--format", "csv", env={"WAHDX_BASE_URL": sim.base_url})
    assert proc.returncode == 2
    assert "WAHDX_API_KEY" in assert_one_error_line(proc.stderr, proc.stdout, sim.api_key)
    assert proc.stdout == ""


def test_subprocess_hostile_table(hostile_sim: SimServer, watchlist: str) -> None:
    env = {"WAHDX_API_KEY": hostile_sim.api_key, "WAHDX_BASE_URL": hostile_sim.base_url}
    proc = run_script(watchlist, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    assert not set(proc.stdout) & FORBIDDEN
    assert "Traceback" not in proc.stderr


# ----- each error says what happened, and what to do about it -------------------------------


def test_subprocess_rate_limited_says_wait_or_lower_concurrency(watchlist: str) -> None:
    # Every request answered 429, asking for longer than the client waits: it gives up at once.
    server = start_sim(Faults(burst_429_every=1, retry_after=600))
    try:
        env = {"WAHDX_API_KEY": server.api_key, "WAHDX_BASE_URL": server.base_url}
        proc = run_script(watchlist, "--format", "json", env=env)
    finally:
        server.stop()
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr, proc.stdout, server.api_key)
    assert line.startswith(f"error: API rate limited at {server.base_url}: rate limited")
    assert "lower `concurrency`" in line
    assert "unreachable" not in line and "check the base URL" not in line
    assert proc.stdout == ""


def test_subprocess_404_says_check_the_base_url(sim: SimServer, watchlist: str) -> None:
    wrong = f"{sim.base_url}/v2"
    proc = run_script(watchlist, env={"WAHDX_API_KEY": sim.api_key, "WAHDX_BASE_URL": wrong})
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr, proc.stdout, sim.api_key)
    assert line.startswith(f"error: no Wahdx API at {wrong}: HTTP 404")
    assert "check the base URL" in line
    assert "unreachable" not in line


def test_subprocess_refused_says_it_is_trying_in_a_terminal_and_to_check_the_host(
    watchlist: str, tmp_path: Path
) -> None:
    """Nothing listens on the port: a terminal hears at once that check is trying again, then
    one error line saying so; stdout (here JSON) stays empty."""
    closed = start_sim()
    url = closed.base_url
    closed.stop()
    primary, secondary = pty.openpty()
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    with subprocess.Popen(
        [str(WAHDX_TUI), "check", watchlist, "--format", "json"],
        env={**base, "WAHDX_API_KEY": "wx_test", "WAHDX_BASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    ) as proc:
        os.close(secondary)
        said = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal's other end closed: the process is done with it
                break
            if not chunk:
                break
            said += chunk
        out = proc.stdout.read() if proc.stdout else ""
        code = proc.wait(timeout=60)
    os.close(primary)
    lines = said.decode().splitlines()
    assert code == 2
    assert out == ""
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"still trying {url}: cannot connect: connection refused; retry 1")
    assert lines[1].startswith(f"error: API unreachable at {url}: cannot connect:")
    assert "nothing listens there: check the host and port of the base URL" in lines[1]


@pytest.mark.parametrize(
    ("text", "said", "trouble"),
    [
        ("[Errno 111] Connect call failed ('127.0.0.1', 9)", "connection refused", "refused"),
        ("[Errno -2] Name or service not known", "host name not found", "no_host"),
        ("[Errno -3] Temporary failure in name resolution", "host name not found", "no_host"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "TLS", "tls"),
        ("[Errno 101] Network is unreachable", "network unreachable", "unreachable"),
    ],
)
def test_a_failed_connection_is_named_for_what_it_is(text: str, said: str, trouble: str) -> None:
    reason, kind = connect_trouble(OSError(text))
    assert reason.startswith("cannot connect") and said in reason
    assert kind == trouble


def test_trying_is_said_once_and_in_a_log_only_when_it_lasts() -> None:
    lines: list[str] = []
    trying = Trying(lines.append, "http://x", at_first_retry=False, after=5.0)
    trying.event(ClientEvent("retry", "HTTP 503\x1b[2J; retry 1 in 0.5 s", 0.5))
    assert lines == []  # a log hears of it only if no answer comes within `after`
    trying.tell()
    trying.tell()
    assert lines == ["still trying http://x: HTTP 503; retry 1 in 0.5 s…"]


def test_every_option_of_every_command_says_what_it_does() -> None:
    """`--help` explains every flag: none is said nowhere (demo --seed, report --format, the
    simulator's fault knobs were)."""
    parser = cli.build_parser()
    missing: list[str] = []

    def look(name: str, p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    look(f"{name} {sub}".strip(), subparser)
            elif action.option_strings and not action.help:
                missing.append(f"{name} {action.option_strings[0]}")

    look("", parser)
    assert missing == []
