"""The simulated Wahdx Connection API: a loopback HTTP server answering status checks."""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from wahdx_tui.core.domain.model import PostKey, State, WatchedPost
from wahdx_tui.sim.faults import (
    FaultInjector,
    Faults,
    hostile_index,
    hostile_status,
    hostile_text,
    malformed_body,
)
from wahdx_tui.sim.scenario import SCENARIOS, Script, demo_scripts
from wahdx_tui.sim.schedule import Timeline, head_start_for, last_transition_at, state_at
from wahdx_tui.sim.schedule import timeline_for as _timeline_for

BATCH_PATH = "/api/content/status/batch"
_SINGLE_PREFIX = ("", "api", "content", "status")
MAX_BODY = 8 * 1024 * 1024
_FLOOD = "wahdx-sim-flood"
SHAPES = ("envelope", "flat", "keyed", "statuses")
SPELLINGS: dict[str, dict[State, str]] = {
    "vendor": {
        State.QUEUED: "Queued",
        State.PROCESSING: "Processing",
        State.PUBLISHED: "Published",
        State.FAILED: "Failed",
    },
    "tiktok": {
        State.QUEUED: "PENDING",
        State.PROCESSING: "PROCESSING_UPLOAD",
        State.PUBLISHED: "PUBLISH_COMPLETE",
        State.FAILED: "FAILED",
    },
}
_JSON = "application/json"
_NOT_FOUND = "post not found"


@dataclass
class SimConfig:
    """What the simulated API knows and how it answers."""

    posts: Sequence[WatchedPost] | None = None
    seed: int = 7
    speed: float = 1.0
    api_key: str | None = field(default=None, repr=False)
    port: int = 0
    shape: str = "envelope"
    spelling: str = "vendor"
    clock: Callable[[], float] = time.monotonic
    faults: Faults = field(default_factory=Faults)
    scenario: str = "random"
    """random: each post's timeline from the seed; demo: the scripted morning (sim.scenario)."""


class SimStats:
    """Thread-safe request counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.batch_requests = 0
        self.single_requests = 0
        self.checks = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.dropped = 0
        self._status_counts: dict[int, int] = {}

    @property
    def status_counts(self) -> dict[int, int]:
        """A copy of the responses sent, by HTTP status code."""
        with self._lock:
            return dict(self._status_counts)

    def reset(self) -> None:
        """Zero every counter (in_flight keeps counting requests still being answered)."""
        with self._lock:
            self.requests = self.batch_requests = self.single_requests = self.checks = 0
            self.max_in_flight = self.in_flight
            self.dropped = 0
            self._status_counts.clear()

    def begin(self) -> None:
        """Count one request arriving."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self) -> None:
        """Count one request finished."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def count_route(self, batch: bool, checks: int) -> None:
        """Count one request to an endpoint and the posts it asked about."""
        with self._lock:
            if batch:
                self.batch_requests += 1
            else:
                self.single_requests += 1
            self.checks += checks

    def count_status(self, code: int) -> None:
        """Count one response sent."""
        with self._lock:
            self._status_counts[code] = self._status_counts.get(code, 0) + 1

    def count_dropped(self) -> None:
        """Count one connection closed without an answer."""
        with self._lock:
            self.dropped += 1


@dataclass(slots=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class _Track:
    origin: float
    head_start: float
    media_type: str | None
    timelines: dict[str | None, Timeline] = field(default_factory=dict)


def _json_reply(status: int, payload: object, *headers: tuple[str, str]) -> _Reply:
    return _Reply(status, json.dumps(payload, separators=(",", ":")).encode(), _JSON, headers)


def _error_reply(status: int, message: str, *headers: tuple[str, str]) -> _Reply:
    return _json_reply(status, {"success": False, "error": message}, *headers)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Spelling(NamedTuple):
    """How one shape of answer names a post's fields (`statuses` snake_case, else camelCase)."""

    account: str
    publish: str
    media: str
    status: str
    updated: str
    url: str
    error: str


