"""serve --http with real processes: health, metrics against a board's counts, the posts API, the
binds and tokens it refuses, and tokens never written to a log.

`serve --http 127.0.0.1:0` runs as a child process on the simulator (in this process, over
loopback HTTP); boards are team engines on their own store connections. What only a bind
beyond loopback does (tokens to read, the page's cookie) is asked of the same application in
this process, served on loopback: no test opens a port beyond this machine.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.support.fixtures import FakeClock, until
from tests.support.pgserver import PgServer, pg_server
from tests.support.teamprocs import KEY, SERVE, WATCHLIST, child_env, engine_on, following, wait_for
from tests.support.webprocs import VIEW_TOKEN, WRITE_TOKEN, http_serve, metric_values, summed
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.store.backend import open_store
from wahdx_tui.core.store.protocol import Origin, scope_for
from wahdx_tui.core.watchlist.reader import load_watchlist
from wahdx_tui.serve.web.app import HttpSide
from wahdx_tui.serve.web.auth import COOKIE, Gate
from wahdx_tui.serve.web.config import HttpConfig, HttpToken
from wahdx_tui.serve.web.hostnames import LoopbackNames
from wahdx_tui.sim import SimConfig, SimServer

FILE_POSTS = load_watchlist(WATCHLIST).posts

__all__ = ["pg_server"]


@pytest.fixture
def sim() -> Iterator[SimServer]:
    watchlist = load_watchlist(WATCHLIST)
    extra = [WatchedPost("acc_extra", f"extra_{i}", "video", f"Extra {i}") for i in range(3)]
    config = SimConfig(posts=[*watchlist.posts, *extra], seed=7, api_key=KEY, clock=FakeClock())
    server = SimServer(config).start()
    server.advance(120)  # most posts past their first states; nothing moves unless advanced
    yield server
    server.stop()


def get(url: str, **kwargs: object) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]


# -- health -------------------------------------------------------------------------------------


def test_health_says_the_holder_its_pass_the_api_and_the_store(
    tmp_path: Path, sim: SimServer
) -> None:
    store = str(tmp_path / "team.sqlite3")
    with http_serve(tmp_path, sim, "--store", store) as (_, url):
        answer = get(f"{url}/healthz")
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "serving"
        assert body["role"] == "holder"
        assert body["lease"]["this_process"] is True
        assert body["api"]["state"] == "ok"
        assert body["store"]["reachable"] is True
        assert 0 <= body["seconds_since_last_complete_pass"] < 60
        with http_serve(tmp_path, sim, "--store", store, name="standby", polls=False) as (_, url2):
            wait_for(lambda: get(f"{url2}/healthz").json()["role"] == "standby", "a standby")
            second = get(f"{url2}/healthz").json()
            assert second["lease"]["this_process"] is False
            assert second["lease"]["holder_pid"] == body["lease"]["holder_pid"]


def test_health_is_503_while_the_store_is_unreachable_and_200_again_after(
    tmp_path: Path, sim: SimServer, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = pg_server.create_database()
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    database = pg_server.url(name, password=False)
    try:
        with http_serve(
            tmp_path, sim, "--store", database, env={"PGPASSWORD": pg_server.password}
        ) as (
            served,
            url,
        ):
            assert get(f"{url}/healthz").status_code == 200
            pg_server.stop("fast")
            try:
                wait_for(lambda: get(f"{url}/healthz").status_code == 503, "503", 60)
                body = get(f"{url}/healthz").json()
                assert body["status"] == "store unreachable"
                assert body["store"]["reachable"] is False
                assert pg_server.password not in served.text()
            finally:
                pg_server.start()
            wait_for(lambda: get(f"{url}/healthz").status_code == 200, "200 again", 60)
    finally:
        pg_server.drop_database(name)


# -- metrics ------------------------------------------------------------------------------------


async def test_metrics_equal_what_a_board_shows_acknowledgements_apart(
    tmp_path: Path, sim: SimServer
) -> None:
    store = str(tmp_path / "team.sqlite3")
    with http_serve(tmp_path, sim, "--store", store) as (_, url):
        board = engine_on(store, sim.base_url, key=None)
        async with following(board):

            def same() -> bool:
                text = get(f"{url}/metrics").text
                posts = metric_values(text, "wahdx_posts")
                counts = board.board.counts()
                return (
                    board.board.unreviewed > 0
                    and all(summed(posts, state=s.value) == counts[s] for s in State)
                    and summed(posts, state="failed", acknowledged="false")
                    == board.board.unreviewed
                )

            await until(same, "the metrics and the board to agree", tries=600, step=0.05)
            failed = next(k for k, r in board.board.rows.items() if r.unreviewed_failure)
            board.acknowledge(failed, "on it")
            await until(
                lambda: (
                    summed(
                        metric_values(get(f"{url}/metrics").text, "wahdx_posts"),
                        state="failed",
                        acknowledged="true",
                    )
                    == 1
                ),
                "the acknowledgement counted apart",
                tries=600,
                step=0.05,
            )
            assert metric_values(get(f"{url}/metrics").text, "wahdx_retired_posts") == {
                frozenset(): 0.0
            }
            with open_store(store) as direct:  # a post retired by hand: serve counts it
                direct.retire_watched(scope_for(sim.base_url), [failed], "test")
            await until(
                lambda: (
                    metric_values(get(f"{url}/metrics").text, "wahdx_retired_posts")
                    == {frozenset(): 1.0}
                ),
                "the retired post counted",
                tries=600,
                step=0.05,
            )
            text = get(f"{url}/metrics").text
    assert metric_values(text, "wahdx_lease_holder") == {frozenset(): 1.0}
    assert summed(metric_values(text, "wahdx_transitions_total"), to="failed") >= 1
    assert summed(metric_values(text, "wahdx_api_requests_total"), outcome="ok") >= 1
    assert metric_values(text, "wahdx_pass_duration_seconds_count")[frozenset()] >= 1
    assert metric_values(text, "wahdx_last_pass_timestamp_seconds")
    # Never a publish ID as a label: only these few labels, each with a few values.
    assert set(re.findall(r'(\w+)="', text)) == {
        "state",
        "platform",
        "acknowledged",
        "to",
        "outcome",
        "le",
    }
    assert not any(publish in text for _, publish in board.board.rows)


# -- the posts API ------------------------------------------------------------------------------


def test_posts_are_filtered_and_paged(tmp_path: Path, sim: SimServer) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "team.sqlite3")) as (_, url):
        every = get(f"{url}/api/v1/posts?limit=1000").json()
        assert every["total"] == 25 and len(every["posts"]) == 25  # serve's own list
        assert every["posts"][0]["state"] == "failed"  # failed first, as the board sorts
        failed = get(f"{url}/api/v1/posts?state=failed").json()
        assert failed["total"] >= 2
        assert {p["state"] for p in failed["posts"]} == {"failed"}
        account = failed["posts"][0]["accountId"]
        mine = get(f"{url}/api/v1/posts", params={"account": account}).json()
        assert {p["accountId"] for p in mine["posts"]} == {account}
        reason = failed["posts"][0]["reason"]
        by_reason = get(f"{url}/api/v1/posts", params={"reason": reason}).json()
        assert by_reason["total"] >= 1 and {p["reason"] for p in by_reason["posts"]} == {reason}
        unacked = get(f"{url}/api/v1/posts?acknowledged=false").json()
        assert unacked["total"] == failed["total"]
        pages: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = get(f"{url}/api/v1/posts?limit=5&offset={offset}").json()
            pages += [p["publishId"] for p in page["posts"]]
            offset = page["nextOffset"]
        assert pages == [p["publishId"] for p in every["posts"]]
        bad = get(f"{url}/api/v1/posts?state=sideways")
        assert bad.status_code == 400 and "state must be one of" in bad.json()["error"]
        assert get(f"{url}/api/v1/posts?limit=0").status_code == 400
        assert get(f"{url}/api/v1/posts?colour=red").status_code == 400


# -- binds and tokens ---------------------------------------------------------------------------


def run_serve(
    tmp_path: Path, sim: SimServer, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return subprocess.run(
        [*SERVE, str(WATCHLIST), "--store", str(tmp_path / "team.sqlite3"), *args],
        env=child_env(state, base_url=sim.base_url, key=KEY, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--http", "0.0.0.0:8080"], "reachable beyond this machine: set WAHDX_HTTP_VIEW_TOKEN"),
        (["--http", "[::]:8080"], "reachable beyond this machine"),
        (["--http", "8080:x"], "give HOST:PORT or a port from 1 to 65535"),
        (["--http", "::1:8080"], "put an IPv6 address in brackets"),
        (["--http", "999.1.1.1:8080"], "'999.1.1.1' is not an IP address (four numbers"),
        (["--http-token-file", "x"], "go with --http HOST:PORT"),
    ],
)
def test_bad_http_set_ups_are_one_error_line_and_exit_2(
    tmp_path: Path, sim: SimServer, args: list[str], said: str
) -> None:
    done = run_serve(tmp_path, sim, *args)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and said in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sim.stats.requests == 0  # refused before anything started


def test_a_token_file_must_be_owner_only_and_a_short_token_is_refused(
    tmp_path: Path, sim: SimServer
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(WRITE_TOKEN + "\n")
    token_file.chmod(0o644)
    done = run_serve(tmp_path, sim, "--http", "0", "--http-token-file", str(token_file))
    assert done.returncode == 2 and f"run: chmod 600 {token_file}" in done.stderr
    assert WRITE_TOKEN not in done.stderr
    done = run_serve(tmp_path, sim, "--http", "0", WAHDX_HTTP_TOKEN="short")
    assert done.returncode == 2 and "shorter than 16 characters" in done.stderr


def test_an_address_not_on_this_machine_is_one_error_line_about_the_host(
    tmp_path: Path, sim: SimServer
) -> None:
    # 192.0.2.1 is TEST-NET-1: never an address of this machine.
    env = {"WAHDX_HTTP_TOKEN": WRITE_TOKEN, "WAHDX_HTTP_VIEW_TOKEN": VIEW_TOKEN}
    done = run_serve(tmp_path, sim, "--http", "192.0.2.1:8080", **env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert line.startswith("error: cannot listen on 192.0.2.1:8080: ")
    assert line.endswith(
        "check the host of --http (an address of this machine, or a name that resolves)"
    )


def test_a_taken_port_is_one_error_line(tmp_path: Path, sim: SimServer) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "one.sqlite3")) as (_, url):
        port = url.rsplit(":", 1)[1]
        done = run_serve(tmp_path, sim, "--http", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"error: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "pick another --http port" in done.stderr
    assert "Traceback" not in done.stderr


def test_tokens_never_reach_a_log(tmp_path: Path, sim: SimServer) -> None:
    log = tmp_path / "debug.log"
    env = {"WAHDX_HTTP_TOKEN": WRITE_TOKEN, "WAHDX_HTTP_VIEW_TOKEN": VIEW_TOKEN}
    with http_serve(
        tmp_path, sim, "--store", str(tmp_path / "t.sqlite3"), "--log", str(log), env=env
    ) as (served, url):
        for token in (WRITE_TOKEN, VIEW_TOKEN, "wrong-token-0123456789"):
            get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
            get(f"{url}/?token={token}", follow_redirects=False)
            get(f"{url}/api/v1/posts?token={token}")
        assert get(f"{url}/healthz").status_code == 200
    for text in (served.text(), log.read_text()):
        assert WRITE_TOKEN not in text and VIEW_TOKEN not in text
        assert "wrong-token" not in text


def test_a_foreign_host_name_is_refused_on_a_loopback_bind(tmp_path: Path, sim: SimServer) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        # A page elsewhere whose name was pointed at 127.0.0.1 (DNS rebinding) reads nothing.
        assert get(f"{url}/api/v1/posts", headers={"Host": "evil.example:80"}).status_code == 421
        assert get(f"{url}/api/v1/posts", headers={"Host": "localhost"}).status_code == 200


def test_a_post_the_api_does_not_know_is_its_own_gauge(tmp_path: Path, sim: SimServer) -> None:
    """`wahdx_posts{state="unknown"}` also counts posts not checked yet, so an alert on it fires
    at every start; `wahdx_not_known_posts` counts only those the API answered about."""
    watchlist = tmp_path / "w.yaml"
    typo = "  - {accountId: acc_tiktok_main, publishId: v_pub_typo, mediaType: video}\n"
    watchlist.write_text(WATCHLIST.read_text().replace("posts:\n", "posts:\n" + typo, 1))
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3"), watchlist=watchlist) as (
        _,
        url,
    ):
        text = get(f"{url}/metrics").text
    assert metric_values(text, "wahdx_not_known_posts") == {
        **{frozenset({("platform", p)}): 0.0 for p in ("facebook", "instagram", "threads")},
        frozenset({("platform", "tiktok")}): 1.0,
    }
    assert summed(metric_values(text, "wahdx_posts"), state="unknown") == 1


async def test_a_host_name_lookup_that_hangs_holds_up_no_other_request(
    tmp_path: Path, sim: SimServer
) -> None:
    """Review: the Host check looked each name up on serve's own loop at every request, so a
    resolver that hung stalled every page, the metrics and the poller's passes with it."""
    release = threading.Event()
    asked: list[str] = []

    def resolver(name: str) -> bool:  # the system's, as a slow DNS would make it
        asked.append(name)
        if name == "slow.localhost":
            release.wait(60)
        return True

    engine = engine_on(str(tmp_path / "t.sqlite3"), sim.base_url, key=None)
    config = HttpConfig("127.0.0.1", 0)
    side = HttpSide(engine, config)
    side.gate = Gate(config, LoopbackNames(resolver))
    async with following(engine), TestClient(TestServer(side.application())) as client:
        slow = asyncio.ensure_future(
            client.get("/api/v1/posts", headers={"Host": "slow.localhost"})
        )
        await until(lambda: "slow.localhost" in asked, "the slow lookup under way")
        for host in ("127.0.0.1:8787", "localhost:8787", "LOCALHOST", "[::1]:8787"):
            answer = await client.get("/api/v1/posts", headers={"Host": host})
            assert answer.status == 200, host
        foreign = await client.get("/api/v1/posts", headers={"Host": "evil.example"})
        assert foreign.status == 421
        assert not slow.done()  # still waiting on its own lookup, alone
        assert asked == ["slow.localhost", "localhost"]  # a name is looked up once a minute
        release.set()
        assert (await slow).status == 200


