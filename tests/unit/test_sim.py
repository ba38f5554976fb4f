"""The simulated Wahdx API: timelines, endpoints, shapes, auth, faults, lifecycle and CLI."""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fixtures import FakeClock
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.sim.command import add_sim_arguments, run_sim
from wahdx_tui.sim.faults import HOSTILE_PAYLOADS
from wahdx_tui.sim.schedule import (
    Timeline,
    head_start_for,
    last_transition_at,
    platform_of,
    public_url_for,
    state_at,
    timeline_for,
)

BATCH = "/api/content/status/batch"
FAR = 10_000.0
PLATFORMS = ("tiktok_acme", "ig_acme", "threads_acme", "fb_acme", "instagram.brand")


def make_posts(n: int = 40) -> list[WatchedPost]:
    return [
        WatchedPost(PLATFORMS[i % len(PLATFORMS)], f"p{i:04d}", "photo" if i % 3 == 0 else "video")
        for i in range(n)
    ]


def checks_for(posts: list[WatchedPost]) -> dict[str, Any]:
    return {
        "checks": [
            {"accountId": p.account_id, "publishId": p.publish_id, "mediaType": p.media_type}
            for p in posts
        ]
    }


@pytest.fixture
def posts() -> list[WatchedPost]:
    return make_posts()


@pytest.fixture
def sim(posts: list[WatchedPost]) -> Iterator[SimServer]:
    with SimServer(SimConfig(posts=posts, api_key="sim_test_key")) as server:
        yield server
    assert server.last_error is None


@pytest.fixture
def client(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers={"X-API-Key": sim.api_key}, timeout=5.0) as c:
        yield c


def results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    items: list[dict[str, Any]] = body["data"]["results"]
    return items


# ----- schedule ------------------------------------------------------------------------------


def test_timelines_are_deterministic_per_seed() -> None:
    keys = [(f"tiktok_{i}", f"pub{i}") for i in range(200)]
    first = [timeline_for(7, k, "video") for k in keys]
    assert first == [timeline_for(7, k, "video") for k in keys]
    assert first != [timeline_for(8, k, "video") for k in keys]
    assert [head_start_for(7, k) for k in keys] == [head_start_for(7, k) for k in keys]


def test_timeline_pacing_and_outcome_mix() -> None:
    tls = [timeline_for(1, (f"acct{i}", f"pub{i}"), None) for i in range(4000)]
    assert all(3.0 <= t.queued_for <= 40.0 for t in tls)
    assert all(5.0 <= t.processing_for <= 90.0 for t in tls)
    share = {s: sum(t.outcome is s for t in tls) / len(tls) for s in State}
    assert 0.11 < share[State.FAILED] < 0.19
    assert 0.02 < share[State.QUEUED] + share[State.PROCESSING] < 0.06
    for t in tls:
        assert (t.error is not None) == (t.outcome is State.FAILED)
        assert (t.public_url is not None) == (t.outcome is State.PUBLISHED)
    errors = {t.error for t in tls if t.error}
    assert len(errors) > 8


def test_head_starts_make_some_posts_final_at_once() -> None:
    keys = [(PLATFORMS[i % 5], f"h{i}") for i in range(500)]
    heads = [head_start_for(7, k) for k in keys]
    assert all(0.0 <= h <= 120.0 for h in heads)
    final = sum(
        state_at(timeline_for(7, k, None), h).is_final for k, h in zip(keys, heads, strict=True)
    )
    assert 0.05 * len(keys) < final < 0.5 * len(keys)


