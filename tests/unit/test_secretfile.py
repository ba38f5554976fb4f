"""The one reader of owner-only secret files, as each of its three callers words it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wahdx_tui.core.store.backend import read_password_file

from wahdx_tui.core.alerts.targets import targets_from_config
from wahdx_tui.core.domain.errors import ConfigError, WahdxError
from wahdx_tui.core.settings.apiaccess import read_api_key
from wahdx_tui.core.settings.secretfile import read_secret_file
from wahdx_tui.core.store.protocol import StoreError

SECRET = "s3cret-value-XYZ"


def secret_file(tmp_path: Path, data: bytes, mode: int = 0o600) -> str:
    path = tmp_path / "secret"
    path.write_bytes(data)
    path.chmod(mode)
    return str(path)


def test_a_fifo_in_place_of_the_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)  # nobody writes to it: a blocking open would hang the start
    with pytest.raises(ConfigError, match=f"API key file {fifo} is not a regular file"):
        read_api_key(str(fifo), {})
    with pytest.raises(StoreError, match=f"store password file {fifo} is not a regular file"):
        read_password_file(str(fifo))
    with pytest.raises(ConfigError, match=f"notify config {fifo} is not a regular file"):
        targets_from_config(str(fifo))


def test_each_caller_says_what_is_too_large(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"k" * 4097)
    with pytest.raises(ConfigError, match="too large to hold one key"):
        read_api_key(path, {})
    with pytest.raises(StoreError, match="too large to hold one password"):
        read_password_file(path)
    assert read_secret_file(secret_file(tmp_path, b"k" * 4096), "f", 4096) == "k" * 4096
    big = secret_file(tmp_path, b"k" * ((1 << 20) + 1))
    with pytest.raises(ConfigError, match=r"notify config .* is too large \(over 1 MiB\)$"):
        targets_from_config(big)


def test_the_mode_line_says_chmod_600_and_what_is_at_stake(tmp_path: Path) -> None:
    path = secret_file(tmp_path, SECRET.encode(), 0o640)
    with pytest.raises(ConfigError) as info:
        targets_from_config(path)
    assert str(info.value) == (
        f"refusing notify config {path}: it is readable by group or others (mode 0640)"
        f" and holds tokens; run: chmod 600 {path}"
    )
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {})
    assert str(info.value) == (
        f"refusing API key file {path}: it is readable by group or others (mode 0640);"
        f" run: chmod 600 {path}"
    )


@pytest.mark.parametrize("error", [ConfigError, StoreError])
def test_text_that_is_not_utf8_is_named_never_shown(
    tmp_path: Path, error: type[WahdxError]
) -> None:
    path = secret_file(tmp_path, SECRET.encode() + b"\xff\xfe")
    with pytest.raises(error) as info:
        read_secret_file(path, "key file", 4096, error=error)
    assert str(info.value) == f"key file {path} is not UTF-8 text"


def test_a_missing_file_gives_the_reason_not_a_traceback(tmp_path: Path) -> None:
    path = str(tmp_path / "missing")
    with pytest.raises(ConfigError) as info:
        read_secret_file(path, "API key file", 4096)
    assert str(info.value) == f"cannot read API key file {path}: No such file or directory"
