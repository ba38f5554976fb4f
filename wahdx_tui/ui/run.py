"""Start the board in a real terminal, and end it promptly when that terminal goes away."""

from __future__ import annotations

import asyncio
import signal
import sys

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.tty import terminal_gone
from wahdx_tui.ui.app import BoardApp
from wahdx_tui.ui.quietdriver import QuietLinuxDriver

EXIT_TERMINAL_GONE = 129


class TerminalBoardApp(BoardApp):
    """The board as run from the command line: exits on SIGHUP, SIGTERM or a vanished terminal."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but on Linux one whose input thread sleeps while nobody types."""
        chosen = super().get_driver_class()
        return QuietLinuxDriver if chosen is LinuxDriver else chosen

    def on_mount(self) -> None:
        """Install the hang-up handlers (Textual runs BoardApp.on_mount after this by itself)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._hang_up)
        self.set_interval(1.0, self._check_terminal)

    def _hang_up(self) -> None:
        self.exit(EXIT_TERMINAL_GONE)

    def _check_terminal(self) -> None:
        if terminal_gone():
            self.exit(EXIT_TERMINAL_GONE)


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
