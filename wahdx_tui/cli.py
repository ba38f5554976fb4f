"""The command line: `check`, `watch`, `demo`, `sim` and `report`, on top of core, ui and sim."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from wahdx_tui import __version__
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.errors import ConfigError, WahdxError
from wahdx_tui.core.logsetup import configure_logging
from wahdx_tui.core.settings.apiaccess import KEY_ENV, read_api_key, resolve_base_url
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.table import Settings, add_setting_flags, flag_values, resolve_settings
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist

EXIT_USAGE = 2
DEMO_INTERVAL = 5.0
"""The demo refreshes faster than a real board: its simulated posts move in seconds."""


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything a run needs, resolved from flags, watchlist settings and environment."""

    watchlist: Watchlist
    base_url: str
    api_key: ApiKey | None  # None only where a key is optional (a board that follows a poller)
    settings: Settings
    flags: Mapping[str, object]
    """The setting flags given on the command line: they win over the file on a reload too."""

    @property
    def options(self) -> ClientOptions:
        """The client's options from the resolved settings."""
        return client_options(self.settings)

    @property
    def interval(self) -> float:
        """Seconds between refreshes."""
        return self.settings.interval

    @property
    def final_every(self) -> int:
        """Final posts are re-checked every this many passes."""
        return self.settings.final_every


def client_options(settings: Settings) -> ClientOptions:
    """The client's tunables that are settings: batch size, concurrency, timeouts."""
    return ClientOptions(
        batch_size=settings.batch_size,
        concurrency=settings.concurrency,
        timeout=settings.timeout,
        max_retry_after=settings.max_retry_after,
    )


def _speed(text: str) -> float:
    """The demo's ``--speed``: the simulator's time factor, 0.01 to 1000."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0.01 to 1000, got {text!r}"
        ) from None
    if not 0.01 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be a number from 0.01 to 1000, got {text.strip()}")
    return value


def _add_api_arguments(p: argparse.ArgumentParser, command: str) -> None:
    """The arguments of a command that asks the API, its setting flags among them."""
    p.add_argument("watchlist", metavar="WATCHLIST", help="YAML watchlist of posts to check")
    p.add_argument("--base-url", help="API base URL (default: $WAHDX_BASE_URL or the public API)")
    p.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE (mode 600) instead of $WAHDX_API_KEY",
    )
    add_setting_flags(p, command)
    p.add_argument("--log", metavar="FILE", help="append a debug log to FILE (key redacted)")


def _add_history_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--history", metavar="FILE", help="history file (default: in $XDG_STATE_HOME/wahdx-tui)"
    )
    group.add_argument("--no-history", action="store_true", help="keep no history on disk")


def open_history(args: argparse.Namespace, scope: str) -> StoreWriter:
    """The board's history for this API: the store file unless --no-history."""
    from wahdx_tui.core.store.sqlite.store import SqliteStore

    if args.no_history:
        return StoreWriter(None, scope)
    return StoreWriter(SqliteStore(args.history), scope)


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
    _add_api_arguments(check, "check")
    check.add_argument("--format", choices=("table", "json", "csv"), default="table")

    watch = sub.add_parser("watch", help="open the live board against the API")
    _add_api_arguments(watch, "watch")
    watch.add_argument("--no-bell", action="store_true", help="no terminal bell on a failure")
    watch.add_argument(
        "--view-only",
        action="store_true",
        help="follow the team's poller and never poll, even with a key (wall screens)",
    )
    _add_history_arguments(watch)
    _store_arguments(watch)
    _notify_argument(watch)

    serve = sub.add_parser(
        "serve", help="poll for the whole team, headless: boards with `watch` attach to it"
    )
    _add_api_arguments(serve, "serve")
    serve.add_argument(
        "--history", metavar="FILE", help="history file (default: in $XDG_STATE_HOME/wahdx-tui)"
    )
    _store_arguments(serve)
    _notify_argument(serve)

    demo = sub.add_parser("demo", help="open the board on a built-in simulated API (no key)")
    demo.add_argument("--watchlist", help="watchlist to simulate (default: the bundled sample)")
    add_setting_flags(demo, "demo", {"interval": DEMO_INTERVAL})
    demo.add_argument("--speed", type=_speed, default=1.0, help="sim time factor, 0.01 to 1000")
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
    _store_arguments(report)

    notify = sub.add_parser(
        "notify-test", help="send one test alert to each notification target and say how it went"
    )
    notify.add_argument(
        "--notify-config",
        metavar="FILE",
        help="Apprise config file (YAML or TEXT, mode 600) instead of $WAHDX_NOTIFY",
    )

    sim = sub.add_parser("sim", help="serve a simulated Wahdx API on 127.0.0.1")
    add_sim_arguments(sim)

    store = sub.add_parser("store", help="work on the store itself (copy a history)")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION")
    copy = store_sub.add_parser(
        "copy",
        help="copy posts, transitions and acknowledgements from SRC into DST (safe to repeat)",
    )
    copy.add_argument(
        "src", metavar="SRC", help="postgresql://USER@HOST/DB, a file or sqlite:///PATH"
    )
    copy.add_argument("dst", metavar="DST", help="the store to copy into (created when missing)")
    copy.add_argument("--src-password-file", metavar="FILE", help="SRC's password (mode 600)")
    copy.add_argument("--dst-password-file", metavar="FILE", help="DST's password (mode 600)")
    return parser


