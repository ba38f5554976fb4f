"""The command line: `check`, `watch`, `serve`, `demo`, `sim`, `report`, `add`, `remove` and
`store`, on top of core, ui and sim."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wahdx_tui import __version__
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.errors import ConfigError, WahdxError
from wahdx_tui.core.domain.model import MEDIA_TYPES, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.inert import add_secrets, inert_stdio, own_colours
from wahdx_tui.core.logsetup import configure_logging
from wahdx_tui.core.settings.apiaccess import KEY_ENV, read_api_key, resolve_base_url
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.table import Settings, add_setting_flags, flag_values, resolve_settings
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import Watchlist, WatchlistSettings, load_watchlist

if TYPE_CHECKING:
    from wahdx_tui.core.engine.engine import Engine
    from wahdx_tui.core.store.protocol import Store
    from wahdx_tui.core.team.engine import TeamEngine
    from wahdx_tui.serve.web.config import HttpConfig

EXIT_USAGE = 2
TEAM_LIST = Watchlist("", (), WatchlistSettings(), ())
"""No watchlist file: `watch` and `serve` show and poll the team's watchlist in the store."""
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


def client_options(settings: Settings) -> ClientOptions:
    """The client's tunables that are settings: batch size, concurrency, timeouts."""
    return settings.into(ClientOptions)


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


def _add_base_url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="API base URL (default: $WAHDX_BASE_URL or the public API)")


def _add_api_arguments(p: argparse.ArgumentParser, command: str) -> None:
    """The arguments of a command that asks the API, its setting flags among them; `watch`
    and `serve` without a WATCHLIST use the team's watchlist in the store."""
    if command == "check":
        p.add_argument("watchlist", metavar="WATCHLIST", help="YAML watchlist of posts to check")
    else:
        p.add_argument(
            "watchlist",
            metavar="WATCHLIST",
            nargs="?",
            help="YAML watchlist of posts, synced into the team's watchlist in the store"
            " (default: the team's watchlist alone)",
        )
    _add_base_url(p)
    p.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE (mode 600) instead of $WAHDX_API_KEY",
    )
    add_setting_flags(p, command)
    p.add_argument("--log", metavar="FILE", help="append a debug log to FILE (key redacted)")


def _add_history_arguments(
    p: argparse.ArgumentParser,
    *,
    default: str = "in $XDG_STATE_HOME/wahdx-tui",
    can_turn_off: bool = True,
) -> None:
    """--history FILE (where `default` says it is otherwise), and --no-history where allowed."""
    group = p.add_mutually_exclusive_group() if can_turn_off else p
    group.add_argument("--history", metavar="FILE", help=f"history file (default: {default})")
    if can_turn_off:
        group.add_argument("--no-history", action="store_true", help="keep no history on disk")


