"""Failures per hour from state changes: buckets, edges, one account, and a stored history."""

from __future__ import annotations

from pathlib import Path

from wahdx_tui.core.domain.records import Transition

from wahdx_tui.core.board.trend import HOUR, failures_per_hour
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.store.sqlite.store import SqliteStore

NOW = 1_732_800_000.0
A = ("acc_a", "p1")
B = ("acc_b", "p2")


def failed_at(key: tuple[str, str], at: float, old: State | None = State.PROCESSING) -> Transition:
    return Transition(key, old, State.FAILED, at)


def test_each_failure_lands_in_its_hour_oldest_first() -> None:
    events = [
        failed_at(A, NOW),  # now: the last bucket
        failed_at(A, NOW - 10),
        failed_at(B, NOW - HOUR - 1),  # the hour before
        failed_at(B, NOW - 23.5 * HOUR),  # the first bucket
        failed_at(A, NOW - 24 * HOUR),  # the window's very start: still the first bucket
    ]
    trend = failures_per_hour(events, NOW)
    assert len(trend) == 24
    assert trend[-1] == 2 and trend[-2] == 1 and trend[0] == 2
    assert sum(trend) == 5


def test_only_changes_into_failed_count() -> None:
    events = [
        Transition(A, State.QUEUED, State.PROCESSING, NOW - 5),
        Transition(A, State.PROCESSING, State.PUBLISHED, NOW - 4),
        failed_at(B, NOW - 3, old=None),  # first seen failed: counts
        Transition(B, State.FAILED, State.FAILED, NOW - 2),  # stays failed: does not
    ]
    assert sum(failures_per_hour(events, NOW)) == 1


def test_outside_the_window_and_future_stamps_are_left_out() -> None:
    events = [
        failed_at(A, NOW - 24 * HOUR - 1),
        failed_at(A, NOW + 60),
        failed_at(A, float("nan")),
    ]
    assert failures_per_hour(events, NOW) == [0] * 24


def test_one_account_and_other_window_lengths() -> None:
    events = [failed_at(A, NOW - 10), failed_at(B, NOW - 20), failed_at(B, NOW - 2 * HOUR - 1)]
    assert failures_per_hour(events, NOW, account="acc_b") == [0] * 21 + [1, 0, 1]
    assert failures_per_hour(events, NOW, hours=3) == [1, 0, 2]
    assert failures_per_hour(events, NOW, hours=0) == []


def test_the_trend_of_a_stored_history(tmp_path: Path) -> None:
    """What the board has after loading a store: its events give the same trend."""
    with SqliteStore(tmp_path / "history.sqlite") as store:
        store.record(
            "sim://t",
            [],
            [
                Transition(A, None, State.QUEUED, NOW - 5 * HOUR),
                failed_at(A, NOW - 5 * HOUR + 60),
                failed_at(B, NOW - 30 * 60),
            ],
        )
        events = store.events("sim://t")
    trend = failures_per_hour(events, NOW)
    assert trend[-1] == 1 and trend[-5] == 1 and sum(trend) == 2
