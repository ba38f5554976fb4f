"""The board's input thread: keys and a lone Esc arrive, it sleeps while nobody types, and the
exit wakes it at once."""

from __future__ import annotations

import asyncio
import os
import threading
import tty
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.message import Message

from tests.support.fixtures import sample_watchlist, until
from wahdx_tui.core.api.client import ClientOptions, client_factory
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.ui import quietdriver
from wahdx_tui.ui.quietdriver import QuietLinuxDriver
from wahdx_tui.ui.run import TerminalBoardApp


class RecordingDriver(QuietLinuxDriver):
    """The real driver and parser; what they would send the app is kept here instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys: list[str] = []

    def process_message(self, message: Message) -> None:
        if isinstance(message, events.Key):
            self.keys.append(message.key)


async def test_keys_and_a_lone_escape_arrive_and_the_exit_wakes_a_sleeping_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Slept this long, a thread the exit did not wake would fail the join below.
    monkeypatch.setattr(quietdriver, "IDLE_WAIT", 3600.0)
    master, slave = os.openpty()
    tty.setraw(slave)
    driver = RecordingDriver(App(), debug=False, mouse=False, size=(80, 24))
    driver.fileno = slave
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        os.write(master, b"r")
        await until(lambda: driver.keys == ["r"], "the key r")
        os.write(master, b"\x1b")  # Esc alone: a key once the parser's short deadline passes
        await until(lambda: driver.keys == ["r", "escape"], "a lone Esc")
        await asyncio.sleep(0)
        driver.exit_event.set()
        await asyncio.to_thread(thread.join, 60)
        assert not thread.is_alive(), "the exit did not wake the input thread"
    finally:
        driver.exit_event.set()
        os.close(master)
        os.close(slave)
        driver.close()


async def test_the_input_thread_works_again_after_a_suspend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual closes the driver on suspend (ctrl+z) and starts the input thread again on
    resume: keys still arrive and the exit still wakes it."""
    monkeypatch.setattr(quietdriver, "IDLE_WAIT", 3600.0)
    master, slave = os.openpty()
    tty.setraw(slave)
    driver = RecordingDriver(App(), debug=False, mouse=False, size=(80, 24))
    driver.fileno = slave
    try:
        for key in ("a", "b"):  # before the suspend, and after the resume
            thread = threading.Thread(target=driver.run_input_thread, daemon=True)
            thread.start()
            os.write(master, key.encode())
            await until(lambda k=key: driver.keys[-1:] == [k], f"the key {key}")
            driver.exit_event.set()
            await asyncio.to_thread(thread.join, 60)
            assert not thread.is_alive(), "the exit did not wake the input thread"
            driver.exit_event.clear()
            driver.close()  # as Textual's suspend_application_mode does
    finally:
        os.close(master)
        os.close(slave)


def test_the_terminal_board_uses_the_quiet_driver_on_linux() -> None:
    clients = client_factory("http://127.0.0.1:9", "key-not-used", ClientOptions())
    app = TerminalBoardApp(Engine(sample_watchlist(), clients, interval=3600))
    assert app.get_driver_class() is QuietLinuxDriver
