"""Wakes a thread when an SQLite file or its -wal is written (Linux inotify), instead of polling."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import threading
import weakref
from pathlib import Path

# From <sys/inotify.h>.
IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_WATCHED = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


def _libc() -> ctypes.CDLL | None:
    """The C library, when it has inotify (Linux); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    except Exception:  # no inotify of any kind: the caller polls
        return None
    return libc


def _close_all(fds: tuple[int, ...]) -> None:
    """Close descriptors, those already closed too."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _ready(poll: select.poll, timeout: float) -> set[int]:
    """The descriptors of `poll` readable within `timeout` s."""
    return {fd for fd, _ in poll.poll(max(0.0, timeout) * 1000)}


class FileWatch:
    """Blocks until a file of the database at `path` (itself, its -wal, -journal or -shm) is
    written, created, moved or deleted by any process on this host, or until woken.

    It watches the folder, so it holds while the -wal comes and goes and the file is
    replaced. A write's event can come before SQLite has published the commit, so a caller
    confirms with PRAGMA data_version and looks again shortly after (`SqliteStore`).
    `open()` returns None where inotify is missing or out of watches: the caller then polls.
    """

    def __init__(self, fd: int, name: bytes) -> None:
        self._fd = fd
        self._name = name
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._lock = threading.Lock()  # a wake never writes to a descriptor closed (and reused)
        self._closed = False
        self._poll = select.poll()  # not select(): a descriptor above 1023 is fine
        self._poll.register(fd, select.POLLIN)
        self._poll.register(self._wake_r, select.POLLIN)
        self._wake_poll = select.poll()  # the settling wait: only a wake ends it early
        self._wake_poll.register(self._wake_r, select.POLLIN)
        # A store dropped without close() must not keep an inotify instance (128 per user).
        self._finalizer = weakref.finalize(self, _close_all, (fd, self._wake_r, self._wake_w))

    @classmethod
    def open(cls, path: Path) -> FileWatch | None:
        """A watch on `path`'s folder, or None when this system cannot give one."""
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None
        try:
            path = path.resolve()  # SQLite writes a linked file and its -wal where it points
            if libc.inotify_add_watch(fd, os.fsencode(path.parent), _WATCHED) >= 0:
                return cls(fd, os.fsencode(path.name))
        except (OSError, RuntimeError):  # a link loop, or no descriptors left for the pipe
            pass
        os.close(fd)
        return None

    def wait(self, timeout: float, settle: float = 0.0) -> bool:
        """Up to `timeout` s; True when one of the database's files was touched (or events
        were lost), False on the timeout or when woken. After the first event it waits
        `settle` s more and takes the events of that time with it (one write's many)."""
        ready = _ready(self._poll, timeout)
        if self._fd in ready and self._wake_r not in ready and settle > 0:
            ready |= _ready(self._wake_poll, settle)
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 64)
            return False
        return self._drain()

    def _drain(self) -> bool:
        """Read every pending event; True when any names the database's files."""
        touched = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return touched
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return True  # cannot tell: look at the database
            at = 0
            while at + _EVENT.size <= len(data):
                _, mask, _, size = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size : at + _EVENT.size + size].rstrip(b"\0")
                at += _EVENT.size + size
                if mask & IN_Q_OVERFLOW or name == self._name or name.startswith(self._name + b"-"):
                    touched = True

    def wake(self) -> None:
        """Make a `wait` in another thread return now (at a close or a stop)."""
        with self._lock, contextlib.suppress(OSError):
            if not self._closed:
                os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Release the watch and its pipe (no `wait` may be running)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer()
