"""Optional debug log to a file (--log FILE), with the API key redacted from every line."""

from __future__ import annotations

import logging
import os

from wahdx_tui.core.errors import ConfigError
from wahdx_tui.core.secret import ApiKey, RedactingFilter

LOGGER = "wahdx_tui"


def configure_logging(path: str | None, *secrets: ApiKey) -> None:
    """Send wahdx-tui's and httpx's debug records to `path` (mode 600), secrets redacted."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        stream = os.fdopen(fd, "a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the log file {path}: {exc.strerror}") from None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(*secrets))
    for name in (LOGGER, "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.propagate = False
