"""A lean HTTP/1.1 keep-alive transport: one origin's requests as an asyncio Protocol, whole bodies.

httpcore is general (HTTP/2, proxies, SOCKS, trio, connection states for every case) and costs
about a millisecond of CPU per request; the board sends thousands of small requests to one API.
This transport keeps only what the client needs: HTTP/1.1 over asyncio (TLS included), kept-alive
connections, Content-Length, chunked and read-to-close bodies, gzip and deflate, and httpx's
own exceptions. Each connection is an asyncio.Protocol that parses the answer as its bytes
arrive and hands the whole body over at once, with one deadline per request: no StreamReader,
no httpx Request or Response and no timeout per read. `exchange` is what the client calls;
`handle_async_request` makes the same transport usable by httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
import urllib.request
import zlib
from typing import Any

import httpx

from wahdx_tui.core.settings.apiaccess import is_loopback_name

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_HEAD = 64 * 1024  # status line and headers together; also one chunk-size or trailer line
_MALFORMED_CHUNKS = "malformed chunked body in the response"
_NO_BODY = (204, 304)

# What a connection is reading.
_IDLE, _HEAD, _LENGTH, _SIZE, _DATA, _DATA_END, _TRAILER, _TO_CLOSE = range(8)


class BodyTooLarge(Exception):
    """A response body (as sent or decoded) over the caller's size cap; the connection is gone."""


class Headers:
    """A response's header fields as sent; `get` looks a name up case-insensitively, joining
    repeated fields with ', ' as httpx does."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        """The field's value, or `default` when the answer has none."""
        key = name.lower().encode("latin-1")
        values = [v.decode("latin-1") for n, v in self.raw if n.lower() == key]
        return ", ".join(values) if values else default

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value