def _add_store_target_arguments(p: argparse.ArgumentParser) -> None:
    """Which team store and API scope a command reads or writes without asking the API."""
    _add_base_url(p)
    _add_history_arguments(p, can_turn_off=False)
    _store_arguments(p)


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
    check.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (for people, the default), json or csv (one record per post, on stdout)",
    )

    watch = sub.add_parser("watch", help="open the live board against the API")
    _add_api_arguments(watch, "watch")
    watch.add_argument("--no-bell", action="store_true", help="no terminal bell on a failure")
    watch.add_argument(
        "--view-only",
        action="store_true",
        help="follow the team's poller and never poll, even with a key (wall screens)",
    )
    watch.add_argument(
        "--account",
        metavar="ID",
        action="append",
        default=[],
        help="show only this account's posts (again for more); the poller polls them all",
    )
    _add_history_arguments(watch)
    _store_arguments(watch)
    _notify_argument(watch)

    serve = sub.add_parser(
        "serve", help="poll for the whole team, headless: boards with `watch` attach to it"
    )
    _add_api_arguments(serve, "serve")
    _add_history_arguments(serve, can_turn_off=False)
    _store_arguments(serve)
    _notify_argument(serve)
    _http_arguments(serve)

    demo = sub.add_parser("demo", help="open the board on a built-in simulated API (no key)")
    demo.add_argument("--watchlist", help="watchlist to simulate (default: the bundled sample)")
    add_setting_flags(demo, "demo", {"interval": DEMO_INTERVAL})
    demo.add_argument("--speed", type=_speed, default=1.0, help="sim time factor, 0.01 to 1000")
    demo.add_argument(
        "--seed",
        type=int,
        default=7,
        help="which morning the demo plays: the same seed and watchlist give the same story"
        " (default 7)",
    )
    demo.add_argument("--no-bell", action="store_true", help="no terminal bell on a failure")
    _add_history_arguments(demo, default="a temporary file, deleted on exit")

    report = sub.add_parser(
        "report", help="print a shift-handoff report of failures and stuck posts (no API call)"
    )
    report.add_argument(
        "watchlist",
        metavar="WATCHLIST",
        nargs="?",
        help="YAML watchlist of posts to report (default: the team's watchlist in the store,"
        " retired posts too)",
    )
    report.add_argument(
        "--format",
        choices=("markdown", "csv", "json"),
        default="markdown",
        help="markdown (a handoff note, the default), csv or json (one record per post)",
    )
    _add_store_target_arguments(report)

    add = sub.add_parser(
        "add", help="add posts to the team's watchlist in the store (again: update the label)"
    )
    add.add_argument("account", metavar="ACCOUNT_ID", nargs="?", help="the post's account")
    add.add_argument("publish", metavar="PUBLISH_ID", nargs="?", help="its publish ID")
    add.add_argument("--media-type", metavar="TYPE", help=" or ".join(MEDIA_TYPES))
    add.add_argument("--label", metavar="TEXT", help="what the team knows the post by")
    add.add_argument(
        "--from",
        dest="source_file",
        metavar="FILE",
        help="add every post of FILE (- for standard input): CSV with a header row"
        ' accountId,publishId[,mediaType,label], JSON lines, or a batch body {"checks": [...]}',
    )
    _add_store_target_arguments(add)

    remove = sub.add_parser("remove", help="take a post off the team's watchlist in the store")
    remove.add_argument("account", metavar="ACCOUNT_ID", help="the post's account")
    remove.add_argument("publish", metavar="PUBLISH_ID", help="its publish ID")
    _add_store_target_arguments(remove)

    notify = sub.add_parser(
        "notify-test", help="send one test alert to each notification target and say how it went"
    )
    _notify_argument(notify, sends="")

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
    watchlist = load_watchlist(args.watchlist) if args.watchlist else TEAM_LIST
    base_url = resolve_base_url(args.base_url)
    given = args.api_key_file or os.environ.get(KEY_ENV, "").strip()
    api_key = read_api_key(args.api_key_file) if given or not key_optional else None
    if api_key is not None:
        add_secrets(api_key)  # never on a line written anywhere, whatever echoes it
    flags = flag_values(args)
    return Setup(watchlist, base_url, api_key, resolve_settings(watchlist.settings, flags), flags)


def solo_engine(
    watchlist: Watchlist,
    base_url: str,
    api_key: ApiKey,
    settings: Settings,
    flags: Mapping[str, object],
    history: StoreWriter,
) -> Engine:
    """A board's own engine: it polls the API itself, with no team."""
    from wahdx_tui.core.api.client import client_factory
    from wahdx_tui.core.engine.engine import Engine

    return Engine(
        watchlist,
        client_factory(base_url, api_key, client_options(settings)),
        interval=settings.interval,
        final_every=settings.final_every,
        history=history,
        fixed_settings=frozenset(flags),
        watch_file=True,
    )


def joined_engine(
    setup: Setup,
    args: argparse.Namespace,
    store: Store,
    *,
    can_poll: bool,
    accounts: Collection[str] = (),
    shows_file: bool = True,
) -> TeamEngine:
    """An engine in the team of `store` (`watch` and `serve`): the poller, or a board of it."""
    from wahdx_tui.core.team.setup import team_engine

    return team_engine(
        setup.watchlist,
        base_url=setup.base_url,
        api_key=setup.api_key,
        settings=setup.settings,
        options=setup.options,
        fixed_settings=frozenset(setup.flags),
        store=store,
        can_poll=can_poll,
        notify_config=args.notify_config,
        accounts=accounts,
        shows_file=shows_file,
    )


