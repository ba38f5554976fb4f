"""Every line written to a terminal or a log, made inert on the way out: secrets redacted,
escape sequences and controls removed."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.settings.secret import Secret

_SECRETS: list[str] = []
"""Every secret this process knows (the API key, notify URLs and tokens, store passwords),
longest first, so no part of a longer one is left."""


def add_secrets(*secrets: Secret) -> None:
    """Redact these values from every line written from now on."""
    values = {*_SECRETS, *(s.reveal() for s in secrets if s.reveal())}
    _SECRETS[:] = sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """The text with every known secret replaced by '***'."""
    for value in _SECRETS:
        if value in text:
            text = text.replace(value, "***")
    return text


def inert(text: str, *, one_line: bool = False) -> str:
    """Text safe to write to a terminal or a log: escapes, controls and invisible characters
    removed (newlines kept unless `one_line`), then every known secret redacted."""
    return redact(clean(text, keep_newlines=not one_line))


class InertFormatter(logging.Formatter):
    """A log formatter whose lines are inert: the message is one line, and a traceback keeps
    its line breaks; secrets redacted in both."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, on one line."""
        return inert(super().formatMessage(record), one_line=True)

    def format(self, record: logging.LogRecord) -> str:
        """The whole entry, traceback included."""
        return inert(super().format(record))


class InertStream(io.TextIOBase):
    """A text stream that writes what it is given to another, made inert on the way."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        """Write `text` inert; say it was all written (what was left out is not owed)."""
        self.stream.write(inert(text))
        return len(text)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.stream.flush()

    def isatty(self) -> bool:
        """Whether the stream underneath is a terminal."""
        return self.stream.isatty()

    def fileno(self) -> int:
        """The stream underneath's file descriptor."""
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The stream underneath's encoding."""
        return self.stream.encoding


@contextlib.contextmanager
def inert_stdio() -> Iterator[None]:
    """Within this block, everything written to sys.stdout and sys.stderr (errors, warnings,
    notes, log lines, argparse's usage, results) is made inert on the way out."""
    before = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = InertStream(before[0]), InertStream(before[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = before


def own_colours(stream: TextIO) -> TextIO:
    """The stream under an InertStream, for the one text that carries the program's own colour
    codes (check's table, its every cell made inert one by one); other streams as they are."""
    return stream.stream if isinstance(stream, InertStream) else stream
