"""The command line: `check`, `watch`, `demo`, `sim` and `report`, on top of core, ui and sim."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wahdx_tui import __version__
from wahdx_tui.core.client import ClientOptions
from wahdx_tui.core.config import read_api_key, resolve_base_url
from wahdx_tui.core.errors import WahdxError
from wahdx_tui.core.history import History
from wahdx_tui.core.logsetup import configure_logging
from wahdx_tui.core.secret import ApiKey
from wahdx_tui.core.watchlist import Watchlist, WatchlistError, load_watchlist

EXIT_USAGE = 2


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything a run needs, resolved from flags, watchlist settings and environment."""

    watchlist: Watchlist
    base_url: str
    api_key: ApiKey
    options: ClientOptions
    interval: float
    final_every: int


def _positive_int(lo: int, hi: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {lo} to {hi}")
        return value

    return parse  # type: ignore[return-value]


def _seconds(lo: float, hi: float) -> type[float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value:g} s is out of range: use {lo:g} to {hi:g}")
        return value

    return parse  # type: ignore[return-value]


def _add_api_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("watchlist", metavar="WATCHLIST", help="YAML watchlist of posts to check")
    p.add_argument("--base-url", help="API base URL (default: $WAHDX_BASE_URL or the public API)")
    p.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE (mode 600) instead of $WAHDX_API_KEY",
    )
    p.add_argument("--batch-size", type=_positive_int(1, 1000), help="posts per batch request")
    p.add_argument(
        "--concurrency", type=_positive_int(1, 32), help="batch requests in flight (default 4)"
    )
    p.add_argument(
        "--timeout", type=_seconds(0.1, 300), default=10.0, help="seconds to wait for an answer"
    )
    p.add_argument("--log", metavar="FILE", help="append a debug log to FILE (key redacted)")


def _add_history_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--history", metavar="FILE", help="history file (default: in $XDG_STATE_HOME/wahdx-tui)"
    )
    group.add_argument("--no-history", action="store_true", help="keep no history on disk")


def open_history(args: argparse.Namespace, scope: str) -> History:
    """The board's history for this API: the store file unless --no-history."""
    from wahdx_tui.core.store import Store

    if args.no_history:
        return History(None, scope)
    return History(Store(args.history), scope)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    from wahdx_tui.sim.command import add_sim_arguments

    parser = argparse.ArgumentParser(
        prog="wahdx-tui",
        description="Live board for posts published through the Wahdx Connection API.",
    )
    parser.add_argument("--version", action="version", version=f"wahdx-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check every post once and print the results")
    _add_api_arguments(check)
    check.add_argument("--format", choices=("table", "json", "csv"), default="table")

    watch = sub.add_parser("watch", help="open the live board against the API")
    _add_api_arguments(watch)
    watch.add_argument("--interval", type=_seconds(1, 86400), help="seconds between refreshes")
    watch.add_argument("--no-bell", action="store_true", help="no terminal bell on a failure")
    _add_history_arguments(watch)

    demo = sub.add_parser("demo", help="open the board on a built-in simulated API (no key)")
    demo.add_argument("--watchlist", help="watchlist to simulate (default: the bundled sample)")
    demo.add_argument(
        "--interval", type=_seconds(1, 86400), help="seconds between refreshes (default: 5)"
    )
    demo.add_argument("--speed", type=_seconds(0.01, 1000), default=1.0, help="sim time factor")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-bell", action="store_true")
    group = demo.add_mutually_exclusive_group()
    group.add_argument(
        "--history",
        metavar="FILE",
        help="keep the demo's history in FILE (default: a temporary file)",
    )
    group.add_argument("--no-history", action="store_true", help="keep no history on disk")

    report = sub.add_parser(
        "report", help="print a shift-handoff report of failures and stuck posts (no API call)"
    )
    report.add_argument("watchlist", metavar="WATCHLIST", help="YAML watchlist of posts to report")
    report.add_argument("--format", choices=("markdown", "csv", "json"), default="markdown")
    report.add_argument(
        "--base-url", help="API base URL (default: $WAHDX_BASE_URL or the public API)"
    )
    report.add_argument(
        "--history", metavar="FILE", help="history file (default: in the XDG state directory)"
    )

    sim = sub.add_parser("sim", help="serve a simulated Wahdx API on 127.0.0.1")
    add_sim_arguments(sim)
    return parser


def resolve(args: argparse.Namespace) -> Setup:
    """Load the watchlist and resolve key, URL and options; raise the project's own errors."""
    watchlist = load_watchlist(args.watchlist)
    settings = watchlist.settings
    base_url = resolve_base_url(args.base_url)
    api_key = read_api_key(args.api_key_file)
    options = ClientOptions(
        batch_size=args.batch_size or settings.batch_size or 50,
        concurrency=args.concurrency or settings.concurrency or 4,
        timeout=args.timeout,
    )
    interval = getattr(args, "interval", None) or settings.interval or 15.0
    return Setup(watchlist, base_url, api_key, options, interval, settings.final_every or 10)


