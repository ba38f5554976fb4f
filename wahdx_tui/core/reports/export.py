"""Export the board's current view (after filter and sort) as CSV or JSON."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS
from wahdx_tui.core.domain.model import PostStatus
from wahdx_tui.core.reports.checkresults import FIELDS, csv_cell, iso_time, record

EXPORT_FIELDS = (*FIELDS, "category", "stuck", "acknowledged", "note", "since")
NAMES_TRIED = 100
"""How many names an export tries (its time, then -2, -3, ...) before saying they are taken."""
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


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


def write_export(
    rows: Sequence[Row], fmt: str, directory: Path | None = None, now: float | None = None
) -> Path:
    """Write the export to a new file of its own in `directory` (default: the current one),
    named for `now`, mode 600, and return its path as named (never a link's target).

    The file is created exclusively: never through a symlink planted under its name, never
    over an existing file; a taken name is followed by -2, -3, ... An OSError says what failed.
    """
    folder = Path(os.path.abspath(directory or Path.cwd()))  # abspath: no link is followed
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    data = render_export(rows, fmt).encode("utf-8")
    for n in range(1, NAMES_TRIED + 1):
        path = folder / (
            f"wahdx-export-{stamp}.{fmt}" if n == 1 else f"wahdx-export-{stamp}-{n}.{fmt}"
        )
        try:
            fd = os.open(path, _EXCLUSIVE, 0o600)
        except FileExistsError:  # a file, a directory or a link (even a dangling one)
            continue
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)  # no half-written export left behind
            raise
        return path
    raise OSError(
        errno.EEXIST,
        f"wahdx-export-{stamp}.{fmt} and the next {NAMES_TRIED - 1} names are taken in {folder}",
    )