def resolve(args: argparse.Namespace, *, key_optional: bool = False) -> Setup:
    """Load the watchlist and resolve key, URL and settings; raise the project's own errors.

    With `key_optional`, no key at all is None (a key that is given but bad is still an error).
    """
    watchlist = load_watchlist(args.watchlist)
    base_url = resolve_base_url(args.base_url)
    given = args.api_key_file or os.environ.get(KEY_ENV, "").strip()
    api_key = read_api_key(args.api_key_file) if given or not key_optional else None
    flags = flag_values(args)
    return Setup(watchlist, base_url, api_key, resolve_settings(watchlist.settings, flags), flags)


def _warn(watchlist: Watchlist) -> None:
    for warning in watchlist.warnings[:20]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(watchlist.warnings) > 20:
        print(f"warning: ... and {len(watchlist.warnings) - 20} more", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """`check`: one pass, printed as a table, JSON or CSV."""
    from wahdx_tui.check import run_check
    from wahdx_tui.core.reports.checkresults import to_csv, to_json, to_table

    setup = resolve(args)
    assert setup.api_key is not None  # resolve() insists
    configure_logging(args.log, setup.api_key)
    _warn(setup.watchlist)
    outcome = asyncio.run(run_check(setup.watchlist, setup.base_url, setup.api_key, setup.options))
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


def _store_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="URL",
        help="the team store: postgresql://USER@HOST/DB, a file or sqlite:///PATH "
        "(default: $WAHDX_STORE, else --history, else the file in $XDG_STATE_HOME/wahdx-tui)",
    )
    p.add_argument("--store-password-file", metavar="FILE", help="the store's password (mode 600)")


def _notify_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--notify-config",
        metavar="FILE",
        help="Apprise config file (YAML or TEXT, mode 600) with the alert targets, instead of"
        " $WAHDX_NOTIFY; only the team's poller sends",
    )


def cmd_watch(args: argparse.Namespace) -> int:
    """`watch`: the live board; it polls, or follows a team's poller found in its store."""
    from wahdx_tui.core.api.client import client_factory
    from wahdx_tui.core.engine.engine import Engine
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.protocol import scope_for
    from wahdx_tui.core.store.url import display_url
    from wahdx_tui.core.team.setup import NO_POLLER, poller_alive, store_url, team_engine
    from wahdx_tui.ui.run import run_board

    setup = resolve(args, key_optional=not args.no_history)
    configure_logging(args.log, *(k for k in [setup.api_key] if k is not None))
    fixed = frozenset(setup.flags)
    if args.no_history:  # alone: no store, so no team
        assert setup.api_key is not None
        engine: Engine = Engine(
            setup.watchlist,
            client_factory(setup.base_url, setup.api_key, setup.options),
            interval=setup.interval,
            final_every=setup.final_every,
            history=open_history(args, scope_for(setup.base_url)),
            fixed_settings=fixed,
            watch_file=True,
        )
        return run_board(engine, bell=not args.no_bell, subtitle=setup.base_url)
    url = store_url(args.store, args.history)
    store = open_store(url, password_file=args.store_password_file)
    try:
        if not args.view_only and setup.api_key is None and not poller_alive(store, setup.base_url):
            raise ConfigError(NO_POLLER)
    except BaseException:
        store.close()
        raise
    engine = team_engine(
        setup.watchlist,
        base_url=setup.base_url,
        api_key=setup.api_key,
        settings=setup.settings,
        options=setup.options,
        fixed_settings=fixed,
        store=store,
        can_poll=not args.view_only,
        notify_config=args.notify_config,
    )
    subtitle = setup.base_url if url is None else f"{setup.base_url} · {display_url(url)}"
    return run_board(engine, bell=not args.no_bell, subtitle=subtitle)


def cmd_serve(args: argparse.Namespace) -> int:
    """`serve`: the headless poller for a team, logging to stderr."""
    import logging

    from wahdx_tui.core.settings.secret import RedactingFilter
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.team.setup import store_url, team_engine
    from wahdx_tui.serve.loop import Server

    setup = resolve(args)
    assert setup.api_key is not None
    configure_logging(args.log, setup.api_key)
    _warn(setup.watchlist)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    stderr.setLevel(logging.INFO)
    # One line per notable event: the poller's and the team's news (API down and back among
    # them); the client's retries and given-up batches go to --log only, and errors anywhere.
    stderr.addFilter(
        lambda r: (
            r.levelno >= logging.ERROR
            or r.name in ("wahdx_tui.serve", "wahdx_tui.team")
            or (r.name == "wahdx_tui.alerts" and r.levelno >= logging.WARNING)
        )
    )
    stderr.addFilter(RedactingFilter(setup.api_key))  # nothing says it; in case one ever did
    root = logging.getLogger("wahdx_tui")
    root.addHandler(stderr)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    store = open_store(store_url(args.store, args.history), password_file=args.store_password_file)
    engine = team_engine(
        setup.watchlist,
        base_url=setup.base_url,
        api_key=setup.api_key,
        settings=setup.settings,
        options=setup.options,
        fixed_settings=frozenset(setup.flags),
        store=store,
        can_poll=True,
        notify_config=args.notify_config,
    )

    async def run() -> int:
        server = Server(engine, setup.watchlist.path)
        server.install_signals()
        return await server.run()

    return asyncio.run(run())


