"""Themes: a high-contrast one where failed does not rely on red, and the operator's choice
(made with the palette's Theme command) remembered across runs in the XDG config directory."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs
from textual.app import App
from textual.theme import Theme

log = logging.getLogger(__name__)

HIGH_CONTRAST = Theme(
    name="wahdx-high-contrast",
    primary="#00e5ff",
    secondary="#ffffff",
    accent="#ffd700",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#262626",
    boost="#1a1a1a",
    # Cyan (queued), blue (published), amber (processing) and magenta: told apart with any
    # colour vision. Failed rows use no hue at all: reverse video (board.tcss), ✗ and word.
    success="#5c8cff",
    warning="#ffb000",
    error="#ff4dff",
    dark=True,
    variables={
        "footer-key-foreground": "#ffd700",
        "block-cursor-background": "#ffd700",
        "block-cursor-foreground": "#000000",
        "input-selection-background": "#ffd700 40%",
    },
)
"""White on black; failed rows in bold reverse video, so they never depend on a hue."""
THEMES = (HIGH_CONTRAST,)
MAX_SETTINGS_BYTES = 64 * 1024


def settings_path() -> Path:
    """Where the UI's choices are kept: $XDG_CONFIG_HOME/wahdx-tui/ui.json."""
    return platformdirs.user_config_path("wahdx-tui") / "ui.json"


def _read(path: Path) -> dict[str, object]:
    """The settings file's object; empty when missing, too big or not a JSON object."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SETTINGS_BYTES + 1)
    except OSError:
        return {}
    if len(data) > MAX_SETTINGS_BYTES:
        return {}
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def saved_theme(path: Path | None = None) -> str | None:
    """The theme last chosen, if any was saved (the name as saved; it may no longer exist)."""
    name = _read(path or settings_path()).get("theme")
    return name if isinstance(name, str) and 0 < len(name) <= 100 else None


def remember_theme(name: str, path: Path | None = None) -> str | None:
    """Save `name` as the chosen theme, keeping the file's other settings; atomic (a reader
    sees the old file or the new one, never half of one). Returns an error text or None."""
    path = path or settings_path()
    settings = _read(path)
    if settings.get("theme") == name:
        return None
    settings["theme"] = name
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ui-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(settings, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        return f"cannot save the theme in {path}: {exc.strerror or exc}"
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return None


def register_themes(app: App[Any]) -> None:
    """Offer the project's themes beside Textual's in the palette's Theme command."""
    for theme in THEMES:
        app.register_theme(theme)


def restore_theme(app: App[Any], path: Path | None = None) -> str | None:
    """Switch to the theme saved last time, if it still exists; return its name."""
    name = saved_theme(path)
    if name is None or name not in app.available_themes:
        return None
    app.theme = name
    return name


def install_themes(app: App[Any], path: Path | None = None) -> None:
    """Register, restore, and remember every later choice: the one call the app makes (in
    on_mount). A choice that cannot be saved is said once, as a warning toast."""
    register_themes(app)
    restore_theme(app, path)
    warned = False

    def chosen(theme: Theme) -> None:
        nonlocal warned
        error = remember_theme(theme.name, path)
        if error is not None:
            log.warning("%s", error)
            if not warned:
                warned = True
                app.notify(error, severity="warning", markup=False)

    app.theme_changed_signal.subscribe(app, chosen)
