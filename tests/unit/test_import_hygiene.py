"""Importing the board state or the domain loads no database driver, HTTP client or Textual.

The import contracts in pyproject.toml check the static graph; this checks what a fresh
interpreter really loads, which also catches an import hidden in a package's __init__.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["sqlite3", "psycopg", "httpx", "yaml", "apprise", "textual", "aiohttp"]


def loaded_after(module: str) -> set[str]:
    """The heavy top-level modules a fresh interpreter has loaded after importing `module`."""
    script = (
        f"import sys, json; import {module}; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    "module",
    [
        "wahdx_tui.core.domain.model",
        "wahdx_tui.core.domain.records",
        "wahdx_tui.core.board.state",
        "wahdx_tui.core.board.accounts",
    ],
)
def test_the_board_state_loads_no_driver_client_or_textual(module: str) -> None:
    assert loaded_after(module) == set()


def test_the_store_protocol_and_url_load_no_driver() -> None:
    """Choosing a store reads a URL; only opening one imports its backend's driver."""
    assert loaded_after("wahdx_tui.core.store.url") & {"sqlite3", "psycopg"} == set()
    assert loaded_after("wahdx_tui.core.store.backend") & {"sqlite3", "psycopg"} == set()


def test_the_engine_loads_no_textual() -> None:
    """`serve` and `check` run the engine where no terminal exists."""
    assert "textual" not in loaded_after("wahdx_tui.core.team.engine")


def test_the_ui_asks_the_engine_what_it_can_do_never_its_class() -> None:
    """The board asks `polls_api`, `follows_store` and `via`; an isinstance on the engine's
    class would tie a face to one engine and break when another one comes."""
    import re
    from pathlib import Path

    ui = Path(__file__).resolve().parents[2] / "wahdx_tui" / "ui"
    found = [
        f"{path.relative_to(ui)}:{n}"
        for path in ui.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"isinstance\([^)]*,\s*\(?\s*(Team)?Engine\b", line)
    ]
    assert found == []


def test_no_private_textual_module_is_imported() -> None:
    """Textual's private modules change in any release; the package uses its public API."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "wahdx_tui"
    found = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "textual._" in path.read_text(encoding="utf-8")
    ]
    assert found == []
