"""The demo scenario: at the first answer failures of several reasons, a stuck post, published
posts with URLs, and posts that move within the next minute; deterministic per seed."""

from __future__ import annotations

import argparse
import time

import pytest

from wahdx_tui.check import run_check
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.categories import Category, categorize
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.watchlist.reader import (
    Watchlist,
    WatchlistSettings,
    load_watchlist,
    sample_watchlist_path,
)
from wahdx_tui.sim import SimConfig, SimServer
from wahdx_tui.sim.command import add_sim_arguments
from wahdx_tui.sim.scenario import demo_scripts
from wahdx_tui.sim.schedule import state_at

STUCK_PROCESSING = 15 * 60  # the board's default threshold


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample_posts() -> list[WatchedPost]:
    return list(load_watchlist(sample_watchlist_path()).posts)


async def answers(sim: SimServer, posts: list[WatchedPost]) -> list[PostStatus]:
    """What `check` gets from the simulator now: one real pass over loopback."""
    watchlist = Watchlist("<scenario>", tuple(posts), WatchlistSettings(), ())
    outcome = await run_check(watchlist, sim.base_url, sim.api_key, ClientOptions())
    assert outcome.error is None
    return [status for _, status in outcome.rows]


async def test_the_first_answer_shows_the_point() -> None:
    posts = sample_posts()
    with SimServer(SimConfig(posts=posts, scenario="demo", clock=FakeClock())) as sim:
        started = time.time()
        first = await answers(sim, posts)
    failed = [s for s in first if s.state is State.FAILED]
    categories = {categorize(s.error, s.raw_status) for s in failed}
    assert {Category.ACCOUNT, Category.MEDIA} <= categories  # an expired token, an aspect ratio
    assert len(categories) >= 2
    # The expired token fails every post of one account.
    token = [s for s in failed if categorize(s.error) is Category.ACCOUNT]
    account = token[0].key[0]
    assert len(token) >= 2
    assert {s.key for s in token} == {p.key for p in posts if p.account_id == account}
    # One post processing for longer than the stuck threshold, by the API's own clock.
    processing = [s for s in first if s.state is State.PROCESSING]
    assert len(processing) == 1
    changed_at = processing[0].changed_at
    assert changed_at is not None and started - changed_at > STUCK_PROCESSING + 60
    # Published posts, each with its public URL; and posts still queued.
    published = [s for s in first if s.state is State.PUBLISHED]
    assert len(published) >= len(posts) // 2
    assert all(s.public_url and s.public_url.startswith("https://") for s in published)
    assert sum(s.state is State.QUEUED for s in first) >= 3


async def test_the_queued_posts_move_within_the_next_minute() -> None:
    posts = sample_posts()
    clock = FakeClock()
    with SimServer(SimConfig(posts=posts, scenario="demo", clock=clock)) as sim:
        seen: dict[tuple[str, str], list[State]] = {}
        for _ in range(13):  # every 5 s for a minute, as the demo refreshes
            for status in await answers(sim, posts):
                trail = seen.setdefault(status.key, [])
                if not trail or trail[-1] is not status.state:
                    trail.append(status.state)
            clock.now += 5.0
    moving = [trail for trail in seen.values() if trail[0] is State.QUEUED]
    assert len(moving) >= 3
    for trail in moving:
        assert trail[:2] == [State.QUEUED, State.PROCESSING]
        assert trail[-1] in (State.PUBLISHED, State.FAILED)
    assert any(trail[-1] is State.FAILED for trail in moving)  # a failure arrives live
    assert any(trail[-1] is State.PUBLISHED for trail in moving)
    # nothing else moves: the board's first screen stays true
    assert all(len(trail) == 1 for trail in seen.values() if trail[0] is not State.QUEUED)


def test_the_script_is_a_function_of_seed_and_watchlist() -> None:
    posts = sample_posts()
    assert demo_scripts(7, posts) == demo_scripts(7, list(posts))
    assert demo_scripts(7, posts) != demo_scripts(8, posts)
    assert set(demo_scripts(3, posts)) == {p.key for p in posts}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (2, 1), (3, 2), (6, 3), (40, 5)])
def test_any_watchlist_gets_a_story(seed: int, shape: tuple[int, int]) -> None:
    """Small and large watchlists alike: every post scripted, and the story's parts in it as
    far as there are posts for them."""
    accounts, per_account = shape
    posts = [
        WatchedPost(f"acc_{kind}_{a}", f"p{a}_{i}")
        for a, kind in zip(range(accounts), ["tiktok", "ig", "threads", "fb"] * 20, strict=False)
        for i in range(per_account)
    ]
    scripts = demo_scripts(seed, posts)
    assert set(scripts) == {p.key for p in posts}
    at_start = {k: state_at(s.timeline, s.head_start) for k, s in scripts.items()}
    later = {k: state_at(s.timeline, s.head_start + 60.0) for k, s in scripts.items()}
    failed = [k for k, st in at_start.items() if st is State.FAILED]
    assert failed  # a failure at the first refresh, always
    if len(posts) >= 4:
        reasons = {categorize(scripts[k].timeline.error) for k in failed}
        assert len(reasons) >= 2
        assert sum(st is State.PROCESSING for st in at_start.values()) == 1
    if len(posts) >= 6:
        assert any(st is State.QUEUED for st in at_start.values())
        assert not any(st is State.QUEUED for st in later.values())


def test_unknown_scenarios_and_a_demo_without_posts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        SimServer(SimConfig(posts=[], scenario="chaos"))
    with pytest.raises(ValueError, match="needs the posts"):
        SimServer(SimConfig(posts=None, scenario="demo"))


def test_the_sim_command_plays_the_demo_on_request() -> None:
    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    assert parser.parse_args([]).scenario == "random"
    assert parser.parse_args(["--scenario", "demo"]).scenario == "demo"
