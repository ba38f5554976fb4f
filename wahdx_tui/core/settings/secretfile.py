"""Reading a secret from a file only its owner may read (mode 600): one set of checks, one line each.

`read_regular_file` is the careful read under it (non-blocking, regular files only), which the
watchlist reader shares."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from wahdx_tui.core.domain.errors import ConfigError, WahdxError


def _size(limit: int) -> str:
    if limit % (1 << 20) == 0:
        return f"{limit >> 20} MiB"
    if limit % (1 << 10) == 0:
        return f"{limit >> 10} KiB"
    return f"{limit} bytes"


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class NotRegularFile(OSError):
    """The path names a directory, a FIFO, a device or a socket: `st` says which."""

    def __init__(self, st: os.stat_result) -> None:
        super().__init__("not a regular file")
        self.st = st

    @property
    def kind(self) -> str:
        """'a directory', 'a FIFO (named pipe)', 'a device' or 'a socket', in words."""
        mode = self.st.st_mode
        if stat.S_ISDIR(mode):
            return "a directory"
        if stat.S_ISFIFO(mode):
            return "a FIFO (named pipe)"
        if stat.S_ISSOCK(mode):
            return "a socket"
        return "a device"


def read_regular_file(
    path: str, max_bytes: int, check: Callable[[os.stat_result], None] | None = None
) -> tuple[bytes, os.stat_result]:
    """Up to `max_bytes` + 1 bytes of the regular file at `path` (none when it says it is
    larger), and its status, which `check` sees before anything is read.

    Opened non-blocking and checked on the open file: a FIFO (or a device) put in a file's
    place can never hang the reader, waiting for a writer that may never come; it is
    NotRegularFile, as is a directory. Other failures are the OSError of open or read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(st)
        if check is not None:
            check(st)
        data = b"" if st.st_size > max_bytes else _read_up_to(fd, max_bytes + 1)
    finally:
        os.close(fd)
    return data, st


def read_secret_file(
    path: str,
    what: str,
    max_bytes: int,
    *,
    holds: str = "",
    too_large: str = "",
    error: type[WahdxError] = ConfigError,
) -> str:
    """The UTF-8 text of `path`, else one `error` line naming `what` and the path (never the text).

    Refused when the file cannot be opened, is not a regular file, lets group or others in
    (the line ends `run: chmod 600 PATH`; `holds`, e.g. "tokens", says what is at stake), is
    over `max_bytes` (`too_large` replaces "(over N KiB)" after "is too large"), or is not UTF-8.
    """

    def owner_only(st: os.stat_result) -> None:
        if st.st_mode & 0o077:
            raise error(
                f"refusing {what} {path}: it is readable by group or others"
                f" (mode {stat.S_IMODE(st.st_mode):04o}){f' and holds {holds}' if holds else ''};"
                f" run: chmod 600 {path}"
            )

    try:
        data, st = read_regular_file(path, max_bytes, owner_only)
    except NotRegularFile:
        raise error(f"{what} {path} is not a regular file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    if st.st_size > max_bytes or len(data) > max_bytes:
        raise error(f"{what} {path} is too large {too_large or f'(over {_size(max_bytes)})'}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