def _warn(watchlist: Watchlist) -> None:
    for warning in watchlist.warnings[:20]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(watchlist.warnings) > 20:
        print(f"warning: ... and {len(watchlist.warnings) - 20} more", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """`check`: one pass, printed as a table, JSON or CSV."""
    from wahdx_tui.check import Trying, run_check
    from wahdx_tui.core.reports.checkresults import to_csv, to_json, to_table

    setup = resolve(args)
    assert setup.api_key is not None  # resolve() insists
    configure_logging(args.log, setup.api_key)
    _warn(setup.watchlist)
    # Retries can take seconds: say so on stderr (stdout holds only the results), at once in a
    # terminal, and in a log only when it lasts.
    watched = sys.stderr.isatty()
    trying = Trying(_say, setup.base_url, at_first_retry=watched, after=TRYING_SAID_AFTER[watched])
    outcome = asyncio.run(
        run_check(setup.watchlist, setup.base_url, setup.api_key, setup.options, trying)
    )
    if outcome.rows:
        if args.format == "json":
            sys.stdout.write(to_json(outcome.rows, outcome.shown))
        elif args.format == "csv":
            sys.stdout.write(to_csv(outcome.rows, outcome.shown))
        else:
            tty = sys.stdout.isatty()
            color = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
            width = shutil.get_terminal_size((120, 24)).columns if tty else 200
            out = own_colours(sys.stdout) if color else sys.stdout
            out.write(to_table(outcome.rows, color=color, width=width, shown=outcome.shown))
    if outcome.warning:
        print(f"warning: {outcome.warning}", file=sys.stderr)
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
    return outcome.exit_code


TRYING_SAID_AFTER = {True: 1.0, False: 5.0}
"""Seconds without an answer before `check` says it is still trying: in a terminal, in a log."""


def _say(line: str) -> None:
    """One line on stderr, at once."""
    print(line, file=sys.stderr, flush=True)


def _warn_password_in_argv(*urls: str | None) -> None:
    """A store URL given on the command line with its password in it: anyone on the host reads
    it in `ps`; say so once, with the safer ways."""
    from wahdx_tui.core.store.url import is_postgres, url_secrets

    if any(url and is_postgres(url) and url_secrets(url) for url in urls):
        print(
            "warning: the store URL on the command line holds a password, which anyone on this"
            " host can read in `ps`; use PGPASSWORD, ~/.pgpass or --store-password-file FILE",
            file=sys.stderr,
        )


def _say_notices(store: Store) -> None:
    """What opening the store did that the operator should know of, once, on stderr."""
    for notice in store.notices:
        print(f"note: {notice}", file=sys.stderr)


def _store_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="URL",
        help="the team store: postgresql://USER@HOST/DB, a file or sqlite:///PATH "
        "(default: $WAHDX_STORE, else --history, else the file in $XDG_STATE_HOME/wahdx-tui)",
    )
    p.add_argument("--store-password-file", metavar="FILE", help="the store's password (mode 600)")


def _notify_argument(
    p: argparse.ArgumentParser, sends: str = "; only the team's poller sends"
) -> None:
    p.add_argument(
        "--notify-config",
        metavar="FILE",
        help="Apprise config file (YAML or TEXT, mode 600) with the alert targets, instead of"
        f" $WAHDX_NOTIFY{sends}",
    )


def _http_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="also serve health, metrics, the posts API, ingest and the wall page over HTTP"
        " (a bare PORT binds 127.0.0.1; any other address needs a token)",
    )
    p.add_argument(
        "--http-token-file",
        metavar="FILE",
        help="the write token for ingest (mode 600) instead of $WAHDX_HTTP_TOKEN",
    )
    p.add_argument(
        "--http-view-token-file",
        metavar="FILE",
        help="the view token for reading beyond loopback (mode 600) instead of"
        " $WAHDX_HTTP_VIEW_TOKEN",
    )


def _http_config(args: argparse.Namespace) -> HttpConfig | None:
    """serve's --http and its tokens, checked before anything starts (None without --http)."""
    from wahdx_tui.serve.web.config import http_config

    if not args.http:
        if args.http_token_file or args.http_view_token_file:
            raise ConfigError(
                "--http-token-file and --http-view-token-file go with --http HOST:PORT"
            )
        return None
    return http_config(args.http, args.http_token_file, args.http_view_token_file)


def cmd_watch(args: argparse.Namespace) -> int:
    """`watch`: the live board; it polls, or follows a team's poller found in its store."""
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.protocol import StoreError, scope_for
    from wahdx_tui.core.store.url import display_url
    from wahdx_tui.core.team.setup import NO_POLLER, poller_alive, store_url
    from wahdx_tui.ui.run import run_board

    if args.no_history and (not args.watchlist or args.account):
        raise ConfigError(
            "without a WATCHLIST, or with --account, the board shows the team's watchlist in"
            " the store: leave out --no-history, or give a WATCHLIST file"
        )
    _warn_password_in_argv(args.store)
    setup = resolve(args, key_optional=not args.no_history)
    configure_logging(args.log, *(k for k in [setup.api_key] if k is not None))
    if args.no_history:  # alone: no store, so no team
        assert setup.api_key is not None
        history = StoreWriter(None, scope_for(setup.base_url))
        engine = solo_engine(
            setup.watchlist, setup.base_url, setup.api_key, setup.settings, setup.flags, history
        )
        return run_board(engine, bell=not args.no_bell, subtitle=setup.base_url)
    url = store_url(args.store, args.history)
    try:
        store = open_store(url, password_file=args.store_password_file)
    except StoreError as exc:
        raise StoreError(f"{exc} (or --no-history to keep none)") from None
    _say_notices(store)
    try:
        if not args.view_only and setup.api_key is None and not poller_alive(store, setup.base_url):
            raise ConfigError(NO_POLLER)
    except BaseException:
        store.close()
        raise
    team = joined_engine(setup, args, store, can_poll=not args.view_only, accounts=args.account)
    subtitle = setup.base_url if url is None else f"{setup.base_url} · {display_url(url)}"
    return run_board(team, bell=not args.no_bell, subtitle=subtitle)


