"""A hostile Wahdx API on 127.0.0.1 for the hardening tests, and a loopback "proxy" that records.

`HostileApi` answers every request with what a test sets: an error status with a body carrying
terminal escapes (and the caller's own key, echoed back), or a batch answer whose posts failed
with such a text. `ProxyRecorder` is a listener that keeps every byte sent to it and answers
502, to see whether anything went through a proxy at all.

Run it by hand: `python tests/support/hostile_api.py` serves HTTP 500 with the hostile body and prints
the `export` lines to point `check` at it.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOSTILE = (
    "\x1b]0;PWNED-TITLE\x07"  # set the terminal's title
    "\x1b]52;c;cm0gLXJmIH4K\x07"  # OSC 52: `rm -rf ~` into the clipboard
    "\x1b[2J\x1b[31mred\x07 bell"  # clear the screen, colour, bell
    " \x9b2J c1 \x9d0;c1 title\x9c"  # the same in 8-bit C1 controls
    " \u2028line\u2029para \U000e0041\U000e0042tags soft\u00adhyphen fill\u3164er"
)
"""Bytes that must never reach a terminal or a log raw."""
KEY_ECHO = "{key}"
"""In a body, replaced by the X-API-Key the request carried (an API echoing the key back)."""
FORBIDDEN = frozenset(
    {chr(c) for c in range(0x20) if c != 0x0A} | {chr(c) for c in range(0x7F, 0xA0)}
)
"""ESC, BEL, CR and every other C0 control but the newline; DEL and the C1 controls."""


class HostileApi:
    """Answers `status` with `body` (JSON, {key} echoing the key), or with `failed_with`
    as every asked post's error in a 200 batch answer; counts what it was asked."""

    def __init__(
        self,
        *,
        status: int = 500,
        body: dict[str, Any] | None = None,
        failed_with: str | None = None,
    ) -> None:
        self.status = status
        self.body = body if body is not None else {"error": HOSTILE + " for key " + KEY_ECHO}
        self.failed_with = failed_with
        self.requests = 0
        self.keys: list[str | None] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                asked = json.loads(self.rfile.read(length) or b"{}")
                self._answer(asked.get("checks") or [])

            def do_GET(self) -> None:
                parts = self.path.split("?")[0].split("/")
                self._answer([{"accountId": parts[-2], "publishId": parts[-1]}])

            def _answer(self, checks: list[dict[str, str]]) -> None:
                key = self.headers.get("X-API-Key")
                api.requests += 1
                api.keys.append(key)
                status, body = api.reply(checks, key or "")
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, checks: list[dict[str, str]], key: str) -> tuple[int, object]:
        """The status and JSON body for one request."""
        if self.failed_with is None:
            return self.status, _echo(self.body, key)
        text = self.failed_with.replace(KEY_ECHO, key)
        items = [
            {
                "accountId": c.get("accountId"),
                "publishId": c.get("publishId"),
                "status": "failed",
                "error": text,
                "publicUrl": None,
            }
            for c in checks
        ]
        return 200, {"success": True, "data": {"results": items}}

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _echo(body: object, key: str) -> object:
    """The body with every {key} in its strings replaced by `key`."""
    if isinstance(body, str):
        return body.replace(KEY_ECHO, key)
    if isinstance(body, dict):
        return {k: _echo(v, key) for k, v in body.items()}
    if isinstance(body, list):
        return [_echo(v, key) for v in body]
    return body


class ProxyRecorder:
    """A listener on 127.0.0.1 that keeps every byte sent to it and answers 502."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn, self._lock:
                self.connections += 1
                conn.settimeout(2.0)
                try:
                    while b"\r\n\r\n" not in self.received:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        self.received += chunk
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        """Stop listening."""
        self._sock.close()

    def __enter__(self) -> ProxyRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    import time

    with HostileApi() as hostile:
        print(f"export WAHDX_BASE_URL={hostile.base_url}")
        print("export WAHDX_API_KEY=wx_any_key_echoed_back")
        while True:
            time.sleep(3600)
