"""Export the board's current view (after filter and sort) as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS
from wahdx_tui.core.domain.model import PostStatus
from wahdx_tui.core.reports.checkresults import FIELDS, csv_cell, iso_time, record

EXPORT_FIELDS = (*FIELDS, "category", "stuck", "acknowledged", "note", "since")


def export_record(row: Row) -> dict[str, str | bool | None]:
    """One row as `check` reports it, plus what the board knows besides (raw strings)."""
    status = row.status or PostStatus(row.key, row.state, None, None, None)
    rec: dict[str, str | bool | None] = dict(record(row.post, status))
    rec.update(
        # The row's own time: a status kept from an unchanged answer says when it was first read.
        checkedAt=iso_time(row.checked_at) if row.checked_at else rec["checkedAt"],
        category=CATEGORY_LABELS[row.category] if row.category else None,
        stuck=row.stuck,
        acknowledged=row.acked,
        note=row.note or None,
        since=iso_time(row.since),
    )
    return rec


def render_export(rows: Sequence[Row], fmt: str) -> str:
    """The rows as 'csv' or 'json' text."""
    records = [export_record(r) for r in rows]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=True, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for rec in records:
        writer.writerow([csv_cell(rec[f]) for f in EXPORT_FIELDS])
    return out.getvalue()


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
