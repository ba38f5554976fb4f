"""Every output names a post the same way: `check --format json|csv`, the board's export (x / X)
and `report --format json|csv|markdown` give the same fields and the same category words.

The demo's morning on the simulator (loopback HTTP): failures of several reasons and a post
stuck in processing. A board's engine writes its history to a SQLite store; `check` and
`report` run through the command line as an operator runs them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

import wahdx_tui.cli as cli
from tests.support.fixtures import running_demo, sim_clients
from wahdx_tui.core.domain.categories import CATEGORY_LABELS
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.engine.engine import Engine
from wahdx_tui.core.reports.checkresults import FIELDS
from wahdx_tui.core.reports.export import render_export
from wahdx_tui.core.store.protocol import scope_for
from wahdx_tui.core.store.sqlite.store import SqliteStore
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.watchlist.reader import load_watchlist, sample_watchlist_path
from wahdx_tui.sim import SimServer

Records = list[dict[str, object]]


def board_export(sim: SimServer, db: Path) -> tuple[Records, Records]:
    """One pass of a board's engine keeping its history in `db`, one failure acknowledged;
    its export as JSON and as CSV."""

    async def run() -> tuple[str, str]:
        history = StoreWriter(SqliteStore(db), scope_for(sim.base_url))
        engine = Engine(load_watchlist(sample_watchlist_path()), sim_clients(sim), history=history)
        try:
            await engine.run_pass()
            failed = [k for k, r in engine.board.rows.items() if r.state is State.FAILED]
            engine.acknowledge(failed[0], "called them")
            rows = [engine.board.rows[k] for k in engine.board.keys_in_view()]
            return render_export(rows, "json"), render_export(rows, "csv")
        finally:
            await engine.aclose()

    as_json, as_csv = asyncio.run(run())
    return json.loads(as_json), list(csv.DictReader(io.StringIO(as_csv)))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    cli.main(list(argv))
    return capsys.readouterr().out


def by_post(records: Records) -> dict[tuple[object, object], dict[str, object]]:
    return {(r["accountId"], r["publishId"]): r for r in records}


def test_every_output_gives_the_same_fields_and_category_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.sqlite3"
    watchlist = str(sample_watchlist_path())
    with running_demo() as sim:
        exported, exported_csv = board_export(sim, db)
        monkeypatch.setenv("WAHDX_API_KEY", sim.api_key)
        monkeypatch.setenv("WAHDX_BASE_URL", sim.base_url)
        checked = json.loads(run_cli(capsys, "check", watchlist, "--format", "json"))
        checked_csv = list(
            csv.DictReader(io.StringIO(run_cli(capsys, "check", watchlist, "--format", "csv")))
        )
        report = ["report", watchlist, "--history", str(db)]
        reported = json.loads(run_cli(capsys, *report, "--format", "json"))
        reported_csv = list(
            csv.DictReader(io.StringIO(run_cli(capsys, *report, "--format", "csv")))
        )
        markdown = run_cli(capsys, *report)
    # the same fields, in the same order, everywhere (the report adds its kind and hint)
    for records in (exported, exported_csv, checked, checked_csv):
        assert [list(r) for r in records] == [list(FIELDS)] * len(records)
    for records in (reported, reported_csv):
        assert [list(r) for r in records] == [["kind", *FIELDS, "hint"]] * len(records)
    # the same category words: one name per category, whichever output says it
    names = set(CATEGORY_LABELS.values())
    failed = {k: r for k, r in by_post(exported).items() if r["state"] == "failed"}
    assert len({r["category"] for r in failed.values()}) >= 3  # several reasons this morning
    for others in (exported_csv, checked, checked_csv, reported, reported_csv):
        theirs = by_post(others)
        for key, record in failed.items():
            assert record["category"] in names
            assert theirs[key]["category"] == record["category"], (key, theirs[key])
    table = [line for line in markdown.splitlines() if line.startswith("| FAILED")]
    assert table and all(line.split(" | ")[5] in names for line in table), table
    # stuck is a flag of its own in every output, and an acknowledgement reads the same
    stuck = [k for k, r in by_post(exported).items() if r["stuck"]]
    assert stuck, "the demo's morning has a post stuck in processing"
    assert all(by_post(checked)[k]["stuck"] is True for k in stuck)
    assert all(by_post(checked_csv)[k]["stuck"] == "yes" for k in stuck)
    assert all(by_post(reported)[k]["kind"] == "stuck" for k in stuck)
    assert all(by_post(reported)[k]["stuck"] is True for k in stuck)
    acked = [k for k, r in by_post(exported).items() if r["acknowledged"]]
    assert len(acked) == 1 and by_post(reported)[acked[0]]["note"] == "called them"
