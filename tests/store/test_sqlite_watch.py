"""An SQLite store's wait for a change: asleep until the file is written, woken by any process's
commit, never by a neighbour's file, and at once by a close."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.store.sqlite import filewatch
from wahdx_tui.core.store.sqlite.filewatch import FileWatch
from wahdx_tui.core.store.sqlite.store import SqliteStore

SCOPE = "https://api.example"
KEY: PostKey = ("acc_tiktok_main", "v_pub_1")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def _waiting(store: SqliteStore, timeout: float) -> tuple[threading.Thread, threading.Event]:
    """A thread in `store.wait_for_change(timeout)`; the event is set when it said True."""
    heard = threading.Event()

    def wait() -> None:
        if store.wait_for_change(timeout):
            heard.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, heard


@linux_only
def test_another_process_commit_wakes_a_board_asleep_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "team.sqlite3"
    board = SqliteStore(path)
    assert board.wait_for_change(0)  # the first call: nothing known yet; the watch is set
    assert board._files is not None, "inotify is there on Linux: the wait sleeps on it"
    thread, heard = _waiting(board, 60)
    script = f"""
        from wahdx_tui.core.store.sqlite.store import SqliteStore
        with SqliteStore({str(path)!r}) as store:
            store.set_ack({SCOPE!r}, {KEY!r}, "seen", 10.0)
        """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], timeout=60)
    assert done.returncode == 0
    thread.join(60)
    assert heard.is_set()
    assert board.changes_since(SCOPE, 0).acks[KEY].note == "seen"
    board.close()


def test_a_long_transaction_is_heard_when_it_commits(tmp_path: Path) -> None:
    """Its first writes wake the wait before the commit: the wait looks again until it comes."""
    path = tmp_path / "team.sqlite3"
    board, poller = SqliteStore(path), SqliteStore(path)
    assert board.wait_for_change(0)
    thread, heard = _waiting(board, 60)
    statuses = [
        PostStatus(("acc", f"p{i}"), State.QUEUED, "QUEUED", checked_at=1.0) for i in range(5000)
    ]
    poller.record(SCOPE, statuses, [Transition(s.key, None, State.QUEUED, 1.0) for s in statuses])
    thread.join(60)
    assert heard.is_set()
    assert len(board.changes_since(SCOPE, 0).posts) == 5000
    board.close()
    poller.close()


def test_closing_the_store_ends_a_wait_at_once(tmp_path: Path) -> None:
    board = SqliteStore(tmp_path / "team.sqlite3")
    assert board.wait_for_change(0)
    thread, heard = _waiting(board, 600)  # asleep on the file, nothing to wake it
    board.close()
    thread.join(60)  # well before the wait's own end
    assert not thread.is_alive() and not heard.is_set()


def test_without_inotify_the_wait_looks_every_so_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another system, or no watches left: the wait reads PRAGMA data_version in a loop."""
    monkeypatch.setattr(FileWatch, "open", classmethod(lambda cls, path: None))
    path = tmp_path / "team.sqlite3"
    board, other = SqliteStore(path), SqliteStore(path)
    assert board.wait_for_change(0)
    assert board._files is None
    assert not board.wait_for_change(0.3)  # nothing written
    thread, heard = _waiting(board, 60)
    other.set_ack(SCOPE, KEY, "seen", 10.0)
    thread.join(60)
    assert heard.is_set()
    board.close()
    other.close()


@linux_only
def test_the_watch_tells_the_database_files_from_their_neighbours(tmp_path: Path) -> None:
    watch = FileWatch.open(tmp_path / "team.sqlite3")
    assert watch is not None
    try:
        (tmp_path / "notes.txt").write_text("not the store")
        (tmp_path / "team.sqlite3.bak").write_text("not the store either")
        assert not watch.wait(0.2)
        (tmp_path / "team.sqlite3-wal").write_bytes(b"\0")
        assert watch.wait(30)
        waker = threading.Timer(0.1, watch.wake)
        waker.start()
        assert not watch.wait(60)  # woken, not a write
        waker.join()
    finally:
        watch.close()
    watch.wake()  # after the close: nothing to write to, and no error


def test_no_inotify_in_the_c_library_means_no_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filewatch, "_libc", lambda: None)
    assert FileWatch.open(tmp_path / "team.sqlite3") is None


@linux_only
def test_a_store_opened_through_a_link_is_woken_where_the_file_is(tmp_path: Path) -> None:
    """SQLite writes a linked file and its -wal in the folder the link points to."""
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").mkdir()
    real = tmp_path / "real" / "team.sqlite3"
    SqliteStore(real).close()
    link = tmp_path / "linked" / "team.sqlite3"
    link.symlink_to(real)
    board, writer = SqliteStore(link), SqliteStore(real)
    try:
        assert board.wait_for_change(0)
        thread, heard = _waiting(board, 600)  # only a write can end it in time
        writer.set_ack(SCOPE, KEY, "seen", 10.0)
        thread.join(60)
        assert heard.is_set()
    finally:
        board.close()
        writer.close()


@linux_only
def test_a_store_dropped_without_a_close_lets_its_watch_go(tmp_path: Path) -> None:
    """Each watch is an inotify instance, 128 per user: a store left to the collector must
    not keep one."""
    before = len(os.listdir("/proc/self/fd"))
    for i in range(5):
        store = SqliteStore(tmp_path / f"team{i}.sqlite3")
        assert store.wait_for_change(0)
        assert store._files is not None
        del store
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before