def _warn(watchlist: Watchlist) -> None:
    for warning in watchlist.warnings[:20]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(watchlist.warnings) > 20:
        print(f"warning: ... and {len(watchlist.warnings) - 20} more", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """`check`: one pass, printed as a table, JSON or CSV."""
    from wahdx_tui.core.checkrun import run_check
    from wahdx_tui.core.output import to_csv, to_json, to_table

    setup = resolve(args)
    configure_logging(args.log, setup.api_key)
    _warn(setup.watchlist)
    outcome = asyncio.run(
        run_check(list(setup.watchlist.posts), setup.base_url, setup.api_key, setup.options)
    )
    if outcome.rows:
        if args.format == "json":
            sys.stdout.write(to_json(outcome.rows))
        elif args.format == "csv":
            sys.stdout.write(to_csv(outcome.rows))
        else:
            tty = sys.stdout.isatty()
            color = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
            width = shutil.get_terminal_size((120, 24)).columns if tty else 200
            sys.stdout.write(to_table(outcome.rows, color=color, width=width))
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
    return outcome.exit_code


def cmd_watch(args: argparse.Namespace) -> int:
    """`watch`: the live board against the real API."""
    from wahdx_tui.ui.run import run_board

    setup = resolve(args)
    configure_logging(args.log, setup.api_key)
    from wahdx_tui.core.store import scope_for

    history = open_history(args, scope_for(setup.base_url))
    return run_board(
        setup.watchlist,
        base_url=setup.base_url,
        api_key=setup.api_key,
        options=setup.options,
        interval=setup.interval,
        final_every=setup.final_every,
        bell=not args.no_bell,
        history=history,
        fixed_settings=frozenset({"interval"} if args.interval else ()),
    )


@contextlib.contextmanager
def demo_history(args: argparse.Namespace) -> Iterator[History]:
    """The demo's history, never the operator's: a temporary file deleted on exit, or the
    --history file given, where each run keeps a scope of its own (the simulator restarts
    its story every run, so a trail never shows states going back); --no-history: none."""
    import secrets
    import tempfile
    import time
    from pathlib import Path

    from wahdx_tui.core.store import Store

    scope = f"sim://demo/{args.seed}"
    if args.no_history:
        yield History(None, scope)
        return
    if args.history:
        run = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        yield History(Store(args.history), f"{scope}/run-{run}")
        return
    with tempfile.TemporaryDirectory(prefix="wahdx-demo-") as folder:
        store = Store(Path(folder) / "history.sqlite")
        try:
            yield History(store, scope)
        finally:
            store.close()  # before its folder goes (again, if the board has closed it)


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: an in-process simulator playing the demo scenario on a free loopback port, and
    the board on it."""
    from wahdx_tui.core.watchlist import sample_watchlist_path
    from wahdx_tui.sim import SimConfig, SimServer
    from wahdx_tui.ui.run import run_board

    watchlist = load_watchlist(args.watchlist or sample_watchlist_path())
    _warn(watchlist)
    config = SimConfig(posts=watchlist.posts, seed=args.seed, speed=args.speed, scenario="demo")
    with demo_history(args) as history, SimServer(config) as sim:
        return run_board(
            watchlist,
            base_url=sim.base_url,
            api_key=ApiKey(sim.api_key),
            options=ClientOptions(batch_size=watchlist.settings.batch_size or 50),
            interval=args.interval or 5.0,
            final_every=watchlist.settings.final_every or 10,
            bell=not args.no_bell,
            history=history,
            demo=True,
            fixed_settings=frozenset({"interval"} if args.interval else ()),
        )


def cmd_report(args: argparse.Namespace) -> int:
    """`report`: the shift-handoff report from the history; reads only, creates nothing."""
    import time
    from pathlib import Path

    from wahdx_tui.core.handoff import (
        HandoffItem,
        build_handoff,
        render_csv,
        render_json,
        render_markdown,
    )
    from wahdx_tui.core.store import Store, default_store_path, scope_for

    watchlist = load_watchlist(args.watchlist)
    _warn(watchlist)
    scope = scope_for(resolve_base_url(args.base_url))
    path = Path(args.history) if args.history else default_store_path()
    now = time.time()
    history = path.exists()
    items: list[HandoffItem] = []
    if history:
        with Store(path, readonly=True) as store:
            items = build_handoff(store, scope, watchlist, now)
    else:
        print(f"note: no history yet at {path}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(render_json(items))
    elif args.format == "csv":
        sys.stdout.write(render_csv(items))
    else:
        sys.stdout.write(render_markdown(items, now, scope, history=history))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (errors are one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"check": cmd_check, "watch": cmd_watch, "demo": cmd_demo, "report": cmd_report}
    try:
        if args.command == "sim":
            from wahdx_tui.sim.command import run_sim

            return run_sim(args)
        handler = handlers.get(args.command)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except (WatchlistError, WahdxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
