"""The Wahdx client against the simulated API over real loopback HTTP: batching, concurrency,
shrinking, 429s, retries, failures, encoding, hostile text and key hygiene."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.fixtures import until
from wahdx_tui.core.api import client as client_module
from wahdx_tui.core.api.client import (
    BATCH_PATH,
    ClientEvent,
    ClientOptions,
    PassResult,
    WahdxClient,
    parse_retry_after,
)
from wahdx_tui.core.api.normalise import NOT_RETURNED
from wahdx_tui.core.domain.errors import ApiError, ApiUnavailable, AuthError
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.sim import Faults, SimConfig, SimServer
from wahdx_tui.sim.faults import hostile_index, hostile_status, hostile_text
from wahdx_tui.sim.server import SHAPES, SPELLINGS

ACCOUNTS = ("acc_tiktok_main", "acc_ig_brand", "acc_threads_news", "acc_fb_page")
MEDIA = ("video", "photo", None)
FINAL = 100_000.0  # sim seconds after which every post has reached its outcome


def make_posts(n: int, prefix: str = "pub") -> list[WatchedPost]:
    return [
        WatchedPost(ACCOUNTS[i % len(ACCOUNTS)], f"{prefix}_{i:05d}", MEDIA[i % 3], f"post {i}")
        for i in range(n)
    ]


class FrozenClock:
    """Sim time that only moves through SimServer.advance()."""

    def __call__(self) -> float:
        return 5_000.0


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimServer]]:
    servers: list[SimServer] = []

    def make(
        posts: list[WatchedPost] | None = None, faults: Faults | None = None, **kw: Any
    ) -> SimServer:
        config = SimConfig(posts=posts, clock=FrozenClock(), faults=faults or Faults(), **kw)
        sim = SimServer(config).start()
        servers.append(sim)
        return sim

    yield make
    for sim in servers:
        sim.stop()


class Recorder:
    """Records the client's sleeps and events; `hook` runs on each event (to clear a fault)."""

    def __init__(self, real: bool = False, hook: Callable[[ClientEvent], None] | None = None):
        self.real = real
        self.hook = hook
        self.sleeps: list[float] = []
        self.events: list[ClientEvent] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds if self.real else 0)

    def on_event(self, event: ClientEvent) -> None:
        self.events.append(event)
        if self.hook is not None:
            self.hook(event)

    def kinds(self, kind: str) -> list[ClientEvent]:
        return [e for e in self.events if e.kind == kind]


def new_client(
    sim: SimServer,
    rec: Recorder | None = None,
    *,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **opts: Any,
) -> WahdxClient:
    rec = rec or Recorder()
    options = ClientOptions(**{"backoff_base": 0.01, "max_attempts": 3, **opts})
    return WahdxClient(
        sim.base_url,
        sim.api_key if api_key is None else api_key,
        options,
        on_event=rec.on_event,
        sleep=rec.sleep,
        transport=transport,
    )


def expected_state(sim: SimServer, post: WatchedPost) -> State:
    truth = sim.truth(post.key)
    assert truth is not None
    return truth


def assert_matches_truth(sim: SimServer, posts: list[WatchedPost], statuses: list[Any]) -> None:
    assert [s.key for s in statuses] == [p.key for p in posts]
    for post, status in zip(posts, statuses, strict=True):
        assert status.state is expected_state(sim, post), post
        truth = sim.truth(post.key)
        assert truth is not None
        timeline = sim.timeline(post.key)
        assert timeline is not None
        assert status.raw_status == SPELLINGS[sim.config.spelling][truth]
        if truth is State.PUBLISHED:
            assert status.public_url == timeline.public_url
        if truth is State.FAILED:
            assert status.error == timeline.error


def assert_no_key(key: str, *texts: object) -> None:
    for text in texts:
        assert key not in str(text)
        assert key not in repr(text)


# ----- batching -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "batch_size"), [(1, 50), (50, 50), (51, 50), (237, 50), (10, 3)])
async def test_one_pass_uses_ceil_n_over_batch_size_requests(
    make_sim: Callable[..., SimServer], n: int, batch_size: int
) -> None:
    posts = make_posts(n)
    sim = make_sim(posts)
    async with new_client(sim, batch_size=batch_size) as client:
        result = await client.check_posts(posts)
    expected = math.ceil(n / batch_size)
    assert sim.stats.batch_requests == expected
    assert sim.stats.single_requests == 0
    assert sim.stats.requests == expected
    assert result.requests == expected
    assert result.complete and not result.errors
    assert_matches_truth(sim, posts, result.statuses)


