"""Regressions found by review: each test failed before its fix."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support.fixtures import sample_watchlist, until
from wahdx_tui.core.api.client import ClientOptions, WahdxClient
from wahdx_tui.core.api.normalise import parse_batch, parse_time
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.reports.checkresults import iso_time
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.ui import run as run_module

POSTS = [WatchedPost("acc", f"p{i}") for i in range(8)]


def answer(request: httpx.Request) -> httpx.Response:
    checks = json.loads(request.content)["checks"]
    items = [
        {"accountId": c["accountId"], "publishId": c["publishId"], "status": "queued"}
        for c in checks
    ]
    return httpx.Response(200, json={"success": True, "data": items})


async def test_requests_queued_for_a_slot_still_wait_out_a_retry_after() -> None:
    loop = asyncio.get_running_loop()
    sent: list[float] = []
    limited_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(loop.time())
        if len(sent) <= 2:
            limited_at.append(loop.time())
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"success": False})
        return answer(request)

    options = ClientOptions(batch_size=1, concurrency=2)
    async with WahdxClient(
        "http://127.0.0.1", "k", options, transport=httpx.MockTransport(handler)
    ) as client:
        result = await client.check_posts(POSTS)
    assert result.complete
    resume = min(limited_at) + 1.0
    assert all(t >= resume - 0.01 for t in sent[2:]), "a request jumped the Retry-After"


async def test_an_undecodable_body_is_retried_and_reported_not_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    options = ClientOptions(max_attempts=2, backoff_base=0.001)
    async with WahdxClient(
        "http://127.0.0.1", "k", options, transport=httpx.MockTransport(handler)
    ) as client:
        result = await client.check_posts(POSTS[:3])
    assert not result.complete and "unreadable response" in result.errors[0]


def test_absurd_times_are_ignored_not_raised() -> None:
    assert parse_time(10**400) is None
    assert parse_time("0001-01-01T00:00:00+23:59") is None
    assert iso_time(-62135683140.0) is None
    body = [{"publishId": "p0", "accountId": "acc", "status": "queued", "updatedAt": 10**400}]
    assert parse_batch(body, POSTS[:1], 1.0)[0].state is State.QUEUED


async def test_the_terminal_board_starts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "terminal_gone", lambda fd=None: False)
    watchlist = sample_watchlist()
    made: list[WahdxClient] = []
    with SimServer(SimConfig(posts=watchlist.posts)) as sim:

        def factory(on_event: object) -> WahdxClient:
            client = WahdxClient(sim.base_url, sim.api_key, on_event=on_event)  # type: ignore[arg-type]
            made.append(client)
            return client

        app = run_module.TerminalBoardApp(Engine(watchlist, factory, interval=3600))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: app.engine.passes, "the first pass", pilot=pilot)
            await pilot.pause(0.1)
            assert len(made) == 1
            assert app.engine.passes == 1