# -- beyond loopback (the application in this process, served on loopback) ---------------------


@pytest.fixture
async def beyond(tmp_path: Path, sim: SimServer) -> AsyncIterator[TestClient[object, object]]:
    """The HTTP side as `serve --http 0.0.0.0:PORT` with both tokens builds it."""
    engine = engine_on(str(tmp_path / "t.sqlite3"), sim.base_url, key=None)
    config = HttpConfig("0.0.0.0", 0, HttpToken(WRITE_TOKEN), HttpToken(VIEW_TOKEN))
    side = HttpSide(engine, config)
    async with following(engine), TestClient(TestServer(side.application())) as client:
        yield client


async def test_beyond_loopback_every_read_needs_a_token(beyond: TestClient[object, object]) -> None:
    for path in ("/metrics", "/api/v1/posts", "/events"):
        refused = await beyond.get(path)
        assert refused.status == 401, path
        assert "Bearer" in refused.headers["WWW-Authenticate"]
        wrong = await beyond.get(path, headers={"Authorization": "Bearer nope-nope-nope-nope"})
        assert wrong.status == 401
    for token in (VIEW_TOKEN, WRITE_TOKEN):
        answer = await beyond.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 200
    health = await beyond.get("/healthz")  # a balancer's probe: the verdict alone
    assert health.status == 200 and await health.json() == {"status": "serving"}
    page = await beyond.get("/")  # the page itself holds no data
    assert page.status == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


