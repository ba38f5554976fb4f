"""What `serve --http` listens on and which tokens it takes: HOST:PORT and the two tokens."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.settings.apiaccess import is_ip_address, is_loopback_host
from wahdx_tui.core.settings.secret import Secret
from wahdx_tui.core.settings.secretfile import read_secret_file

WRITE_TOKEN_ENV = "WAHDX_HTTP_TOKEN"
VIEW_TOKEN_ENV = "WAHDX_HTTP_VIEW_TOKEN"
MIN_TOKEN = 16  # characters: a token is a password for the HTTP side
LOOPBACK = "127.0.0.1"


class HttpToken(Secret):
    """A token of the HTTP side (write or view); only reveal() returns it."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Where to listen and which tokens open what.

    `write`: needed for POST/DELETE (ingest). `view`: needed, with the write token as well,
    to read anything when the bind is not loopback; on a loopback bind reads are open.
    """

    host: str
    port: int
    write: HttpToken | None = None
    view: HttpToken | None = None

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach it."""
        return is_loopback_host(self.host)

    @property
    def url(self) -> str:
        """The address as a browser opens it (never with a token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def tokens(self) -> list[HttpToken]:
        """Every token set (for redaction)."""
        return [t for t in (self.write, self.view) if t is not None]


def parse_bind(text: str) -> tuple[str, int]:
    """`PORT`, `:PORT`, `HOST:PORT` or `[V6]:PORT` -> (host, port); a bare port is loopback."""
    raw = text.strip()
    host, sep, port_text = raw.rpartition(":")
    if not sep:
        host, port_text = "", raw
    if host.startswith("["):
        if not host.endswith("]"):
            raise ConfigError(f"--http {raw!r}: an IPv6 address goes in brackets: [::1]:8080")
        host = host[1:-1]
    elif ":" in host:
        raise ConfigError(f"--http {raw!r}: put an IPv6 address in brackets: [{host}]:{port_text}")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(
            f"--http {raw!r}: give HOST:PORT or a port from 1 to 65535, e.g. 8080"
            " (0: any free port, said in the log)"
        )
    host = host or LOOPBACK
    if host == "localhost":
        host = LOOPBACK
    if not is_ip_address(host):
        if not _is_name(host):
            raise ConfigError(f"--http {raw!r}: {host!r} is not an IP address or a host name")
        if host.replace(".", "").isdigit():  # 999.1.1.1 passes for a name
            raise ConfigError(
                f"--http {raw!r}: {host!r} is not an IP address (four numbers, 0 to 255)"
            )
    return host, int(port_text)


def _is_name(host: str) -> bool:
    """Dot-separated labels of ASCII letters, digits and dashes."""
    return all(part and part.replace("-", "").isalnum() for part in host.split(".")) and (
        host.isascii()
    )


def _token(text: str, where: str) -> HttpToken:
    """A token as given, checked: one line of printable ASCII, long enough."""
    token = text.strip()
    if not token:
        raise ConfigError(f"the HTTP token in {where} is empty")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise ConfigError(
            f"the HTTP token in {where} must be one line of printable ASCII without spaces"
        )
    if len(token) < MIN_TOKEN:
        raise ConfigError(
            f"the HTTP token in {where} is shorter than {MIN_TOKEN} characters; make one with:"
            " python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return HttpToken(token)


def read_token(path: str | None, env_name: str, env: Mapping[str, str]) -> HttpToken | None:
    """The token from its file (mode 600) when given, else from its variable, else None."""
    if path:
        text = read_secret_file(path, "HTTP token file", 4096, holds="a token")
        return _token(text, path)
    value = env.get(env_name, "")
    return _token(value, env_name) if value.strip() else None


def http_config(
    bind: str,
    token_file: str | None = None,
    view_token_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> HttpConfig:
    """`--http HOST:PORT` and its tokens, checked: a bind beyond loopback needs a token."""
    env = os.environ if env is None else env
    host, port = parse_bind(bind)
    write = read_token(token_file, WRITE_TOKEN_ENV, env)
    view = read_token(view_token_file, VIEW_TOKEN_ENV, env)
    if write is not None and write == view:
        raise ConfigError("the HTTP view token and write token are the same: make them differ")
    config = HttpConfig(host, port, write, view)
    if not config.loopback and write is None and view is None:
        raise ConfigError(
            f"--http {bind.strip()} is reachable beyond this machine: set {VIEW_TOKEN_ENV}"
            f" (or --http-view-token-file FILE) to let readers in, and {WRITE_TOKEN_ENV}"
            " (or --http-token-file FILE) for writes; or bind 127.0.0.1"
        )
    return config
