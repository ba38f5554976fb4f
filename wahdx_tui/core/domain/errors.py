"""The project's own user-facing errors: each carries one clear line for the operator."""

from __future__ import annotations

from typing import Literal

Trouble = Literal[
    "rate_limited",
    "not_found",
    "rejected",
    "refused",
    "no_host",
    "tls",
    "unreachable",
    "timeout",
    "dropped",
    "server",
    "unreadable",
    "auth",
    "other",
]
"""What went wrong with the API, as the words and advice for it are chosen."""

TROUBLE_WORDS: dict[str, tuple[str, str]] = {
    "rate_limited": (
        "API rate limited",
        "wait as long as the API asks, then try again, or lower `concurrency` (watchlist"
        " settings or --concurrency) so fewer requests go out at once",
    ),
    "not_found": (
        "no Wahdx API",
        "check the base URL (--base-url or WAHDX_BASE_URL): it is the API's root, as in"
        " https://api.wahdx.com, without /api/...",
    ),
    "rejected": (
        "API refused the request",
        "check the base URL, and the watchlist's IDs and media types",
    ),
    "refused": (
        "API unreachable",
        "nothing listens there: check the host and port of the base URL, and the network",
    ),
    "no_host": (
        "API host not found",
        "check the host name in the base URL, and the network's DNS (or HTTPS_PROXY)",
    ),
    "tls": (
        "secure connection failed",
        "check the base URL; behind a company proxy, name its CA with SSL_CERT_FILE",
    ),
    "unreachable": ("API unreachable", "check the network (or HTTPS_PROXY) and the base URL"),
    "timeout": (
        "API not answering",
        "check the network, or raise `timeout` (watchlist settings or --timeout)",
    ),
    "dropped": ("API connection dropped", "check the network or proxy, then try again"),
    "server": ("API failing", "the API has trouble of its own: try again in a few minutes"),
    "unreadable": (
        "unreadable answers",
        "check that the base URL points at the Wahdx API (not a web page or a proxy's)",
    ),
    "auth": ("API key rejected", "check WAHDX_API_KEY or --api-key-file"),
    "other": ("API error", "check the base URL and the network"),
}


def trouble_line(trouble: str, base_url: str, reason: str) -> str:
    """'API rate limited at URL: REASON; ADVICE': what happened, where, and what to do."""
    headline, advice = TROUBLE_WORDS.get(trouble, TROUBLE_WORDS["other"])
    return f"{headline} at {base_url}: {reason}; {advice}"


def trouble_advice(trouble: str) -> str:
    """The advice for one kind of trouble (as `trouble_line` gives it)."""
    return TROUBLE_WORDS.get(trouble, TROUBLE_WORDS["other"])[1]


class WahdxError(Exception):
    """Base of every error that is shown to the operator as one line."""


class ConfigError(WahdxError):
    """Bad command-line or environment input: key, key file or base URL."""


class ApiError(WahdxError):
    """The API could not be asked or did not answer usefully; `trouble` says how."""

    trouble: Trouble = "other"

    def __init__(self, message: str, trouble: Trouble | None = None) -> None:
        super().__init__(message)
        if trouble is not None:
            self.trouble = trouble


class AuthError(ApiError):
    """The API rejected the key (401/403); retrying will not help."""

    trouble: Trouble = "auth"


class ApiUnavailable(ApiError):
    """The API did not answer usefully after all retries."""


class ResponseShapeError(ApiError):
    """A response body was not in any shape the client understands."""

    trouble: Trouble = "unreadable"


class BatchTooLarge(ApiError):
    """The server refused a batch as too large (413, or 400 naming a limit)."""

    trouble: Trouble = "rejected"


def position(path: str, line: int | None, column: int | None) -> str:
    """``'FILE:LINE:COL'``, leaving out what is unknown (a column needs a line)."""
    if line is None:
        return path
    if column is None:
        return f"{path}:{line}"
    return f"{path}:{line}:{column}"


class WatchlistError(WahdxError):
    """A watchlist that cannot be used: ``str()`` is ``'FILE:LINE:COL: message'``.

    ``line`` and ``column`` are 1-based; ``':LINE:COL'`` is left out when unknown.
    """

    path: str
    line: int | None
    column: int | None
    message: str

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        return f"{position(self.path, self.line, self.column)}: {self.message}"
