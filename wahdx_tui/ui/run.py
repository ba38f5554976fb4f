"""Start the board in a real terminal, and end it promptly when that terminal goes away."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any, TextIO

from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.tty import terminal_gone
from wahdx_tui.ui.app import BoardApp

EXIT_TERMINAL_GONE = 129


class LostTerminalTolerant:
    """The terminal the board draws on, whose writes never fail: once it is gone (EIO), what
    is drawn is dropped. Textual's writer thread ends at the first write that fails, and the
    board's next 30 writes (its exit's among them) then waited for it for good: a board
    whose terminal had closed could live on as an orphan."""

    def __init__(self, terminal: TextIO | None) -> None:
        self.terminal = terminal
        self.gone = terminal is None

    def write(self, text: str) -> int:
        """Write `text`, or drop it once the terminal is gone."""
        if not self.gone and self.terminal is not None:
            try:
                return self.terminal.write(text)
            except (OSError, ValueError):
                self.gone = True
        return len(text)

    def flush(self) -> None:
        """Flush, unless the terminal is gone."""
        if not self.gone and self.terminal is not None:
            try:
                self.terminal.flush()
            except (OSError, ValueError):
                self.gone = True

    def fileno(self) -> int:
        """The terminal's file descriptor."""
        if self.terminal is None:
            raise OSError("no terminal")
        return self.terminal.fileno()

    def isatty(self) -> bool:
        """Whether it is a terminal (as long as it is there)."""
        return not self.gone and self.terminal is not None and self.terminal.isatty()


class ResumingLinuxDriver(LinuxDriver):
    """Textual's Linux driver, which resumes with one keyboard thread however it was stopped.

    Textual starts application mode again on every SIGCONT, on the belief that a SIGTSTP
    suspended it first. A SIGSTOP sent from outside suspends nothing, so its SIGCONT started
    a second keyboard thread (and writer) beside the first; `q` then stopped one, and the
    other kept the process alive, even after its terminal had gone. Here a resume that finds
    application mode still on stops it first. It draws through `LostTerminalTolerant`. Only
    public methods are overridden.
    """

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        terminal = sys.__stderr__
        # Textual's driver takes the terminal it draws on from here, as it is made.
        setattr(sys, "__stderr__", LostTerminalTolerant(terminal))  # noqa: B010 (Final)
        try:
            super().__init__(app, **kwargs)
        finally:
            setattr(sys, "__stderr__", terminal)  # noqa: B010
        self.running = False  # application mode is on: its keyboard and writer threads run

    def start_application_mode(self) -> None:
        """Textual's start, remembered."""
        super().start_application_mode()  # type: ignore[no-untyped-call]  # Textual's lacks hints
        self.running = True

    def stop_application_mode(self) -> None:
        """Textual's stop, remembered."""
        self.running = False
        super().stop_application_mode()

    def resume_application_mode(self) -> None:
        """After a SIGCONT: stop what still runs (nothing, after Textual's own suspend), then
        start again, the terminal set up anew (a shell may have reset it meanwhile)."""
        stopped_from_outside = self.running
        if stopped_from_outside:
            self.suspend_application_mode()
        super().resume_application_mode()
        if stopped_from_outside:  # Textual's own suspend says this itself
            self.send_message(self.SignalResume())


class TerminalBoardApp(BoardApp):
    """The board as run from the command line: exits on SIGHUP, SIGTERM or a vanished terminal."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but on Linux one that resumes from SIGSTOP with one input thread."""
        chosen = super().get_driver_class()
        return ResumingLinuxDriver if chosen is LinuxDriver else chosen

    def on_mount(self) -> None:
        """Install the hang-up handlers (Textual runs BoardApp.on_mount after this by itself)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._hang_up)
        self.app_resume_signal.subscribe(self, self._redraw)

    def _redraw(self, _app: App[Any]) -> None:
        """Back from a stop: the terminal was set up anew, blank; draw all of the board."""
        self.refresh(layout=True)

    def _hang_up(self) -> None:
        self.exit(EXIT_TERMINAL_GONE)

    def second(self) -> None:
        """The board's clock, after a look whether its terminal is still there."""
        if terminal_gone():
            self.exit(EXIT_TERMINAL_GONE)
            return
        super().second()


def run_board(engine: Engine, *, bell: bool, subtitle: str) -> int:
    """Run the board until the operator quits or the terminal goes away; return the exit code."""
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        print(
            "error: the board needs a terminal; use `wahdx-tui check` for scripts and pipes",
            file=sys.stderr,
        )
        return 2
    result = TerminalBoardApp(engine, bell=bell, subtitle=subtitle).run()
    for warning in engine.unsaved_warnings():  # the last try, at quit, failed too
        print(f"warning: {warning}", file=sys.stderr)
    return result if isinstance(result, int) else 0