async def test_results_come_back_in_input_order(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(60)
    sim = make_sim(posts)
    shuffled = posts[::-1][::2] + posts[::-1][1::2]
    async with new_client(sim, batch_size=7, concurrency=4) as client:
        result = await client.check_posts(shuffled)
    assert [s.key for s in result.statuses] == [p.key for p in shuffled]


async def test_empty_watchlist_sends_nothing(make_sim: Callable[..., SimServer]) -> None:
    sim = make_sim(make_posts(3))
    async with new_client(sim) as client:
        result = await client.check_posts([])
    assert result.statuses == [] and result.complete
    assert sim.stats.requests == 0


async def test_a_second_pass_sees_time_move(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(40)
    sim = make_sim(posts)
    async with new_client(sim) as client:
        first = await client.check_posts(posts)
        sim.advance(FINAL)
        second = await client.check_posts(posts)
    assert_matches_truth(sim, posts, second.statuses)
    assert {s.state for s in second.statuses} <= {
        State.PUBLISHED,
        State.FAILED,
        State.QUEUED,
        State.PROCESSING,
    }  # stuck posts stay queued or processing for good
    assert [s.state for s in first.statuses] != [s.state for s in second.statuses]
    assert sim.stats.batch_requests == 2


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("spelling", list(SPELLINGS))
async def test_every_shape_and_spelling_of_the_sim(
    make_sim: Callable[..., SimServer], shape: str, spelling: str
) -> None:
    posts = make_posts(40)
    sim = make_sim(posts, shape=shape, spelling=spelling)
    sim.advance(45.0)  # a mix of queued, processing and final posts
    unknown = WatchedPost("acc_tiktok_main", "not_in_the_sim")
    async with new_client(sim, batch_size=15) as client:
        result = await client.check_posts([*posts, unknown])
    assert result.complete
    assert_matches_truth(sim, posts, result.statuses[:-1])
    assert len({s.state for s in result.statuses}) >= 3
    assert result.statuses[-1].state is State.UNKNOWN
    assert result.statuses[-1].error == "post not found"


@pytest.mark.parametrize("spelling", list(SPELLINGS))
async def test_check_one_every_spelling(make_sim: Callable[..., SimServer], spelling: str) -> None:
    posts = make_posts(12)
    sim = make_sim(posts, spelling=spelling)
    sim.advance(45.0)
    async with new_client(sim) as client:
        statuses = [await client.check_one(p) for p in posts]
    assert_matches_truth(sim, posts, statuses)
    assert sim.stats.single_requests == len(posts)
    assert sim.stats.batch_requests == 0


# ----- concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_in_flight_requests_never_exceed_concurrency(
    make_sim: Callable[..., SimServer], concurrency: int
) -> None:
    posts = make_posts(120)
    sim = make_sim(posts, faults=Faults(latency=0.03))
    async with new_client(sim, batch_size=10, concurrency=concurrency) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert sim.stats.batch_requests == 12
    assert 1 <= sim.stats.max_in_flight <= concurrency
    if concurrency > 1:
        assert sim.stats.max_in_flight >= 2  # the requests really overlapped


async def test_a_batch_waiting_to_retry_does_not_hold_up_the_rest_of_the_pass(
    make_sim: Callable[..., SimServer],
) -> None:
    """The first requests fail and wait to retry (two at least, as many as may be in flight);
    the pass's other batches are still asked meanwhile, `concurrency` at a time, and the pass
    ends whole once the waits end."""
    posts = make_posts(60)
    sim = make_sim(posts, faults=Faults(error_rate=1.0))
    waits_end = asyncio.Event()
    waiting: list[float] = []

    async def held_sleep(seconds: float) -> None:
        waiting.append(seconds)
        if len(waiting) == 2:  # both workers the pass started with wait: no more failures
            sim.faults.error_rate = 0.0
        await waits_end.wait()

    client = WahdxClient(
        sim.base_url,
        sim.api_key,
        ClientOptions(batch_size=10, concurrency=2, max_attempts=3),
        sleep=held_sleep,
    )
    async with client:
        passing = asyncio.ensure_future(client.check_posts(posts))
        # Six batches: each is answered, or failed once and waits to retry; none waits for
        # a batch that waits.
        await until(
            lambda: sim.stats.status_counts.get(200, 0) + len(waiting) == 6, "the other batches"
        )
        assert waiting and not passing.done()
        assert sim.stats.max_in_flight <= 2
        waits_end.set()
        result = await passing
    assert result.complete and len(result.statuses) == 60
    assert [s.key for s in result.statuses] == [p.key for p in posts]  # in the order asked


# ----- batch too large ----------------------------------------------------------------------


@pytest.mark.parametrize("as_400", [False, True], ids=["413", "400-too-many"])
async def test_too_large_batches_are_halved_and_stay_smaller(
    make_sim: Callable[..., SimServer], as_400: bool
) -> None:
    posts = make_posts(60)
    sim = make_sim(posts, faults=Faults(max_batch=10, max_batch_400=as_400))
    rec = Recorder()
    async with new_client(sim, rec, batch_size=50) as client:
        first = await client.check_posts(posts)
        assert first.complete and not first.failed
        assert_matches_truth(sim, posts, first.statuses)
        size = client.batch_size
        assert 1 <= size <= 10
        assert size == 6  # 50 -> 25 -> 12 -> 6: halved until the server accepts
        assert rec.kinds("shrink")
        assert sim.stats.status_counts.get(400 if as_400 else 413, 0) >= 1
        sim.stats.reset()
        second = await client.check_posts(posts)
    assert second.complete
    assert client.batch_size == size
    assert sim.stats.batch_requests == math.ceil(len(posts) / size)
    assert sim.stats.status_counts == {200: sim.stats.batch_requests}


async def test_a_single_post_too_large_is_reported_not_looped(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(3)
    sim = make_sim(posts)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(413, json={"success": False, "error": "payload too large"})

    async with new_client(sim, transport=httpx.MockTransport(handler), batch_size=4) as client:
        result = await client.check_posts(posts)
    assert not result.complete
    assert sorted(p.key for p in result.failed) == sorted(p.key for p in posts)
    assert result.statuses == []
    assert calls == 4  # the batch of 3, then each post alone; never the same chunk again
    assert "413" in result.errors[0]


async def test_a_400_that_is_not_about_size_does_not_shrink() -> None:
    posts = make_posts(4)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"success": False, "error": "invalid accountId"})

    rec = Recorder()
    client = WahdxClient(
        "http://127.0.0.1:1",
        "k",
        ClientOptions(batch_size=4, backoff_base=0.01),
        on_event=rec.on_event,
        sleep=rec.sleep,
        transport=httpx.MockTransport(handler),
    )
    async with client:
        result = await client.check_posts(posts)
    assert client.batch_size == 4
    assert not rec.events
    assert len(result.failed) == 4
    assert "invalid accountId" in result.errors[0]
    assert client.requests == 1  # a 4xx is not retried


