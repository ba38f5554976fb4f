"""Alerts from a real `serve` through Apprise to a real HTTP receiver on loopback.

The poller alone sends: a burst of failures is one message, the API down past
`notify_down_after` is one message and its return another, and a keyed board attached to
the poller sends nothing of its own. The receiver's token never reaches the log.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.alerts_receiver import Receiver
from tests.support.teamprocs import (
    child_env,
    engine_on,
    pilot_until,
    serve_process,
    summary,
    wait_for,
)
from wahdx_tui.core.watchlist.reader import load_watchlist, sample_watchlist_path
from wahdx_tui.sim import SimConfig, SimServer

KEY = "alerts_test_key_0123456789"
TOKEN = "tok3nSecretValue77"
POSTS = load_watchlist(sample_watchlist_path()).posts


def watchlist_with_alert_settings(folder: Path) -> Path:
    text = sample_watchlist_path().read_text(encoding="utf-8")
    text = text.replace(
        "settings:            # optional; command-line flags win over these\n",
        "settings:\n  notify_window: 2\n  notify_down_after: 3\n  notify_remind_every: 0\n",
    )
    path = folder / "watch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_serve_sends_few_grouped_alerts_and_says_when_the_api_is_down_and_back(
    tmp_path: Path, receiver: Receiver
) -> None:
    wl = watchlist_with_alert_settings(tmp_path)
    sim = SimServer(SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo")).start()
    port = sim.port
    env = child_env(
        tmp_path / "state",
        base_url=sim.base_url,
        key=KEY,
        WAHDX_NOTIFY=receiver.url(f"/hook/{TOKEN}"),
    )
    log = tmp_path / "serve.log"
    try:
        with serve_process(env, log, str(wl), "--interval", "1") as served:
            proc = served.proc
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

            def said_after(start: int, word: str) -> bool:
                """A message after the first `start` says `word` (another alert, a stuck post's
                grouped one, may be delivered in between)."""
                return any(
                    word in (r.title + r.message).lower() for r in receiver.delivered()[start:]
                )

            wait_for(lambda: said_after(down, "down"), "the down message", 60.0)
            back = SimServer(
                SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo", port=port)
            ).start()
            try:
                count = len(receiver.delivered())
                wait_for(lambda: said_after(count, "back"), "the back message", 60.0)
            finally:
                proc.terminate()
                assert proc.wait(30) == 0
                back.stop()
    finally:
        sim.stop()
    text = log.read_text()
    assert TOKEN not in text and KEY not in text
    for request in receiver.requests:
        assert TOKEN not in request.message and KEY not in request.message


async def test_a_keyed_board_attached_to_the_poller_sends_no_alert_of_its_own(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:

    from wahdx_tui.core.settings.table import resolve_settings
    from wahdx_tui.ui.app import BoardApp

    wl = watchlist_with_alert_settings(tmp_path)
    sim = SimServer(SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo")).start()
    env = child_env(
        tmp_path / "state", base_url=sim.base_url, key=KEY, WAHDX_NOTIFY=receiver.url("/serve")
    )
    log = tmp_path / "serve.log"
    try:
        with serve_process(env, log, str(wl), "--interval", "1") as served:
            try:
                wait_for(lambda: "started" in log.read_text(), "serve to start", 60.0)
                monkeypatch.setenv("WAHDX_NOTIFY", receiver.url("/board"))  # the board's own target
                watchlist = load_watchlist(wl)
                settings = resolve_settings(watchlist.settings, {})
                store = tmp_path / "state" / "wahdx-tui" / "history.sqlite3"
                engine = engine_on(
                    str(store), sim.base_url, key=KEY, watchlist=watchlist, settings=settings
                )
                assert engine.alerts is not None  # it could send, if it became the poller
                app = BoardApp(engine, bell=False)
                async with app.run_test(size=(120, 36)) as pilot:
                    await pilot_until(
                        pilot, lambda: app.board.unreviewed > 0, "failures on the board"
                    )
                    receiver.wait_for(1)  # the poller's message about them
                    for _ in range(40):  # the board's own window (2 s) passes several times
                        app.check_stuck()
                        await pilot.pause(0.1)
                    assert not engine.polls_api
                paths = [r.path for r in receiver.delivered()]
                assert paths and all(p == "/serve" for p in paths), paths
            finally:
                served.proc.terminate()
                served.proc.wait(30)
    finally:
        sim.stop()


async def test_an_attached_boards_help_says_the_poller_sends_the_alerts(
    tmp_path: Path, receiver: Receiver
) -> None:
    from wahdx_tui.ui.app import BoardApp
    from wahdx_tui.ui.screens.help import HelpScreen

    wl = watchlist_with_alert_settings(tmp_path)
    sim = SimServer(SimConfig(posts=POSTS, seed=7, api_key=KEY, scenario="demo")).start()
    env = child_env(
        tmp_path / "state", base_url=sim.base_url, key=KEY, WAHDX_NOTIFY=receiver.url("/serve")
    )
    log = tmp_path / "serve.log"
    try:
        with serve_process(env, log, str(wl), "--interval", "1") as served:
            try:
                started = time.time()
                receiver.wait_for(1)  # the poller's first alert: the morning's failures
                store = tmp_path / "state" / "wahdx-tui" / "history.sqlite3"
                engine = engine_on(str(store), sim.base_url, key=None)  # no key, no targets
                app = BoardApp(engine, bell=False)
                async with app.run_test(size=(120, 36)) as pilot:
                    await pilot_until(pilot, lambda: "via poller on" in summary(app), "attached")

                    async def help_says() -> str:
                        await pilot.press("question_mark")
                        screen = app.screen
                        assert isinstance(screen, HelpScreen)
                        await pilot.press("escape")
                        return screen.alerts

                    for _ in range(100):  # until the poller's word on its alerts is read
                        said = await help_says()
                        if "last alert" in said:
                            break
                        await pilot.pause(0.05)
                    assert "no alert targets set" not in said
                    assert said.startswith("sent by the team's poller on "), said
                    assert "1 alert target" in said and "last alert " in said, said
                    last = said.split("last alert ", 1)[1][:5]  # its own clock, as HH:MM
                    minutes = {
                        time.strftime("%H:%M", time.localtime(t))
                        for t in range(int(started) - 60, int(time.time()) + 60, 30)
                    }
                    assert last in minutes, said
            finally:
                served.proc.terminate()
                served.proc.wait(30)
    finally:
        sim.stop()
