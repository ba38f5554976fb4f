"""Alerts from a real `serve` through Apprise to a real HTTP receiver on loopback.

The poller alone sends: a burst of failures is one message, the API down past
`notify_down_after` is one message and its return another, and a keyed board attached to
the poller sends nothing of its own. The receiver's token never reaches the log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alerts_receiver import Receiver
from textual.pilot import Pilot

from wahdx_tui.core.watchlist import load_watchlist, sample_watchlist_path
from wahdx_tui.sim import SimConfig, SimServer

KEY = "alerts_test_key_0123456789"
TOKEN = "tok3nSecretValue77"
POSTS = load_watchlist(sample_watchlist_path()).posts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def watchlist_with_alert_settings(folder: Path) -> Path:
    text = sample_watchlist_path().read_text(encoding="utf-8")
    text = text.replace(
        "settings:            # optional; command-line flags win over these\n",
        "settings:\n  notify_window: 2\n  notify_down_after: 3\n  notify_remind_every: 0\n",
    )
    path = folder / "watch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def wait_for(cond: Callable[[], object], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for: {what}")


def test_serve_sends_few_grouped_alerts_and_says_when_the_api_is_down_and_back(
    tmp_path: Path, receiver: Receiver
) -> None:
    wl = watchlist_with_alert_settings(tmp_path)
    sim = SimServer(SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo")).start()
    port = sim.port
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env.update(
        XDG_STATE_HOME=str(tmp_path / "state"),
        WAHDX_BASE_URL=sim.base_url,
        WAHDX_API_KEY=KEY,
        WAHDX_NOTIFY=receiver.url(f"/hook/{TOKEN}"),
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wahdx_tui", "serve", str(wl), "--interval", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        # The demo's morning: several posts on several accounts have failed at once.
        first = receiver.wait_for(1)[0]
        body = first.message
        assert "failed" in body.lower()
        assert "acc_tiktok_creator" in body  # per account ...
        assert "access token" in body.lower() or "account" in body.lower()  # ... and reason
        failures = [r for r in receiver.delivered() if "failed" in r.title.lower()]
        assert len(failures) == 1, [r.title for r in receiver.delivered()]
        # The API goes away for longer than notify_down_after, then comes back.
        sim.stop()
        down = len(receiver.delivered())
        wait_for(lambda: len(receiver.delivered()) > down, "the down message")
        assert "down" in (receiver.delivered()[-1].title + receiver.delivered()[-1].message).lower()
        back = SimServer(
            SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo", port=port)
        ).start()
        try:
            count = len(receiver.delivered())
            wait_for(lambda: len(receiver.delivered()) > count, "the back message")
            said = receiver.delivered()[-1]
            assert "back" in (said.title + said.message).lower()
        finally:
            proc.terminate()
            assert proc.wait(30) == 0
            back.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.stop()
    text = log.read_text()
    assert TOKEN not in text and KEY not in text
    for request in receiver.requests:
        assert TOKEN not in request.message and KEY not in request.message


async def test_a_keyed_board_attached_to_the_poller_sends_no_alert_of_its_own(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:

    from wahdx_tui.cli import client_options
    from wahdx_tui.core.secret import ApiKey
    from wahdx_tui.core.settings import resolve_settings
    from wahdx_tui.core.storeurl import open_store
    from wahdx_tui.core.teamsetup import team_engine
    from wahdx_tui.ui.app import BoardApp

    wl = watchlist_with_alert_settings(tmp_path)
    sim = SimServer(SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo")).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHDX_")}
    env.update(
        XDG_STATE_HOME=str(tmp_path / "state"),
        WAHDX_BASE_URL=sim.base_url,
        WAHDX_API_KEY=KEY,
        WAHDX_NOTIFY=receiver.url("/serve"),
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wahdx_tui", "serve", str(wl), "--interval", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_for(lambda: "started" in log.read_text(), "serve to start")
        monkeypatch.setenv("WAHDX_NOTIFY", receiver.url("/board"))  # the board's own target
        watchlist = load_watchlist(wl)
        settings = resolve_settings(watchlist.settings, {})
        store = tmp_path / "state" / "wahdx-tui" / "history.sqlite3"
        engine = team_engine(
            watchlist,
            base_url=sim.base_url,
            api_key=ApiKey(KEY),
            settings=settings,
            options=client_options(settings),
            fixed_settings=frozenset(),
            store=open_store(str(store)),
            can_poll=True,
        )
        assert engine.alerts is not None  # it could send, if it became the poller
        app = BoardApp(engine, bell=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.board.unreviewed > 0, "failures on the board")
            receiver.wait_for(1)  # the poller's message about them
            for _ in range(40):  # the board's own window (2 s) passes several times
                app.check_stuck()
                await pilot.pause(0.1)
            assert not engine.polls_api
        paths = [r.path for r in receiver.delivered()]
        assert paths and all(p == "/serve" for p in paths), paths
    finally:
        proc.terminate()
        proc.wait(30)
        sim.stop()


async def until(pilot: Pilot[int], cond: Callable[[], object], what: str) -> None:
    for _ in range(600):
        if cond():
            return
        await pilot.pause(0.05)
    pytest.fail(f"timed out waiting for: {what}")
