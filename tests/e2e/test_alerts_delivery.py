"""Alerts through Apprise to a real HTTP receiver on 127.0.0.1: what arrives, and what does not."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.alerts_receiver import WAIT, Receiver
from tests.support.fixtures import kept_loggers
from wahdx_tui.core.alerts import (
    Alerter,
    AlertPost,
    AlertSettings,
    Notifier,
    Retry,
    load_targets,
    open_alerter,
    parse_quiet,
)
from wahdx_tui.core.logsetup import configure_logging

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
FAST = Retry(first=0.05, cap=0.2, give_up_after=1.0, attempt_timeout=2.0)
PASSWORD = "pw_s3cret_77aa"
TOKEN = "tok_9f8e7d6c5b4a3921"


@pytest.fixture
def loggers() -> Iterator[None]:
    """Put back the loggers configure_logging changes."""
    with kept_loggers("wahdx_tui", "httpx", "apprise", "urllib3"):
        yield


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        threading.Event().wait(0.02)


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


def alerter(urls: str, retry: Retry = FAST, **changes: object) -> Alerter:
    made = open_alerter(settings(**changes), env={"WAHDX_NOTIFY": urls}, tz=UTC, retry=retry)
    assert made is not None
    return made


def posts(n: int, account: str, start: int = 0) -> list[AlertPost]:
    return [
        AlertPost(account, f"pub_{start + i}", f"Reel {start + i}", error="Unsupported video codec")
        for i in range(n)
    ]


def test_eight_failures_on_two_accounts_arrive_as_one_message_on_each_target(
    receiver: Receiver,
) -> None:
    a = alerter(f"{receiver.url('/j')} {receiver.url('/f', scheme='form')}")
    a.failures(posts(5, "shop") + posts(3, "brand", 5), NOON)
    a.tick(NOON + 30)
    a.tick(NOON + 60)
    assert a.close()
    got = receiver.delivered()
    assert sorted(r.path for r in got) == ["/f", "/j"]
    for r in got:
        assert r.title == "wahdx: 8 posts failed on 2 accounts"
        assert "By account: shop 5, brand 3" in r.message
        assert "media format (8): Re-export the media" in r.message
        assert all(f"pub_{i}" in r.message for i in range(8))
    assert got[0].json["type"] == "failure" if got[0].path == "/j" else got[1].json["type"]


def test_the_hourly_limit_holds_the_rest_and_says_so_when_the_hour_ends(
    receiver: Receiver,
) -> None:
    a = alerter(receiver.url(), window=0.0, max_per_hour=2)
    for i in range(5):
        a.failures(posts(1, "shop", i), NOON + i)
    a.tick(NOON + 3600)
    assert a.close()
    titles = [r.title for r in receiver.delivered()]
    assert titles == [
        "wahdx: 1 post failed on shop",
        "wahdx: 1 post failed on shop",
        "wahdx: 3 further alerts held, see the board",
    ]


def test_quiet_hours_send_only_a_rejected_key_then_one_digest(receiver: Receiver) -> None:
    night = datetime(2024, 5, 1, 23, 0, tzinfo=UTC).timestamp()
    a = alerter(receiver.url(), window=0.0, quiet=parse_quiet("22:00-07:00"))
    a.failures(posts(3, "shop"), night)
    a.api_state("key_rejected", night + 60)
    receiver.wait_for(1)
    a.api_state("ok", night + 600)
    a.tick(night + 8 * 3600)  # 07:00
    assert a.close()
    key, digest = receiver.delivered()
    assert key.title == "Wahdx API key rejected"
    assert digest.title == "wahdx: Quiet hours digest (22:00 to 07:00)"
    assert "3 posts failed on shop" in digest.message
    assert "Wahdx API accepts the key again after 9 min" in digest.message


def test_the_api_down_past_the_limit_then_back(receiver: Receiver) -> None:
    a = alerter(receiver.url(), down_after=300.0)
    a.api_state("down", NOON)
    a.tick(NOON + 200)
    a.api_state("down", NOON + 310)
    a.api_state("ok", NOON + 900)
    assert a.close()
    down, back = receiver.delivered()
    assert down.title == "Wahdx API down for 5 min" and down.json["type"] == "failure"
    assert back.title == "Wahdx API back after 15 min" and back.json["type"] == "success"


def test_reminders_of_unacknowledged_failures(receiver: Receiver) -> None:
    a = alerter(receiver.url(), remind_every=600.0)
    a.unacknowledged(posts(2, "shop"), NOON)
    a.tick(NOON + 599)
    a.tick(NOON + 600)
    a.unacknowledged([], NOON + 700)
    a.tick(NOON + 1300)
    assert a.close()
    [reminder] = receiver.delivered()
    assert reminder.title == "wahdx: Reminder: 2 failed posts not acknowledged"


def test_a_receiver_answering_500_is_retried_then_dropped_and_reported(
    receiver: Receiver, loggers: None
) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("wahdx_tui.alerts").addHandler(handler)
    logging.getLogger("wahdx_tui.alerts").setLevel(logging.INFO)
    try:
        receiver.mode = "fail"
        a = alerter(receiver.url(), window=0.0)
        a.failures(posts(1, "shop"), NOON)
        wait_until(lambda: a.status().banner is not None)
        attempts = len(receiver.requests)
        assert 2 <= attempts <= 10  # backoff 0.05, 0.1, 0.2, 0.2 ... within 1 s
        banner = a.status().banner
        assert banner is not None and banner.startswith("alerts failing for json: ")
        assert "500" in banner
        assert any("dropped for json://127.0.0.1" in line for line in lines)
        assert len(receiver.requests) == attempts  # dropped: no more tries
        # The next message that gets through clears the banner.
        receiver.mode = "ok"
        a.failures(posts(1, "shop", 1), NOON + 10)
        receiver.wait_for(1)
        wait_until(lambda: a.status().banner is None)
        status = a.status()
        assert status.last_sent_at is not None and status.targets == 1 and status.dropped == 1
        assert a.close()
    finally:
        logging.getLogger("wahdx_tui.alerts").removeHandler(handler)


def test_a_hanging_receiver_is_given_up_on_and_reported(receiver: Receiver) -> None:
    receiver.mode = "hang"
    retry = Retry(first=0.05, cap=0.1, give_up_after=1.0, attempt_timeout=0.3)
    a = alerter(receiver.url(), retry=retry, window=0.0)
    a.failures(posts(1, "shop"), NOON)
    wait_until(lambda: a.status().banner is not None)
    assert a.status().banner == "alerts failing for json: no answer within 0.3 s"
    assert len(receiver.requests) >= 2


def test_quitting_waits_at_most_its_timeout_for_a_message_in_flight(receiver: Receiver) -> None:
    receiver.mode = "hang"
    notifier = Notifier(load_targets(env={"WAHDX_NOTIFY": receiver.url()}), retry=Retry())
    a = Alerter(settings(window=0.0), notifier, tz=UTC)
    a.failures(posts(1, "shop"), NOON)
    receiver.wait_for(1, delivered=False)  # in flight: the receiver holds it
    started = time.monotonic()
    assert a.close(timeout=1.0) is False  # not delivered, and said so
    assert time.monotonic() - started < 5.0
    assert a.status().dropped == 1


def test_quitting_delivers_what_is_queued(receiver: Receiver) -> None:
    a = alerter(receiver.url(), window=0.0)
    for i in range(3):
        a.failures(posts(1, "shop", i), NOON + i)
    assert a.close(timeout=5.0)
    assert len(receiver.delivered()) == 3


def test_sending_never_waits_for_the_network(receiver: Receiver) -> None:
    receiver.mode = "hang"
    a = alerter(receiver.url(), retry=Retry(attempt_timeout=30.0), window=0.0, max_per_hour=50)
    a.failures(posts(1, "shop"), NOON)
    receiver.wait_for(1, delivered=False)
    # The only target holds the first message for up to 30 s; the next passes' alerts are
    # taken while it still does (had a call waited for it, the receiver would have more).
    for i in range(20):
        assert len(a.failures(posts(1, "shop", i + 1), NOON + i + 1)) == 1
    assert len(receiver.requests) == 1
    assert a.status().queued == 21
    assert a.close(timeout=0.2) is False


HOSTILE_LABEL = "<!channel> @here @everyone <@U024BE7LH> <#C024BE7LR> *bold* _it_ `code` ~x~"
HOSTILE_ERROR = (
    "[click](https://evil.example/x) <https://evil.example|login> &lt;b&gt; <b>html</b> "
    "\x1b[31mred\x1b[0m \x07bell\u202eevil\nSecond line " + "long " * 200
)


def test_hostile_labels_and_error_texts_arrive_inert(receiver: Receiver) -> None:
    post = AlertPost(
        "shop",
        "pub_1",
        HOSTILE_LABEL,
        error=HOSTILE_ERROR,
        hint="@channel <!here> do *this*",
        public_url="https://ex.com/p/1?a=<!channel>|x",
    )
    a = alerter(f"{receiver.url()} {receiver.url(scheme='form')}", window=0.0)
    a.failures([post], NOON)
    assert a.close()
    for r in receiver.delivered():
        text = r.title + "\n" + r.message
        for live in ("@channel", "@here", "@everyone", "<!", "<@", "<#", "](", "|login"):
            assert live not in text
        for char in "<>*`~&[]|\x1b\x07\u202e":
            assert char not in text
        assert "evil.example" in text and "https://evil" not in text  # shown, not a link
        assert "https://ex.com/p/1?a=%3C!channel%3E%7Cx" in text  # the post's URL still works
        line = next(ln for ln in r.message.splitlines() if "pub_1" in ln)
        assert len(line) < 400  # the long error was cut
        assert "Second line" in line  # its newline did not start a line of its own


def test_notify_tokens_never_reach_a_message_a_log_line_or_the_status(
    receiver: Receiver, tmp_path: Path, loggers: None
) -> None:
    url = receiver.url(f"/hook/{TOKEN}", auth=f"user:{PASSWORD}@")
    log = tmp_path / "debug.log"
    configure_logging(str(log))
    receiver.mode = "fail"
    a = alerter(url, window=0.0)
    # A hostile error text that quotes the token is redacted too.
    a.failures([AlertPost("shop", "pub_1", error=f"echo {TOKEN} {PASSWORD}")], NOON)
    wait_until(lambda: a.status().banner is not None)
    receiver.mode = "ok"
    a.failures(posts(1, "shop", 2), NOON + 5)
    assert a.close()
    for r in receiver.requests:
        assert r.path == f"/hook/{TOKEN}"  # it did go where it was told...
        assert TOKEN not in r.message + r.title and PASSWORD not in r.message + r.title
    banner = a.status().banner
    assert banner is None or (TOKEN not in banner and PASSWORD not in banner)
    text = log.read_text()
    assert "apprise" in text and "urllib3" in text  # delivery's own lines are there...
    assert TOKEN not in text and PASSWORD not in text  # ... redacted
    assert "127.0.0.1" in text


def test_tagged_targets_get_only_their_kinds(receiver: Receiver, tmp_path: Path) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text(
        "urls:\n"
        f"  - {receiver.url('/ops')}:\n"
        "      tag: api\n"
        f"  - {receiver.url('/team')}:\n"
        "      tag: failures, devs\n"
        f"  - {receiver.url('/all')}\n"
    )
    config.chmod(0o600)
    made = open_alerter(settings(window=0.0), str(config), tz=UTC, retry=FAST)
    assert made is not None
    made.failures(posts(1, "shop"), NOON)
    made.api_state("key_rejected", NOON + 1)
    assert made.close()
    by_path: dict[str, list[str]] = {}
    for r in receiver.delivered():
        by_path.setdefault(r.path, []).append(r.title)
    assert by_path == {
        "/ops": ["Wahdx API key rejected"],
        "/team": ["wahdx: 1 post failed on shop"],
        "/all": ["wahdx: 1 post failed on shop", "Wahdx API key rejected"],
    }
