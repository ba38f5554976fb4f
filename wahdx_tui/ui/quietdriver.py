"""Textual's Linux driver with an input thread that sleeps while nobody types.

Textual's input thread wakes ten times a second to see whether the app is exiting and whether
a lone Esc has waited long enough to be a key. On a board left open for weeks that is a
tenth of its idle CPU. This thread waits for input, or for the exit, and wakes at Textual's
pace only while an escape sequence is being read.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

ESCAPE_TICK = 0.1
"""Seconds between looks while a sequence is half read (Textual's own pace)."""
IDLE_WAIT = 5.0
"""Longest sleep with nothing typed: a safety net, as the exit itself wakes the thread."""


class _WakingEvent(threading.Event):
    """The driver's exit flag: setting it also wakes the input thread at once."""

    def __init__(self) -> None:
        super().__init__()
        self.wake_read, self._wake_write = -1, -1
        self.open()

    def open(self) -> None:
        """A pipe to wake the thread through, unless one is open (Textual closes the driver
        when the app is suspended, and starts the input thread again on resume)."""
        if self.wake_read < 0:
            self.wake_read, self._wake_write = os.pipe()
            os.set_blocking(self._wake_write, False)

    def set(self) -> None:
        super().set()
        if self._wake_write >= 0:
            # Full: a wake is already waiting to be read.
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_write, b"x")

    def close(self) -> None:
        """Close the pipe (the driver is done); a later set() only sets the flag."""
        fds, self.wake_read, self._wake_write = (self.wake_read, self._wake_write), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread sleeps until a key arrives or the app exits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = _WakingEvent()

    def close(self) -> None:
        """Textual's clean-up, and the wake pipe's."""
        try:
            super().close()
        finally:
            if isinstance(self.exit_event, _WakingEvent):
                self.exit_event.close()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, with a long idle wait)."""
        exit_event = self.exit_event
        assert isinstance(exit_event, _WakingEvent)
        exit_event.open()
        wake = exit_event.wake_read
        fileno = self.fileno
        selector = selectors.SelectSelector()
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def take_input(timeout: float, final: bool = False) -> None:
            typed = False
            for key, _mask in selector.select(timeout):
                if key.fd == wake:
                    os.read(wake, 64)
                else:
                    typed = True
            if typed:
                text = decode(os.read(fileno, 1024 * 4), final=final)
                if text:
                    for event in parser.feed(text):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not exit_event.is_set():
                # The parser keeps a deadline while a sequence (a lone Esc) is half read.
                pending = parser._timeout_time is not None
                take_input(ESCAPE_TICK if pending else IDLE_WAIT)
            selector.unregister(fileno)
            take_input(ESCAPE_TICK, final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