_CAMEL = _Spelling(
    "accountId", "publishId", "mediaType", "status", "updatedAt", "publicUrl", "error"
)
_SNAKE = _Spelling(
    "account_id", "publish_id", "media_type", "state", "updated_at", "post_url", "fail_reason"
)


def _parse_checks(body: bytes) -> list[tuple[str, str, str | None]] | str:
    """The (accountId, publishId, mediaType) checks of a batch body, or an error message."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "invalid JSON body"
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        return 'body must be a JSON object with a "checks" list'
    checks: list[tuple[str, str, str | None]] = []
    for i, check in enumerate(data["checks"]):
        if not isinstance(check, dict):
            return f"checks[{i}] must be an object"
        account, publish, media = check.get("accountId"), check.get("publishId"), None
        if not isinstance(account, str) or not account:
            return f"checks[{i}].accountId must be a non-empty string"
        if not isinstance(publish, str) or not publish:
            return f"checks[{i}].publishId must be a non-empty string"
        media = check.get("mediaType")
        if media is not None and not isinstance(media, str):
            return f"checks[{i}].mediaType must be a string"
        checks.append((account, publish, media or None))
    return checks


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, sim: SimServer, port: int) -> None:
        self.sim = sim
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer's getfqdn(), which can stall on reverse DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients time out and hang up on purpose in tests."""

    def close_connections(self) -> None:
        """Cut every open keep-alive connection, so a stopped server really is gone."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WahdxSim/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging."""

    def _read_body(self) -> bytes | _Reply:
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                self.close_connection = True
                return _error_reply(400, "invalid Content-Length")
            if n < 0 or n > MAX_BODY:
                self.close_connection = True
                return _error_reply(413, "request body too large")
            return self.rfile.read(n) if n else b""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        return b""

    def _read_chunked(self) -> bytes | _Reply:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                return _error_reply(400, "invalid chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                return _error_reply(413, "request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _serve(self) -> None:
        """Answer one request, whatever its method (`self.command`): routes say what each takes."""
        method = self.command
        sim = self.server.sim
        stats = sim.stats
        stats.begin()
        ended = False
        try:
            body = self._read_body()
            faults = sim.faults
            if faults.drop_connections:
                stats.count_dropped()
                self.close_connection = True
                return
            delay = sim.injector.delay()
            if delay > 0.0 and self.server.stopping.wait(delay):
                self.close_connection = True
                return
            if isinstance(body, _Reply):
                reply = body
            else:
                try:
                    reply = sim.handle(method, self.path, self.headers.get("X-API-Key"), body)
                except Exception as exc:  # a simulator bug: answer, and keep it for the tests
                    sim.last_error = exc
                    reply = _error_reply(500, "internal error")
            # Counted before the answer is written, so a client that has its answer always
            # sees the counters (and in_flight) settled.
            stats.count_status(reply.status)
            stats.end()
            ended = True
            self._send(reply, head=method == "HEAD", cut=faults.reset_mid_body)
        except OSError:
            self.close_connection = True
        finally:
            if not ended:
                stats.end()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _send(self, reply: _Reply, head: bool, cut: bool) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if cut:
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(reply.body)


class SimServer:
    """The simulated API on 127.0.0.1, served from a daemon thread."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        if self.config.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.config.shape!r}: one of {', '.join(SHAPES)}")
        if self.config.spelling not in SPELLINGS:
            names = ", ".join(SPELLINGS)
            raise ValueError(f"unknown spelling {self.config.spelling!r}: one of {names}")
        if self.config.scenario not in SCENARIOS:
            names = ", ".join(SCENARIOS)
            raise ValueError(f"unknown scenario {self.config.scenario!r}: one of {names}")
        self._scripts: dict[PostKey, Script] = {}
        if self.config.scenario == "demo":
            if self.config.posts is None:
                raise ValueError("the demo scenario needs the posts it plays (posts=...)")
            self._scripts = demo_scripts(self.config.seed, self.config.posts)
        self.faults = self.config.faults
        self.injector = FaultInjector(self.faults)
        self.api_key = self.config.api_key or "sim_" + secrets.token_hex(12)
        self._api_key_bytes = self.api_key.encode()
        self.stats = SimStats()
        self._known: dict[PostKey, WatchedPost] | None = (
            None if self.config.posts is None else {p.key: p for p in self.config.posts}
        )
        self._tracks: dict[PostKey, _Track] = {}
        self._lock = threading.Lock()
        self._offset = 0.0
        self._epoch: float | None = None
        self._wall_epoch = time.time()
        self._port = self.config.port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.last_error: Exception | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> SimServer:
        """Bind 127.0.0.1 and serve from a daemon thread; a no-op when already running."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(self, self._port)
        self._port = int(httpd.server_address[1])
        if self._epoch is None:
            self._epoch = self.config.clock()
            self._wall_epoch = time.time()
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.name = f"wahdx-sim:{self._port}"
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and close the socket; idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join()

    def restart(self) -> None:
        """Stop, then start again on the same port (sim time carries on)."""
        self.stop()
        self.start()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the configured one before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """Where the API answers: http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def address(self) -> tuple[str, int] | None:
        """The listening socket's (host, port), or None when stopped."""
        httpd = self._httpd
        if httpd is None:
            return None
        host, port = httpd.socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def running(self) -> bool:
        """True while serving."""
        return self._httpd is not None

    # ----- sim time and truth ----------------------------------------------------------------

    def sim_now(self) -> float:
        """Sim seconds since the first start (plus any advance())."""
        epoch = self._epoch
        real = 0.0 if epoch is None else self.config.clock() - epoch
        return real * self.config.speed + self._offset

    def since_start(self) -> float:
        """Clock seconds since the first start (the down window is measured on this)."""
        epoch = self._epoch
        return 0.0 if epoch is None else self.config.clock() - epoch

    def advance(self, seconds: float) -> None:
        """Jump sim time forward."""
        if seconds < 0:
            raise ValueError("advance() cannot go back in time")
        with self._lock:
            self._offset += seconds

    def _track(self, key: PostKey) -> _Track | None:
        track = self._tracks.get(key)
        if track is not None:
            return track
        known = self._known
        if known is None:
            new = _Track(self.sim_now(), 0.0, None)
        else:
            post = known.get(key)
            if post is None:
                return None
            script = self._scripts.get(key)
            head_start = (
                script.head_start if script is not None else head_start_for(self.config.seed, key)
            )
            new = _Track(0.0, head_start, post.media_type)
        with self._lock:
            return self._tracks.setdefault(key, new)

    def _timeline(self, track: _Track, key: PostKey, media_type: str | None) -> Timeline:
        tl = track.timelines.get(media_type)
        if tl is None:
            script = self._scripts.get(key)
            if script is not None:
                tl = script.timeline  # a scripted post's story does not depend on its media
            else:
                tl = _timeline_for(self.config.seed, key, media_type)
            track.timelines[media_type] = tl
        return tl

    def truth(self, key: PostKey) -> State | None:
        """The post's true current state (None for a post the API does not know).

        With posts=None this counts as first sight: the post's clock starts now.
        """
        track = self._track(key)
        if track is None:
            return None
        tl = self._timeline(track, key, track.media_type)
        return state_at(tl, self.sim_now() - track.origin + track.head_start)

    def timeline(self, key: PostKey) -> Timeline | None:
        """The post's timeline (None for a post the API does not know)."""
        track = self._track(key)
        return None if track is None else self._timeline(track, key, track.media_type)

    # ----- answering -------------------------------------------------------------------------

    def _item(self, key: PostKey, media_type: str | None, now: float) -> dict[str, Any]:
        account, publish = key
        snake = self.config.shape == "statuses"
        names = _SNAKE if snake else _CAMEL
        track = self._track(key)
        if track is None:
            return {
                names.account: account,
                names.publish: publish,
                "success": False,
                "error": _NOT_FOUND,
            }
        media = media_type or track.media_type
        tl = self._timeline(track, key, media)
        elapsed = now - track.origin + track.head_start
        state = state_at(tl, elapsed)
        changed = (
            self._wall_epoch + track.origin - track.head_start + last_transition_at(tl, elapsed)
        )
        status = SPELLINGS[self.config.spelling][state]
        url = tl.public_url if state is State.PUBLISHED else None
        error = tl.error if state is State.FAILED else None
        if self.faults.hostile:
            idx = hostile_index(account, publish)
            status = hostile_status(status, idx)
            url = None if url is None else hostile_text(url, idx)
            error = None if error is None else hostile_text(error, idx)
        item: dict[str, Any] = {
            names.account: account,
            names.publish: publish,
            names.media: media,
            names.status: {"code": status} if snake else status,
            names.updated: _iso(changed),
        }
        if url is not None:
            item[names.url] = url
        if error is not None:
            item[names.error] = error
        return item

    def _key_ok(self, given: str | None) -> bool:
        if given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._api_key_bytes)

    def handle(self, method: str, target: str, api_key: str | None, body: bytes) -> _Reply:
        """Answer one request (faults included); the handler does only the I/O."""
        split = urlsplit(target)
        path = split.path
        checks: list[tuple[str, str, str | None]] | str | None = None
        single: PostKey | None = None
        if method == "POST" and path == BATCH_PATH:
            checks = _parse_checks(body)
            self.stats.count_route(True, 0 if isinstance(checks, str) else len(checks))
        elif method in ("GET", "HEAD"):
            segs = path.split("/")
            if len(segs) == 6 and tuple(segs[:4]) == _SINGLE_PREFIX and segs[4] and segs[5]:
                single = (unquote(segs[4]), unquote(segs[5]))
                self.stats.count_route(False, 1)

        injector = self.injector
        down = injector.down_left(self.since_start())
        if down is not None:
            extra = () if math.isinf(down) else (("Retry-After", str(math.ceil(down))),)
            return _error_reply(503, "service unavailable", *extra)
        if self.faults.revoked or not self._key_ok(api_key):
            return _error_reply(401, "invalid API key")
        if injector.take_429():
            return _error_reply(
                429, "rate limit exceeded", ("Retry-After", injector.retry_after_header())
            )
        if injector.roll_error():
            return _error_reply(500, "internal error")

        if checks is not None:
            reply = self._batch(checks)
        elif single is not None:
            values = parse_qs(split.query).get("mediaType")
            media = values[0] if values else None
            reply = self._single(single, media)
        else:
            reply = _error_reply(404, "not found")
        if reply.status == 200:
            kind = injector.malformed_kind()
            if kind is not None:
                junk, ctype = malformed_body(kind, reply.body)
                return _Reply(200, junk, ctype)
        return reply

    def _batch(self, checks: list[tuple[str, str, str | None]] | str) -> _Reply:
        if isinstance(checks, str):
            return _error_reply(400, checks)
        limit = self.faults.max_batch
        if limit > 0 and len(checks) > limit:
            code = 400 if self.faults.max_batch_400 else 413
            return _error_reply(code, f"too many checks: limit is {limit}")
        now = self.sim_now()
        injector = self.injector
        items = [
            self._item((account, publish), media, now)
            for account, publish, media in checks
            if not injector.roll_missing()
        ]
        shape = self.config.shape
        flood = self.faults.flood > 0 and shape != "keyed"
        # The padding's place, filled once the answer is written (a list shape only).
        listed: list[object] = [*items, _FLOOD] if flood else list(items)
        if shape == "flat":
            reply = _json_reply(200, listed)
        elif shape == "keyed":
            keyed = {str(it["publishId"]): it for it in items}
            reply = _json_reply(200, {"success": True, "data": keyed})
        elif shape == "statuses":
            reply = _json_reply(200, {"statuses": listed})
        else:
            reply = _json_reply(200, {"success": True, "data": {"results": listed}})
        if flood:
            reply.body = reply.body.replace(b'"' + _FLOOD.encode() + b'"', injector.flood_items())
        return reply

    def _single(self, key: PostKey, media_type: str | None) -> _Reply:
        if self._track(key) is None:
            return _error_reply(404, _NOT_FOUND)
        return _json_reply(
            200, {"success": True, "data": self._item(key, media_type, self.sim_now())}
        )
