"""The API key never reaches a log, even a debug log of failing and retried requests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import kept_loggers
from wahdx_tui.cli import main
from wahdx_tui.core.watchlist.reader import sample_watchlist_path
from wahdx_tui.sim import Faults, SimConfig, SimServer

KEY = "wx_live_secret_7f3a9c1e5b"


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(SimConfig(api_key=KEY, faults=Faults(error_rate=0.5, seed=3))).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    with kept_loggers("wahdx_tui", "httpx", "httpcore"):
        yield


def test_a_debug_log_of_retried_requests_never_holds_the_key(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WAHDX_API_KEY", KEY)
    monkeypatch.setenv("WAHDX_BASE_URL", sim.base_url)
    log = tmp_path / "debug.log"
    code = main(["check", str(sample_watchlist_path()), "--log", str(log), "--format", "json"])
    assert code in (0, 1, 2)
    text = log.read_text()
    assert "HTTP Request: POST" in text  # httpx's own lines are there...
    assert "retry" in text  # ... and ours, with the 500s the simulator threw
    assert KEY not in text
    out, err = capsys.readouterr()
    assert KEY not in out and KEY not in err
    assert log.stat().st_mode & 0o077 == 0  # the log is the operator's alone


def test_the_redacting_filter_rewrites_messages_arguments_and_tracebacks() -> None:
    from wahdx_tui.core.settings.secret import ApiKey, RedactingFilter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key=%s", (KEY,), None)
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter(ApiKey(KEY)).filter(record)
    assert KEY not in record.getMessage()
    assert record.exc_text and KEY not in record.exc_text


def test_every_kind_of_secret_prints_as_stars_and_refuses_pickling() -> None:
    import pickle

    from wahdx_tui.core.settings.secret import ApiKey, Secret
    from wahdx_tui.core.store.postgres.conn import PgLink

    link = PgLink(f"postgresql://u:{KEY}@127.0.0.1:1/db", password=KEY, readonly=True)
    held = [ApiKey(KEY), Secret(KEY), *vars(link).values()]
    for secret in held:
        for shown in (repr(secret), str(secret), f"{secret}", f"{[secret]}"):
            assert KEY not in shown
        if isinstance(secret, Secret):
            assert "***" in repr(secret)
            with pytest.raises(TypeError, match="not to be pickled"):
                pickle.dumps(secret)
    assert ApiKey(KEY) == ApiKey(KEY) and ApiKey(KEY) != Secret(KEY)
    assert len({ApiKey(KEY), ApiKey(KEY)}) == 1
