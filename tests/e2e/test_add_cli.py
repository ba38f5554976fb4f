"""`wahdx-tui add` and `remove` as real processes, on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import child_env
from wahdx_tui.core.domain.model import PostKey
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import ListedPost, scope_for

__all__ = ["pg_server"]

BASE_URL = "http://127.0.0.1:9/api"
SCOPE = scope_for(BASE_URL)
CLI = [sys.executable, "-m", "wahdx_tui"]


@dataclass
class Team:
    """Where `add` writes: the store's URL, and the environment of a process on a host."""

    url: str
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args, "--store", self.url],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def listed(self, *, retired: bool = False) -> dict[PostKey, ListedPost]:
        with open_store(self.url) as store:
            return {e.key: e for e in store.listed_posts(SCOPE, retired=retired)}


@pytest.fixture(params=["sqlite", "postgres"])
def team(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Team]:
    env = child_env(tmp_path / "state", base_url=BASE_URL)
    if request.param == "sqlite":
        yield Team(str(tmp_path / "team.sqlite3"), env)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("PGPASSWORD", server.password)  # for this process's own reads
    try:
        yield Team(server.url(name, password=False), {**env, "PGPASSWORD": server.password})
    finally:
        server.drop_database(name)


def said(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def test_add_one_post_then_again_updates_its_label_and_adds_no_row(team: Team) -> None:
    done = team.run("add", "acc_tiktok_main", "v_pub_1", "--media-type", "video", "--label", "A")
    assert done.returncode == 0, said(done)
    assert done.stdout.startswith("1 added, 0 updated, 0 unchanged on the team's watchlist")
    again = team.run("add", "acc_tiktok_main", "v_pub_1", "--label", "A")
    assert again.stdout.startswith("0 added, 0 updated, 1 unchanged")
    relabel = team.run("add", "acc_tiktok_main", "v_pub_1", "--label", "Teaser")
    assert relabel.stdout.startswith("0 added, 1 updated, 0 unchanged")
    entries = team.listed()
    assert list(entries) == [("acc_tiktok_main", "v_pub_1")]
    entry = entries[("acc_tiktok_main", "v_pub_1")]
    assert (entry.post.label, entry.post.media_type, entry.source) == ("Teaser", "video", "add")
    assert "@" in entry.added_by


CSV_CAMEL = "accountId,publishId,mediaType,label\nacc_a,p1,video,First\nacc_b,p2,,\n"
CSV_SNAKE = "label,publish_id,account_id\nFirst,p1,acc_a\n,p2,acc_b\n"
JSON_LINES = (
    '{"accountId": "acc_a", "publishId": "p1", "mediaType": "video", "label": "First"}\n'
    '{"account_id": "acc_b", "publish_id": "p2"}\n'
)
BATCH = json.dumps(
    {
        "checks": [
            {"accountId": "acc_a", "publishId": "p1", "mediaType": "video", "label": "First"},
            {"accountId": "acc_b", "publishId": "p2"},
        ]
    },
    indent=2,
)


@pytest.mark.parametrize(
    ("text", "from_stdin"),
    [(CSV_CAMEL, False), (CSV_SNAKE, True), (JSON_LINES, False), (BATCH, True)],
    ids=["csv", "csv-snake-stdin", "json-lines", "batch-body-stdin"],
)
def test_add_from_each_input_form(team: Team, tmp_path: Path, text: str, from_stdin: bool) -> None:
    if from_stdin:
        done = team.run("add", "--from", "-", stdin=text)
    else:
        path = tmp_path / "posts.in"
        path.write_text(text, encoding="utf-8")
        done = team.run("add", "--from", str(path))
    assert done.returncode == 0, said(done)
    assert done.stdout.startswith("2 added, 0 updated, 0 unchanged")
    entries = team.listed()
    assert list(entries) == [("acc_a", "p1"), ("acc_b", "p2")]
    first = entries[("acc_a", "p1")].post
    if text is not CSV_SNAKE:
        assert first.media_type == "video"
    assert first.label == "First"
    assert entries[("acc_a", "p1")].source.startswith("add --from ")
    again = team.run("add", "--from", "-", stdin=text)
    assert again.stdout.startswith("0 added, 0 updated, 2 unchanged"), said(again)
    assert len(team.listed()) == 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "accountId,publishId\nacc_a,p1\nacc_b,\n",
            "error: standard input line 3: publishId is empty: write the id",
        ),
        (
            "accountId,publishid\nacc_a,p1\n",
            "error: standard input line 1: unknown column 'publishid'",
        ),
        (
            '{"accountId": "acc_a", "publishId": "p1"}\n{"accountId": "acc_b", "publishId": 7}\n',
            "error: standard input line 2: publishId must be a string, got a number (7)",
        ),
        (
            '{"checks": [{"accountId": "acc_a", "publishId": "p1"},'
            ' {"accountId": "acc_b", "publishId": "p2", "mediaType": "gif"}]}',
            "error: standard input: checks[1]: unknown mediaType 'gif': use one of video, photo",
        ),
        ('{"checks": [{"accountId": "acc_a"', "error: standard input: not valid JSON"),
        ("", "error: standard input: no posts"),
    ],
    ids=["csv-empty-id", "csv-bad-column", "json-line-number", "batch-media", "cut", "empty"],
)
def test_bad_input_adds_nothing_and_says_where(team: Team, text: str, error: str) -> None:
    done = team.run("add", "--from", "-", stdin=text)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(error), done.stderr
    assert team.listed() == {}


def test_bad_arguments_are_one_line_and_exit_2(team: Team) -> None:
    for args in (
        ["add"],
        ["add", "acc_a"],
        ["add", "acc_a", "p1", "--from", "-"],
        ["add", "acc_a", " "],
        ["add", "--from", "/nonexistent/posts.csv"],
        ["add", "acc_a", "p1", "--media-type", "gif"],
    ):
        done = team.run(*args)
        assert done.returncode == 2, args
        assert len(done.stderr.splitlines()) == 1 and "error:" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert team.listed() == {}


def test_remove_takes_a_post_off_and_add_brings_it_back(team: Team) -> None:
    assert team.run("add", "--from", "-", stdin=CSV_CAMEL).returncode == 0
    done = team.run("remove", "acc_a", "p1")
    assert done.returncode == 0 and done.stdout.startswith("removed acc_a p1"), said(done)
    assert list(team.listed()) == [("acc_b", "p2")]
    again = team.run("remove", "acc_a", "p1")
    assert again.returncode == 0 and "not on the team's watchlist" in again.stdout
    back = team.run("add", "acc_a", "p1")
    assert back.stdout.startswith("1 added"), said(back)
    assert set(team.listed()) == {("acc_a", "p1"), ("acc_b", "p2")}
