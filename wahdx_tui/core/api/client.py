"""The Wahdx status API client: batch and single checks with retries, backoff and 429 handling."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Literal, TypeVar, cast
from urllib.parse import quote

import httpx
import orjson

from wahdx_tui import __version__
from wahdx_tui.core.api.normalise import (
    LastAnswer,
    _error_text,
    decode_json,
    parse_batch,
    parse_single,
    value_budget,
)
from wahdx_tui.core.api.transport import BodyTooLarge, Headers, Http11Transport, transport_for
from wahdx_tui.core.domain.errors import (
    ApiError,
    ApiUnavailable,
    AuthError,
    BatchTooLarge,
    ResponseShapeError,
    Trouble,
)
from wahdx_tui.core.domain.model import PostStatus, State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.table import DEFAULTS

BATCH_PATH = "/api/content/status/batch"
SINGLE_PATH = "/api/content/status/{account}/{publish}"
_LIMIT_WORDS = ("too many", "limit", "too large", "maximum", "exceed")
OFF_LOOP_BYTES = 256 * 1024
"""An answer larger than this is decoded and read on a thread, off the event loop."""
_ASCTIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}", re.ASCII)
"""The third HTTP-date form (C's asctime), which carries no zone: it is GMT."""

_T = TypeVar("_T")
log = logging.getLogger("wahdx_tui.client")
EventKind = Literal["retry", "rate_limited", "shrink"]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Tunables of the client; defaults suit the public API (those named like a setting are
    settings: `Settings.into`)."""

    batch_size: int = DEFAULTS.batch_size
    concurrency: int = DEFAULTS.concurrency
    timeout: float = DEFAULTS.timeout
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    max_rate_limited: int = 6
    max_retry_after: float = DEFAULTS.max_retry_after
    max_body_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """Something the operator may want to see: a retry, a rate limit, a smaller batch size."""

    kind: EventKind
    message: str
    wait: float = 0.0


@dataclass(slots=True)
class PassResult:
    """The outcome of checking many posts: what came back, and what could not be checked."""

    statuses: list[PostStatus]
    failed: list[WatchedPost] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    """The kind of each of `errors` (core.errors.Trouble), for the words and advice."""
    requests: int = 0

    @property
    def complete(self) -> bool:
        """True when every requested post was checked."""
        return not self.failed


class _HeaderBlock:
    """The request's header lines as bytes, made once; they hold the key, so they never show
    themselves (repr gives '***', pickling is refused), as the key itself does not."""

    __slots__ = ("json", "plain")

    def __init__(self, plain: bytes) -> None:
        self.plain = plain
        self.json = plain + b"Content-Type: application/json\r\n"

    def __repr__(self) -> str:
        return "_HeaderBlock('***')"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("request headers holding the key are not to be pickled")


class _KeyForms:
    """The key as an answer could spell it (as is, and JSON-escaped); never shown itself."""

    __slots__ = ("forms",)

    def __init__(self, key: str) -> None:
        escaped = orjson.dumps(key)[1:-1]
        spellings = {key.encode(), escaped, escaped.replace(b"/", b"\\/")}
        self.forms = tuple(sorted((f for f in spellings if f), key=len, reverse=True))

    def __repr__(self) -> str:
        return "_KeyForms('***')"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the key's spellings are not to be pickled")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (IMF-fixdate,
    RFC 850 or asctime, read as GMT); None for anything else, a negative or non-finite
    number among them (`1e400` is infinity), so the caller backs off as usual instead."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        if not _ASCTIME.fullmatch(value):
            return None  # a date without its zone is not an HTTP date: which day is it?
        when = when.replace(tzinfo=UTC)  # asctime's form has none: HTTP dates are GMT
    try:
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (OverflowError, ValueError):
        return None


def _parse_guarded(parse: Callable[[object], _T], decoded: object) -> _T:
    """Run a parser; anything it did not foresee becomes a ResponseShapeError (retried)."""
    try:
        return parse(decoded)
    except ApiError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        raise ResponseShapeError(f"unreadable response ({exc.__class__.__name__})") from None


async def _read(
    content: bytes, status: int, parse: Callable[[object], _T], max_values: int
) -> _T | object:
    """The body decoded (at most `max_values` values of it), and for a 2xx read by `parse`;
    a large body on a thread of its own, so the event loop (the board's keys) never waits
    on it."""

    def read() -> _T | object:
        decoded = decode_json(content, max_values) if content else None
        return _parse_guarded(parse, decoded) if status < 300 else decoded

    if len(content) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(read)
    return read()


def _size(n: int) -> str:
    """A byte count for people: '16 MiB', '512 KiB', '60 bytes'."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def _segment(value: str) -> str:
    """One percent-encoded path segment; '.' and '..' are encoded so no client folds them."""
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


_NO_HOST = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "name resolution",
    "no address associated",
    "errno -2]",
    "errno -3]",
    "errno -5]",
)


def connect_trouble(exc: Exception) -> tuple[str, Trouble]:
    """Why a connection could not be made, in words, and the kind of trouble it is."""
    text = str(exc).lower()
    if "refused" in text or "connect call failed" in text or "errno 111]" in text:
        return "cannot connect: connection refused", "refused"
    if any(word in text for word in _NO_HOST):
        return "cannot connect: host name not found", "no_host"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "cannot connect: TLS handshake failed", "tls"
    if "unreachable" in text or "no route" in text:
        return "cannot connect: network unreachable", "unreachable"
    return "cannot connect", "unreachable"


def status_trouble(status: int) -> Trouble:
    """The kind of trouble an HTTP error status is: a wrong URL, or a refused request."""
    return "not_found" if status in (404, 405, 410) else "rejected"


def _message_of(body: object) -> str:
    """An error answer's own words, made inert and on one line: they go into messages."""
    if isinstance(body, Mapping):
        text = _error_text(body.get("error")) or _error_text(body.get("message"))
        if text:
            return clean(text, 200)
    return ""


def request_outcome(status: int) -> str:
    """How a request that got an HTTP answer ended, in a word (a metrics label)."""
    if status < 300:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "rejected"
    return "client_error" if status < 500 else "server_error"


def failed_outcome(exc: BaseException) -> str:
    """How a request that got no usable answer ended, in a word (a metrics label)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, BodyTooLarge):
        return "too_large"
    return "network_error" if isinstance(exc, httpx.HTTPError | OSError) else "error"


class WahdxClient:
    """One keep-alive HTTP client per process; never prints or logs the key."""

    def __init__(
        self,
        base_url: str,
        api_key: ApiKey | str,
        options: ClientOptions | None = None,
        *,
        on_event: Callable[[ClientEvent], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options or ClientOptions()
        self.batch_size = max(1, self.options.batch_size)
        self.requests = 0
        self.outcomes: Counter[str] = Counter()
        """Requests sent, by how each ended (`request_outcome`), for serve's metrics."""
        self._on_event = on_event
        self._sleep = sleep
        self._sem = asyncio.Semaphore(max(1, self.options.concurrency))
        self._not_before = 0.0
        self._rng = random.Random()
        base = httpx.URL(base_url)
        if not base.raw_path.endswith(b"/"):
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self._base = base
        self._batch_url = self._url(BATCH_PATH)
        # Sent to the transport directly: httpx's client layer (cookies, redirects, auth
        # flows, hooks) cost a fifth of a millisecond per request and none of it is used.
        self._transport = transport or transport_for(base, self.options.concurrency)
        self._key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key)
        self._headers = (
            ("User-Agent", f"wahdx-tui/{__version__}"),
            ("Accept", "*/*"),
            ("Accept-Encoding", "gzip, deflate"),
            ("Connection", "keep-alive"),
        )
        timeout = self.options.timeout
        self._extensions = {
            "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        }
        # The lean transport is given the request's bytes: the header block is made once here
        # (it holds the key, so it is never shown), only the request line and length per request.
        self._lean = self._transport if isinstance(self._transport, Http11Transport) else None
        self._origin = (
            base.scheme,
            base.host,
            base.port or (443 if base.scheme == "https" else 80),
        )
        fields = [
            ("Host", base.netloc.decode("ascii")),
            *self._headers,
            ("X-API-Key", self._key.reveal()),
        ]
        if any(c in value for _, value in fields for c in "\r\n"):
            raise ValueError("a request header (the key or the URL's host) holds a line break")
        plain = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in fields)
        self._heads = _HeaderBlock(plain)
        self._echoes = _KeyForms(self._key.reveal())

    def _unechoed(self, content: bytes) -> bytes:
        """The answer with the key, wherever the API echoed it back, replaced by '***': what is
        read from an answer is shown, stored and exported, and the key must be none of that."""
        for form in self._echoes.forms:
            if form in content:
                content = content.replace(form, b"***")
        return content

    def __repr__(self) -> str:
        return f"WahdxClient(base_url={str(self._base)!r})"

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> httpx.URL:
        """The base URL with `path` (and `params`) appended, as httpx's client merges them."""
        rel = httpx.URL(path, params=params)
        return self._base.copy_with(raw_path=self._base.raw_path + rel.raw_path.lstrip(b"/"))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> WahdxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _emit(self, kind: EventKind, message: str, wait: float = 0.0) -> None:
        log.info("%s: %s", kind, message)
        if self._on_event is not None:
            self._on_event(ClientEvent(kind, message, wait))

    async def _send(
        self, method: str, url: httpx.URL, body: Any
    ) -> tuple[int, bytes, Headers | httpx.Headers]:
        cap = self.options.max_body_bytes
        if self._lean is not None:
            data = None if body is None else orjson.dumps(body)
            status, fields, answer = await self._lean.exchange(
                method,
                self._origin,
                url.raw_path,
                self._heads.plain if data is None else self._heads.json,
                data,
                timeout=self.options.timeout,
                cap=cap,
            )
            if log.isEnabledFor(logging.DEBUG):
                log.debug('HTTP Request: %s %s "HTTP/1.1 %d"', method, url, status)
            return status, answer, fields
        headers = [*self._headers, ("X-API-Key", self._key.reveal())]
        content = None
        if body is not None:
            content = orjson.dumps(body)  # compact UTF-8, as httpx's json= wrote it
            headers.append(("Content-Type", "application/json"))
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions=self._extensions
        )
        resp = await self._transport.handle_async_request(request)
        if log.isEnabledFor(logging.DEBUG):  # one line per request, as httpx wrote (no key)
            log.debug('HTTP Request: %s %s "HTTP/1.1 %d"', method, url, resp.status_code)
        try:
            length = resp.headers.get("content-length", "")
            if length.isdigit() and int(length) > cap:
                raise BodyTooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise BodyTooLarge
                chunks.append(chunk)
            return resp.status_code, b"".join(chunks), resp.headers
        finally:
            await resp.aclose()

    async def _wait_gate(self) -> None:
        loop = asyncio.get_running_loop()
        while (delay := self._not_before - loop.time()) > 0:
            await self._sleep(delay)

    async def _request(
        self,
        method: str,
        url: httpx.URL,
        parse: Callable[[object], _T],
        *,
        body: Any = None,
        backing_off: Callable[[], None] | None = None,
        asked_for: int = 1,
    ) -> tuple[int, _T | object]:
        """Send with retries; return (status, parse(body)) for 2xx, (status, body) for other 4xx.

        A 2xx body that `parse` cannot read (ResponseShapeError) is retried like a 5xx.
        `backing_off` is told before each wait between attempts. `asked_for`, the posts
        asked about, bounds how much of an answer is read (`value_budget`).
        """
        opts = self.options
        attempts = 0
        limited = 0
        loop = asyncio.get_running_loop()
        trouble: Trouble = "other"
        while True:
            try:
                async with self._sem:
                    # The gate is checked holding the slot: a request that queued for a slot
                    # before a 429 arrived must still wait out the Retry-After.
                    await self._wait_gate()
                    self.requests += 1
                    try:
                        status, content, headers = await self._send(method, url, body)
                    except Exception as exc:
                        self.outcomes[failed_outcome(exc)] += 1
                        raise
                    self.outcomes[request_outcome(status)] += 1
                    content = self._unechoed(content)
                    if status == 429:
                        # Close the gate before the slot is freed, so no queued request slips by.
                        limited += 1
                        wait, asked, capped = self._rate_limit_wait(
                            headers.get("retry-after"), limited
                        )
                        if not capped:  # a longer ask is not waited out within a pass
                            self._not_before = max(self._not_before, loop.time() + wait)
                # The slot is free once this body is parsed (tens of microseconds, beside
                # the network's milliseconds): a request waiting for it, a re-check, has it
                # next (the semaphore is fair), and a pass's workers each send their own next.
            except BodyTooLarge:
                raise ApiError(
                    f"response larger than {_size(opts.max_body_bytes)}; not read", "unreadable"
                ) from None
            except httpx.TimeoutException:
                reason, trouble = f"no answer within {opts.timeout:g} s", "timeout"
            except httpx.ConnectError as exc:
                reason, trouble = connect_trouble(exc)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                reason, trouble = "connection dropped mid-answer", "dropped"
            except httpx.TransportError as exc:
                reason = f"connection failed ({exc.__class__.__name__})"
                trouble = "unreachable"
            except httpx.HTTPError as exc:  # e.g. a body that does not decode as declared
                reason = f"unreadable response ({exc.__class__.__name__})"
                trouble = "unreadable"
            else:
                if status in (401, 403):
                    raise AuthError(
                        f"API key rejected (HTTP {status}): check WAHDX_API_KEY or --api-key-file"
                    )
                if status == 429:
                    if capped or limited > opts.max_rate_limited:
                        # Said as an event too, so the next pass is put off as the server asks
                        # (up to max_retry_after).
                        self._emit("rate_limited", f"rate limited: {asked}", wait)
                        raise ApiUnavailable(f"rate limited by the API ({asked})", "rate_limited")
                    self._emit("rate_limited", f"rate limited: {asked}; waiting {wait:.0f} s", wait)
                    continue
                try:
                    decoded = await _read(content, status, parse, value_budget(asked_for))
                    if status < 300:
                        return status, cast(_T, decoded)
                    message = _message_of(decoded)
                    if status == 413 or (
                        status == 400 and any(w in message.lower() for w in _LIMIT_WORDS)
                    ):
                        raise BatchTooLarge(f"HTTP {status}: {message or 'batch too large'}")
                    if status < 500:
                        return status, decoded
                    reason = f"HTTP {status}" + (f": {message}" if message else "")
                    trouble = "server"
                except ResponseShapeError as exc:
                    if 400 <= status < 500:
                        raise ApiError(
                            f"HTTP {status} from the API, with an unreadable body",
                            status_trouble(status),
                        ) from None
                    reason = str(exc) if status < 300 else f"HTTP {status}"
                    trouble = "unreadable" if status < 300 else "server"
            attempts += 1
            if attempts >= opts.max_attempts:
                raise ApiUnavailable(f"{reason} (gave up after {attempts} attempts)", trouble)
            delay = self._backoff(attempts)
            self._emit("retry", f"{reason}; retry {attempts} in {delay:.1f} s", delay)
            if backing_off is not None:
                backing_off()
            await self._sleep(delay)

    def _rate_limit_wait(self, header: str | None, limited: int) -> tuple[float, str, bool]:
        """How long to wait after the `limited`th 429 in a row, what the API asked (in
        words), and whether that was capped: its Retry-After up to `max_retry_after` (a
        longer ask is logged, and then the pass gives up and the next waits the cap), else
        the usual backoff (no header, or one that is garbage, negative or infinite)."""
        cap = self.options.max_retry_after
        asked = parse_retry_after(header)
        if asked is None:
            said = "no usable Retry-After" if header else "no Retry-After"
            return min(cap, self._backoff(limited)), said, False
        if asked > cap:
            log.warning(
                "the API asked to wait %.0f s after a 429; waiting %.0f s (max_retry_after)",
                asked,
                cap,
            )
            return cap, f"asked to wait {asked:.0f} s, more than max_retry_after", True
        return asked, f"asked to wait {asked:.0f} s", False

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter between half and all of the capped step."""
        step: float = min(
            self.options.backoff_cap, self.options.backoff_base * 2.0 ** (attempt - 1)
        )
        return step * (0.5 + self._rng.random() / 2)

    async def _batch(
        self,
        chunk: Sequence[WatchedPost],
        last: LastAnswer | None = None,
        backing_off: Callable[[], None] | None = None,
    ) -> list[PostStatus]:
        checks = []
        for p in chunk:
            check = {"accountId": p.account_id, "publishId": p.publish_id}
            if p.media_type:
                check["mediaType"] = p.media_type
            checks.append(check)
        status, result = await self._request(
            "POST",
            self._batch_url,
            lambda body: parse_batch(body, chunk, time.time(), last),
            body={"checks": checks},
            backing_off=backing_off,
            asked_for=len(chunk),
        )
        if status >= 400 or not isinstance(result, list):
            raise ApiError(
                f"HTTP {status} from the API: {_message_of(result) or 'no message'}",
                status_trouble(status),
            )
        return result

    async def check_posts(
        self, posts: Sequence[WatchedPost], last: LastAnswer | None = None
    ) -> PassResult:
        """Check every post in batches of at most batch_size, at most `concurrency` at once.

        With `last` (each post's last status, in `posts`' order), a post whose answer is the
        one its last status was read from comes back as that same status object (see
        `parse_batch`)."""
        result = PassResult(statuses=[])
        start_requests = self.requests

        async def run(chunk: Sequence[WatchedPost], befores: LastAnswer | None) -> list[PostStatus]:
            """The chunk's statuses, in its order (none for posts that could not be checked)."""
            try:
                return await self._batch(chunk, befores, backing_off)
            except BatchTooLarge as exc:
                if len(chunk) <= 1:
                    result.failed.extend(chunk)
                    result.errors.append(str(exc))
                    result.troubles.append(exc.trouble)
                    return []
                smaller = max(1, len(chunk) // 2)
                if smaller < self.batch_size:
                    self.batch_size = smaller
                    self._emit("shrink", f"batch too large: now {smaller} posts per request")
                size = min(self.batch_size, smaller)
                parts = await asyncio.gather(
                    *(
                        run(chunk[i : i + size], None if befores is None else befores[i : i + size])
                        for i in range(0, len(chunk), size)
                    )
                )
                return [s for part in parts for s in part]
            except AuthError:
                raise
            except ApiError as exc:
                log.warning("batch of %d posts not checked: %s", len(chunk), exc)
                result.failed.extend(chunk)
                result.errors.append(str(exc))
                result.troubles.append(exc.trouble)
                return []

        if last is not None and len(last) != len(posts):
            raise ValueError("last must give one status (or None) per post")
        size = self.batch_size
        starts = range(0, len(posts), size)
        chunks = [posts[i : i + size] for i in starts]
        lasts = [None if last is None else last[i : i + size] for i in starts]
        answers: list[list[PostStatus]] = [[] for _ in chunks]
        untaken = iter(range(len(chunks)))
        group = asyncio.TaskGroup()

        async def worker() -> None:
            """Take the next chunk not yet taken until none is left: as many workers as
            requests may be in flight, instead of a task per chunk queued on the slots."""
            for index in untaken:
                answers[index] = await run(chunks[index], lasts[index])

        def backing_off() -> None:
            # A worker waiting to retry lends its place, so `concurrency` requests stay out.
            group.create_task(worker())

        try:
            async with group:
                for _ in range(min(len(chunks), max(1, self.options.concurrency))):
                    group.create_task(worker())
        except BaseExceptionGroup as eg:
            auth = eg.subgroup(AuthError)
            if auth is not None:
                raise _first_leaf(auth) from None
            raise
        # Each chunk's answer is in its posts' order, and the chunks in theirs: so are these.
        result.statuses = [s for part in answers for s in part]
        result.requests = self.requests - start_requests
        return result

    async def check_one(self, post: WatchedPost) -> PostStatus:
        """Re-check one post through the single-status endpoint."""
        path = SINGLE_PATH.format(
            account=_segment(post.account_id), publish=_segment(post.publish_id)
        )
        params = {"mediaType": post.media_type} if post.media_type else None
        status, result = await self._request(
            "GET", self._url(path, params), lambda body: parse_single(body, post, time.time())
        )
        if isinstance(result, PostStatus):
            return result
        if status == 404:
            message = _message_of(result) or "not found"
            return PostStatus(post.key, State.UNKNOWN, None, None, message, time.time(), result)
        raise ApiError(
            f"HTTP {status} from the API: {_message_of(result) or 'no message'}",
            status_trouble(status),
        )


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


ClientFactory = Callable[[Callable[[ClientEvent], None]], WahdxClient]
"""Makes the client inside the running loop, given where its retry and rate-limit events go."""


def client_factory(base_url: str, api_key: ApiKey | str, options: ClientOptions) -> ClientFactory:
    """A factory of clients for one API and key."""

    def make(on_event: Callable[[ClientEvent], None]) -> WahdxClient:
        return WahdxClient(base_url, api_key, options, on_event=on_event)

    return make
