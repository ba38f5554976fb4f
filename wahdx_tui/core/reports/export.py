"""Export the board's current view (after filter and sort) as CSV or JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import PostStatus
from wahdx_tui.core.reports.checkresults import FIELDS, Record, record, records_csv

EXPORT_FIELDS = FIELDS


def export_record(row: Row) -> Record:
    """One row as `check` and `report` give a post: the same fields, the same words."""
    status = row.status or PostStatus(row.key, row.state, None, None, None)
    return record(row.post, status, row)


def render_export(rows: Sequence[Row], fmt: str) -> str:
    """The rows as 'csv' or 'json' text."""
    records = [export_record(r) for r in rows]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=True, indent=2) + "\n"
    return records_csv(records)


def write_export(rows: Sequence[Row], fmt: str, directory: Path | None = None) -> Path:
    """Write the export next to the operator (the current directory) and return its path."""
    folder = directory or Path.cwd()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"wahdx-export-{stamp}.{fmt}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"wahdx-export-{stamp}-{n}.{fmt}"
    path.write_text(render_export(rows, fmt), encoding="utf-8")
    return path.resolve()