async def test_the_page_token_becomes_a_cookie_and_leaves_the_address(
    beyond: TestClient[object, object],
) -> None:
    bad = await beyond.get("/?token=not-the-token-at-all", allow_redirects=False)
    assert bad.status == 401 and COOKIE not in bad.cookies
    answer = await beyond.get(f"/?token={VIEW_TOKEN}&state=failed", allow_redirects=False)
    assert answer.status == 303
    assert answer.headers["Location"] == "/?state=failed"  # the token is gone from the address
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert VIEW_TOKEN not in cookie
    posts = await beyond.get("/api/v1/posts")  # the client keeps the cookie, as a browser does
    assert posts.status == 200
    ingest = await beyond.post("/api/v1/watch", json={"checks": []})
    assert ingest.status == 401  # a cookie opens reads only


# -- ingest -------------------------------------------------------------------------------------

BEARER_WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def listed(store: str, sim: SimServer) -> dict[tuple[str, str], str]:
    """The team's watchlist in the store: {key: label}."""
    opened = open_store(store, readonly=True)
    try:
        return {p.key: p.post.label for p in opened.listed_posts(scope_for(sim.base_url))}
    finally:
        opened.close()


def batch(*ids: str, label: str = "") -> dict[str, object]:
    return {
        "checks": [
            {"accountId": "acc_http", "publishId": i, "mediaType": "video", "label": label or i}
            for i in ids
        ]
    }