# ----- 429 ----------------------------------------------------------------------------------


async def test_429_waits_the_retry_after_seconds(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(5)
    sim = make_sim(posts, faults=Faults(burst_429_every=1, burst_429_len=1, retry_after=1.0))

    def stop_limiting(event: ClientEvent) -> None:
        if event.kind == "rate_limited":
            sim.faults.burst_429_every = 0

    rec = Recorder(real=True, hook=stop_limiting)
    async with new_client(sim, rec) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await client.check_posts(posts)
        elapsed = loop.time() - started
    assert result.complete
    limited = rec.kinds("rate_limited")
    assert [e.wait for e in limited] == [1.0]
    assert not rec.kinds("retry")  # a 429 is not counted as a failed attempt
    assert sum(rec.sleeps) >= 0.95  # the gate slept out the Retry-After
    assert elapsed >= 1.0
    assert sim.stats.status_counts == {429: 1, 200: 1}


async def test_429_with_zero_retry_after_goes_again_at_once(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(5)
    sim = make_sim(posts, faults=Faults(burst_429_every=1, burst_429_len=1, retry_after=0))
    seen = 0

    def stop_after_three(event: ClientEvent) -> None:
        nonlocal seen
        seen += 1
        if seen == 3:
            sim.faults.burst_429_every = 0

    rec = Recorder(hook=stop_after_three)
    async with new_client(sim, rec) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert [e.wait for e in rec.kinds("rate_limited")] == [0.0, 0.0, 0.0]
    assert rec.sleeps == []
    assert sim.stats.requests == 4


async def test_endless_429_gives_up_after_max_rate_limited(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(2)
    sim = make_sim(posts, faults=Faults(burst_429_every=1, burst_429_len=1, retry_after=0))
    async with new_client(sim, max_rate_limited=4) as client:
        with pytest.raises(ApiUnavailable, match="rate limited") as info:
            await client.check_one(posts[0])
        result = await client.check_posts(posts)
    assert sim.stats.single_requests == 5
    assert not result.complete and "rate limited" in result.errors[0]
    assert_no_key(sim.api_key, info.value, *result.errors)


@pytest.mark.parametrize("header", ["31536000", "Fri, 31 Dec 9999 23:59:59 GMT"])
async def test_a_retry_after_past_the_cap_gives_the_pass_up_and_asks_for_the_cap_only(
    make_sim: Callable[..., SimServer], header: str
) -> None:
    """An ask of a year (in seconds or as a date) once put the next pass off by a year: it
    is capped at max_retry_after, and the next request is not held back at all."""
    posts = make_posts(2)
    sim = make_sim(posts, faults=Faults(burst_429_every=1, burst_429_len=1))
    sim.faults.retry_after_text = header
    rec = Recorder()
    async with new_client(sim, rec, max_retry_after=1.0) as client:
        result = await client.check_posts(posts)
        assert not result.complete and "more than max_retry_after" in result.errors[0]
        (event,) = rec.kinds("rate_limited")
        assert event.wait == 1.0  # the next pass is put off by the cap, not by a year
        assert rec.sleeps == []  # not waited out within the pass
        sim.faults.burst_429_every = 0
        again = await client.check_posts(posts)  # nothing holds it back
    assert again.complete
    assert rec.sleeps == []
    assert sim.stats.status_counts == {429: 1, 200: 1}


@pytest.mark.parametrize("header", ["1e400", "inf", "-5", "soon"])
async def test_a_retry_after_infinite_negative_or_garbage_is_read_as_none_at_all(
    make_sim: Callable[..., SimServer], header: str
) -> None:
    """`1e400` is infinity: it once stopped the polling for good. It, a negative number and
    garbage are ignored: the usual short backoff, then the API is asked again."""
    posts = make_posts(2)
    sim = make_sim(posts, faults=Faults(burst_429_every=1, burst_429_len=1))
    sim.faults.retry_after_text = header

    def stop_limiting(event: ClientEvent) -> None:
        sim.faults.burst_429_every = 0

    rec = Recorder(hook=stop_limiting)
    async with new_client(sim, rec, max_retry_after=1.0) as client:
        result = await client.check_posts(posts)
    assert result.complete
    (event,) = rec.kinds("rate_limited")
    assert 0.0 < event.wait <= 0.01  # backoff_base 0.01, as with no Retry-After at all
    assert "no usable Retry-After" in event.message
    assert sim.stats.status_counts == {429: 1, 200: 1}


async def test_429_as_an_http_date_in_the_past_goes_again_at_once(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(2)
    faults = Faults(burst_429_every=1, burst_429_len=1, retry_after=0, retry_after_http_date=True)
    sim = make_sim(posts, faults=faults)

    def stop(event: ClientEvent) -> None:
        sim.faults.burst_429_every = 0

    rec = Recorder(real=True, hook=stop)
    async with new_client(sim, rec) as client:
        status = await client.check_one(posts[0])
    assert status.state is expected_state(sim, posts[0])
    waits = [e.wait for e in rec.kinds("rate_limited")]
    assert len(waits) == 1 and 0.0 <= waits[0] <= 1.0


async def test_429_without_retry_after_backs_off() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, json={"error": "slow down"})
        return httpx.Response(200, json={"success": True, "data": {"status": "published"}})

    rec = Recorder(real=True)
    client = WahdxClient(
        "http://127.0.0.1:1",
        "k",
        ClientOptions(backoff_base=0.01),
        on_event=rec.on_event,
        sleep=rec.sleep,
        transport=httpx.MockTransport(handler),
    )
    async with client:
        status = await client.check_one(WatchedPost("a", "b"))
    assert status.state is State.PUBLISHED
    (event,) = rec.kinds("rate_limited")
    assert 0.005 <= event.wait <= 0.01


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("2.5", 2.5),
        (" 120 ", 120.0),
        ("-5", None),  # negative: not a wait
        ("1e400", None),  # infinity
        ("inf", None),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),  # now=40
        ("Thursday, 01-Jan-70 00:01:40 GMT", 60.0),  # RFC 850's form
        ("Thu Jan  1 00:01:40 1970", 60.0),  # asctime's form, GMT though it says no zone
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),  # in the past
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),  # past the calendar
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("Thu, 01 Jan 1970 00:01:40", None),  # no zone: not trusted
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == expected