@contextlib.contextmanager
def demo_history(args: argparse.Namespace) -> Iterator[StoreWriter]:
    """The demo's history, never the operator's: a temporary file deleted on exit, or the
    --history file given, where each run keeps a scope of its own (the simulator restarts
    its story every run, so a trail never shows states going back); --no-history: none."""
    import secrets
    import tempfile
    import time
    from pathlib import Path

    from wahdx_tui.core.store.sqlite.store import SqliteStore

    scope = f"sim://demo/{args.seed}"
    if args.no_history:
        yield StoreWriter(None, scope)
        return
    if args.history:
        run = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        yield StoreWriter(SqliteStore(args.history), f"{scope}/run-{run}")
        return
    with tempfile.TemporaryDirectory(prefix="wahdx-demo-") as folder:
        store = SqliteStore(Path(folder) / "history.sqlite")
        try:
            yield StoreWriter(store, scope)
        finally:
            store.close()  # before its folder goes (again, if the board has closed it)


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: an in-process simulator playing the demo scenario on a free loopback port, and
    the board on it."""
    from wahdx_tui.core.api.client import client_factory
    from wahdx_tui.core.engine.engine import Engine
    from wahdx_tui.core.watchlist.reader import sample_watchlist_path
    from wahdx_tui.sim import SimConfig, SimServer
    from wahdx_tui.ui.run import run_board

    watchlist = load_watchlist(args.watchlist or sample_watchlist_path())
    _warn(watchlist)
    config = SimConfig(posts=watchlist.posts, seed=args.seed, speed=args.speed, scenario="demo")
    flags = flag_values(args)
    # The demo's own interval wins over the file's at start; an edit of the file still applies.
    settings = resolve_settings(watchlist.settings, {"interval": DEMO_INTERVAL, **flags})
    with demo_history(args) as history, SimServer(config) as sim:
        engine = Engine(
            watchlist,
            client_factory(sim.base_url, ApiKey(sim.api_key), client_options(settings)),
            interval=settings.interval,
            final_every=settings.final_every,
            history=history,
            fixed_settings=frozenset(flags),
            watch_file=True,
        )
        return run_board(engine, bell=not args.no_bell, subtitle="demo: simulated API")


def cmd_report(args: argparse.Namespace) -> int:
    """`report`: the shift-handoff report from the history; reads only, creates nothing."""
    import time

    from wahdx_tui.core.reports.handoff import (
        HandoffItem,
        build_handoff,
        render_csv,
        render_json,
        render_markdown,
    )
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.protocol import scope_for
    from wahdx_tui.core.store.url import is_postgres, sqlite_path
    from wahdx_tui.core.team.setup import store_url

    watchlist = load_watchlist(args.watchlist)
    _warn(watchlist)
    scope = scope_for(resolve_base_url(args.base_url))
    url = store_url(args.store, args.history)
    now = time.time()
    path = None if is_postgres(url) else sqlite_path(url)
    history = path is None or path.exists()
    items: list[HandoffItem] = []
    if history:
        with open_store(url, password_file=args.store_password_file, readonly=True) as store:
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


def cmd_store(args: argparse.Namespace) -> int:
    """`store copy SRC DST`: copy a history between stores; running it twice changes nothing."""
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.copy import copy_store

    if args.store_command != "copy":
        print("error: say what to do: wahdx-tui store copy SRC DST", file=sys.stderr)
        return EXIT_USAGE
    with (
        open_store(args.src, password_file=args.src_password_file, readonly=True) as src,
        open_store(args.dst, password_file=args.dst_password_file) as dst,
    ):
        report = copy_store(src, dst)
        print(
            f"copied {report.scopes:,} scope(s) from {src.location} to {dst.location}:"
            f" {report.posts:,} posts, {report.transitions:,} transitions"
            f" ({report.new_transitions:,} new), {report.acks:,} acknowledgements"
        )
    return 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    """`notify-test`: one test alert to each target, `ok` or why not per target; 0 when all got it."""
    from wahdx_tui.core.alerts import notify_test

    results = notify_test(args.notify_config)
    for target, why in results:
        print(f"{target.index}. {target.display}: {'ok' if why is None else 'not sent: ' + why}")
    return 0 if all(why is None for _, why in results) else EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (errors are one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "check": cmd_check,
        "watch": cmd_watch,
        "serve": cmd_serve,
        "demo": cmd_demo,
        "report": cmd_report,
    }
    handlers["store"] = cmd_store
    handlers["notify-test"] = cmd_notify_test
    try:
        if args.command == "sim":
            from wahdx_tui.sim.command import run_sim

            return run_sim(args)
        handler = handlers.get(args.command)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except WahdxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
