"""Reading a secret from a file only its owner may read (mode 600): one set of checks, one line each."""

from __future__ import annotations

import os
import stat

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
    try:  # non-blocking, so a FIFO in its place cannot hang the start; fstat checks it below
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path} is not a regular file")
        if st.st_mode & 0o077:
            raise error(
                f"refusing {what} {path}: it is readable by group or others"
                f" (mode {stat.S_IMODE(st.st_mode):04o}){f' and holds {holds}' if holds else ''};"
                f" run: chmod 600 {path}"
            )
        data = b"" if st.st_size > max_bytes else _read_up_to(fd, max_bytes + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if st.st_size > max_bytes or len(data) > max_bytes:
        raise error(f"{what} {path} is too large {too_large or f'(over {_size(max_bytes)})'}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