def cmd_serve(args: argparse.Namespace) -> int:
    """`serve`: the headless poller for a team, logging to stderr."""
    import logging

    from wahdx_tui.core.inert import InertFormatter
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.team.setup import store_url
    from wahdx_tui.serve.loop import Server

    _warn_password_in_argv(args.store)
    setup = resolve(args)
    assert setup.api_key is not None
    http = _http_config(args)
    tokens = [ApiKey(t.reveal()) for t in http.tokens()] if http is not None else []
    add_secrets(*tokens)  # never in --log either
    configure_logging(args.log, setup.api_key)
    _warn(setup.watchlist)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(InertFormatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
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
    root = logging.getLogger("wahdx_tui")
    root.addHandler(stderr)
    server_errors = logging.getLogger("aiohttp")  # its errors, redacted; no access log at all
    server_errors.addHandler(stderr)
    server_errors.propagate = False
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    store = open_store(store_url(args.store, args.history), password_file=args.store_password_file)
    _say_notices(store)
    # serve shows (on its wall, in its metrics) the whole team list: its file is one source.
    engine = joined_engine(setup, args, store, can_poll=True, shows_file=False)

    listener = None
    if http is not None:
        from wahdx_tui.serve.web.app import HttpSide

        listener = HttpSide(engine, http)

    async def run() -> int:
        path = setup.watchlist.path
        name = f"the team's watchlist ({path} synced in)" if path else "the team's watchlist"
        server = Server(engine, name, listener)
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

    from wahdx_tui.core.store.backend import open_store

    scope = f"sim://demo/{args.seed}"
    if args.no_history:
        yield StoreWriter(None, scope)
        return
    if args.history:
        run = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        yield StoreWriter(open_store(args.history), f"{scope}/run-{run}")
        return
    with tempfile.TemporaryDirectory(prefix="wahdx-demo-") as folder:
        store = open_store(str(Path(folder) / "history.sqlite"))
        try:
            yield StoreWriter(store, scope)
        finally:
            store.close()  # before its folder goes (again, if the board has closed it)


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: an in-process simulator playing the demo scenario on a free loopback port, and
    the board on it."""
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
        key = ApiKey(sim.api_key)
        engine = solo_engine(watchlist, sim.base_url, key, settings, flags, history)
        return run_board(engine, bell=not args.no_bell, subtitle="demo: simulated API")


def store_posts(store: Store, scope: str) -> tuple[WatchedPost, ...]:
    """Every post a store knows for one API: its watchlist's (retired ones too), then those
    with a history but on no list (a store from before the team's list, or a post removed)."""
    entries = store.listed_posts(scope, retired=True)
    listed = {e.key for e in entries}
    extra = (WatchedPost(*key) for key in store.last_posts(scope) if key not in listed)
    return (*(e.post for e in entries), *extra)


def cmd_report(args: argparse.Namespace) -> int:
    """`report`: the shift-handoff report from the history; reads only, creates nothing."""
    import time

    from wahdx_tui.core.reports.handoff import (
        HandoffItem,
        build_handoff,
        elsewhere_error,
        history_elsewhere,
        render_csv,
        render_json,
        render_markdown,
    )
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.protocol import scope_for
    from wahdx_tui.core.store.url import is_postgres, sqlite_path
    from wahdx_tui.core.team.setup import store_url

    _warn_password_in_argv(args.store)
    watchlist = load_watchlist(args.watchlist) if args.watchlist else TEAM_LIST
    _warn(watchlist)
    scope = scope_for(resolve_base_url(args.base_url))
    url = store_url(args.store, args.history)
    now = time.time()
    path = None if is_postgres(url) else sqlite_path(url)
    history = path is None or path.exists()
    items: list[HandoffItem] = []
    if history:
        with open_store(url, password_file=args.store_password_file, readonly=True) as store:
            if not args.watchlist:  # the team's list, and every other post the store knows
                watchlist = replace(watchlist, posts=store_posts(store, scope))
            items = build_handoff(store, scope, watchlist, now)
            others = [] if items else history_elsewhere(store, scope)
            if others:  # not "nothing to hand over": this API's history is not here at all
                raise ConfigError(elsewhere_error(store.location, scope, others))
    else:
        print(f"note: no history yet at {path}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(render_json(items))
    elif args.format == "csv":
        sys.stdout.write(render_csv(items))
    else:
        sys.stdout.write(render_markdown(items, now, scope, history=history))
    return 0


def _list_store(args: argparse.Namespace) -> tuple[Store, str]:
    """The team's store and the API scope that `add` and `remove` write to."""
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.protocol import scope_for
    from wahdx_tui.core.team.setup import store_url

    scope = scope_for(resolve_base_url(args.base_url))
    url = store_url(args.store, args.history)
    return open_store(url, password_file=args.store_password_file), scope


def cmd_add(args: argparse.Namespace) -> int:
    """`add`: posts onto the team's watchlist; counts of added, updated and unchanged."""
    from wahdx_tui.core.settings.operator import operator_name
    from wahdx_tui.core.store.protocol import Origin
    from wahdx_tui.core.watchlist.intake import item_post, load_checks

    given = args.account is not None
    if args.source_file is not None:
        if given or args.label is not None or args.media_type is not None:
            raise ConfigError(
                "give either ACCOUNT_ID PUBLISH_ID (with --label, --media-type) or --from FILE,"
                " whose rows carry their own mediaType and label"
            )
        posts, name = load_checks(args.source_file)
        source = f"add --from {clean(name, 200)}"
    elif given and args.publish is not None:
        fields = {"accountId": args.account, "publishId": args.publish}
        fields.update(mediaType=args.media_type, label=args.label)
        posts, source = [item_post(fields, "the post given")], "add"
    else:
        raise ConfigError("say what to add: wahdx-tui add ACCOUNT_ID PUBLISH_ID, or --from FILE")
    store, scope = _list_store(args)
    with store:
        counts = store.add_watched(scope, posts, Origin(source, operator_name()))
        print(f"{counts} on the team's watchlist for {scope} ({store.location})")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """`remove`: a post off the team's watchlist (its history stays)."""
    from wahdx_tui.core.watchlist.intake import item_post

    post = item_post({"accountId": args.account, "publishId": args.publish}, "the post given")
    store, scope = _list_store(args)
    with store:
        gone = store.remove_watched(scope, [post.key])
        shown = f"{clean(post.account_id, 80)} {clean(post.publish_id, 80)}"
        if gone:
            print(f"removed {shown} from the team's watchlist for {scope} ({store.location})")
        else:
            print(f"{shown} is not on the team's watchlist for {scope}: nothing removed")
    return 0


def cmd_store(args: argparse.Namespace) -> int:
    """`store copy SRC DST`: copy a history between stores; running it twice changes nothing."""
    from wahdx_tui.core.store.backend import open_store
    from wahdx_tui.core.store.copy import copy_store, same_store
    from wahdx_tui.core.store.url import display_url

    if args.store_command != "copy":
        print("error: say what to do: wahdx-tui store copy SRC DST", file=sys.stderr)
        return EXIT_USAGE
    _warn_password_in_argv(args.src, args.dst)
    if same_store(args.src, args.dst):
        raise ConfigError(
            f"SRC and DST are the same store ({display_url(args.src)}): nothing to copy;"
            " name another file or database as DST"
        )
    kinds = "a history file, sqlite:///PATH or postgresql://USER@HOST/DB"
    with (
        open_store(
            args.src,
            password_file=args.src_password_file,
            readonly=True,
            hint=f"check SRC, the store to copy from ({kinds})",
            password_flag="--src-password-file",
        ) as src,
        open_store(
            args.dst,
            password_file=args.dst_password_file,
            hint=f"check DST, the store to copy into ({kinds}; a new file is created)",
            password_flag="--dst-password-file",
        ) as dst,
    ):
        print(copy_store(src, dst).said(src.location, dst.location))
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
    with inert_stdio():  # what reaches the terminal (or a journal) is never the API's bytes
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    """main() with its stdout and stderr made inert."""
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
    handlers["add"] = cmd_add
    handlers["remove"] = cmd_remove
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