def test_state_at_walks_queued_processing_final() -> None:
    t = Timeline(10.0, 20.0, State.PUBLISHED, None, "https://x")
    assert [state_at(t, e) for e in (0, 9.9, 10, 29.9, 30, 1e9)] == [
        State.QUEUED,
        State.QUEUED,
        State.PROCESSING,
        State.PROCESSING,
        State.PUBLISHED,
        State.PUBLISHED,
    ]
    assert last_transition_at(t, 5) == 0.0
    assert last_transition_at(t, 15) == 10.0
    assert last_transition_at(t, 50) == 30.0
    stuck_q = Timeline(1.0, 1.0, State.QUEUED, None, None)
    stuck_p = Timeline(1.0, 1.0, State.PROCESSING, None, None)
    assert state_at(stuck_q, 1e9) is State.QUEUED
    assert state_at(stuck_p, 0.5) is State.QUEUED
    assert state_at(stuck_p, 1e9) is State.PROCESSING


def test_public_urls_per_platform() -> None:
    assert public_url_for(("tiktok_acme", "v1"), "video") == "https://www.tiktok.com/@acme/video/v1"
    assert public_url_for(("tiktok_acme", "v1"), "photo") == "https://www.tiktok.com/@acme/photo/v1"
    assert public_url_for(("ig_acme", "m1"), None) == "https://www.instagram.com/p/m1/"
    assert public_url_for(("instagram-x", "m1"), None) == "https://www.instagram.com/p/m1/"
    assert public_url_for(("threads_acme", "t1"), None) == "https://www.threads.net/@acme/post/t1"
    assert public_url_for(("fb_acme", "f1"), None) == "https://www.facebook.com/acme/posts/f1"
    assert public_url_for(("facebook.page", "f/1"), None).endswith("/posts/f%2F1")
    assert platform_of("bigbrand") == "tiktok"
    assert platform_of("ig-shop") == "instagram"


# ----- endpoints -----------------------------------------------------------------------------


def test_batch_answers_every_field(
    sim: SimServer, client: httpx.Client, posts: list[WatchedPost]
) -> None:
    sim.advance(FAR)
    items = results(client.post(BATCH, json=checks_for(posts)))
    assert [(i["accountId"], i["publishId"]) for i in items] == [p.key for p in posts]
    for item, post in zip(items, posts, strict=True):
        assert item["mediaType"] == post.media_type
        assert item["status"] in ("Queued", "Processing", "Published", "Failed")
        assert item["status"].lower() == sim.truth(post.key)
        assert item["updatedAt"].endswith("Z")
        assert ("publicUrl" in item) == (item["status"] == "Published")
        assert ("error" in item) == (item["status"] == "Failed")
    assert any(i["status"] == "Published" for i in items)
    assert any(i["status"] == "Failed" for i in items)


def test_states_progress_over_sim_time() -> None:
    with SimServer(SimConfig(posts=None, seed=3)) as sim:
        key = next(
            k
            for k in ((f"tiktok_a{i}", f"x{i}") for i in range(100))
            if timeline_for(3, k, "video").outcome is State.PUBLISHED
        )
        tl = timeline_for(3, key, "video")
        url = f"/api/content/status/{key[0]}/{key[1]}?mediaType=video"
        with httpx.Client(base_url=sim.base_url, headers={"X-API-Key": sim.api_key}) as c:
            seen = [c.get(url).json()["data"]["status"]]
            sim.advance(tl.queued_for + 0.5)
            seen.append(c.get(url).json()["data"]["status"])
            sim.advance(tl.processing_for)
            final = c.get(url).json()["data"]
        seen.append(final["status"])
        assert seen == ["Queued", "Processing", "Published"]
        assert final["publicUrl"] == tl.public_url
        assert sim.truth(key) is State.PUBLISHED


def test_injected_clock_and_speed_drive_sim_time() -> None:
    clock = FakeClock()
    cfg = SimConfig(posts=None, speed=10.0, clock=clock)
    with SimServer(cfg) as sim:
        key = ("tiktok_z", "z1")
        assert sim.truth(key) is State.QUEUED
        clock.now += 100.0  # 1000 sim seconds
        assert sim.truth(key) in (State.PUBLISHED, State.FAILED, State.QUEUED, State.PROCESSING)
        tl = sim.timeline(key)
        assert tl is not None
        assert sim.truth(key) is state_at(tl, 1000.0)


