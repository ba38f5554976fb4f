"""A real HTTP receiver on 127.0.0.1 for the alert tests: records what Apprise posts to it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

WAIT = 15.0
"""Seconds a test waits at most for something to arrive (a bound, not an expectation)."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def message(self) -> str:
        return self.json["message"] if self.body.startswith(b"{") else self.form["message"]

    @property
    def title(self) -> str:
        return self.json["title"] if self.body.startswith(b"{") else self.form["title"]


class Receiver:
    """Answers 200 ("ok"), 500 ("fail") or nothing until released ("hang")."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[Received] = []
        self._cond = threading.Condition()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                mode = receiver.mode
                with receiver._cond:
                    receiver.requests.append(Received(self.path, dict(self.headers), body, mode))
                    receiver._cond.notify_all()
                if mode == "hang":
                    receiver._release.wait(60)
                    return
                status = 200 if mode == "ok" else 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook", scheme: str = "json", auth: str = "") -> str:
        return f"{scheme}://{auth}127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if r.answered == "ok"]

    def wait_for(self, count: int, *, delivered: bool = True) -> list[Received]:
        """The first `count` requests (delivered ones only by default), waiting up to WAIT s."""

        def enough() -> bool:
            got = [r for r in self.requests if r.answered == "ok" or not delivered]
            return len(got) >= count

        with self._cond:
            assert self._cond.wait_for(enough, WAIT), f"{count} requests did not arrive"
            return [r for r in self.requests if r.answered == "ok" or not delivered][:count]

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
