"""Fault injection for the simulator: the knobs, their seeded dice, junk bodies, hostile text."""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

_LONG = ("long error 全角[b]x[/b]\x1b[7m\u200b\u202e " * 400)[:10_240]

HOSTILE_PAYLOADS: tuple[str, ...] = (
    "[bold red]x[/]",
    "[link=https://evil.example/]click me[/link][blink]",
    "\x1b[2J\x1b[H\x1b[31mred",
    "\x1b]0;pwned title\x07",
    "\x1b]52;c;cm0gLXJmIH4K\x07",
    "\x1b]8;;https://evil.example/\x1b\\innocent link\x1b]8;;\x1b\\",
    "nul\x00 bel\x07 bs\x08 vt\x0b ff\x0c cr\r del\x7f",
    "c1\x85 \x9b2J \x9d0;c1 title\x9c \x90dcs\x9c",
    "\u202egnp.exe\u202c \u2066isolate\u2069 \u200frtl",
    "zero\u200bwidth\u200c\u200djoin\u2060\ufeff",
    "全角ＷＩＤＥ文字🙂👍🏽🇯🇵",
    _LONG,
)
"""Strings that must never reach the terminal raw: markup, escapes, controls, bidi, wide, long."""

MALFORMED_KINDS = ("truncated", "html", "wrong-shape", "empty", "deep")

_HTML = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
)


@dataclass
class Faults:
    """Misbehaviour knobs; every field may be changed while the server runs."""

    latency: float = 0.0
    jitter: float = 0.0
    error_rate: float = 0.0
    burst_429_every: int = 0
    burst_429_len: int = 3
    retry_after: float = 1.0
    retry_after_http_date: bool = False
    retry_after_text: str = ""  # sent as it is instead, when set: "1e400", "-5", "soon"
    malformed_rate: float = 0.0
    max_batch: int = 0
    max_batch_400: bool = False
    down: bool = False
    drop_connections: bool = False
    reset_mid_body: bool = False
    slow: float = 0.0
    missing_rate: float = 0.0
    revoked: bool = False
    hostile: bool = False
    flood: int = 0  # bytes: each batch answer padded to about this with `{}` after its items
    down_after: float | None = None
    down_for: float = 0.0
    seed: int = 0


def hostile_index(account_id: str, publish_id: str) -> int:
    """A stable per-post index into HOSTILE_PAYLOADS."""
    digest = hashlib.blake2b(f"{account_id}\x00{publish_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % len(HOSTILE_PAYLOADS)


def hostile_text(text: str, index: int) -> str:
    """Wrap a real text in two hostile payloads."""
    n = len(HOSTILE_PAYLOADS)
    return f"{HOSTILE_PAYLOADS[index % n]} {text} {HOSTILE_PAYLOADS[(index + 1) % n]}"


def hostile_status(raw: str, index: int) -> str:
    """A raw status carrying a payload for a third of posts; the rest unchanged."""
    if index % 3:
        return raw
    return raw + HOSTILE_PAYLOADS[(index + 2) % len(HOSTILE_PAYLOADS)]


def malformed_body(kind: str, good: bytes) -> tuple[bytes, str]:
    """A junk body of the given kind, with its content type."""
    if kind == "truncated":
        return good[: max(1, len(good) // 2)], "application/json"
    if kind == "html":
        return _HTML, "text/html; charset=utf-8"
    if kind == "wrong-shape":
        return b'{"success": true, "data": "OK"}', "application/json"
    if kind == "empty":
        return b"", "application/json"
    return b"[" * 100_000 + b"]" * 100_000, "application/json"


class FaultInjector:
    """Rolls the seeded dice for a Faults object; thread-safe, reseeds when faults.seed changes."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._seed: int | None = None
        self._rngs: dict[str, random.Random] = {}
        self._count = 0
        self._burst_left = 0
        self._malformed_turn = 0
        self._flood: bytes | None = None

    def _rng(self, name: str) -> random.Random:
        seed = self.faults.seed
        if seed != self._seed:
            self._seed = seed
            self._rngs.clear()
        rng = self._rngs.get(name)
        if rng is None:
            rng = random.Random(f"{seed}:{name}")
            self._rngs[name] = rng
        return rng

    def _roll(self, name: str, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng(name).random() < rate

    def delay(self) -> float:
        """Seconds to wait before answering: latency + slow + a jitter draw."""
        f = self.faults
        total = max(0.0, f.latency) + max(0.0, f.slow)
        if f.jitter > 0.0:
            with self._lock:
                total += self._rng("jitter").uniform(0.0, f.jitter)
        return total

    def down_left(self, since_start: float) -> float | None:
        """None when up; else seconds until the down window ends (inf when down for good)."""
        f = self.faults
        if f.down:
            return math.inf
        if f.down_after is not None and f.down_for > 0.0:
            end = f.down_after + f.down_for
            if f.down_after <= since_start < end:
                return end - since_start
        return None

    def take_429(self) -> bool:
        """True when this request falls in a 429 burst."""
        f = self.faults
        with self._lock:
            self._count += 1
            if self._burst_left > 0:
                self._burst_left -= 1
                return True
            if f.burst_429_every > 0 and self._count % f.burst_429_every == 0:
                self._burst_left = max(0, f.burst_429_len - 1)
                return f.burst_429_len > 0
        return False

    def retry_after_header(self) -> str:
        """The Retry-After value: whole seconds rounded up, an HTTP date, or the text set."""
        f = self.faults
        if f.retry_after_text:
            return f.retry_after_text
        seconds = max(0, math.ceil(f.retry_after))
        if f.retry_after_http_date:
            return formatdate(time.time() + seconds, usegmt=True)
        return str(seconds)

    def roll_error(self) -> bool:
        """True when this request should be answered 500."""
        return self._roll("error", self.faults.error_rate)

    def roll_missing(self) -> bool:
        """True when one requested post should be left out of the batch."""
        return self._roll("missing", self.faults.missing_rate)

    def malformed_kind(self) -> str | None:
        """The junk kind replacing this 200 body (rotating), or None to send it intact."""
        if not self._roll("malformed", self.faults.malformed_rate):
            return None
        with self._lock:
            kind = MALFORMED_KINDS[self._malformed_turn % len(MALFORMED_KINDS)]
            self._malformed_turn += 1
        return kind

    def flood_items(self) -> bytes:
        """`{},{},...{}` of about `flood` bytes (made once per size): what pads a batch."""
        count = max(1, self.faults.flood // 3)
        with self._lock:
            if self._flood is None or len(self._flood) != 3 * count - 1:
                self._flood = b"{}," * (count - 1) + b"{}"
            return self._flood

    def reset(self) -> None:
        """Forget counters and dice so the next request starts a fresh reproducible run."""
        with self._lock:
            self._seed = None
            self._rngs.clear()
            self._count = 0
            self._burst_left = 0
            self._malformed_turn = 0
