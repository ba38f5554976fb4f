"""Copy a post's error, URL or publish ID to the operator's clipboard (OSC 52, works over SSH)."""

from __future__ import annotations

from typing import Any

from textual.app import App

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.sanitize import clean

_NAMES = {"id": "publish ID", "url": "URL", "error": "error"}


def copy_best(app: App[Any], row: Row) -> None:
    """The error of a failed post, the URL of a published one, else the publish ID."""
    status = row.status
    if status is not None and status.state is State.FAILED and status.error:
        copy_field(app, row, "error")
    elif status is not None and status.public_url:
        copy_field(app, row, "url")
    else:
        copy_field(app, row, "id")


def copy_field(app: App[Any], row: Row, field: str) -> None:
    """Copy one field ('id', 'url' or 'error'), or say there is none to copy."""
    status = row.status
    value = {
        "id": row.post.publish_id,
        "url": status.public_url if status else None,
        "error": status.error if status else None,
    }.get(field)
    if not value:
        app.notify(f"no {_NAMES.get(field, field)} to copy", severity="warning", markup=False)
        return
    app.copy_to_clipboard(clean(value, 10_000))
    app.notify(f"copied {_NAMES[field]} of {row.publish}", markup=False)
