"""The HTTP side of `serve`: aiohttp routes in serve's own event loop, told of every board change.

`HttpSide` is the ServeListener serve runs (serve/loop.py): it binds at start, answers
/healthz, /metrics, /api/v1/posts, the wall page and its event stream, and feeds the wall's
pages and the metrics from the same board serve keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from wahdx_tui.core.board.state import Changes
from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.engine.outcomes import PassOutcome
from wahdx_tui.core.team.engine import FollowOutcome, TeamEngine
from wahdx_tui.serve.web.auth import COOKIE, COOKIE_MAX_AGE, Access, Gate, cookie_value
from wahdx_tui.serve.web.config import HttpConfig
from wahdx_tui.serve.web.health import brief, health
from wahdx_tui.serve.web.ingest import add_posts, remove_post
from wahdx_tui.serve.web.metrics import exposition, metrics_registry
from wahdx_tui.serve.web.posts import PostQuery, list_posts
from wahdx_tui.serve.web.sse import Hub
from wahdx_tui.serve.web.wall import WallFilter, WallModel

log = logging.getLogger("wahdx_tui.serve")
MAX_BODY = 1024 * 1024
"""Largest request body taken (413 above it): 1,000 posts of a batch body fit in a tenth."""
KEEPALIVE = 20.0  # seconds between comment lines on an idle event stream (proxies close idle ones)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
STATIC = {
    "wall.js": "text/javascript",
    "wall.css": "text/css",
}
# What each route needs (by name); anything else needs reads.
NEEDS: dict[str, Access] = {
    "page": Access.NONE,
    "static": Access.NONE,
    "health": Access.NONE,
    "watch": Access.WRITE,
    "unwatch": Access.WRITE,
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    """A JSON answer (orjson), never cached."""
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store", **headers},
    )


def json_error(status: int, message: str, **more: Any) -> web.Response:
    """`{"error": message}` with the status."""
    headers = {"WWW-Authenticate": 'Bearer realm="wahdx-tui"'} if status == 401 else {}
    return json_response({"error": message, **more}, status, **headers)


def _asset(name: str) -> bytes:
    """A file of the page, from the installed package."""
    return files("wahdx_tui.serve.web").joinpath("static", name).read_bytes()


class HttpSide:
    """serve's HTTP side: the aiohttp application, its site, the wall and the metrics."""

    def __init__(self, engine: TeamEngine, config: HttpConfig) -> None:
        self.engine = engine
        self.config = config
        self.gate = Gate(config)
        self.wall = WallModel(engine)
        self.hub = Hub(self.wall)
        self.registry, self.tally = metrics_registry(engine, self.wall)
        self.page = _asset("wall.html")
        self.assets = {name: _asset(name) for name in STATIC}
        self._runner: web.AppRunner | None = None
        self.port = config.port
        self._signal: tuple[object, object] = ((), ())

    # -- the application ------------------------------------------------------------------

    def application(self) -> web.Application:
        """Routes, the access middleware and the security headers."""
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        app.on_response_prepare.append(_secure)
        add = app.router.add_route
        add("GET", "/", self._page, name="page")
        add("GET", "/static/{name}", self._static, name="static")
        add("GET", "/healthz", self._health, name="health")
        add("GET", "/metrics", self._metrics, name="metrics")
        add("GET", "/events", self._events, name="events")
        add("GET", "/api/v1/posts", self._posts, name="posts")
        add("POST", "/api/v1/watch", self._watch, name="watch")
        add("DELETE", "/api/v1/watch/{account}/{publish}", self._unwatch, name="unwatch")
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a foreign Host on loopback, and a request without the access it needs."""
        if not await self.gate.host_allowed(request.headers.get("Host")):
            return json_error(421, "this address answers to localhost and 127.0.0.1 only")
        access = self._access(request)
        route = request.match_info.route
        # Unnamed routes are aiohttp's own answers (404, 405): nothing to guard.
        needed = NEEDS.get(route.name, Access.READ) if route.name else Access.NONE
        if access < needed:
            if needed is Access.WRITE and self.config.write is None:
                return json_error(
                    401,
                    "writes are off: start serve with WAHDX_HTTP_TOKEN or --http-token-file FILE"
                    " to take them",
                )
            if needed is Access.WRITE:
                return json_error(401, "this needs the write token: Authorization: Bearer TOKEN")
            return json_error(
                401, "this needs a token: Authorization: Bearer TOKEN (the view or write token)"
            )
        return await handler(request)

    def _access(self, request: web.Request) -> Access:
        """What this request's bearer token or cookie opens."""
        return self.gate.access(request.headers.get("Authorization"), request.cookies.get(COOKIE))

    async def _page(self, request: web.Request) -> web.StreamResponse:
        """The wall page; `?token=` is exchanged for the cookie and dropped from the address."""
        given = request.query.get("token")
        if given is not None:
            access = self.gate.token_access(given)
            token = self.config.write if access is Access.WRITE else self.config.view
            if access is Access.NONE or token is None:
                return web.Response(
                    status=401,
                    text="the token in this address is not valid: ask for the wall's address again\n",
                    headers={"Cache-Control": "no-store"},
                )
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            target = "/" + (f"?{urlencode(rest)}" if rest else "")
            answer = web.HTTPSeeOther(target, headers={"Cache-Control": "no-store"})
            answer.set_cookie(
                COOKIE,
                cookie_value(token),
                max_age=COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="Strict",
            )
            raise answer
        return web.Response(
            body=self.page,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        """The page's script and style sheet, from the package."""
        name = request.match_info["name"]
        body = self.assets.get(name)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=body,
            content_type=STATIC[name],
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def _health(self, request: web.Request) -> web.StreamResponse:
        """The health JSON; the verdict alone to a caller who may not read."""
        status, body = health(self.engine)
        if self._access(request) < Access.READ:
            body = brief(status)
        return json_response(body, status)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        """Prometheus text."""
        return web.Response(
            body=exposition(self.registry),
            headers={
                "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
                "Cache-Control": "no-store",
            },
        )

    async def _posts(self, request: web.Request) -> web.StreamResponse:
        """One page of posts, or a 400 naming the bad parameter."""
        try:
            query = PostQuery.parse(request.query)
        except ValueError as exc:
            return json_error(400, str(exc))
        return json_response(list_posts(self.engine.board, query))

    async def _watch(self, request: web.Request) -> web.StreamResponse:
        """Ingest (web/ingest.py)."""
        return await add_posts(self.engine, request, MAX_BODY)

    async def _unwatch(self, request: web.Request) -> web.StreamResponse:
        """One post off the list (web/ingest.py)."""
        return await remove_post(self.engine, request)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The wall's event stream: a snapshot, then deltas, comment lines while idle."""
        try:
            wanted = WallFilter.parse(request.query)
        except ValueError as exc:
            return json_error(400, str(exc))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        page = self.hub.join(wanted)
        try:
            while True:
                try:
                    data = await asyncio.wait_for(page.queue.get(), KEEPALIVE)
                except TimeoutError:
                    data = b": idle\n\n"
                if data is None:
                    break
                await response.write(data)
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self.hub.leave(wanted, page)
        return response

    # -- serve's listener -----------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; one error line when the address cannot be had."""
        runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            # A name that does not resolve, or an address not on this machine, is the host's
            # fault; anything else (in use, a privileged port) the port's.
            fix = (
                "check the host of --http (an address of this machine, or a name that resolves)"
                if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL
                else "pick another --http port"
            )
            raise ConfigError(
                f"cannot listen on {self.config.host}:{self.config.port}: "
                f"{exc.strerror or exc}; {fix}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # the one chosen, for --http HOST:0
        self.tally.seed(self.engine.board.rows.values())
        log.info(
            "http: listening on %s (%s)",
            replace(self.config, port=self.port).url,
            "reads open on loopback" if self.gate.loopback else "token required",
        )

    async def stop(self) -> None:
        """End the event streams, then the server (at most a second or two)."""
        self.hub.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), 3.0)

    def pass_ended(self, outcome: PassOutcome, seconds: float) -> None:
        """A pass ended: its duration, its changes, the newly stuck."""
        if outcome.ran:
            self.tally.pass_duration.observe(seconds)
        self._changed(outcome.changes, [*outcome.changes.changed, *outcome.stuck])

    def followed(self, outcome: FollowOutcome) -> None:
        """A look at the store: the poller's answers (on a standby), acks, lease news."""
        if outcome.first or outcome.listed.shown_changed:  # the list gained or lost posts
            self.board_changed(outcome.changes, full=True)
            return
        if outcome.changes.changed or outcome.changes.transitions:
            self._changed(outcome.changes, outcome.changes.changed)
            return
        signal = (self.wall.banners(), self.wall.meta())
        if signal != self._signal:  # the store, the lease or the API came or went
            self._signal = signal
            self.hub.changed(rows=False)

    def board_changed(self, changes: Changes, *, full: bool = False) -> None:
        """Rows changed outside a pass or a look (`full`: any row)."""
        try:
            self.tally.took(changes.transitions)
            if full:
                self.wall.reset()
                rows = self.engine.board.rows
                self.tally.forget([k for k in self.tally.watched() if k not in rows])
                self.tally.seed(rows.values())
            else:
                self.wall.update(changes.changed)
        except Exception:  # never take serve's loop down
            log.exception("internal error while following the board for http")
        self.hub.changed()

    def _changed(self, changes: Changes, keys: list[Any]) -> None:
        """Count the transitions, fold the rows of `keys` in, and tell the pages."""
        try:
            self.tally.took(changes.transitions)
            self.wall.update(keys)
        except Exception:
            log.exception("internal error while following the board for http")
        self.hub.changed()


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer: no sniffing, no framing, no referrer, and the page's strict policy."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("Cache-Control", "no-store")
