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
