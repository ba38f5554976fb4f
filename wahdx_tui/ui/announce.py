"""Toasts and one bell for posts that failed or got stuck, a few at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.display import format_age
from wahdx_tui.core.domain.sanitize import clean

MAX_TOASTS = 3


def announce_failures(app: App[Any], rows: Sequence[Row], *, first: bool, bell: bool) -> None:
    """A toast per new failure (the first few); at start-up a backlog is one toast."""
    if first and len(rows) > MAX_TOASTS:
        app.notify(f"{len(rows)} posts have failed", severity="error", markup=False)
        if bell:
            app.bell()
        return
    _announce(
        app,
        rows,
        "✗ FAILED",
        "error",
        lambda row: clean(row.status.error if row.status else None, 160) or "failed",
        "failed posts",
        bell,
    )


def announce_stuck(app: App[Any], rows: Sequence[Row], now: float, *, bell: bool) -> None:
    """A toast per newly stuck post (the first few), like a failure."""
    _announce(
        app,
        rows,
        "⚠ STUCK",
        "warning",
        lambda row: f"{row.state.value} for {format_age(now - (row.since or now))}",
        "stuck posts",
        bell,
    )


def _announce(
    app: App[Any],
    rows: Sequence[Row],
    title: str,
    severity: SeverityLevel,
    detail: Callable[[Row], str],
    more: str,
    bell: bool,
) -> None:
    """A toast for each of the first few rows, one for the rest, and one bell."""
    if not rows:
        return
    for row in rows[:MAX_TOASTS]:
        app.notify(
            f"{row.label or row.publish}: {detail(row)}",
            title=f"{title} · {row.account}",
            severity=severity,
            timeout=10,
            markup=False,
        )
    if len(rows) > MAX_TOASTS:
        app.notify(f"and {len(rows) - MAX_TOASTS} more {more}", severity=severity, markup=False)
    if bell:
        app.bell()
