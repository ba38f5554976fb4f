"""The HTTP side's real parts for tests: `serve --http 127.0.0.1:0` as a child process on the
simulator, the address it says it listens on, and Prometheus text read back.

Imported by name (`from webprocs import http_serve, metric_values`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.teamprocs import KEY, WATCHLIST, Served, child_env, serve_process, wait_for
from wahdx_tui.sim import SimServer

LISTENING = re.compile(r"http: listening on (http://\S+?)/ ")
WRITE_TOKEN = "write-token-0123456789-abcdef"
VIEW_TOKEN = "view-token-0123456789-abcdef"


def listening_url(served: Served) -> str | None:
    """The base URL serve logged, without the trailing slash (None until it did)."""
    found = LISTENING.search(served.text())
    return found[1] if found else None


@contextmanager
def http_serve(
    tmp: Path,
    sim: SimServer,
    *args: str,
    watchlist: Path = WATCHLIST,
    env: dict[str, str] | None = None,
    name: str = "serve",
    polls: bool = True,
) -> Iterator[tuple[Served, str]]:
    """`serve WATCHLIST --interval 2 --http 127.0.0.1:0 ARGS` on the simulator, listening and
    (unless it stands by: not `polls`) its first pass done; (the process, its base URL)."""
    state = tmp / f"{name}-state"
    state.mkdir(exist_ok=True)
    full_env = child_env(state, base_url=sim.base_url, key=KEY, **(env or {}))
    log = tmp / f"{name}.log"
    argv = [str(watchlist), "--interval", "2", "--http", "127.0.0.1:0", *args]
    with serve_process(full_env, log, *argv) as served:
        said = "pass 1:" if polls else "http: listening on"
        wait_for(lambda: served.says(said) or served.proc.poll() is not None, said)
        url = listening_url(served)
        assert url is not None and served.proc.poll() is None, served.text()
        yield served, url


def metric_values(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample of one metric in Prometheus text: {labels as pairs: value}."""
    found: dict[frozenset[tuple[str, str]], float] = {}
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if match is None:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match[1] or ""))
        found[labels] = float(match[2])
    return found


def summed(samples: dict[frozenset[tuple[str, str]], float], **wanted: str) -> float:
    """The sum of the samples whose labels include `wanted`."""
    want = set(wanted.items())
    return sum(v for labels, v in samples.items() if want <= labels)
