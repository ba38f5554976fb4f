"""`make`'s set-up is quiet unless something is wrong: a fake pip that chatters and succeeds
prints nothing but one line; one that fails shows all it said, and where the log is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHATTER = "BuildBackendWarning: Editable installation."

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def fake_venv(tmp_path: Path, *, fails: bool) -> Path:
    """A venv whose python prints what pip and setuptools print, then succeeds or fails."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        f'echo "  {CHATTER}" >&2\n'
        'echo "Successfully installed wahdx-tui"\n'
        + (
            'echo "ERROR: No matching distribution found for textual" >&2\nexit 1\n'
            if fails
            else ""
        )
    )
    python.chmod(0o755)
    return venv


def set_up(venv: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_set_up_that_works_says_one_line(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path, fails=False)
    proc = set_up(venv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"setting up {venv} (about a minute the first time)\n"
    assert proc.stderr == ""
    assert (venv / ".installed").exists()
    assert CHATTER in (venv / "setup.log").read_text()  # kept, for whoever wants it


def test_a_set_up_that_fails_shows_everything(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path, fails=True)
    proc = set_up(venv)
    assert proc.returncode != 0
    assert "No matching distribution found for textual" in proc.stderr
    assert CHATTER in proc.stderr
    assert f"set-up failed: the log above is kept in {venv}/setup.log" in proc.stderr
    assert not (venv / ".installed").exists()
