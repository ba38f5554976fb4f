"""Resolve the API base URL and key from flags and environment, refusing unsafe set-ups."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping

import httpx

from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.domain.urls import split_base_url
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.secretfile import read_secret_file

DEFAULT_BASE_URL = "https://api.wahdx.com"
KEY_ENV = "WAHDX_API_KEY"
BASE_URL_ENV = "WAHDX_BASE_URL"


def is_loopback_name(host: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1), localhost and names under .localhost,
    by how they are written (is_loopback_host also checks what a name resolves to)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """True for a loopback address, or localhost or a name under .localhost that resolves
    only to loopback addresses (a name is not taken at its word: /etc/hosts or DNS may send
    it elsewhere)."""
    if not is_loopback_name(host):
        return False
    host = host.strip("[]")
    if is_ip_address(host):
        return True
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]) for info in found}
    return bool(addresses) and all(_is_loopback_address(a) for a in addresses)


def _is_loopback_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def is_ip_address(host: str) -> bool:
    """An IPv4 or IPv6 address (without brackets)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_base_url(url: str) -> str:
    """Return the URL without a trailing slash, or raise ConfigError when it is unusable or unsafe."""
    base = split_base_url(url)
    url, parts, host = base.text, base.parts, base.host
    if base.error:
        raise ConfigError(f"invalid base URL {url[:80]!r}: {base.error}")
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(
            f"invalid base URL {url[:80]!r}: use https://HOST, for example {DEFAULT_BASE_URL}"
        )
    if parts.username or parts.password:
        raise ConfigError("the base URL must not hold a user name or password")
    if parts.query or parts.fragment:
        raise ConfigError("the base URL must not hold a query or fragment")
    if not _HOST.fullmatch(host) and not is_ip_address(host):
        raise ConfigError(
            f"invalid host in base URL {url[:80]!r}: use letters, digits, dots and dashes "
            "(the punycode form for international names) or an IP address"
        )
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ConfigError(f"invalid base URL {url[:80]!r}: {exc}") from None
    if parts.scheme == "http" and not is_loopback_host(host):
        if is_loopback_name(host):
            raise ConfigError(
                f"refusing plain http:// to {host}: it does not resolve to loopback addresses"
                " only, so the API key could cross the network in clear; use https://, or"
                " http://127.0.0.1"
            )
        raise ConfigError(
            f"refusing plain http:// to {host}: the API key would cross the network in clear; "
            "use https://"
        )
    return url


def resolve_base_url(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    """The base URL from --base-url, else WAHDX_BASE_URL, else the public API."""
    env = os.environ if env is None else env
    return check_base_url(flag or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL)


def _valid_key(key: str, where: str) -> ApiKey:
    key = key.strip()
    if not key:
        raise ConfigError(f"the API key in {where} is empty")
    if not key.isascii():
        raise ConfigError(
            f"the API key in {where} holds characters outside ASCII; "
            "check that the whole key was copied and nothing else"
        )
    if not key.isprintable() or any(c.isspace() for c in key):
        raise ConfigError(
            f"the API key in {where} holds spaces, line breaks or control characters; "
            "it must be the key alone on one line"
        )
    return ApiKey(key)


def read_api_key(key_file: str | None, env: Mapping[str, str] | None = None) -> ApiKey:
    """The key from --api-key-file (owner-only permissions required), else WAHDX_API_KEY."""
    env = os.environ if env is None else env
    if key_file:
        text = read_secret_file(key_file, "API key file", 4096, too_large="to hold one key")
        return _valid_key(text, key_file)
    value = env.get(KEY_ENV)
    if value is None or not value.strip():
        raise ConfigError(
            f"no API key: set {KEY_ENV} or pass --api-key-file FILE (a file only you can read)"
        )
    return _valid_key(value, KEY_ENV)
