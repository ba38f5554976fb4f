"""Start the board in a real terminal, and end it promptly when that terminal goes away."""

from __future__ import annotations

import asyncio
import select
import signal
import sys
from collections.abc import Callable

from wahdx_tui.core.client import ClientEvent, ClientOptions, WahdxClient
from wahdx_tui.core.history import History
from wahdx_tui.core.secret import ApiKey
from wahdx_tui.core.watchlist import Watchlist
from wahdx_tui.ui.app import BoardApp

EXIT_TERMINAL_GONE = 129


def terminal_gone(fd: int | None = None) -> bool:
    """True when the terminal on stdin hung up or was closed (poll reports HUP/ERR/NVAL)."""
    try:
        fd = sys.__stdin__.fileno() if fd is None and sys.__stdin__ else fd
    except (ValueError, OSError):
        return True
    if fd is None:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events)


class TerminalBoardApp(BoardApp):
    """The board as run from the command line: exits on SIGHUP, SIGTERM or a vanished terminal."""

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


def run_board(
    watchlist: Watchlist,
    *,
    base_url: str,
    api_key: ApiKey,
    options: ClientOptions,
    interval: float,
    final_every: int,
    bell: bool,
    history: History,
    demo: bool = False,
    fixed_settings: frozenset[str] = frozenset(),
) -> int:
    """Run the board until the operator quits or the terminal goes away; return the exit code."""
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        print(
            "error: the board needs a terminal; use `wahdx-tui check` for scripts and pipes",
            file=sys.stderr,
        )
        return 2

    def factory(on_event: Callable[[ClientEvent], None]) -> WahdxClient:
        return WahdxClient(base_url, api_key, options, on_event=on_event)

    app = TerminalBoardApp(
        watchlist,
        factory,
        interval=interval,
        final_every=final_every,
        bell=bell,
        subtitle="demo: simulated API" if demo else base_url,
        history=history,
        fixed_settings=fixed_settings,
    )
    result = app.run()
    if history.error is not None:  # the last try, at quit, failed too: say what was lost
        print(
            f"warning: history not saved: {history.error}; {history.unsaved:,} state changes "
            f"and {history.unsaved_acks:,} acknowledgements were not written",
            file=sys.stderr,
        )
    if history.dropped:
        print(
            f"warning: history: {history.dropped:,} of the oldest state changes were dropped "
            "while the history file refused writes",
            file=sys.stderr,
        )
    return result if isinstance(result, int) else 0
