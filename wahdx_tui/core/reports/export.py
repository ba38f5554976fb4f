"""Export the board's current view (after filter and sort) as CSV or JSON: posts or accounts."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Sequence
from pathlib import Path

from wahdx_tui.core.board.accounts import AccountRow
from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.categories import CATEGORY_LABELS
from wahdx_tui.core.domain.model import PostStatus, State
from wahdx_tui.core.reports.checkresults import (
    FIELDS,
    Record,
    record,
    records_csv,
    records_json,
)

EXPORT_FIELDS = FIELDS
ACCOUNT_FIELDS = (
    "accountId",
    "platform",
    "posts",
    "failed",
    "unreviewed",
    "stuck",
    "processing",
    "queued",
    "published",
    "unknown",
    "topCategory",
    "topCategoryPosts",
    "topReason",
)
NAMES_TRIED = 100
"""How many names an export tries (its time, then -2, -3, ...) before saying they are taken."""
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


def export_record(row: Row) -> Record:
    """One row as `check` and `report` give a post: the same fields, the same words."""
    status = row.status or PostStatus(row.key, row.state, None, None, None)
    return record(row.post, status, row)


def render_export(rows: Sequence[Row], fmt: str) -> str:
    """The rows as 'csv' or 'json' text."""
    records = [export_record(r) for r in rows]
    return records_json(records) if fmt == "json" else records_csv(records)


def account_record(row: AccountRow) -> dict[str, str | int | None]:
    """One account as the accounts view shows it (raw strings; JSON escapes them)."""
    return {
        "accountId": row.account_id,
        "platform": row.platform or None,
        "posts": row.posts,
        "failed": row.failed,
        "unreviewed": row.unreviewed,
        "stuck": row.stuck,
        "processing": row.count(State.PROCESSING),
        "queued": row.count(State.QUEUED),
        "published": row.count(State.PUBLISHED),
        "unknown": row.count(State.UNKNOWN),
        "topCategory": CATEGORY_LABELS[row.category] if row.category else None,
        "topCategoryPosts": row.category_count,
        "topReason": row.reason or None,
    }


def render_accounts_export(rows: Sequence[AccountRow], fmt: str) -> str:
    """The accounts as 'csv' or 'json' text."""
    records = [account_record(r) for r in rows]
    return records_json(records) if fmt == "json" else records_csv(records, ACCOUNT_FIELDS)


def write_export(
    rows: Sequence[Row], fmt: str, directory: Path | None = None, now: float | None = None
) -> Path:
    """Write the posts' export next to the operator (the current directory); its path."""
    return write_new_file(render_export(rows, fmt), "wahdx-export", fmt, directory, now)


def write_accounts_export(
    rows: Sequence[AccountRow], fmt: str, directory: Path | None = None, now: float | None = None
) -> Path:
    """Write the accounts' export next to the operator (the current directory); its path."""
    return write_new_file(render_accounts_export(rows, fmt), "wahdx-accounts", fmt, directory, now)


def write_new_file(
    text: str, prefix: str, fmt: str, directory: Path | None = None, now: float | None = None
) -> Path:
    """Write `text` to a new file of its own in `directory` (default: the current one), named
    PREFIX-STAMP.FMT for `now`, mode 600, and return its path as named (never a link's target).
    Every export is written here.

    The file is created exclusively: never through a symlink planted under its name, never
    over an existing file; a taken name is followed by -2, -3, ... An OSError says what failed.
    """
    folder = Path(os.path.abspath(directory or Path.cwd()))  # abspath: no link is followed
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    data = text.encode("utf-8")
    for n in range(1, NAMES_TRIED + 1):
        path = folder / (f"{prefix}-{stamp}.{fmt}" if n == 1 else f"{prefix}-{stamp}-{n}.{fmt}")
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
        f"{prefix}-{stamp}.{fmt} and the next {NAMES_TRIED - 1} names are taken in {folder}",
    )