def test_ingest_adds_with_the_write_token_only_and_again_changes_nothing(
    tmp_path: Path, sim: SimServer
) -> None:
    store = str(tmp_path / "t.sqlite3")
    env = {"WAHDX_HTTP_TOKEN": WRITE_TOKEN, "WAHDX_HTTP_VIEW_TOKEN": VIEW_TOKEN}
    with http_serve(tmp_path, sim, "--store", store, env=env) as (_, url):
        body = batch("h1", "h2", "h3")
        refused = httpx.post(f"{url}/api/v1/watch", json=body)
        assert refused.status_code == 401 and "write token" in refused.json()["error"]
        viewer = {"Authorization": f"Bearer {VIEW_TOKEN}"}
        assert httpx.post(f"{url}/api/v1/watch", json=body, headers=viewer).status_code == 401
        assert not any(k[0] == "acc_http" for k in listed(store, sim))
        done = httpx.post(f"{url}/api/v1/watch", json=body, headers=BEARER_WRITE)
        assert done.status_code == 200
        assert done.json() == {"added": 3, "updated": 0, "unchanged": 0}
        assert {k: v for k, v in listed(store, sim).items() if k[0] == "acc_http"} == {
            ("acc_http", "h1"): "h1",
            ("acc_http", "h2"): "h2",
            ("acc_http", "h3"): "h3",
        }
        again = httpx.post(f"{url}/api/v1/watch", json=body, headers=BEARER_WRITE).json()
        assert again == {"added": 0, "updated": 0, "unchanged": 3}
        relabelled = batch("h1", label="Launch teaser")
        assert httpx.post(f"{url}/api/v1/watch", json=relabelled, headers=BEARER_WRITE).json() == {
            "added": 0,
            "updated": 1,
            "unchanged": 0,
        }
        assert listed(store, sim)[("acc_http", "h1")] == "Launch teaser"
        gone = httpx.delete(f"{url}/api/v1/watch/acc_http/h2", headers=BEARER_WRITE)
        assert gone.status_code == 200 and gone.json() == {"removed": 1}
        assert httpx.delete(f"{url}/api/v1/watch/acc_http/h2", headers=BEARER_WRITE).json() == {
            "removed": 0
        }
        assert httpx.delete(f"{url}/api/v1/watch/acc_http/h3").status_code == 401
        assert ("acc_http", "h2") not in listed(store, sim)
        assert ("acc_http", "h3") in listed(store, sim)


