"""The `sim` command: its flags, and running the simulated API until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from wahdx_tui.sim.faults import Faults
from wahdx_tui.sim.scenario import SCENARIOS
from wahdx_tui.sim.server import SHAPES, SPELLINGS, SimConfig, SimServer

DEFAULT_PORT = 8765
DEFAULT_DOWN_FOR = 10.0


def _number(
    kind: str, low: float | None, high: float | None, integer: bool
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {kind}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {kind}")
        return value

    parse.__name__ = kind
    return parse


_rate = _number("a fraction from 0 to 1", 0.0, 1.0, integer=False)
_seconds = _number("a non-negative number of seconds", 0.0, None, integer=False)
_positive = _number("a number above 0", 1e-9, None, integer=False)
_count = _number("a non-negative whole number", 0, None, integer=True)
_port = _number("a port from 0 to 65535", 0, 65535, integer=True)
_seed = _number("a whole number", None, None, integer=True)


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags (server, data and faults) to `parser`."""
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port on 127.0.0.1 (0 = any free port)"
    )
    parser.add_argument("--seed", type=_seed, default=7, help="seed of the post timelines")
    parser.add_argument(
        "--watchlist", metavar="FILE", default=None, help="posts the API knows (default: sample)"
    )
    parser.add_argument(
        "--speed", type=_positive, default=1.0, help="sim seconds per real second (default 1)"
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="random",
        help="random: each post's timeline from the seed; demo: the demo's scripted morning",
    )
    parser.add_argument("--shape", choices=SHAPES, default="envelope", help="response shape")
    parser.add_argument(
        "--spelling", choices=tuple(SPELLINGS), default="vendor", help="status spelling"
    )
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency", type=_seconds, default=0.0, metavar="S")
    faults.add_argument("--jitter", type=_seconds, default=0.0, metavar="S")
    faults.add_argument("--error-rate", type=_rate, default=0.0, metavar="F")
    faults.add_argument("--burst-429-every", type=_count, default=0, metavar="N")
    faults.add_argument("--retry-after", type=_seconds, default=1.0, metavar="S")
    faults.add_argument("--malformed-rate", type=_rate, default=0.0, metavar="F")
    faults.add_argument("--max-batch", type=_count, default=0, metavar="N")
    faults.add_argument(
        "--down-after", type=_seconds, default=None, metavar="S", help="go down S s after start"
    )
    faults.add_argument(
        "--down-for",
        type=_seconds,
        default=None,
        metavar="S",
        help=f"length of the down window (default {DEFAULT_DOWN_FOR:g} s with --down-after)",
    )
    faults.add_argument("--missing-rate", type=_rate, default=0.0, metavar="F")
    faults.add_argument(
        "--hostile", action="store_true", help="put escapes, markup and controls in texts"
    )


def _faults_from(args: argparse.Namespace) -> Faults:
    down_for = args.down_for
    if down_for is None:
        down_for = DEFAULT_DOWN_FOR if args.down_after is not None else 0.0
    return Faults(
        latency=args.latency,
        jitter=args.jitter,
        error_rate=args.error_rate,
        burst_429_every=int(args.burst_429_every),
        retry_after=args.retry_after,
        malformed_rate=args.malformed_rate,
        max_batch=int(args.max_batch),
        down_after=args.down_after,
        down_for=down_for,
        missing_rate=args.missing_rate,
        hostile=bool(args.hostile),
        seed=int(args.seed),
    )


SIM_KEY_ENV = "WAHDX_SIM_KEY"
"""A fixed key for the simulator, so a restarted simulator accepts the boards already running."""


def run_sim(args: argparse.Namespace) -> int:
    """Serve the simulated API until interrupted; 0 on a clean stop, 2 on bad input."""
    from wahdx_tui.core.watchlist.reader import (
        WatchlistError,
        load_watchlist,
        sample_watchlist_path,
    )

    path = Path(args.watchlist) if args.watchlist is not None else sample_watchlist_path()
    try:
        watchlist = load_watchlist(path)
    except WatchlistError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    fixed_key = os.environ.get(SIM_KEY_ENV, "").strip() or None
    config = SimConfig(
        api_key=fixed_key,
        posts=watchlist.posts,
        seed=int(args.seed),
        speed=float(args.speed),
        port=int(args.port),
        shape=args.shape,
        spelling=args.spelling,
        faults=_faults_from(args),
        scenario=args.scenario,
    )
    server = SimServer(config)
    try:
        server.start()
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            print(
                f"error: port {args.port} is in use: pass --port 0 for any free port",
                file=sys.stderr,
            )
        else:
            reason = err.strerror or str(err)
            print(f"error: cannot listen on 127.0.0.1:{args.port}: {reason}", file=sys.stderr)
        return 2
    banner = (
        f"Wahdx simulator serving {len(watchlist.posts)} posts at {server.base_url}\n"
        f"export WAHDX_API_KEY={server.api_key}\n"
        f"export WAHDX_BASE_URL={server.base_url}\n"
        f"then: wahdx-tui check {shlex.quote(str(path))}\n"
        + ("" if fixed_key else f"(set {SIM_KEY_ENV} to keep one key across restarts)\n")
        + "Ctrl-C to stop."
    )
    return _serve_until_stopped(server, banner)


def _serve_until_stopped(server: SimServer, banner: str) -> int:
    stop = threading.Event()
    previous: Callable[[int, FrameType | None], Any] | int | None = None
    in_main = threading.current_thread() is threading.main_thread()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        if in_main:
            previous = signal.signal(signal.SIGTERM, on_term)
        print(banner, flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("simulator stopped.", flush=True)
    return 0
