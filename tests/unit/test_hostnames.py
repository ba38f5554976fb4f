"""The Host check's name lookups: never on the loop or its pool, once per name, remembered."""

from __future__ import annotations

import asyncio
import threading

from tests.support.fixtures import until
from wahdx_tui.serve.web.hostnames import LOOKUPS_AT_ONCE, REMEMBER_REFUSAL_FOR, LoopbackNames


class Resolver:
    """The system's resolver as a slow or flaky DNS would make it: each name asked is noted,
    and lookups wait for `release` while it is clear."""

    def __init__(self, answer: bool = True) -> None:
        self.asked: list[str] = []
        self.answer = answer
        self.release = threading.Event()
        self.release.set()

    def __call__(self, name: str) -> bool:
        self.asked.append(name)
        self.release.wait(30)
        return self.answer


async def test_names_are_looked_up_only_when_written_as_loopback() -> None:
    resolver = Resolver()
    names = LoopbackNames(resolver)
    for host in ("127.0.0.1", "127.8.9.10", "[::1]", "::1"):
        assert await names.is_loopback(host), host
    for host in ("evil.example", "localhost.evil.example", "10.0.0.1", "[::2]"):
        assert not await names.is_loopback(host), host
    assert resolver.asked == []
    assert await names.is_loopback("LocalHost.")
    assert await names.is_loopback("app.localhost")
    assert resolver.asked == ["localhost", "app.localhost"]


async def test_many_asks_for_one_name_share_one_lookup() -> None:
    resolver = Resolver()
    resolver.release.clear()
    names = LoopbackNames(resolver)
    asks = [asyncio.ensure_future(names.is_loopback("localhost")) for _ in range(5)]
    await until(lambda: resolver.asked, "the lookup under way")
    resolver.release.set()
    assert await asyncio.gather(*asks) == [True] * 5
    assert resolver.asked == ["localhost"]
    assert await names.is_loopback("localhost") and resolver.asked == ["localhost"]


async def test_hung_lookups_leave_the_event_loop_pool_free_and_are_capped() -> None:
    """Review: lookups ran on the loop's default pool (6 threads here), where the team engine
    renews its lease and waits on the store; a page asking for a1.localhost, a2.localhost...
    of a resolver that hangs froze both."""
    resolver = Resolver()
    resolver.release.clear()
    names = LoopbackNames(resolver)
    try:
        asks = [asyncio.ensure_future(names.is_loopback(f"a{i}.localhost")) for i in range(40)]
        await until(lambda: len(resolver.asked) == LOOKUPS_AT_ONCE, "the lookups under way")
        # The pool the engine uses still runs work, while the lookups hang.
        assert await asyncio.to_thread(lambda: "done") == "done"
        # Names beyond the cap were refused at once, not queued behind the hung ones.
        refused = [a for a in asks if a.done()]
        assert len(refused) == 40 - LOOKUPS_AT_ONCE
        assert not any(a.result() for a in refused)
    finally:
        resolver.release.set()
    assert all(await asyncio.gather(*asks[:LOOKUPS_AT_ONCE]))
    assert len(resolver.asked) == LOOKUPS_AT_ONCE


async def test_a_refusal_is_kept_seconds_and_a_loopback_answer_a_minute() -> None:
    now = [1000.0]
    resolver = Resolver(answer=False)  # a lookup that failed once (a resolver restarting)
    names = LoopbackNames(resolver, clock=lambda: now[0])
    assert not await names.is_loopback("localhost")
    assert not await names.is_loopback("localhost") and len(resolver.asked) == 1
    resolver.answer = True
    now[0] += REMEMBER_REFUSAL_FOR + 0.1
    assert await names.is_loopback("localhost") and len(resolver.asked) == 2
    now[0] += 59
    assert await names.is_loopback("localhost") and len(resolver.asked) == 2
    now[0] += 2
    assert await names.is_loopback("localhost") and len(resolver.asked) == 3


async def test_a_resolver_that_raises_refuses_that_request_only() -> None:
    calls: list[str] = []

    def broken(name: str) -> bool:
        calls.append(name)
        if len(calls) == 1:
            raise ValueError("resolver library bug")
        return True

    names = LoopbackNames(broken)
    assert not await names.is_loopback("localhost")
    assert await names.is_loopback("localhost")  # not remembered: asked again
    assert len(calls) == 2