def test_ingest_is_off_without_a_write_token(tmp_path: Path, sim: SimServer) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        refused = httpx.post(f"{url}/api/v1/watch", json=batch("h1"))
        assert refused.status_code == 401
        assert "writes are off: start serve with WAHDX_HTTP_TOKEN" in refused.json()["error"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"not json", "body: not valid JSON"),
        (b'{"checks": [{"accountId": "acc_http"}]}', "body: checks[0]: publishId is missing"),
        (
            b'{"checks": [{"accountId": "a", "publishId": "p1"}, {"accountId": "a", "publishId": 7}]}',
            "body: checks[1]: publishId must be a string",
        ),
        (b'{"checks": [{"accountId": "a", "publishId": "p", "colour": "red"}]}', "unknown key"),
        (b'{"checks": []}', "no posts"),
        (b'{"posts": []}', "unknown key"),
        (
            b'{"checks": [{"accountId": "a", "publishId": "p", "mediaType": "reel"}]}',
            "body: checks[0]:",
        ),
    ],
)
def test_a_bad_body_is_400_naming_the_item_and_adds_nothing(
    tmp_path: Path, sim: SimServer, body: bytes, said: str
) -> None:
    store = str(tmp_path / "t.sqlite3")
    env = {"WAHDX_HTTP_TOKEN": WRITE_TOKEN}
    with http_serve(tmp_path, sim, "--store", store, env=env) as (_, url):
        answer = httpx.post(
            f"{url}/api/v1/watch",
            content=body,
            headers={**BEARER_WRITE, "Content-Type": "application/json"},
        )
        assert answer.status_code == 400
        assert said in answer.json()["error"]
        assert not any(k[0] in ("a", "acc_http") for k in listed(store, sim))


