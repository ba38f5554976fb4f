"""Optional debug log to a file (--log FILE), with the API key and notify tokens redacted."""

from __future__ import annotations

import logging
import os

from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.inert import InertFormatter, add_secrets
from wahdx_tui.core.settings.secret import ApiKey

LOGGER = "wahdx_tui"
DELIVERY_LOGGERS = ("apprise", "urllib3")
"""Third-party loggers of alert delivery: their records can hold notify URLs and tokens."""
__all__ = ["DELIVERY_LOGGERS", "LOGGER", "add_secrets", "configure_logging"]
"""add_secrets (core.inert's): notify targets register their URLs and tokens through it."""


def isolate_delivery_logs() -> None:
    """Keep Apprise's and urllib3's records from the root logger: only redacting handlers added
    by configure_logging may write them (each has a NullHandler, so nothing reaches stderr)."""
    for name in DELIVERY_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


def configure_logging(path: str | None, *secrets: ApiKey) -> None:
    """Send wahdx-tui's, httpx's and alert delivery's debug records to `path` (mode 600),
    inert: escapes and controls removed, secrets (and any given to add_secrets) redacted."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        stream = os.fdopen(fd, "a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the log file {path}: {exc.strerror}") from None
    add_secrets(*secrets)
    handler = logging.StreamHandler(stream)
    # Inert lines: the API's text can carry escapes, and any line can carry a secret (those
    # given here, the ones add_secrets learns later, and the rest this process knows).
    handler.setFormatter(InertFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in (LOGGER, "httpx", *DELIVERY_LOGGERS):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.propagate = False
