"""The lean HTTP/1.1 transport against real servers on 127.0.0.1: kept-alive connections,
every body framing, gzip, TLS, hang-ups, timeouts, and what the client makes of each."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import ssl
import subprocess
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from wahdx_tui.core.api.client import ClientOptions, WahdxClient
from wahdx_tui.core.api.transport import BodyTooLarge, Http11Transport
from wahdx_tui.core.domain.errors import ApiError, ApiUnavailable
from wahdx_tui.core.domain.model import State, WatchedPost

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
POST = WatchedPost("acc_tiktok_main", "pub_1", "video")
ANSWER = json.dumps({"success": True, "data": {"status": "published"}}).encode()


class Server:
    """A scripted HTTP server: counts connections and requests; `answer` writes each reply."""

    def __init__(self, answer: Callable[[int], bytes | None]) -> None:
        self.answer = answer
        self.connections = 0
        self.requests = 0
        self.heads: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.requests += 1
                self.heads.append(head)
                reply = self.answer(self.requests)
                if reply is None:  # hang up without answering
                    break
                writer.write(reply)
                await writer.drain()
                if b"connection: close" in reply.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def client_for(url: str, transport: Http11Transport | None = None, **opts: object) -> WahdxClient:
    options = ClientOptions(**{"backoff_base": 0.001, "max_attempts": 2, **opts})  # type: ignore[arg-type]
    return WahdxClient(url, "k", options, transport=transport)


async def test_connections_are_kept_alive_between_requests() -> None:
    server = Server(lambda n: reply(ANSWER))
    async with serving(server.handle) as url, client_for(url) as client:
        for _ in range(5):
            assert (await client.check_one(POST)).state is State.PUBLISHED
    assert server.requests == 5
    assert server.connections == 1


async def test_the_request_carries_the_key_host_and_a_json_body() -> None:
    server = Server(lambda n: reply(json.dumps({"success": True, "data": []}).encode()))
    async with serving(server.handle) as url, client_for(url) as client:
        await client.check_posts([POST])
        host = url.removeprefix("http://")
    head = server.heads[0].decode()
    assert head.startswith("POST /api/content/status/batch HTTP/1.1\r\n")
    assert f"\r\nhost: {host}\r\n" in head.lower()
    assert "\r\nx-api-key: k\r\n" in head.lower()
    assert "\r\ncontent-type: application/json\r\n" in head.lower()


@pytest.mark.parametrize(
    "framed",
    [
        pytest.param(
            reply(b"", "Transfer-Encoding: chunked")
            + b"a;ext=1\r\n"
            + ANSWER[:10]
            + b"\r\n"
            + f"{len(ANSWER) - 10:x}\r\n".encode()
            + ANSWER[10:]
            + b"\r\n0\r\nX-Trailer: 1\r\n\r\n",
            id="chunked",
        ),
        pytest.param(
            reply(gzip.compress(ANSWER), "Content-Encoding: gzip"),
            id="gzip",
        ),
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\n" + reply(ANSWER),
            id="after-100-continue",
        ),
    ],
)
async def test_bodies_in_every_framing_are_read_and_the_connection_kept(framed: bytes) -> None:
    server = Server(lambda n: framed)
    async with serving(server.handle) as url, client_for(url) as client:
        for _ in range(3):
            assert (await client.check_one(POST)).state is State.PUBLISHED
    assert server.connections == 1


async def test_a_body_read_to_the_close_is_read_whole_and_not_kept() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + ANSWER)
        await writer.drain()
        writer.close()

    async with serving(handler) as url, client_for(url) as client:
        for _ in range(2):
            assert (await client.check_one(POST)).state is State.PUBLISHED


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    # The server answers once per connection and hangs up: each request needs a new one.
    server = Server(lambda n: reply(ANSWER))

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply(ANSWER))
        await writer.drain()
        writer.close()

    async with serving(once) as url:
        transport = Http11Transport()
        async with client_for(url, transport) as client:
            assert (await client.check_one(POST)).state is State.PUBLISHED
            # Wait until the hang-up has reached the idle connection, then ask again.
            for _ in range(1000):
                idle = transport._idle.get(("http", "127.0.0.1", int(url.rsplit(":", 1)[1])))
                if not idle or not idle[0].usable():
                    break
                await asyncio.sleep(0.001)
            assert (await client.check_one(POST)).state is State.PUBLISHED
            assert client.requests == 2  # no retry was needed
    assert server.connections == 2


async def test_a_hang_up_before_the_answer_is_a_dropped_connection_retried() -> None:
    server = Server(lambda n: None if n == 1 else reply(ANSWER))
    async with serving(server.handle) as url, client_for(url) as client:
        assert (await client.check_one(POST)).state is State.PUBLISHED
    assert server.requests == 2


async def test_a_body_cut_short_is_a_dropped_connection() -> None:
    cut = reply(ANSWER)[:-5]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(cut)
        await writer.drain()
        writer.close()

    async with serving(handler) as url, client_for(url) as client:
        with pytest.raises(ApiUnavailable, match="connection dropped mid-answer"):
            await client.check_one(POST)


@pytest.mark.parametrize(
    "junk",
    [b"NOT HTTP\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"],
)
async def test_a_malformed_answer_is_a_dropped_connection(junk: bytes) -> None:
    server = Server(lambda n: junk)
    async with serving(server.handle) as url, client_for(url) as client:
        with pytest.raises(ApiUnavailable, match="connection dropped mid-answer"):
            await client.check_one(POST)


async def test_a_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client hangs up

    async with serving(silent) as url, client_for(url, timeout=0.05) as client:
        with pytest.raises(ApiUnavailable, match=r"no answer within 0.05 s"):
            await client.check_one(POST)


async def test_nothing_listening_cannot_connect() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with client_for(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ApiUnavailable, match="cannot connect"):
            await client.check_one(POST)


async def test_a_body_over_the_cap_is_not_read_and_its_connection_not_reused() -> None:
    big = json.dumps({"success": True, "data": {"status": "published", "pad": "x" * 5000}})
    # Chunked, so no Content-Length gives the size away: the cap is met while reading.
    chunked = (
        reply(b"", "Transfer-Encoding: chunked") + f"{len(big):x}\r\n{big}\r\n0\r\n\r\n".encode()
    )
    server = Server(lambda n: chunked if n == 1 else reply(ANSWER))
    async with serving(server.handle) as url, client_for(url, max_body_bytes=1000) as client:
        with pytest.raises(ApiError, match="larger than"):
            await client.check_one(POST)
        assert (await client.check_one(POST)).state is State.PUBLISHED
    assert server.connections == 2


async def test_a_cancelled_request_leaves_no_connection_behind() -> None:
    answered = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        answered.set()
        await reader.read()

    transport = Http11Transport()
    async with serving(slow) as url, client_for(url, transport) as client:
        task = asyncio.create_task(client.check_one(POST))
        await asyncio.wait_for(answered.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not any(transport._idle.values())


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


async def test_tls_is_verified_and_kept_alive(tmp_path: Path) -> None:
    try:
        key, cert = _self_signed(tmp_path)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl cannot make a test certificate here")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = Server(lambda n: reply(ANSWER))
    async with serving(server.handle, server_tls) as url:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with client_for(url, Http11Transport(ssl_context=trusting)) as client:
            for _ in range(3):
                assert (await client.check_one(POST)).state is State.PUBLISHED
        assert server.connections == 1
        # The default trust store does not know this certificate: no answer is read.
        async with client_for(url) as client:
            with pytest.raises(ApiUnavailable, match="cannot connect"):
                await client.check_one(POST)


async def test_the_transport_speaks_httpx() -> None:
    server = Server(lambda n: reply(b"hello", "X-Thing: 1"))
    transport = Http11Transport()
    async with serving(server.handle) as url:
        request = httpx.Request("GET", f"{url}/x?y=1")
        response = await transport.handle_async_request(request)
        body = b"".join([c async for c in response.aiter_bytes()])
        await response.aclose()
        await transport.aclose()
    assert (response.status_code, response.headers["x-thing"], body) == (200, "1", b"hello")
    assert server.heads[0].startswith(b"GET /x?y=1 HTTP/1.1\r\n")


def test_a_proxy_named_by_the_environment_is_used_through_httpx_and_no_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wahdx_tui.core.api.transport import transport_for

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    api = httpx.URL("https://api.wahdx.com/")
    assert isinstance(transport_for(api, 4), Http11Transport)  # no proxy: the lean one
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    assert isinstance(transport_for(api, 4), httpx.AsyncHTTPTransport)  # through the proxy
    monkeypatch.setenv("NO_PROXY", "api.wahdx.com")
    assert isinstance(transport_for(api, 4), Http11Transport)  # bypassed for that host


def _origin(url: str) -> tuple[str, str, int]:
    return ("http", "127.0.0.1", int(url.rsplit(":", 1)[1]))


HEAD = b"Host: 127.0.0.1\r\nX-API-Key: k\r\n"


async def test_an_answer_written_byte_by_byte_is_read_whole() -> None:
    # Every byte its own write: the head, the interim answer, each chunk-size line, the data
    # and the trailer arrive split anywhere, in as many reads as the loop makes of them.
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        + reply(b"", "Transfer-Encoding: chunked")
        + b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in (ANSWER[:7], ANSWER[7:]))
        + b"0\r\nX-Trailer: 1\r\n\r\n"
    )
    served = 0

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                for i in range(len(answer)):
                    writer.write(answer[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(0)
                served += 1
        except asyncio.IncompleteReadError:
            writer.close()

    transport = Http11Transport()
    async with serving(trickle) as url:
        for _ in range(2):
            status, headers, body = await transport.exchange(
                "GET", _origin(url), b"/x", HEAD, None, timeout=10, cap=1 << 20
            )
            assert (status, headers.get("TRANSFER-ENCODING"), body) == (200, "chunked", ANSWER)
        assert len(transport._idle[_origin(url)]) == 1  # kept alive throughout
        await transport.aclose()
    assert served == 2


@pytest.mark.parametrize("framing", ["chunked", "close", "gzip"])
async def test_the_body_cap_is_met_while_reading(framing: str) -> None:
    pad = b"x" * 4000
    if framing == "chunked":
        big = (
            reply(b"", "Transfer-Encoding: chunked")
            + b"".join(b"100\r\n" + pad[:256] + b"\r\n" for _ in range(16))
            + b"0\r\n\r\n"
        )
    elif framing == "close":
        big = b"HTTP/1.1 200 OK\r\n\r\n" + pad
    else:  # small on the wire, over the cap once decoded
        big = reply(gzip.compress(pad * 100), "Content-Encoding: gzip")
    server = Server(lambda n: big if n == 1 else reply(ANSWER))
    transport = Http11Transport()
    async with serving(server.handle) as url:
        with pytest.raises(BodyTooLarge):
            await transport.exchange("GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000)
        # Cut off while reading, the connection is dropped; read whole (gzip), it is kept.
        assert any(transport._idle.values()) is (framing == "gzip")
        status, _, body = await transport.exchange(
            "GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000
        )
        await transport.aclose()
    assert (status, body) == (200, ANSWER)
    assert server.connections == (1 if framing == "gzip" else 2)


async def test_a_body_that_stalls_halfway_meets_the_read_deadline() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply(ANSWER)[:-10])
        await writer.drain()
        await reader.read()  # until the client hangs up

    transport = Http11Transport()
    async with serving(stall) as url:
        with pytest.raises(httpx.ReadTimeout, match="reading the response body"):
            await transport.exchange("GET", _origin(url), b"/", HEAD, None, timeout=0.05, cap=1000)
        assert not any(transport._idle.values())
        async with client_for(url, timeout=0.05) as client:
            with pytest.raises(ApiUnavailable, match=r"no answer within 0.05 s"):
                await client.check_one(POST)


async def test_a_server_that_hung_up_between_requests_gets_the_request_again_on_a_new_one() -> None:
    # Each connection answers one request and hangs up on reading the next, as a server whose
    # idle timeout fell just as the request came: the request is sent again, not lost.
    connections = 0

    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply(ANSWER))
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with serving(one_each) as url, client_for(url) as client:
        for _ in range(3):
            assert (await client.check_one(POST)).state is State.PUBLISHED
        assert client.requests == 3  # no retry of the client's was needed
    assert connections == 3


async def test_a_new_connection_that_is_hung_up_on_is_not_sent_again_by_the_transport() -> None:
    server = Server(lambda n: None)
    transport = Http11Transport()
    async with serving(server.handle) as url:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await transport.exchange("GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000)
        await transport.aclose()
    assert server.requests == 1


async def test_bytes_after_the_answer_leave_the_connection_unused() -> None:
    server = Server(lambda n: reply(ANSWER) + b"HTTP/1.1 200 OK\r\n")
    transport = Http11Transport()
    async with serving(server.handle) as url:
        for _ in range(2):
            _, _, body = await transport.exchange(
                "GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000
            )
            assert body == ANSWER
        await transport.aclose()
    assert server.connections == 2


@pytest.mark.parametrize(
    ("answer", "method", "kept"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", "GET", True),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", "GET", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "GET", False),
    ],
)
async def test_answers_without_a_body_and_which_connections_are_kept(
    answer: bytes, method: str, kept: bool
) -> None:
    server = Server(lambda n: answer)
    transport = Http11Transport()
    async with serving(server.handle) as url:
        _, _, body = await transport.exchange(
            method, _origin(url), b"/", HEAD, None, timeout=10, cap=1000
        )
        assert body == b""
        assert bool(transport._idle.get(_origin(url))) is kept
        await transport.aclose()


async def test_a_protocol_switch_is_refused() -> None:
    server = Server(lambda n: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")
    transport = Http11Transport()
    async with serving(server.handle) as url:
        with pytest.raises(httpx.RemoteProtocolError, match="protocol switch"):
            await transport.exchange("GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000)
        await transport.aclose()


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_is_decoded_wrapped_or_raw(wbits: int) -> None:
    packer = zlib.compressobj(wbits=wbits)
    packed = packer.compress(ANSWER) + packer.flush()
    server = Server(lambda n: reply(packed, "Content-Encoding: deflate"))
    transport = Http11Transport()
    async with serving(server.handle) as url:
        _, _, body = await transport.exchange(
            "GET", _origin(url), b"/", HEAD, None, timeout=10, cap=1000
        )
        await transport.aclose()
    assert body == ANSWER


async def test_a_rate_limit_is_read_from_any_spelling_of_retry_after() -> None:
    server = Server(
        lambda n: reply(b"{}", "RETRY-AFTER: 0", status="429 Too Many") if n == 1 else reply(ANSWER)
    )
    waits: list[float] = []
    async with serving(server.handle) as url:
        client = WahdxClient(url, "k", on_event=lambda e: waits.append(e.wait))
        async with client:
            assert (await client.check_one(POST)).state is State.PUBLISHED
    assert waits == [0.0]
    assert server.requests == 2


async def test_answers_read_whole_at_once_or_in_pieces_read_alike() -> None:
    """The usual answer comes in one read and is taken as it is; one with an interim answer
    first and one split after its head take the longer way: each reads the same, and the
    connection is kept for the next."""
    answers = [
        reply(ANSWER, "Content-Type: application/json"),
        b"HTTP/1.1 100 Continue\r\n\r\n" + reply(ANSWER, "Content-Type: application/json"),
        reply(ANSWER, "X-Fresh-Line: 1"),
        reply(ANSWER, "Content-Type: application/json"),
    ]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i, raw in enumerate(answers):
            await reader.readuntil(b"\r\n\r\n")
            if i == 3:  # the head, then the body in a read of its own
                cut = raw.index(b"\r\n\r\n") + 4
                writer.write(raw[:cut])
                await writer.drain()
                await asyncio.sleep(0)  # as the trickle test: most often a read of its own
                raw = raw[cut:]
            writer.write(raw)
            await writer.drain()
        writer.close()

    transport = Http11Transport()
    async with serving(answer) as url:
        got = [
            await transport.exchange(
                "GET", _origin(url), b"/x", HEAD, None, timeout=10, cap=1 << 20
            )
            for _ in answers
        ]
        await transport.aclose()
    assert [(status, body) for status, _, body in got] == [(200, ANSWER)] * 4
    assert got[2][1].get("x-fresh-line") == "1"
    assert got[0][1].get("content-type") == "application/json"