def test_a_body_over_the_limit_is_413_and_adds_nothing(tmp_path: Path, sim: SimServer) -> None:
    store = str(tmp_path / "t.sqlite3")
    with http_serve(tmp_path, sim, "--store", store, env={"WAHDX_HTTP_TOKEN": WRITE_TOKEN}) as (
        _,
        url,
    ):
        huge = batch(*(f"p{i:07d}" for i in range(12_000)), label="x" * 60)
        answer = httpx.post(f"{url}/api/v1/watch", json=huge, headers=BEARER_WRITE, timeout=30)
        assert answer.status_code == 413
        assert "body larger than 1,024 KiB" in answer.json()["error"]
        assert not any(k[0] == "acc_http" for k in listed(store, sim))
        fits = batch(*(f"p{i:07d}" for i in range(1_000)))
        assert (
            httpx.post(f"{url}/api/v1/watch", json=fits, headers=BEARER_WRITE).json()["added"]
            == 1000
        )


def test_sigterm_with_a_page_streaming_stops_cleanly(tmp_path: Path, sim: SimServer) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (served, url):
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=30)) as client,
            client.stream("GET", f"{url}/events") as stream,
        ):
            lines = stream.iter_lines()
            assert next(lines) == "event: snapshot"
            served.proc.send_signal(signal.SIGTERM)
            rest = list(lines)  # the stream ends when serve stops, not at the read timeout
        assert served.proc.wait(20) == 0
        assert rest[0].startswith("data: ")
        assert served.says("stopped")


async def test_a_post_added_beside_serves_file_is_on_its_wall_and_in_its_metrics(
    tmp_path: Path, sim: SimServer
) -> None:
    """serve's file is one source of the team's watchlist: a post added with `add` is polled,
    and the wall and /metrics (read from serve's board) count it, as keyless boards do."""
    store = str(tmp_path / "team.sqlite3")
    with http_serve(tmp_path, sim, "--store", store) as (_, url):

        def total() -> float:
            return sum(metric_values(get(f"{url}/metrics").text, "wahdx_posts").values())

        await until(
            lambda: total() == len(FILE_POSTS), "serve's file counted", tries=600, step=0.05
        )
        with open_store(store) as direct:
            added = WatchedPost("acc_added_by_hand", "p_beside_the_file", label="by hand")
            direct.add_watched(scope_for(sim.base_url), [added], Origin("add", "ana@host"))
        await until(
            lambda: total() == len(FILE_POSTS) + 1, "the added post counted", tries=600, step=0.05
        )
        page = get(f"{url}/api/v1/posts?account=acc_added_by_hand").json()
    assert [p["publishId"] for p in page["posts"]] == ["p_beside_the_file"]
