"""Shared test set-up: no test reads or writes the operator's own UI settings."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """$XDG_CONFIG_HOME in a fresh folder per test: a theme chosen on this machine never
    changes a snapshot, and a test that picks a theme never changes the machine's."""
    home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home
