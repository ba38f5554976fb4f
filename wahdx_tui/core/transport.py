"""A lean HTTP/1.1 keep-alive transport for httpx: one origin's requests at a fraction of the CPU.

httpcore is general (HTTP/2, proxies, SOCKS, trio, connection states for every case) and costs
about a millisecond of CPU per request; the board sends thousands of small requests to one API.
This transport keeps only what the client needs: HTTP/1.1 over asyncio streams (TLS included),
kept-alive connections, Content-Length, chunked and read-to-close bodies, and httpx's own
exceptions and timeouts, so the client reads its answers exactly as from httpx's transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import httpx

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_HEAD = 64 * 1024  # status line and headers together
_CHUNK = 64 * 1024
_NO_BODY = (204, 304)


class _Connection:
    """One kept-alive connection to an origin."""

    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        """Idle and still open: the server has not hung up, nor sent anything unasked."""
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        """Hang up without waiting."""
        self.writer.close()


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    value: Any = request.extensions.get("timeout", {})
    return value if isinstance(value, dict) else {}


def _head_lines(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """(status, reason, headers) of a response head; RemoteProtocolError when it is not one."""
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


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection as it is iterated; the connection goes back
    to the pool only when the body was read to its end."""

    def __init__(
        self,
        transport: Http11Transport,
        origin: Origin,
        conn: _Connection,
        framing: tuple[str, int, bool],
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._conn: _Connection | None = conn
        self._kind, self._length, self._close = framing
        self._timeout = read_timeout
        self._done = self._kind == "none"
        if self._done:
            self._release()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None or self._done:
            return
        try:
            async for chunk in self._chunks(conn.reader):
                yield chunk
        except TimeoutError:
            self._drop()
            raise httpx.ReadTimeout("timed out reading the response body") from None
        except asyncio.IncompleteReadError:
            self._drop()
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from None
        except (asyncio.LimitOverrunError, ValueError):
            self._drop()
            raise httpx.RemoteProtocolError("malformed chunked body in the response") from None
        except OSError as exc:
            self._drop()
            raise httpx.ReadError(f"connection lost reading the response: {exc}") from None
        except BaseException:
            self._drop()
            raise
        self._done = True
        self._release()

    async def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        # Each read has its own deadline: none spans a yield, where the consumer runs.
        timeout = self._timeout
        if self._kind == "length":
            left = self._length
            while left > 0:
                async with asyncio.timeout(timeout):
                    piece = await reader.readexactly(min(left, _CHUNK))
                left -= len(piece)
                yield piece
        elif self._kind == "chunked":
            while True:
                async with asyncio.timeout(timeout):
                    line = await reader.readuntil(b"\r\n")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size < 0:
                    raise ValueError("negative chunk size")
                if size == 0:
                    async with asyncio.timeout(timeout):
                        while await reader.readuntil(b"\r\n") != b"\r\n":
                            pass  # trailer fields: ignored
                    return
                while size > 0:
                    async with asyncio.timeout(timeout):
                        piece = await reader.readexactly(min(size, _CHUNK))
                    size -= len(piece)
                    yield piece
                async with asyncio.timeout(timeout):
                    end = await reader.readexactly(2)
                if end != b"\r\n":
                    raise ValueError("chunk not followed by CRLF")
        else:
            while True:
                async with asyncio.timeout(timeout):
                    piece = await reader.read(_CHUNK)
                if not piece:
                    return
                yield piece

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._close:
                conn.close()
            else:
                self._transport._put(self._origin, conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def aclose(self) -> None:
        """A body closed before its end leaves its connection unusable: hang up."""
        if not self._done:
            self._drop()


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
        if self._closed or len(idle) >= self._max_idle:
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

    async def _connect(self, url: httpx.URL, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._ssl_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {url.host} within {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or exc.__class__.__name__) from None
        return _Connection(reader, writer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request on an idle connection (or a new one) and return the response with
        its body still to read."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        origin: Origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = _timeouts(request)
        body = await request.aread()
        head = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        data = b"".join(head) + body
        conn = self._take(origin) or await self._connect(url, origin, timeouts.get("connect"))
        try:
            return await self._exchange(request, origin, conn, data, timeouts)
        except BaseException:
            conn.close()
            raise

    async def _exchange(
        self,
        request: httpx.Request,
        origin: Origin,
        conn: _Connection,
        data: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        write_error: OSError | None = None
        try:
            conn.writer.write(data)
            async with asyncio.timeout(timeouts.get("write")):
                await conn.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            write_error = exc  # the server may have answered before it hung up: read that
        try:
            async with asyncio.timeout(timeouts.get("read")):
                while True:
                    head = await conn.reader.readuntil(b"\r\n\r\n")
                    status, version, headers = _head_lines(head[:-4])
                    if status >= 200 or status == 101:
                        break  # 1xx interim answers are skipped
        except TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the response") from None
        except asyncio.IncompleteReadError:
            if write_error is not None:
                raise httpx.WriteError(
                    f"connection lost sending the request: {write_error}"
                ) from None
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response."
            ) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError("response headers too large") from None
        except OSError as exc:
            raise httpx.ReadError(f"connection lost waiting for the response: {exc}") from None
        if status == 101:
            raise httpx.RemoteProtocolError("unexpected protocol switch in the response")
        framing = _framing(status, request.method, version, headers)
        stream = _Body(self, origin, conn, framing, timeouts.get("read"))
        return httpx.Response(
            status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
        )

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their body does."""
        self._closed = True
        idle, self._idle = self._idle, {}
        writers = [conn.writer for conns in idle.values() for conn in conns]
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


def transport_for(url: httpx.URL, max_idle: int) -> httpx.AsyncBaseTransport:
    """The lean transport, unless the environment names a proxy for `url` (HTTPS_PROXY,
    ALL_PROXY, ..., and NO_PROXY): then httpx's own, which speaks through it."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return httpx.AsyncHTTPTransport(
            proxy=proxy,
            verify=httpx.create_ssl_context(trust_env=True),
            limits=httpx.Limits(max_keepalive_connections=max_idle),
        )
    return Http11Transport(max_idle=max_idle)
