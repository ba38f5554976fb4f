"""Optional debug log to a file (--log FILE), with the API key and notify tokens redacted."""

from __future__ import annotations

import logging
import os
import weakref

from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.settings.secret import ApiKey, RedactingFilter

LOGGER = "wahdx_tui"
DELIVERY_LOGGERS = ("apprise", "urllib3")
"""Third-party loggers of alert delivery: their records can hold notify URLs and tokens."""

_SECRETS: list[ApiKey] = []
_FILTERS: weakref.WeakSet[_Redactor] = weakref.WeakSet()


class _Redactor(RedactingFilter):
    """A redacting filter that also learns secrets found later (notify targets)."""

    def add(self, *secrets: ApiKey) -> None:
        """Redact these too; longer values first, so no part of a longer one is left."""
        values = {*self._values, *(s.reveal() for s in secrets if s.reveal())}
        self._values = sorted(values, key=len, reverse=True)


def add_secrets(*secrets: ApiKey) -> None:
    """Redact these values (notify URLs and their tokens) from every log line from now on."""
    _SECRETS.extend(secrets)
    for redactor in list(_FILTERS):
        redactor.add(*secrets)


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
    secrets (and any given to add_secrets) redacted."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        stream = os.fdopen(fd, "a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the log file {path}: {exc.strerror}") from None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    redactor = _Redactor()
    redactor.add(*secrets, *_SECRETS)
    _FILTERS.add(redactor)
    handler.addFilter(redactor)
    for name in (LOGGER, "httpx", *DELIVERY_LOGGERS):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.propagate = False