def _head_lines(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """(status, version, headers) of a response head; RemoteProtocolError when it is not one."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError("malformed status line in the response")
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise httpx.RemoteProtocolError("malformed status code in the response")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        name = name.strip()
        if not sep or not name or name != name.rstrip(b" \t") or line[:1] in (b" ", b"\t"):
            raise httpx.RemoteProtocolError("malformed header line in the response")
        headers.append((name, value.strip(b" \t")))
    return status, parts[0], headers


def _framing(
    status: int, method: str, version: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[str, int, bool]:
    """How the body is delimited ('none', 'length', 'chunked', 'close'), its length, and
    whether the connection may be kept after it."""
    lengths: set[bytes] = set()
    chunked = False
    close = version == b"HTTP/1.0"
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            lengths.update(v.strip() for v in value.split(b","))
        elif lowered == b"transfer-encoding":
            chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            if not chunked:
                close = True  # an encoding we cannot delimit: read to the end
        elif lowered == b"connection":
            tokens = {t.strip() for t in value.lower().split(b",")}
            if b"close" in tokens:
                close = True
            elif b"keep-alive" in tokens and version == b"HTTP/1.0":
                close = False
    if method == "HEAD" or status in _NO_BODY or status < 200:
        return "none", 0, close
    if chunked:
        return "chunked", 0, close or bool(lengths)
    if lengths:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise httpx.RemoteProtocolError("invalid Content-Length in the response")
        return "length", int(next(iter(lengths))), close
    return "close", 0, True


def _inflate(body: bytes, wbits: int, cap: int) -> bytes:
    """One zlib layer of `body` undone, at most `cap` bytes of it (BodyTooLarge past that)."""
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, cap + 1 if cap < sys.maxsize else 0)
    if len(out) > cap or inflater.unconsumed_tail:
        raise BodyTooLarge
    return out + inflater.flush()


def decode_body(body: bytes, headers: Headers, cap: int) -> bytes:
    """The body with its Content-Encoding undone as httpx undoes it (gzip and deflate, the last
    applied first, others left as they are); DecodingError when it does not decode."""
    encoding = headers.get("content-encoding")
    if not encoding or not body:
        return body
    for coding in reversed(encoding.split(",")):
        coding = coding.strip().lower()
        try:
            if coding in ("gzip", "x-gzip"):
                body = _inflate(body, zlib.MAX_WBITS | 16, cap)
            elif coding == "deflate":
                try:  # zlib-wrapped as the standard says, or raw as some servers send it
                    body = _inflate(body, zlib.MAX_WBITS, cap)
                except zlib.error:
                    body = _inflate(body, -zlib.MAX_WBITS, cap)
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc)) from None
    return body


class _Connection(asyncio.Protocol):
    """One connection to an origin: sends a request, parses its answer as bytes arrive, and
    resolves one future with the whole answer (or the httpx exception that ended it)."""

    __slots__ = (
        "_body",
        "_buf",
        "_cap",
        "_drain",
        "_hung_up",
        "_loop",
        "_method",
        "_need",
        "_state",
        "_tr",
        "_unasked",
        "_waiter",
        "_write_failed",
        "body",
        "got",
        "headers",
        "keep",
        "status",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tr: asyncio.Transport | None = None
        self._buf = bytearray()
        self._state = _IDLE
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._method = "GET"
        self._cap = 0
        self._need = 0
        self._body = bytearray()
        self.got = False
        self._write_failed = False
        self._hung_up = False
        self._unasked = False
        self.status = 0
        self.headers = Headers([])
        self.body = b""
        self.keep = False

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._tr = transport

    def data_received(self, data: bytes) -> None:
        if self._state == _IDLE:
            self._unasked = True  # bytes nobody asked for: this connection is not reused
            self.close()
            return
        self.got = True
        try:
            buf = self._buf
            if buf:
                buf += data
            elif self._state == _HEAD and self._whole(data):
                return
            else:
                self._buf = buf = bytearray(data)
            self._parse(buf)
        except (httpx.RemoteProtocolError, BodyTooLarge) as exc:
            self._fail(exc)

    def _whole(self, data: bytes) -> bool:
        """The usual answer, all of it in one read with its Content-Length: taken without
        copying it into the buffer first. False (nothing taken) for any other."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return False
        status, version, raw = _head_lines(data[:end])
        if status < 200:
            return False
        kind, length, close = _framing(status, self._method, version, raw)
        if kind != "length" or len(data) - end - 4 != length or length > self._cap:
            return False  # read by _parse (which reads this head again: a rare path)
        self._take_head(status, raw, close)
        self._finish(data[end + 4 :], not close)
        return True

    def _take_head(self, status: int, raw: list[tuple[bytes, bytes]], close: bool) -> None:
        """Keep a final answer's status line and headers, whichever reader read them."""
        self.status = status
        self.headers = Headers(raw)
        self.keep = not close

    def eof_received(self) -> bool | None:
        self._hung_up = True
        if self._state == _TO_CLOSE:
            self._finish(bytes(self._body), keep=False)
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._hung_up = True
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            self._write_failed = True  # lost with the request still being sent
            drain.set_result(None)
        state = self._state
        if state == _IDLE:
            return
        if state == _TO_CLOSE and exc is None:
            self._finish(bytes(self._body), keep=False)
            return
        error: Exception
        if not self.got:
            if self._write_failed:
                error = httpx.WriteError("connection lost sending the request")
            elif exc is None:
                error = httpx.RemoteProtocolError("Server disconnected without sending a response.")
            else:
                error = httpx.ReadError(f"connection lost waiting for the response: {exc}")
        elif exc is None:
            error = httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )
        else:
            error = httpx.ReadError(f"connection lost reading the response: {exc}")
        self._fail(error)

    def pause_writing(self) -> None:
        if self._drain is None:
            self._drain = self._loop.create_future()

    def resume_writing(self) -> None:
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    # the transport's side

    def usable(self) -> bool:
        """Idle and still open: the server has not hung up, nor sent anything unasked."""
        tr = self._tr
        return not (self._hung_up or self._unasked or tr is None or tr.is_closing() or self._state)

    def close(self) -> None:
        """Hang up, sending what is still buffered first."""
        if self._tr is not None:
            self._tr.close()

    def abort(self) -> None:
        """Hang up at once, dropping whatever is buffered: the exchange went wrong."""
        if self._tr is not None:
            self._tr.abort()

    async def send(
        self,
        data: bytes,
        method: str,
        cap: int,
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> None:
        """Send one request and wait for its whole answer (in status, headers, body, keep)."""
        tr = self._tr
        assert tr is not None and self._state == _IDLE
        loop = self._loop
        waiter = loop.create_future()
        self._waiter = waiter
        self._state = _HEAD
        self._method = method
        self._cap = cap
        self.got = False
        self._write_failed = False
        timer = None
        try:
            tr.write(data)
            if tr.is_closing() and not self._hung_up:
                self._write_failed = True  # the send failed at once
            if self._drain is not None:
                try:
                    async with asyncio.timeout(write_timeout):
                        await self._drain
                except TimeoutError:
                    raise httpx.WriteTimeout("timed out sending the request") from None
            if read_timeout is not None and not waiter.done():
                timer = loop.call_at(loop.time() + read_timeout, self._timed_out)
            await waiter
        except BaseException:
            self.abort()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    def _timed_out(self) -> None:
        if self.got:
            self._fail(httpx.ReadTimeout("timed out reading the response body"))
        else:
            self._fail(httpx.ReadTimeout("timed out waiting for the response"))

    def _fail(self, exc: BaseException) -> None:
        waiter = self._waiter
        self._state = _IDLE
        self.keep = False
        self._buf = bytearray()
        self._body = bytearray()
        self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _finish(self, body: bytes, keep: bool) -> None:
        self.body = body
        self._state = _IDLE
        self._body = bytearray()
        if self._buf:
            self._unasked = True  # more than the answer came: the rest was not asked for
            keep = False
        self.keep = keep
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _parse(self, buf: bytearray) -> None:
        """Read as far as the bytes in `buf` go, removing what was read."""
        while True:
            state = self._state
            if state == _HEAD:
                end = _line_end(buf, b"\r\n\r\n", "response headers too large")
                if end < 0:
                    return
                status, version, raw = _head_lines(bytes(buf[:end]))
                del buf[: end + 4]
                if status < 200 and status != 101:
                    continue  # 1xx interim answers are skipped
                if status == 101:
                    raise httpx.RemoteProtocolError("unexpected protocol switch in the response")
                kind, length, close = _framing(status, self._method, version, raw)
                self._take_head(status, raw, close)
                if kind == "none":
                    self._finish(b"", not close)
                    return
                if kind == "length":
                    if length > self._cap:
                        raise BodyTooLarge
                    if len(buf) == length:  # the usual case: all of it in one read
                        self._buf = bytearray()
                        self._finish(bytes(buf), not close)
                        return
                    self._need = length
                    self._state = _LENGTH
                elif kind == "chunked":
                    self._state = _SIZE
                else:
                    self._state = _TO_CLOSE
            elif state == _LENGTH:
                need = self._need
                if len(buf) < need:
                    return
                body = bytes(buf[:need])
                del buf[:need]
                self._finish(body, self.keep)
                return
            elif state == _SIZE:
                end = _line_end(buf, b"\r\n", _MALFORMED_CHUNKS)
                if end < 0:
                    return
                try:
                    size = int(bytes(buf[:end]).split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise httpx.RemoteProtocolError(_MALFORMED_CHUNKS) from None
                del buf[: end + 2]
                if size < 0:
                    raise httpx.RemoteProtocolError(_MALFORMED_CHUNKS)
                if size == 0:
                    self._state = _TRAILER
                else:
                    if len(self._body) + size > self._cap:
                        raise BodyTooLarge
                    self._need = size
                    self._state = _DATA
            elif state == _DATA:
                take = min(self._need, len(buf))
                if not take:
                    return
                self._body += buf[:take]
                del buf[:take]
                self._need -= take
                if self._need:
                    return
                self._state = _DATA_END
            elif state == _DATA_END:
                if len(buf) < 2:
                    return
                if buf[:2] != b"\r\n":
                    raise httpx.RemoteProtocolError(_MALFORMED_CHUNKS)
                del buf[:2]
                self._state = _SIZE
            elif state == _TRAILER:
                end = _line_end(buf, b"\r\n", _MALFORMED_CHUNKS)
                if end < 0:
                    return
                del buf[: end + 2]
                if end == 0:  # the empty line after the trailer fields (ignored)
                    self._finish(bytes(self._body), self.keep)
                    return
            elif state == _TO_CLOSE:
                if len(self._body) + len(buf) > self._cap:
                    raise BodyTooLarge
                self._body += buf
                buf.clear()
                return
            else:
                return


def _line_end(buf: bytearray, mark: bytes, too_long: str) -> int:
    """Where `mark` (a line's or the head's end) starts in `buf`, -1 while it has not come;
    `too_long` is raised once more than a head may hold came without it."""
    end = buf.find(mark)
    if end < 0 and len(buf) > _MAX_HEAD:
        raise httpx.RemoteProtocolError(too_long)
    return end


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    value: Any = request.extensions.get("timeout", {})
    return value if isinstance(value, dict) else {}


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with kept-alive connections (at most `max_idle` idle per origin); callers
    bound how many requests are in flight. TLS is verified with httpx's default trust store."""

    def __init__(self, *, max_idle: int = 4, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_idle = max(1, max_idle)
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"Http11Transport(idle={sum(len(v) for v in self._idle.values())})"

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            # trust_env: SSL_CERT_FILE / SSL_CERT_DIR name a company's own CA, as for httpx.
            context = httpx.create_ssl_context(trust_env=True)
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    def _put(self, origin: Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if self._closed or len(idle) >= self._max_idle or not conn.usable():
            conn.close()
        else:
            idle.append(conn)

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._ssl_context() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host} within {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or exc.__class__.__name__) from None
        return conn

    async def exchange(
        self,
        method: str,
        origin: Origin,
        target: bytes,
        head: bytes,
        body: bytes | None,
        *,
        timeout: float | None,
        cap: int,
        decode: bool = True,
        connect_timeout: float | None = None,
        write_timeout: float | None = None,
    ) -> tuple[int, Headers, bytes]:
        """Send `method target` with the header lines in `head` (each ending CRLF; Host among
        them) and `body` (its Content-Length added here), and return (status, headers, body)
        with the body whole and, when `decode`, its Content-Encoding undone. `timeout` bounds
        the connect, the write and the whole answer (each apart; the first two may be given
        apart). BodyTooLarge when the body is over `cap` bytes, sent or decoded; httpx's
        exceptions otherwise.

        A request sent on a kept-alive connection that the server closed before answering
        anything is sent once more on a new one: the server had hung up between requests."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n", head]
        if body is not None:
            parts += (b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n\r\n", body)
        else:
            parts.append(b"\r\n")
        data = b"".join(parts)
        connect = timeout if connect_timeout is None else connect_timeout
        write = timeout if write_timeout is None else write_timeout
        conn = self._take(origin)
        reused = conn is not None
        if conn is None:
            conn = await self._connect(origin, connect)
        try:
            await conn.send(data, method, cap, timeout, write)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            if not reused or conn.got:
                raise
            conn = await self._connect(origin, connect)
            await conn.send(data, method, cap, timeout, write)
        status, headers, content = conn.status, conn.headers, conn.body
        if conn.keep:
            self._put(origin, conn)
        else:
            conn.close()
        if decode:
            content = decode_body(content, headers, cap)
        return status, headers, content

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's way in: the request sent through `exchange`, its answer as an httpx
        Response (its body already read, left encoded for httpx to decode)."""
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        origin: Origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = _timeouts(request)
        content = await request.aread()
        head: list[bytes] = []
        for name, value in request.headers.raw:
            if name.lower() not in (b"content-length", b"transfer-encoding"):
                head += (name, b": ", value, b"\r\n")  # the body goes whole, its length here
        framed = "content-length" in request.headers or "transfer-encoding" in request.headers
        status, headers, body = await self.exchange(
            request.method,
            origin,
            url.raw_path,
            b"".join(head),
            content if content or framed else None,
            timeout=timeouts.get("read"),
            connect_timeout=timeouts.get("connect"),
            write_timeout=timeouts.get("write"),
            cap=sys.maxsize,
            decode=False,
        )
        return httpx.Response(
            status,
            headers=headers.raw,
            stream=httpx.ByteStream(body),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        """Close every idle connection; a connection in use closes when its answer is in."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                with contextlib.suppress(OSError, ssl.SSLError):
                    conn.close()


def transport_for(url: httpx.URL, max_idle: int) -> httpx.AsyncBaseTransport:
    """The lean transport, unless the environment names a proxy for `url` (HTTPS_PROXY,
    ALL_PROXY, ..., and NO_PROXY): then httpx's own, which speaks through it.

    Loopback never goes through a proxy: a plain http:// base URL is allowed only there, and
    a proxy would receive its requests, the key among their headers, in clear. Elsewhere the
    URL is https://, so a proxy only tunnels (CONNECT) and never sees the key.
    """
    if is_loopback_name(url.host):
        return Http11Transport(max_idle=max_idle)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return httpx.AsyncHTTPTransport(
            proxy=proxy,
            verify=httpx.create_ssl_context(trust_env=True),
            limits=httpx.Limits(max_keepalive_connections=max_idle),
        )
    return Http11Transport(max_idle=max_idle)