def test_single_endpoint_decodes_path_and_media_type(client: httpx.Client) -> None:
    with SimServer(SimConfig(posts=None, api_key="k")) as open_sim:
        r = httpx.get(
            f"{open_sim.base_url}/api/content/status/tiktok%2Facme/id%20one?mediaType=photo",
            headers={"X-API-Key": "k"},
        )
        data = r.json()["data"]
        assert (data["accountId"], data["publishId"], data["mediaType"]) == (
            "tiktok/acme",
            "id one",
            "photo",
        )
        assert open_sim.truth(("tiktok/acme", "id one")) is not None
    r = client.get("/api/content/status/tiktok_acme/p0000")
    assert r.status_code == 200
    assert r.json()["success"] is True
    assert r.json()["data"]["publishId"] == "p0000"


def test_unknown_posts(client: httpx.Client, sim: SimServer) -> None:
    r = client.get("/api/content/status/nobody/nothing")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": "post not found"}
    body = {
        "checks": [
            {"accountId": "nobody", "publishId": "x"},
            {"accountId": PLATFORMS[0], "publishId": "p0000"},
        ]
    }
    items = results(client.post(BATCH, json=body))
    assert items[0] == {
        "accountId": "nobody",
        "publishId": "x",
        "success": False,
        "error": "post not found",
    }
    assert "status" in items[1]
    assert sim.truth(("nobody", "x")) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", BATCH),
        ("POST", "/api/content/status/a/b"),
        ("DELETE", BATCH),
        ("GET", "/api/content/status/a"),
    ],
)
def test_anything_else_is_404_json(client: httpx.Client, method: str, path: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json()["success"] is False


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "invalid JSON"),
        (b"[]", "checks"),
        (b'{"checks": {}}', "checks"),
        (b'{"checks": [{"accountId": "a"}]}', "publishId"),
        (b'{"checks": [1]}', "object"),
    ],
)
def test_bad_batch_bodies_answer_400(client: httpx.Client, content: bytes, fragment: str) -> None:
    r = client.post(BATCH, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False
    assert fragment in body["error"]


def test_chunked_request_body(client: httpx.Client, posts: list[WatchedPost]) -> None:
    payload = json.dumps(checks_for(posts[:3])).encode()
    r = client.post(BATCH, content=iter([payload[:10], payload[10:]]))
    assert len(results(r)) == 3


# ----- shapes and spellings ------------------------------------------------------------------


def _run_shape(shape: str, spelling: str = "vendor") -> tuple[SimServer, httpx.Response]:
    posts = make_posts(12)
    sim = SimServer(SimConfig(posts=posts, shape=shape, spelling=spelling)).start()
    sim.advance(FAR)
    r = httpx.post(sim.base_url + BATCH, json=checks_for(posts), headers={"X-API-Key": sim.api_key})
    sim.stop()
    assert r.status_code == 200
    return sim, r


def test_shape_flat() -> None:
    _, r = _run_shape("flat")
    body = r.json()
    assert isinstance(body, list)
    assert len(body) == 12
    assert {"accountId", "publishId", "status"} <= set(body[0])


def test_shape_keyed() -> None:
    _, r = _run_shape("keyed")
    body = r.json()
    assert body["success"] is True
    assert sorted(body["data"]) == [f"p{i:04d}" for i in range(12)]
    assert body["data"]["p0001"]["publishId"] == "p0001"


def test_shape_statuses_uses_snake_case() -> None:
    sim, r = _run_shape("statuses")
    items = r.json()["statuses"]
    assert len(items) == 12
    for item in items:
        assert {"account_id", "publish_id", "state", "updated_at"} <= set(item)
        assert "accountId" not in item
        code = item["state"]["code"]
        assert code.lower() == sim.truth((item["account_id"], item["publish_id"]))
        assert ("post_url" in item) == (code == "Published")
        assert ("fail_reason" in item) == (code == "Failed")


def test_shape_envelope_is_default() -> None:
    _, r = _run_shape("envelope")
    assert len(r.json()["data"]["results"]) == 12


@pytest.mark.parametrize("shape", ["envelope", "flat", "keyed", "statuses"])
def test_every_shape_reads_back_through_the_client_parser(shape: str) -> None:
    from wahdx_tui.core.api.normalise import parse_batch

    sim, r = _run_shape(shape)
    posts = make_posts(12)
    parsed = parse_batch(r.json(), posts, 0.0)
    assert [s.state for s in parsed] == [sim.truth(p.key) for p in posts]


def test_tiktok_spelling() -> None:
    sim, r = _run_shape("envelope", "tiktok")
    names = {
        State.QUEUED: "PENDING",
        State.PROCESSING: "PROCESSING_UPLOAD",
        State.PUBLISHED: "PUBLISH_COMPLETE",
        State.FAILED: "FAILED",
    }
    for item in r.json()["data"]["results"]:
        truth = sim.truth((item["accountId"], item["publishId"]))
        assert truth is not None
        assert item["status"] == names[truth]
    clock = FakeClock()
    with SimServer(SimConfig(posts=None, spelling="tiktok", clock=clock)) as early:
        r = httpx.get(
            early.base_url + "/api/content/status/tiktok_a/b", headers={"X-API-Key": early.api_key}
        )
        assert r.json()["data"]["status"] == "PENDING"


def test_bad_shape_or_spelling_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        SimServer(SimConfig(shape="nested"))
    with pytest.raises(ValueError, match="spelling"):
        SimServer(SimConfig(spelling="klingon"))


# ----- auth ----------------------------------------------------------------------------------


def test_auth_missing_wrong_and_revoked(sim: SimServer, client: httpx.Client) -> None:
    url = sim.base_url + "/api/content/status/tiktok_acme/p0000"
    expected = {"success": False, "error": "invalid API key"}
    missing = httpx.get(url)
    wrong = httpx.get(url, headers={"X-API-Key": "sim_wrong"})
    odd = httpx.get(url, headers={b"X-API-Key": "sim_tést".encode()})
    assert (missing.status_code, missing.json()) == (401, expected)
    assert (wrong.status_code, wrong.json()) == (401, expected)
    assert odd.status_code == 401
    assert client.get(url).status_code == 200
    sim.faults.revoked = True
    r = client.get(url)
    assert (r.status_code, r.json()) == (401, expected)
    sim.faults.revoked = False
    assert client.get(url).status_code == 200


def test_generated_key_is_sim_prefixed() -> None:
    a, b = SimServer(), SimServer()
    assert a.api_key not in repr(a.config)
    assert a.api_key not in repr(a)
    assert a.api_key.startswith("sim_")
    assert len(a.api_key) == 4 + 24
    assert a.api_key != b.api_key


# ----- faults --------------------------------------------------------------------------------


def _codes(faults: Faults, n: int) -> list[int]:
    with SimServer(SimConfig(posts=make_posts(5), faults=faults)) as sim:
        url = sim.base_url + "/api/content/status/tiktok_acme/p0000"
        with httpx.Client(headers={"X-API-Key": sim.api_key}) as c:
            return [c.get(url).status_code for _ in range(n)]


def test_error_rate_is_seeded_and_reproducible() -> None:
    first = _codes(Faults(error_rate=0.5, seed=11), 60)
    assert first == _codes(Faults(error_rate=0.5, seed=11), 60)
    assert first != _codes(Faults(error_rate=0.5, seed=12), 60)
    assert set(first) == {200, 500}
    assert 15 < first.count(500) < 45


def test_500_body(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.error_rate = 1.0
    r = client.post(BATCH, json=checks_for(make_posts(2)))
    assert (r.status_code, r.json()) == (500, {"success": False, "error": "internal error"})


def test_429_bursts_with_retry_after(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.burst_429_every = 4
    sim.faults.burst_429_len = 2
    sim.faults.retry_after = 1.2
    url = "/api/content/status/tiktok_acme/p0000"
    responses = [client.get(url) for _ in range(10)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429, 200, 200, 429, 429, 200]
    limited = responses[3]
    assert limited.headers["Retry-After"] == "2"
    assert limited.json()["success"] is False
    sim.faults.retry_after_http_date = True
    r = next(r for r in (client.get(url) for _ in range(4)) if r.status_code == 429)
    when = email.utils.parsedate_to_datetime(r.headers["Retry-After"])
    assert when.timestamp() > time.time() - 1


def test_malformed_bodies_rotate(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.malformed_rate = 1.0
    body = checks_for(make_posts(10))
    got = [client.post(BATCH, json=body) for _ in range(5)]
    assert all(r.status_code == 200 for r in got)
    truncated, html, wrong, empty, deep = got
    with pytest.raises(ValueError):
        json.loads(truncated.content)
    assert html.headers["content-type"].startswith("text/html")
    assert b"<html>" in html.content
    assert wrong.json() == {"success": True, "data": "OK"}
    assert empty.content == b""
    with pytest.raises((ValueError, RecursionError)):
        json.loads(deep.content)
    sim.faults.malformed_rate = 0.0
    assert len(results(client.post(BATCH, json=body))) == 10


def test_batch_limit_413_and_400(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.max_batch = 5
    assert len(results(client.post(BATCH, json=checks_for(make_posts(5))))) == 5
    r = client.post(BATCH, json=checks_for(make_posts(6)))
    assert r.status_code == 413
    sim.faults.max_batch_400 = True
    r = client.post(BATCH, json=checks_for(make_posts(6)))
    assert (r.status_code, r.json()) == (
        400,
        {"success": False, "error": "too many checks: limit is 5"},
    )


def test_down_and_down_window() -> None:
    clock = FakeClock()
    faults = Faults(down_after=30.0, down_for=20.0)
    with SimServer(SimConfig(posts=make_posts(3), clock=clock, faults=faults)) as sim:
        url = sim.base_url + "/api/content/status/tiktok_acme/p0000"
        headers = {"X-API-Key": sim.api_key}
        assert httpx.get(url, headers=headers).status_code == 200
        clock.now += 35.0
        r = httpx.get(url, headers=headers)
        assert (r.status_code, r.json()) == (
            503,
            {"success": False, "error": "service unavailable"},
        )
        assert r.headers["Retry-After"] == "15"
        clock.now += 15.0
        assert httpx.get(url, headers=headers).status_code == 200
        sim.faults.down = True
        r = httpx.get(url)  # down wins over auth
        assert r.status_code == 503
        assert "Retry-After" not in r.headers
        sim.faults.down = False
        assert httpx.get(url, headers=headers).status_code == 200


def test_drop_connections(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.drop_connections = True
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/api/content/status/tiktok_acme/p0000")
    assert sim.stats.dropped == 1
    sim.faults.drop_connections = False
    assert client.get("/api/content/status/tiktok_acme/p0000").status_code == 200


def test_reset_mid_body(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.reset_mid_body = True
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(BATCH, json=checks_for(make_posts(20)))
    sim.faults.reset_mid_body = False
    assert len(results(client.post(BATCH, json=checks_for(make_posts(20))))) == 20


def test_slow_exceeds_client_timeout(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.slow = 2.0
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get("/api/content/status/tiktok_acme/p0000", timeout=0.1)
    sim.faults.slow = 0.0
    sim.stop()  # wakes the sleeping handler at once
    assert time.monotonic() - started < 1.5


def test_latency_and_jitter(sim: SimServer, client: httpx.Client) -> None:
    sim.faults.latency = 0.05
    sim.faults.jitter = 0.02
    started = time.monotonic()
    assert client.get("/api/content/status/tiktok_acme/p0000").status_code == 200
    assert time.monotonic() - started >= 0.05
    delays = [sim.injector.delay() for _ in range(50)]
    assert all(0.05 <= d <= 0.07 for d in delays)
    assert len(set(delays)) > 1


def test_missing_posts(sim: SimServer, client: httpx.Client) -> None:
    posts = make_posts(40)
    sim.faults.missing_rate = 1.0
    assert results(client.post(BATCH, json=checks_for(posts))) == []
    sim.faults.missing_rate = 0.5
    sim.faults.seed = 5
    got = results(client.post(BATCH, json=checks_for(posts)))
    assert 5 < len(got) < 35
    asked = [p.key for p in posts]
    returned = [(i["accountId"], i["publishId"]) for i in got]
    assert returned == [k for k in asked if k in set(returned)]


def test_hostile_strings_present() -> None:
    posts = make_posts(400)
    with SimServer(SimConfig(posts=posts, faults=Faults(hostile=True))) as sim:
        sim.advance(FAR)
        r = httpx.post(
            sim.base_url + BATCH, json=checks_for(posts), headers={"X-API-Key": sim.api_key}
        )
    texts = [
        str(item.get(field, ""))
        for item in results(r)
        for field in ("status", "error", "publicUrl")
    ]
    blob = "\n".join(texts)
    for payload in HOSTILE_PAYLOADS:
        assert payload in blob
    for marker in (
        "[bold red]x[/]",
        "\x1b[2J",
        "\x1b]0;",
        "\x1b]52;c;",
        "\x1b]8;;",
        "\x00",
        "\x9b",
        "\u202e",
        "\u200b",
        "全",
    ):
        assert marker in blob
    assert max(len(t) for t in texts) >= 10_240
    statuses = {item["status"] for item in results(r)}
    assert statuses & {"Queued", "Processing", "Published", "Failed"}
    assert statuses - {"Queued", "Processing", "Published", "Failed"}


# ----- lifecycle, stats, performance ---------------------------------------------------------


def test_stop_refuses_connections_and_restart_reuses_port(
    sim: SimServer, client: httpx.Client
) -> None:
    url = "/api/content/status/tiktok_acme/p0000"
    assert client.get(url).status_code == 200  # a pooled keep-alive connection
    port = sim.port
    sim.stop()
    sim.stop()  # idempotent
    assert not sim.running
    with pytest.raises(httpx.ConnectError):
        client.get(url)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    sim.restart()
    assert sim.port == port
    assert client.get(url).status_code == 200


def test_state_survives_restart(sim: SimServer) -> None:
    sim.advance(50.0)
    before = sim.sim_now()
    sim.restart()
    assert sim.sim_now() >= before


def test_binds_loopback_only(sim: SimServer) -> None:
    assert sim.address is not None
    assert sim.address[0] == "127.0.0.1"
    assert sim.base_url == f"http://127.0.0.1:{sim.port}"
    try:
        others = {
            info[4][0]
            for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
            if not str(info[4][0]).startswith("127.")
        }
    except OSError:
        others = set()
    for host in others:
        with pytest.raises(OSError):
            socket.create_connection((str(host), sim.port), timeout=1).close()


def test_stats_count_requests(sim: SimServer, client: httpx.Client) -> None:
    sim.stats.reset()
    client.post(BATCH, json=checks_for(make_posts(7)))
    client.post(BATCH, json=checks_for(make_posts(3)))
    client.get("/api/content/status/tiktok_acme/p0000")
    client.get("/api/content/status/nobody/x")
    client.get("/nowhere")
    stats = sim.stats
    assert (stats.requests, stats.batch_requests, stats.single_requests) == (5, 2, 2)
    assert stats.checks == 12
    assert stats.status_counts == {200: 3, 404: 2}
    assert stats.in_flight == 0
    stats.reset()
    assert (stats.requests, stats.checks, stats.status_counts) == (0, 0, {})


def test_max_in_flight_with_concurrent_requests(sim: SimServer) -> None:
    sim.faults.latency = 0.3
    sim.stats.reset()
    n = 8
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def one() -> None:
        with httpx.Client(base_url=sim.base_url, headers={"X-API-Key": sim.api_key}) as c:
            barrier.wait()
            codes.append(c.get("/api/content/status/tiktok_acme/p0000").status_code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * n
    assert sim.stats.max_in_flight == n
    assert sim.stats.in_flight == 0


def test_batch_of_50_is_cheap_and_100k_posts_are_fine() -> None:
    posts = [WatchedPost(PLATFORMS[i % 5], f"big{i}", "video") for i in range(100_000)]
    started = time.process_time()
    sim = SimServer(SimConfig(posts=posts, api_key="k"))
    assert time.process_time() - started < 1.0
    body = json.dumps(checks_for(posts[50_000:50_050])).encode()
    sim.handle("POST", BATCH, "k", body)  # warm the timeline cache
    started = time.process_time()
    for _ in range(100):
        reply = sim.handle("POST", BATCH, "k", body)
    per_batch = (time.process_time() - started) / 100
    assert reply.status == 200
    assert per_batch < 0.005


def test_many_requests_on_one_keep_alive_connection(sim: SimServer, client: httpx.Client) -> None:
    body = checks_for(make_posts(50))
    started = time.monotonic()
    for _ in range(200):
        assert client.post(BATCH, json=body).status_code == 200
    assert time.monotonic() - started < 10.0
    assert sim.stats.batch_requests == 200


def test_advance_cannot_go_back(sim: SimServer) -> None:
    with pytest.raises(ValueError):
        sim.advance(-1.0)


# ----- command -------------------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    return parser.parse_args(list(argv))


def test_sim_arguments_defaults_and_values() -> None:
    args = _parse()
    assert (args.port, args.seed, args.speed, args.shape, args.spelling) == (
        8765,
        7,
        1.0,
        "envelope",
        "vendor",
    )
    args = _parse("--port", "0", "--error-rate", "0.25", "--burst-429-every", "5", "--hostile")
    assert (args.port, args.error_rate, args.burst_429_every, args.hostile) == (0, 0.25, 5, True)


@pytest.mark.parametrize(
    "argv",
    [
        ["--error-rate", "1.5"],
        ["--missing-rate", "-0.1"],
        ["--malformed-rate", "nan"],
        ["--latency", "-1"],
        ["--speed", "0"],
        ["--port", "70000"],
        ["--max-batch", "2.5"],
        ["--shape", "nested"],
    ],
)
def test_sim_arguments_are_validated(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parse(*argv)
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_run_sim_bad_watchlist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("posts: [[[\n", encoding="utf-8")
    assert run_sim(_parse("--watchlist", str(bad), "--port", "0")) == 2
    err = capsys.readouterr().err
    assert err.strip()
    assert "Traceback" not in err


WATCHLIST_YAML = """\
posts:
  - accountId: acc_tiktok_main
    publishId: v_pub_1
    mediaType: video
  - accountId: acc_instagram_brand
    publishId: ig_pub_1
"""


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small watchlist standing in for the bundled sample."""
    import wahdx_tui.core.watchlist.reader as watchlist

    path = tmp_path / "sample_watchlist.yaml"
    path.write_text(WATCHLIST_YAML, encoding="utf-8")
    monkeypatch.setattr(watchlist, "sample_watchlist_path", lambda: path)
    return path


def test_run_sim_port_in_use(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SimServer() as busy:
        assert run_sim(_parse("--port", str(busy.port), "--watchlist", str(sample))) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: port {busy.port} is in use: pass --port 0 for any free port"
    )


def test_run_sim_serves_until_sigterm(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("needs the main thread for signals")
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert run_sim(_parse("--port", "0", "--seed", "3")) == 0
    finally:
        timer.cancel()
    out = capsys.readouterr().out
    assert "serving 2 posts at http://127.0.0.1:" in out
    assert "export WAHDX_API_KEY=sim_" in out
    assert "export WAHDX_BASE_URL=http://127.0.0.1:" in out
    assert f"then: wahdx-tui check {sample}" in out
