"""Secrets as values that never show themselves: not in repr, str, logs or crash reports."""

from __future__ import annotations

import logging


class Secret:
    """A string that never shows itself: repr, str and format give '***', pickling is refused.

    Only reveal() returns it. Equal to a secret of the same kind holding the same text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for where it is sent and for redaction, nothing else."""
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Secret) and type(other) is type(self) and other._value == self._value
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(f"a secret ({type(self).__name__}) is not to be pickled")


class ApiKey(Secret):
    """The API key (or a notify token, for redaction); only reveal() returns it."""

    __slots__ = ()


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a log record's text with '***'."""

    def __init__(self, *secrets: ApiKey) -> None:
        super().__init__()
        self._values = [s.reveal() for s in secrets if s.reveal()]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with the secrets removed; never drop a record."""
        message = record.getMessage()
        for value in self._values:
            message = message.replace(value, "***")
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for value in self._values:
                record.exc_text = record.exc_text.replace(value, "***")
        return True