# ----- 5xx, malformed bodies, timeouts, connection faults -----------------------------------


async def test_500s_are_retried_with_bounded_exponential_backoff(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(30)
    sim = make_sim(posts, faults=Faults(error_rate=1.0))
    rec = Recorder()
    async with new_client(sim, rec, batch_size=50, max_attempts=4) as client:
        result = await client.check_posts(posts)
        with pytest.raises(ApiUnavailable, match="HTTP 500") as info:
            await client.check_one(posts[0])
    assert not result.complete
    assert result.statuses == []
    assert [p.key for p in result.failed] == [p.key for p in posts]
    assert "HTTP 500" in result.errors[0] and "4 attempts" in result.errors[0]
    assert sim.stats.batch_requests == 4
    assert sim.stats.single_requests == 4
    # three backoffs per call, each between half and all of 0.01 * 2**(k-1)
    assert len(rec.sleeps) == 6
    for k, wait in enumerate(rec.sleeps[:3], start=1):
        step = 0.01 * 2 ** (k - 1)
        assert step / 2 <= wait <= step
    assert len(rec.kinds("retry")) == 6
    assert_no_key(sim.api_key, info.value, *result.errors, *(e.message for e in rec.events))


async def test_backoff_is_capped(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(1)
    sim = make_sim(posts, faults=Faults(error_rate=1.0))
    rec = Recorder()
    async with new_client(sim, rec, max_attempts=8, backoff_base=0.01, backoff_cap=0.03) as c:
        with pytest.raises(ApiUnavailable):
            await c.check_one(posts[0])
    assert len(rec.sleeps) == 7
    assert max(rec.sleeps) <= 0.03


async def test_a_500_then_success_recovers(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(20)
    sim = make_sim(posts, faults=Faults(error_rate=1.0))

    def heal(event: ClientEvent) -> None:
        sim.faults.error_rate = 0.0

    rec = Recorder(hook=heal)
    async with new_client(sim, rec) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert_matches_truth(sim, posts, result.statuses)
    assert sim.stats.status_counts == {500: 1, 200: 1}
    assert result.requests == 2


async def test_some_batches_failing_gives_a_partial_pass(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(40)
    sim = make_sim(posts, faults=Faults(error_rate=0.5, seed=3))
    async with new_client(sim, batch_size=5, concurrency=1, max_attempts=1) as client:
        result = await client.check_posts(posts)
    assert isinstance(result, PassResult)
    assert not result.complete
    assert 0 < len(result.failed) < len(posts)
    assert len(result.failed) + len(result.statuses) == len(posts)
    assert len(result.failed) % 5 == 0
    assert len(result.errors) == len(result.failed) // 5
    failed = {p.key for p in result.failed}
    checked = [p for p in posts if p.key not in failed]
    assert_matches_truth(sim, checked, result.statuses)


async def test_malformed_bodies_are_all_retried_then_given_up(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(10)
    sim = make_sim(posts, faults=Faults(malformed_rate=1.0))
    rec = Recorder()
    async with new_client(sim, rec, max_attempts=5) as client:
        result = await client.check_posts(posts)  # truncated, html, wrong-shape, empty, deep
    assert not result.complete
    assert len(result.failed) == 10
    assert sim.stats.batch_requests == 5
    assert "5 attempts" in result.errors[0]
    reasons = " ".join(e.message for e in rec.kinds("retry"))
    assert "malformed JSON" in reasons
    assert "unexpected response" in reasons


async def test_a_malformed_body_then_success_recovers(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(10)
    sim = make_sim(posts, faults=Faults(malformed_rate=1.0))

    def heal(event: ClientEvent) -> None:
        sim.faults.malformed_rate = 0.0

    async with new_client(sim, Recorder(hook=heal)) as client:
        result = await client.check_posts(posts)
        assert result.complete
        assert_matches_truth(sim, posts, result.statuses)
        sim.faults.malformed_rate = 1.0
        status = await client.check_one(posts[1])
    assert status.state is expected_state(sim, posts[1])


async def test_slow_answers_time_out_and_are_retried(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(5)
    sim = make_sim(posts, faults=Faults(slow=0.6))

    def heal(event: ClientEvent) -> None:
        sim.faults.slow = 0.0

    rec = Recorder(hook=heal)
    async with new_client(sim, rec, timeout=0.2) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert_matches_truth(sim, posts, result.statuses)
    (retry,) = rec.kinds("retry")
    assert "no answer within 0.2 s" in retry.message


async def test_slow_answers_every_time_fail(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(2)
    sim = make_sim(posts, faults=Faults(slow=0.6))
    async with new_client(sim, timeout=0.2, max_attempts=2) as client:
        with pytest.raises(ApiUnavailable, match=r"no answer within 0\.2 s") as info:
            await client.check_one(posts[0])
    assert "2 attempts" in str(info.value)


@pytest.mark.parametrize("fault", ["drop_connections", "reset_mid_body"])
async def test_connection_faults_are_retried(
    make_sim: Callable[..., SimServer], fault: str
) -> None:
    posts = make_posts(12)
    sim = make_sim(posts, faults=Faults(**{fault: True}))

    def heal(event: ClientEvent) -> None:
        setattr(sim.faults, fault, False)

    rec = Recorder(hook=heal)
    async with new_client(sim, rec) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert_matches_truth(sim, posts, result.statuses)
    assert len(rec.kinds("retry")) == 1
    assert sim.stats.requests == 2
    if fault == "drop_connections":
        assert sim.stats.dropped == 1


@pytest.mark.parametrize("fault", ["drop_connections", "reset_mid_body"])
async def test_connection_faults_every_time_fail(
    make_sim: Callable[..., SimServer], fault: str
) -> None:
    posts = make_posts(3)
    sim = make_sim(posts, faults=Faults(**{fault: True}))
    async with new_client(sim, max_attempts=3) as client:
        result = await client.check_posts(posts)
        with pytest.raises(ApiUnavailable, match="3 attempts"):
            await client.check_one(posts[0])
    assert len(result.failed) == 3
    assert sim.stats.requests == 6


async def test_server_stopped_is_api_unavailable_after_retries(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(8)
    sim = make_sim(posts)
    sim.stop()
    rec = Recorder()
    async with new_client(sim, rec, batch_size=4, max_attempts=3) as client:
        result = await client.check_posts(posts)
        with pytest.raises(ApiUnavailable) as info:
            await client.check_one(posts[0])
    assert result.statuses == []
    assert len(result.failed) == 8
    assert len(result.errors) == 2  # one per chunk
    assert all("gave up after 3 attempts" in e for e in result.errors)
    assert "3 attempts" in str(info.value)
    assert len(rec.kinds("retry")) == 2 * 2 + 2
    assert_no_key(sim.api_key, info.value, *result.errors)


async def test_server_down_answers_503_and_comes_back(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(6)
    sim = make_sim(posts, faults=Faults(down=True))
    async with new_client(sim, max_attempts=2) as client:
        down = await client.check_posts(posts)
        sim.faults.down = False
        up = await client.check_posts(posts)
    assert not down.complete and "HTTP 503" in down.errors[0]
    assert up.complete
    assert_matches_truth(sim, posts, up.statuses)


async def test_restarted_server_is_reached_again(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(6)
    sim = make_sim(posts)
    async with new_client(sim) as client:
        assert (await client.check_posts(posts)).complete
        sim.restart()  # keep-alive connections are cut
        again = await client.check_posts(posts)
    assert again.complete


# ----- auth ---------------------------------------------------------------------------------


async def test_revoked_key_stops_at_once(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(30)
    sim = make_sim(posts, faults=Faults(revoked=True))
    rec = Recorder()
    async with new_client(sim, rec, batch_size=50) as client:
        with pytest.raises(AuthError) as batch_info:
            await client.check_posts(posts)
        assert sim.stats.requests == 1
        with pytest.raises(AuthError) as one_info:
            await client.check_one(posts[0])
        assert sim.stats.requests == 2
    assert rec.sleeps == [] and rec.events == []
    for info in (batch_info, one_info):
        assert "API key rejected" in str(info.value)
        assert_no_key(sim.api_key, info.value)


async def test_revoked_key_with_many_chunks_does_not_retry(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(40)
    sim = make_sim(posts, faults=Faults(revoked=True))
    async with new_client(sim, batch_size=5, concurrency=2) as client:
        with pytest.raises(AuthError):
            await client.check_posts(posts)
    # the first 401 cancels the pass: only requests already in flight were sent, none retried
    assert 1 <= sim.stats.requests <= 4
    assert set(sim.stats.status_counts) <= {401}


async def test_wrong_key_is_rejected_and_never_shown(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(3)
    sim = make_sim(posts)
    wrong = "wx_wrong_key_0123456789"
    async with new_client(sim, api_key=wrong) as client:
        with pytest.raises(AuthError) as info:
            await client.check_posts(posts)
        assert wrong not in repr(client)
    assert_no_key(wrong, info.value)
    assert_no_key(sim.api_key, info.value)
    assert sim.stats.requests == 1


@pytest.mark.parametrize("code", [401, 403])
async def test_401_and_403_are_auth_errors(code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-API-Key"] == "secret_key_xyz"
        return httpx.Response(code, json={"error": "forbidden secret_key_xyz"})

    client = WahdxClient(
        "https://api.example",
        "secret_key_xyz",
        ClientOptions(backoff_base=0.01),
        transport=httpx.MockTransport(handler),
    )
    async with client:
        with pytest.raises(AuthError) as info:
            await client.check_one(WatchedPost("a", "b"))
    assert f"HTTP {code}" in str(info.value)
    assert "secret_key_xyz" not in str(info.value)


def test_repr_never_shows_the_key() -> None:
    client = WahdxClient("http://127.0.0.1:8765", "wx_live_supersecret")
    assert "wx_live_supersecret" not in repr(client)
    assert "wx_live_supersecret" not in str(client)
    assert "127.0.0.1:8765" in repr(client)


# ----- per-post answers ---------------------------------------------------------------------


async def test_missing_posts_are_unknown_not_returned(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(60)
    sim = make_sim(posts, faults=Faults(missing_rate=0.3, seed=11))
    async with new_client(sim, batch_size=20) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert [s.key for s in result.statuses] == [p.key for p in posts]
    missing = [s for s in result.statuses if s.error == NOT_RETURNED]
    assert 0 < len(missing) < len(posts)
    assert all(s.state is State.UNKNOWN for s in missing)
    present = [p for p, s in zip(posts, result.statuses, strict=True) if s.error != NOT_RETURNED]
    assert_matches_truth(sim, present, [s for s in result.statuses if s.error != NOT_RETURNED])


async def test_unknown_posts_are_per_post_not_found(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(4)
    sim = make_sim(posts)
    strangers = [WatchedPost("acc_tiktok_main", "ghost_1"), WatchedPost("acc_nobody", "ghost_2")]
    async with new_client(sim) as client:
        result = await client.check_posts([strangers[0], *posts, strangers[1]])
        single = await client.check_one(strangers[1])
    assert result.complete
    for status in (result.statuses[0], result.statuses[-1], single):
        assert status.state is State.UNKNOWN
        assert status.error == "post not found"
    assert_matches_truth(sim, posts, result.statuses[1:-1])


async def test_body_over_the_cap_is_an_error(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(20)
    sim = make_sim(posts)
    async with new_client(sim, max_body_bytes=60) as client:
        with pytest.raises(ApiError, match="larger than") as info:
            await client.check_one(posts[0])
        result = await client.check_posts(posts)
    assert not isinstance(info.value, AuthError)
    assert sim.stats.single_requests == 1  # not retried
    assert not result.complete
    assert "larger than" in result.errors[0]


@pytest.mark.parametrize("shape", ["envelope", "flat", "statuses"])
async def test_an_answer_flooded_with_empty_items_is_read_off_the_loop_for_the_posts_asked(
    make_sim: Callable[..., SimServer],
    monkeypatch: pytest.MonkeyPatch,
    shape: str,
) -> None:
    """8 MiB of `{},{},...` after the real items: the real ones are read, the rest is not
    parsed, and the reading happens on a thread, so the board's keys never wait on it."""
    posts = make_posts(10)
    sim = make_sim(posts, faults=Faults(flood=8 * 1024 * 1024), shape=shape)
    readers: list[int] = []
    real_decode = client_module.decode_json

    def decode(content: bytes, max_values: int | None = None) -> object:
        readers.append(threading.get_ident())
        return real_decode(content, max_values)

    monkeypatch.setattr(client_module, "decode_json", decode)
    async with new_client(sim, batch_size=10) as client:
        result = await client.check_posts(posts)
    assert result.complete
    assert_matches_truth(sim, posts, result.statuses)
    assert readers and threading.get_ident() not in readers


async def test_body_cap_message_names_the_cap(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(1)
    sim = make_sim(posts)
    async with new_client(sim, max_body_bytes=60) as client:
        with pytest.raises(ApiError) as info:
            await client.check_one(posts[0])
    assert "0 MiB" not in str(info.value)
    assert "60" in str(info.value)


async def test_streamed_body_without_length_is_capped() -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    client = WahdxClient(
        "http://127.0.0.1:1",
        "k",
        ClientOptions(max_body_bytes=10_000),
        transport=httpx.MockTransport(handler),
    )
    async with client:
        with pytest.raises(ApiError, match="larger than"):
            await client.check_one(WatchedPost("a", "b"))
    assert client.requests == 1


WEIRD = [
    WatchedPost("acc/with/slash", "pub/1/2", "video"),
    WatchedPost("acc?x=1&y=2", "pub?q=1#frag", "photo"),
    WatchedPost("acc%2Fpct", "pub%20%25%", None),
    WatchedPost("acc with spaces", "pub id 3", "video"),
    WatchedPost("アカウント_tiktok", "投稿✓🙂", "photo"),
    WatchedPost("acc+plus;semi", "pub,comma=eq&amp", None),
]


async def test_check_one_percent_encodes_ids(make_sim: Callable[..., SimServer]) -> None:
    sim = make_sim(WEIRD)
    sim.advance(FINAL)
    async with new_client(sim) as client:
        statuses = [await client.check_one(p) for p in WEIRD]
        batch = await client.check_posts(WEIRD)
    for post, status in zip(WEIRD, statuses, strict=True):
        assert status.key == post.key
        assert status.error != "post not found", post
        assert status.state is sim.truth(post.key)
    assert_matches_truth(sim, WEIRD, statuses)
    assert_matches_truth(sim, WEIRD, batch.statuses)
    assert sim.stats.single_requests == len(WEIRD)


async def test_check_one_sends_the_path_encoded_and_the_media_type(
    make_sim: Callable[..., SimServer],
) -> None:
    plain = [WatchedPost(p.account_id, p.publish_id) for p in WEIRD]  # the sim knows no media
    sim = make_sim(plain)
    seen: list[httpx.Request] = []

    class Recording(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await super().handle_async_request(request)

    async with new_client(sim, transport=Recording()) as client:
        photo = await client.check_one(WatchedPost("acc/with/slash", "pub/1/2", "photo"))
        none = await client.check_one(WatchedPost("acc with spaces", "pub id 3"))
    assert (
        seen[0].url.raw_path
        == b"/api/content/status/acc%2Fwith%2Fslash/pub%2F1%2F2?mediaType=photo"
    )
    assert seen[0].method == "GET"
    assert photo.raw["mediaType"] == "photo"
    assert seen[1].url.raw_path == b"/api/content/status/acc%20with%20spaces/pub%20id%203"
    assert "mediaType" not in seen[1].url.params
    assert none.raw["mediaType"] is None


async def test_check_one_dot_segment_ids(make_sim: Callable[..., SimServer]) -> None:
    posts = [WatchedPost("acc_dots", ".."), WatchedPost(".", "pub_dot")]
    sim = make_sim(posts)
    async with new_client(sim) as client:
        statuses = [await client.check_one(p) for p in posts]
    for post, status in zip(posts, statuses, strict=True):
        assert status.state is sim.truth(post.key)


async def test_batch_body_carries_ids_and_media_type() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        bodies.append(json.loads(request.content))
        assert request.url.path == BATCH_PATH
        assert request.method == "POST"
        return httpx.Response(200, json={"success": True, "data": []})

    client = WahdxClient("http://127.0.0.1:1", "k", transport=httpx.MockTransport(handler))
    posts = [WatchedPost("a", "1", "video"), WatchedPost("b", "2")]
    async with client:
        result = await client.check_posts(posts)
    assert bodies == [
        {
            "checks": [
                {"accountId": "a", "publishId": "1", "mediaType": "video"},
                {"accountId": "b", "publishId": "2"},
            ]
        }
    ]
    assert [s.error for s in result.statuses] == [NOT_RETURNED, NOT_RETURNED]


async def test_hostile_strings_come_through_raw(make_sim: Callable[..., SimServer]) -> None:
    posts = make_posts(40)
    sim = make_sim(posts, faults=Faults(hostile=True))
    sim.advance(FINAL)
    async with new_client(sim) as client:
        result = await client.check_posts(posts)
        singles = [await client.check_one(p) for p in posts[:6]]
    assert result.complete
    seen_escape = False
    for post, status in zip(posts, result.statuses, strict=True):
        truth = sim.truth(post.key)
        timeline = sim.timeline(post.key)
        assert truth is not None and timeline is not None
        idx = hostile_index(*post.key)
        raw = hostile_status(SPELLINGS["vendor"][truth], idx)
        assert status.raw_status == raw
        if truth is State.FAILED:
            assert timeline.error is not None
            assert status.error == hostile_text(timeline.error, idx)
        if truth is State.PUBLISHED:
            assert timeline.public_url is not None
            assert status.public_url == hostile_text(timeline.public_url, idx)
        texts = (status.raw_status or "") + (status.error or "") + (status.public_url or "")
        seen_escape |= "\x1b" in texts
    assert seen_escape
    for single, status in zip(singles, result.statuses[:6], strict=True):
        assert (single.raw_status, single.error, single.public_url) == (
            status.raw_status,
            status.error,
            status.public_url,
        )


# ----- key hygiene across every failure -----------------------------------------------------


async def test_the_key_never_appears_in_errors_events_or_repr(
    make_sim: Callable[..., SimServer],
) -> None:
    posts = make_posts(6)
    sim = make_sim(posts, api_key="wx_sim_key_must_stay_hidden")
    rec = Recorder()
    texts: list[object] = []

    async def attempt(call: Callable[[], Awaitable[object]]) -> None:
        try:
            result = await call()
        except ApiError as exc:
            texts.extend([exc, exc.args])
        else:
            if isinstance(result, PassResult):
                texts.extend(result.errors)
            elif isinstance(result, PostStatus):
                texts.append(result.error)

    async with new_client(sim, rec, max_attempts=2, timeout=0.2, max_body_bytes=60) as client:
        texts.append(repr(client))
        for fault, value in [
            ("error_rate", 1.0),
            ("malformed_rate", 1.0),
            ("drop_connections", True),
            ("reset_mid_body", True),
            ("slow", 0.5),
            ("revoked", True),
            ("down", True),
        ]:
            setattr(sim.faults, fault, value)
            await attempt(lambda: client.check_posts(posts))
            await attempt(lambda: client.check_one(posts[0]))
            setattr(sim.faults, fault, type(value)(0))
        await attempt(lambda: client.check_one(posts[0]))  # body over the 60-byte cap
        sim.stop()
        await attempt(lambda: client.check_posts(posts))
    texts.extend(e.message for e in rec.events)
    assert len(texts) > 10
    assert_no_key(sim.api_key, *texts)
