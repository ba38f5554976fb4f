"""The board's history writer: in order, nothing lost while the store refuses, bounded work."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from wahdx_tui.core.domain.records import Transition

from wahdx_tui.core.domain.model import PostKey, PostStatus, State
from wahdx_tui.core.store import writer as history_module
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.writer import StoreWriter

SCOPE = "https://api.wahdx.com"
A: PostKey = ("acc_tiktok_main", "v_pub_1")


def st(key: PostKey, state: State, t: float) -> PostStatus:
    return PostStatus(key, state, state.value, None, "boom" if state is State.FAILED else None, t)


class Refusing(SqliteStore):
    """A store that refuses every write while `refusing` is set, and counts the attempts."""

    refusing = False
    attempts = 0

    def _refuse(self) -> None:
        self.attempts += 1
        if self.refusing:
            raise StoreError("history database: disk I/O error")

    def record(self, *args: object, **kwargs: object) -> None:
        self._refuse()
        super().record(*args, **kwargs)  # type: ignore[arg-type]

    def set_ack(self, *args: object, **kwargs: object) -> None:
        self._refuse()
        super().set_ack(*args, **kwargs)  # type: ignore[arg-type]


class Heard:
    """What `on_saved` was told, and an event set at each report (set by the history thread)."""

    def __init__(self, history: StoreWriter) -> None:
        self.errors: list[str | None] = []
        self.reported = threading.Event()
        history.on_saved = self

    def __call__(self, error: str | None) -> None:
        self.errors.append(error)
        self.reported.set()


def test_an_ack_waiting_behind_a_refusal_is_not_written_after_a_new_failure(
    tmp_path: Path,
) -> None:
    """Acked, then published, then failed again, all while the disk refused: the new failure
    must come back unreviewed after a restart, not with the old acknowledgement."""
    store = Refusing(tmp_path / "h.sqlite3")
    store.record(SCOPE, [st(A, State.FAILED, 100.0)], [Transition(A, None, State.FAILED, 100.0)])
    history = StoreWriter(store, SCOPE)
    store.refusing = True
    history.save_ack(A, "known, ignore", 110.0)
    history.save(
        [st(A, State.PUBLISHED, 120.0)], [Transition(A, State.FAILED, State.PUBLISHED, 120.0)]
    )
    history.save(
        [st(A, State.FAILED, 130.0)], [Transition(A, State.PUBLISHED, State.FAILED, 130.0)]
    )
    store.refusing = False
    history.close()  # the last try, at close, writes what waited
    assert history.error is None and history.unsaved == 0
    reread = SqliteStore(tmp_path / "h.sqlite3")
    assert reread.last_posts(SCOPE)[A].state is State.FAILED
    assert A not in reread.acks(SCOPE)
    assert [t.new for t in reread.trail(SCOPE, A)] == [State.FAILED, State.PUBLISHED, State.FAILED]


def test_an_ack_made_after_the_failure_is_kept(tmp_path: Path) -> None:
    store = Refusing(tmp_path / "h.sqlite3")
    history = StoreWriter(store, SCOPE)
    store.refusing = True
    history.save([st(A, State.FAILED, 100.0)], [Transition(A, None, State.FAILED, 100.0)])
    history.save_ack(A, "on it", 110.0)
    store.refusing = False
    history.close()
    assert SqliteStore(tmp_path / "h.sqlite3").acks(SCOPE)[A].note == "on it"


def test_writes_queued_behind_a_slow_store_are_taken_together(tmp_path: Path) -> None:
    """While one write hangs on a lock, forty more passes end: they are written in one go,
    not forty, so quitting does not have to wait out forty lock timeouts."""
    release = threading.Event()
    started = threading.Event()

    class Slow(Refusing):
        def record(self, *args: object, **kwargs: object) -> None:
            started.set()
            release.wait(10)
            super().record(*args, **kwargs)

    store = Slow(tmp_path / "h.sqlite3")
    history = StoreWriter(store, SCOPE)
    history.save([st(A, State.QUEUED, 100.0)], [Transition(A, None, State.QUEUED, 100.0)])
    assert started.wait(10)
    for i in range(40):
        t = 101.0 + i
        old, new = (
            (State.QUEUED, State.PROCESSING) if i % 2 == 0 else (State.PROCESSING, State.QUEUED)
        )
        history.save([st(A, new, t)], [Transition(A, old, new, t)])
    release.set()
    history.close()
    assert store.attempts == 2  # the hung write, then everything that queued behind it
    assert len(SqliteStore(tmp_path / "h.sqlite3").trail(SCOPE, A)) == 41


def test_a_store_still_refusing_at_close_says_what_was_not_written(tmp_path: Path) -> None:
    store = Refusing(tmp_path / "h.sqlite3")
    history = StoreWriter(store, SCOPE)
    heard = Heard(history)
    store.refusing = True
    history.save([st(A, State.QUEUED, 100.0)], [Transition(A, None, State.QUEUED, 100.0)])
    assert heard.reported.wait(10)
    history.close()
    assert heard.errors == ["history database: disk I/O error"]
    assert history.error == "history database: disk I/O error"
    assert history.unsaved == 1


def test_a_bug_in_a_write_loses_that_write_only(tmp_path: Path) -> None:
    calls: list[int] = []

    class Buggy(SqliteStore):
        def record(self, *args: object, **kwargs: object) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("bug")
            super().record(*args, **kwargs)  # type: ignore[arg-type]

    store = Buggy(tmp_path / "h.sqlite3")
    history = StoreWriter(store, SCOPE)
    heard = Heard(history)
    history.save([st(A, State.QUEUED, 100.0)], [Transition(A, None, State.QUEUED, 100.0)])
    assert heard.reported.wait(10)
    history.save(
        [st(A, State.PROCESSING, 110.0)], [Transition(A, State.QUEUED, State.PROCESSING, 110.0)]
    )
    history.close()
    first = heard.errors[0]
    assert first is not None and first.startswith("internal error: KeyError")
    assert history.error is None  # the next write went through, not stuck behind the bad one
    assert [t.new for t in SqliteStore(tmp_path / "h.sqlite3").trail(SCOPE, A)] == [
        State.PROCESSING
    ]


def test_a_failure_dropped_beyond_the_bound_still_reopens_its_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses writes for so long that a post's new FAILED transition falls off the
    waiting list: its old acknowledgement must not survive on disk to hide the new failure."""
    monkeypatch.setattr(history_module, "UNSAVED_KEPT", 3)
    store = Refusing(tmp_path / "h.sqlite3")
    store.record(SCOPE, [st(A, State.FAILED, 100.0)], [Transition(A, None, State.FAILED, 100.0)])
    store.set_ack(SCOPE, A, "known", 101.0)
    history = StoreWriter(store, SCOPE)
    store.refusing = True
    history.save(
        [st(A, State.PUBLISHED, 110.0)], [Transition(A, State.FAILED, State.PUBLISHED, 110.0)]
    )
    history.save(
        [st(A, State.FAILED, 120.0)], [Transition(A, State.PUBLISHED, State.FAILED, 120.0)]
    )
    b: PostKey = ("acc", "b")
    for i in range(4):  # four more changes push both of A's out of the bound of three
        old, new = (None, State.QUEUED) if i == 0 else (State.QUEUED, State.QUEUED)
        history.save([st(b, new, 130.0 + i)], [Transition(b, old, new, 130.0 + i)])
    store.refusing = False
    history.close()
    assert history.dropped == 3
    reread = SqliteStore(tmp_path / "h.sqlite3")
    assert reread.last_posts(SCOPE)[A].state is State.FAILED
    assert A not in reread.acks(SCOPE)


def test_a_long_running_board_keeps_pruning_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "PRUNE_EVERY", 0.0)
    monkeypatch.setattr(history_module, "EVENTS_ON_DISK", 5)
    store = SqliteStore(tmp_path / "h.sqlite3")
    history = StoreWriter(store, SCOPE)
    for i in range(12):
        old, new = (None, State.QUEUED) if i == 0 else (State.QUEUED, State.QUEUED)
        history.save([st(A, new, 100.0 + i)], [Transition(A, old, new, 100.0 + i)])
    history.close()
    assert [t.at for t in SqliteStore(tmp_path / "h.sqlite3").trail(SCOPE, A)][-1] == 111.0
    assert len(SqliteStore(tmp_path / "h.sqlite3").events(SCOPE)) <= 5
