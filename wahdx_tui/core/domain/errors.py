"""The project's own user-facing errors: each carries one clear line for the operator."""

from __future__ import annotations


class WahdxError(Exception):
    """Base of every error that is shown to the operator as one line."""


class ConfigError(WahdxError):
    """Bad command-line or environment input: key, key file or base URL."""


class ApiError(WahdxError):
    """The API could not be asked or did not answer usefully."""


class AuthError(ApiError):
    """The API rejected the key (401/403); retrying will not help."""


class ApiUnavailable(ApiError):
    """The API did not answer usefully after all retries."""


class ResponseShapeError(ApiError):
    """A response body was not in any shape the client understands."""


class BatchTooLarge(ApiError):
    """The server refused a batch as too large (413, or 400 naming a limit)."""


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
