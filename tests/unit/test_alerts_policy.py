"""The alert policy: few grouped messages, an hourly limit, quiet hours, outages, reminders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wahdx_tui.core.alerts import (
    AlertPolicy,
    AlertPost,
    AlertSettings,
    Kind,
    QuietHours,
    parse_quiet,
)

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()


def settings(**changes: object) -> AlertSettings:
    base: dict[str, object] = {
        "window": 60.0,
        "down_after": 300.0,
        "remind_every": 3600.0,
        "max_per_hour": 12,
        "quiet": None,
    }
    base.update(changes)
    return AlertSettings(**base)  # type: ignore[arg-type]


def policy(**changes: object) -> AlertPolicy:
    return AlertPolicy(settings(**changes), tz=UTC)


def failed(n: int, account: str = "acme", start: int = 0) -> list[AlertPost]:
    return [
        AlertPost(
            account, f"pub_{start + i}", f"Post {start + i}", error="Video codec not supported"
        )
        for i in range(n)
    ]


def at(hour: int, minute: int = 0, day: int = 1) -> float:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC).timestamp()


def test_eight_posts_failing_at_once_on_two_accounts_are_one_message() -> None:
    p = policy()
    assert p.failures(failed(5, "shop") + failed(3, "brand", 5), NOON) == []
    assert p.tick(NOON + 59) == []
    [message] = p.tick(NOON + 60)
    assert message.kind is Kind.FAILED
    assert "8 posts failed on 2 accounts" in message.title
    assert "By account: shop 5, brand 3" in message.body
    assert "media format (8): Re-export the media" in message.body
    assert all(f"pub_{i}" in message.body for i in range(8))


def test_failures_within_the_window_join_it_and_later_ones_start_a_new_one() -> None:
    p = policy()
    p.failures(failed(2), NOON)
    p.failures(failed(1, start=2), NOON + 45)
    [first] = p.failures(failed(1, start=3), NOON + 61)
    assert "3 posts failed" in first.title and "pub_3" not in first.body
    [second] = p.tick(NOON + 121)
    assert "1 post failed on acme" in second.title and "pub_3" in second.body


def test_a_group_names_ten_posts_and_counts_the_rest() -> None:
    p = policy(window=0.0)
    [message] = p.failures(failed(14), NOON)
    assert "pub_9" in message.body and "pub_10" not in message.body
    assert "and 4 more, see the board" in message.body


def test_the_hint_and_public_url_of_a_post_are_in_its_message() -> None:
    post = AlertPost(
        "acme", "pub_1", "Launch", category="rate_limit", public_url="https://ex.com/p/1"
    )
    [message] = policy(window=0.0).failures([post], NOON)
    assert "rate limited (1): Wait for the platform's limit to reset" in message.body
    assert "https://ex.com/p/1" in message.body


def test_stuck_posts_are_grouped_the_same_way() -> None:
    p = policy()
    posts = [AlertPost("acme", f"pub_{i}", state="processing") for i in range(4)]
    p.stuck(posts, NOON)
    [message] = p.tick(NOON + 60)
    assert message.kind is Kind.STUCK and "4 posts stuck on acme" in message.title
    assert "stuck in processing" in message.body


def test_past_the_hourly_limit_one_message_says_how_many_were_held() -> None:
    p = policy(window=0.0, max_per_hour=3)
    sent = [m for i in range(5) for m in p.failures(failed(1, start=i), NOON + i * 60)]
    assert len(sent) == 3
    assert p.tick(NOON + 3599) == []
    [held] = p.tick(NOON + 3600)
    assert held.kind is Kind.HELD
    assert "2 further alerts held, see the board" in held.title
    assert "2 about failures (2 posts)" in held.body
    # The new hour starts with the summary; two more fit in it.
    assert len(p.failures(failed(1, start=10), NOON + 3601)) == 1


def test_quiet_hours_hold_everything_and_send_one_digest_when_they_end() -> None:
    p = policy(window=0.0, quiet=parse_quiet("22:00-07:00"))
    assert p.failures(failed(3), at(23, 0)) == []
    assert p.api_state("down", at(23, 10)) == []
    assert p.tick(at(23, 30)) == []  # down for 20 min, but quiet
    assert p.api_state("ok", at(23, 40)) == []
    assert p.stuck([AlertPost("acme", "pub_s", state="queued")], at(2, 0, day=2)) == []
    assert p.tick(at(6, 59, day=2)) == []
    [digest] = p.tick(at(7, 0, day=2))
    assert digest.kind is Kind.DIGEST and "22:00 to 07:00" in digest.title
    assert "3 posts failed on acme" in digest.body
    assert "1 post got stuck on acme" in digest.body
    assert (
        "Wahdx API down for 20 min" in digest.body and "Wahdx API back after 30 min" in digest.body
    )
    assert p.tick(at(7, 5, day=2)) == []


def test_a_rejected_key_is_sent_at_once_even_in_quiet_hours_and_past_the_limit() -> None:
    p = policy(window=0.0, max_per_hour=1, quiet=QuietHours(22 * 60, 7 * 60))
    p.failures(failed(1), at(21, 0))
    [key] = p.api_state("key_rejected", at(23, 0))
    assert key.kind is Kind.KEY_REJECTED and "rejected the API key at 23:00" in key.body
    assert p.api_state("key_rejected", at(23, 5)) == []  # once per episode


def test_no_quiet_hours_quiet_hours_that_cross_midnight_and_bad_ones() -> None:
    assert parse_quiet(None) is None and parse_quiet("none") is None and parse_quiet("") is None
    q = parse_quiet("22:00-07:00")
    assert q == QuietHours(1320, 420) and str(q) == "22:00-07:00"
    assert q is not None and q.covers(23 * 60 + 59)
    assert q.covers(6 * 60 + 59) and not q.covers(7 * 60 + 0)
    day = parse_quiet("12:30-13:00")
    assert day is not None and day.covers(12 * 60 + 45)
    assert not day.covers(13 * 60 + 0)
    for bad in ("22-07", "25:00-07:00", "22:00-22:00", "10:60-11:00", "evening"):
        with pytest.raises(ValueError):
            parse_quiet(bad)


def test_the_api_down_longer_than_the_limit_is_one_message_and_back_is_one_more() -> None:
    p = policy()
    assert p.api_state("down", NOON) == []
    assert p.tick(NOON + 299) == []
    [down] = p.tick(NOON + 300)
    assert down.kind is Kind.API_DOWN and "since 12:00 (5 min)" in down.body
    assert p.api_state("down", NOON + 600) == []
    [back] = p.api_state("ok", NOON + 720)
    assert back.kind is Kind.API_BACK and back.title == "Wahdx API back after 12 min"
    assert p.api_state("ok", NOON + 780) == []


def test_a_short_outage_sends_nothing_and_since_counts_from_when_it_began() -> None:
    p = policy()
    p.api_state("down", NOON)
    assert p.api_state("ok", NOON + 120) == []
    [down] = p.api_state("down", NOON + 1000, since=NOON + 600)
    assert "since 12:10" in down.body


def test_the_key_accepted_again_closes_a_key_episode() -> None:
    p = policy()
    p.api_state("key_rejected", NOON)
    assert p.tick(NOON + 600) == []  # no second "down" message for the same episode
    [back] = p.api_state("ok", NOON + 900)
    assert back.title == "Wahdx API accepts the key again after 15 min"


def test_unacknowledged_failures_are_reminded_every_interval_until_none_is_left() -> None:
    p = policy(remind_every=3600.0)
    posts = failed(2)
    assert p.unacknowledged(posts, NOON) == []
    assert p.unacknowledged(posts, NOON + 3599) == []
    [reminder] = p.tick(NOON + 3600)
    assert reminder.kind is Kind.REMINDER
    assert "Reminder: 2 failed posts not acknowledged" in reminder.title
    assert "pub_0" in reminder.body and "pub_1" in reminder.body
    [again] = p.unacknowledged(posts[:1], NOON + 7200)
    assert "1 failed post not acknowledged" in again.title
    assert p.unacknowledged([], NOON + 7300) == []
    assert p.tick(NOON + 20000) == []


def test_reminders_are_off_at_zero() -> None:
    p = policy(remind_every=0.0)
    p.unacknowledged(failed(2), NOON)
    assert p.tick(NOON + 10 * 86400) == []


def test_settings_refuse_values_that_make_no_sense() -> None:
    with pytest.raises(ValueError):
        settings(max_per_hour=0)
    with pytest.raises(ValueError):
        settings(window=-1.0)
    with pytest.raises(ValueError):
        policy().api_state("maybe", NOON)  # type: ignore[arg-type]
