"""The lease as one process sees it: a deadline taken before each renewal, and the poller's
word that rides on it (no clock shared between hosts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from wahdx_tui.core.store.backend import open_store

from wahdx_tui.core.engine.health import Health
from wahdx_tui.core.team.lease import LEASE_TTL, PollerWord, TeamLink, new_holder


def link(path: Path, *, can_poll: bool = True) -> TeamLink:
    holder = new_holder()
    return TeamLink(open_store(str(path)), "https://api.example", can_poll, holder, holder.id)


def test_one_holder_at_a_time_and_the_other_takes_over_when_it_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "team.sqlite3"
    one, two = link(path), link(path)
    word = PollerWord()
    assert one.upkeep(word) and one.holding
    assert not two.upkeep(word) and not two.holding  # a live lease is someone else's
    assert two.lease is not None and two.lease.holder_id == one.holder.id
    one.leave()
    assert not one.holding
    assert two.upkeep(word) and two.holding


def test_holding_is_a_deadline_that_runs_out_without_renewals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = link(tmp_path / "team.sqlite3")
    assert one.upkeep(PollerWord())
    later = time.monotonic() + LEASE_TTL - 0.5  # a renewal hung this long
    monkeypatch.setattr(time, "monotonic", lambda: later)
    # It stops a second before the store's expiry, so no standby can poll beside it.
    assert not one.holding


def test_a_view_only_link_never_takes_a_free_lease(tmp_path: Path) -> None:
    viewer = link(tmp_path / "team.sqlite3", can_poll=False)
    assert not viewer.upkeep(PollerWord()) and viewer.lease is None


def test_the_word_says_how_old_the_last_pass_is_and_reads_back_whatever_was_stored() -> None:
    health = Health(state="ok", last_success=1000.0)
    word = PollerWord.of(health, interval=15, now=1010.0)
    assert word.pass_age == 10.0 and word.late() is None
    back = PollerWord.decode(word.encode())
    assert back == word
    paused = PollerWord.of(health, interval=15, now=1000.0 + 2 * 15 + 16)
    assert paused.late() == pytest.approx(46.0)  # two intervals and 15 s of slack gone
    for junk in ("", "not json", "[1, 2]", '{"api": "bogus", "interval": "x"}'):
        assert PollerWord.decode(junk).api == "starting"
