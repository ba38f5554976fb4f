"""Base URL and API key resolution: safe defaults, clear refusals, no key ever echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wahdx_tui.core.domain.errors import ConfigError, WahdxError
from wahdx_tui.core.settings.apiaccess import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    KEY_ENV,
    check_base_url,
    is_loopback_host,
    read_api_key,
    resolve_base_url,
)

KEY = "wx_live_4f9c2b7e1d8a"


# ----- base URL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.wahdx.com", "https://api.wahdx.com"),
        ("https://api.wahdx.com/", "https://api.wahdx.com"),
        ("  https://api.wahdx.com  ", "https://api.wahdx.com"),
        ("https://api.wahdx.com:8443/v2", "https://api.wahdx.com:8443/v2"),
        ("HTTPS://API.WAHDX.COM", "HTTPS://API.WAHDX.COM"),
        ("https://10.0.0.5", "https://10.0.0.5"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://127.1.2.3:80/", "http://127.1.2.3:80"),
        ("http://localhost:8765", "http://localhost:8765"),
        ("http://LOCALHOST:8765", "http://LOCALHOST:8765"),
        ("http://sim.localhost:8765", "http://sim.localhost:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("http://[::1]", "http://[::1]"),
    ],
)
def test_accepted_base_urls(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://api.wahdx.com", "api.wahdx.com"),
        ("http://10.0.0.5:8765", "10.0.0.5"),
        ("http://192.168.1.20", "192.168.1.20"),
        ("http://0.0.0.0:8765", "0.0.0.0"),
        ("http://localhost.evil.example", "localhost.evil.example"),
        ("http://127.0.0.1.nip.io", "127.0.0.1.nip.io"),
        ("http://[::2]", "::2"),
        ("http://[fe80::1]", "fe80::1"),
    ],
)
def test_plain_http_to_a_remote_host_is_refused_saying_why(url: str, host: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_base_url(url)
    message = str(info.value)
    assert host in message
    assert "https://" in message
    assert "clear" in message or "key" in message


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "api.wahdx.com",
        "//api.wahdx.com",
        "ftp://api.wahdx.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "http://",
        "https://api.wahdx.com:99999",
        "https://api.wahdx.com:port",
        "https://[::1",
        "mailto:ops@wahdx.com",
    ],
)
def test_junk_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_base_url(url)
    assert "base URL" in str(info.value)


@pytest.mark.parametrize(
    "url",
    ["https://exa mple.com", "https://ex\x01ample.com", "https://ex☃.com", "https://[::1]x"],
)
def test_hosts_httpx_cannot_use_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@api.wahdx.com",
        "https://user@api.wahdx.com",
        f"https://{KEY}@api.wahdx.com",
        "http://user:pass@127.0.0.1:8765",
    ],
)
def test_credentials_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_base_url(url)
    assert "user name or password" in str(info.value)
    assert KEY not in str(info.value)
    assert "pass" not in str(info.value).replace("password", "")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.wahdx.com?key=x",
        "https://api.wahdx.com/?a=1",
        "http://127.0.0.1:8765/api?x",
        "https://api.wahdx.com#frag",
    ],
)
def test_query_strings_and_fragments_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_base_url(url)
    assert "query or fragment" in str(info.value)


def test_refusals_are_wahdx_errors_and_one_line() -> None:
    for url in ("http://example.com", "ftp://x", "https://u:p@x", "https://x?y", "x" * 5000):
        with pytest.raises(WahdxError) as info:
            check_base_url(url)
        message = str(info.value)
        assert "\n" not in message
        assert len(message) < 400


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("[::1]", True),
        ("::1", True),
        ("a.localhost", True),
        ("localhost.com", False),
        ("example.com", False),
        ("10.0.0.1", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_base_url_precedence_flag_then_env_then_default() -> None:
    env = {BASE_URL_ENV: "http://127.0.0.1:9000/"}
    assert resolve_base_url("https://flag.example", env) == "https://flag.example"
    assert resolve_base_url(None, env) == "http://127.0.0.1:9000"
    assert resolve_base_url(None, {}) == DEFAULT_BASE_URL
    assert resolve_base_url(None, {BASE_URL_ENV: ""}) == DEFAULT_BASE_URL
    assert resolve_base_url("", {}) == DEFAULT_BASE_URL


def test_base_url_from_env_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="refusing plain http"):
        resolve_base_url(None, {BASE_URL_ENV: "http://api.wahdx.com"})


def test_base_url_reads_the_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, "http://localhost:1234")
    assert resolve_base_url(None) == "http://localhost:1234"
    monkeypatch.delenv(BASE_URL_ENV)
    assert resolve_base_url(None) == DEFAULT_BASE_URL


# ----- API key ------------------------------------------------------------------------------


def key_file(tmp_path: Path, text: str | bytes, mode: int = 0o600, name: str = "key") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


def test_key_from_env() -> None:
    assert read_api_key(None, {KEY_ENV: KEY}).reveal() == KEY
    assert read_api_key(None, {KEY_ENV: f"  {KEY}\n"}).reveal() == KEY


def test_key_from_the_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    assert read_api_key(None).reveal() == KEY


@pytest.mark.parametrize("env", [{}, {KEY_ENV: ""}, {KEY_ENV: "   \n"}])
def test_no_key_says_how_to_set_one(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        read_api_key(None, env)
    message = str(info.value)
    assert KEY_ENV in message
    assert "--api-key-file" in message


@pytest.mark.parametrize("text", [KEY, KEY + "\n", f"\n  {KEY}  \r\n"])
def test_key_from_file(tmp_path: Path, text: str) -> None:
    assert read_api_key(key_file(tmp_path, text), {}).reveal() == KEY


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    assert read_api_key(key_file(tmp_path, KEY, mode), {}).reveal() == KEY


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o777])
def test_group_or_world_readable_file_is_refused_naming_chmod_600(
    tmp_path: Path, mode: int
) -> None:
    path = key_file(tmp_path, KEY, mode)
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {})
    message = str(info.value)
    assert f"chmod 600 {path}" in message
    assert "group or others" in message
    assert f"{mode:04o}" in message
    assert KEY not in message


def test_missing_key_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope")
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {KEY_ENV: KEY})  # the env key is not used as a fallback
    assert path in str(info.value)
    assert KEY not in str(info.value)


def test_key_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        read_api_key(str(tmp_path), {})


@pytest.mark.parametrize("text", ["", "\n", "   \n\t\n"])
def test_empty_key_file(tmp_path: Path, text: str) -> None:
    path = key_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {})
    assert "empty" in str(info.value)
    assert path in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "wx_liveAAA secretBBB",
        "wx_liveAAA\tsecretBBB",
        "wx_liveAAA\nsecretBBB",
        "wx_liveAAA\r\nsecretBBB\n",
        "lineAAA\nlineBBB\nlineCCC",
        "wx_liveAAA\x00secretBBB",
        "wx_liveAAA\x1b[2JsecretBBB",
    ],
)
def test_key_with_spaces_newlines_or_controls_inside_is_refused(tmp_path: Path, text: str) -> None:
    path = key_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {})
    message = str(info.value)
    assert "one line" in message
    for part in ("AAA", "BBB", "CCC"):
        assert part not in message.replace(path, "")
    with pytest.raises(ConfigError) as info:
        read_api_key(None, {KEY_ENV: text})
    assert KEY_ENV in str(info.value)


@pytest.mark.parametrize("key", ["wx_clé_secrète", "ключ_api"])
def test_non_ascii_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigError):
        read_api_key(None, {KEY_ENV: key})


def test_key_file_not_utf8(tmp_path: Path) -> None:
    path = key_file(tmp_path, b"\xff\xfe\x00k\x00e\x00y")
    with pytest.raises(ConfigError) as info:
        read_api_key(path, {})
    assert path in str(info.value)


def test_huge_key_file_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path, "k" * 10_000)
    with pytest.raises(ConfigError, match="too large"):
        read_api_key(path, {})


def test_key_file_wins_over_env(tmp_path: Path) -> None:
    path = key_file(tmp_path, "from_file")
    assert read_api_key(path, {KEY_ENV: "from_env"}).reveal() == "from_file"
    assert read_api_key(None, {KEY_ENV: "from_env"}).reveal() == "from_env"


def test_bad_key_file_does_not_fall_back_to_env(tmp_path: Path) -> None:
    path = key_file(tmp_path, KEY, 0o644)
    with pytest.raises(ConfigError):
        read_api_key(path, {KEY_ENV: "from_env"})


def test_the_key_never_shows_itself() -> None:
    key = read_api_key(None, {KEY_ENV: KEY})
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", f"{[key]}", f"{ {'k': key} }"):
        assert KEY not in shown
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


def test_the_client_holds_no_printable_copy_of_the_key() -> None:
    from wahdx_tui.core.api.client import WahdxClient

    client = WahdxClient("https://api.example.com", read_api_key(None, {KEY_ENV: KEY}))
    shown = repr(client) + repr(vars(client)) + repr(vars(client._transport))
    assert KEY not in shown
