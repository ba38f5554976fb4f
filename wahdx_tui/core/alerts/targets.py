"""Notification targets from WAHDX_NOTIFY or an Apprise config file, each with its secrets known."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from wahdx_tui.core.alerts.message import ROUTES
from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.logsetup import add_secrets, isolate_delivery_logs
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.secretfile import read_secret_file

if TYPE_CHECKING:  # Apprise loads its plugins on first use: imported only when targets exist
    import apprise

NOTIFY_ENV = "WAHDX_NOTIFY"
MAX_CONFIG_BYTES = 1 << 20
NO_TARGETS = "no notification targets: set WAHDX_NOTIFY or pass --notify-config FILE"


def delivery_asset() -> apprise.AppriseAsset:
    """Apprise's settings for wahdx-tui: no service deadline of its own (the notifier bounds
    each attempt by socket timeouts in its own thread), no storage on disk."""
    import apprise

    return apprise.AppriseAsset(app_id="wahdx-tui", app_desc="wahdx-tui alerts", service_timeout=0)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Target:
    """One place alerts go; shows itself only redacted."""

    index: int
    """1-based position in WAHDX_NOTIFY or the config file."""
    service: str
    """The URL scheme (Apprise's name for the service), e.g. "slack", "json"."""
    display: str
    """The target without credentials or tokens, e.g. "json://127.0.0.1:8080/…"."""
    routes: frozenset[str]
    """Alert kinds it takes (its tags among failures, stuck, api, reminders); empty: all."""
    plugin: Any
    """The Apprise service object."""
    secrets: tuple[ApiKey, ...]
    """Every value in its URL that must never be shown."""

    def takes(self, route: str | None) -> bool:
        """True when a message of this route is for this target."""
        return route is None or not self.routes or route in self.routes

    def __repr__(self) -> str:
        return f"Target({self.index}, {self.display})"


# -- secrets ---------------------------------------------------------------------------------

_SPLIT = re.compile(r"[/:@?&=#,+;\s]+")
_URL_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,20})://\S*")
_PAREN_TOKEN = re.compile(r"\((?=[^()\s]*[A-Za-z0-9])[^()\s]{6,}\)")
_HOSTNAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def _tokenish(text: str) -> bool:
    return len(text) >= 8 or (len(text) >= 5 and any(c.isdigit() for c in text))


def displayable_host(host: str) -> bool:
    """True for a host that names a machine (an IP, localhost, a dotted name), not a token."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.fullmatch(host))
    return True


def url_secrets(url: str, *, query: bool = True) -> set[str]:
    """The parts of a URL that may be credentials: the URL itself, its password, a host that
    is not a machine name, and path segments, fragment and (with `query`) query values that
    look like tokens."""
    values = {url}
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return values | {t for t in _SPLIT.split(url) if _tokenish(t)}
    userinfo, _, hostport = netloc.rpartition("@")
    if userinfo:
        user, _, password = userinfo.partition(":")
        values.update(v for v in (password, user if _tokenish(user) else "") if v)
    host = hostport
    if not host.startswith("["):
        host = host.partition(":")[0]
    if host and not displayable_host(host):
        values.add(host)
    values.update(seg for seg in parts.path.split("/") if _tokenish(seg))
    if query:
        values.update(v for _, v in parse_qsl(parts.query) if _tokenish(v))
    if _tokenish(parts.fragment):
        values.add(parts.fragment)
    return values


def _values(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _values(item)


def plugin_secrets(plugin: Any) -> set[str]:
    """What an Apprise service object holds as private: its private tokens and arguments, and
    every part of its full URL that its privacy URL masks."""
    values: set[str] = set()
    cls = type(plugin)
    for specs in (getattr(cls, "template_tokens", {}), getattr(cls, "template_args", {})):
        for name, spec in specs.items():
            if isinstance(spec, dict) and spec.get("private"):
                values.update(_values(getattr(plugin, spec.get("map_to", name), None)))
    try:
        full, private = str(plugin.url(privacy=False)), str(plugin.url(privacy=True))
    except Exception:  # a plugin that cannot print itself holds nothing more we can learn
        return values
    # Its query holds Apprise's own options; private ones were found above.
    values |= url_secrets(full, query=False)
    shown = set(_SPLIT.split(unquote(private)))
    values.update(t for t in _SPLIT.split(unquote(full)) if len(t) >= 3 and t not in shown)
    return values


def as_secrets(values: Iterable[str]) -> tuple[ApiKey, ...]:
    """Values as redactable secrets, with their percent-encoded and decoded forms, longest first."""
    forms: set[str] = set()
    for value in values:
        if len(value) < 3:
            continue
        forms.update({value, quote(value, safe=""), unquote(value)})
    return tuple(
        ApiKey(v) for v in sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)
    )


def scrub(text: str, secrets: Iterable[ApiKey], limit: int = 160) -> str:
    """Text from Apprise or a service made safe to show: secrets, URLs and token-like
    parenthesised values removed, controls cleaned, cut to `limit`."""
    for secret in secrets:
        text = text.replace(secret.reveal(), "***")
    text = _URL_IN_TEXT.sub(lambda m: f"{m.group(1)}://…", text)
    text = _PAREN_TOKEN.sub("(…)", text)
    return clean(text, limit)


# -- loading ---------------------------------------------------------------------------------


class _Problems(logging.Handler):
    """Collects what Apprise warns about while it reads URLs and configuration."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno <= logging.ERROR:  # not Apprise's deprecation notices
            try:
                self.messages.append(record.getMessage())
            except Exception:  # a malformed record is no reason to fail loading
                self.messages.append("a problem Apprise could not describe")


@contextmanager
def _apprise_problems() -> Iterator[_Problems]:
    """While URLs are read, Apprise's records go to this collector alone: they quote the URLs
    and the whole config text, before any of their secrets are known to the log's redaction."""
    logger = logging.getLogger("apprise")
    handler = _Problems()
    saved, logger.handlers = logger.handlers, [handler]
    try:
        yield handler
    finally:
        logger.handlers = saved


def _scheme(url: str) -> str:
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]{0,20})://", url)
    return match.group(1).lower() if match else "?"


def _target(index: int, plugin: Any, extra: Iterable[str] = ()) -> Target:
    secrets = as_secrets({*plugin_secrets(plugin), *extra})
    private = str(plugin.url(privacy=True))
    service = _scheme(private)
    revealed = {s.reveal() for s in secrets}
    host = getattr(plugin, "host", None)
    display = f"{service}://…"
    tokens = getattr(type(plugin), "template_tokens", {})
    if (
        isinstance(host, str)
        and "host" in tokens
        and displayable_host(host)
        and host not in revealed
    ):
        port = getattr(plugin, "port", None)
        display = f"{service}://{host}{f':{port}' if isinstance(port, int) else ''}/…"
    tags = {str(tag).lower() for tag in getattr(plugin, "tags", ()) or ()}
    return Target(index, service, display, frozenset(tags & ROUTES), plugin, secrets)


def _first_problem(problems: list[str], secrets: Iterable[ApiKey]) -> str:
    return f": {scrub(problems[0], secrets)}" if problems else ""


def targets_from_urls(urls: Iterable[str], where: str = NOTIFY_ENV) -> tuple[Target, ...]:
    """One target per Apprise URL; ConfigError naming the entry (never its text) if one is bad."""
    import apprise

    asset = delivery_asset()
    targets = []
    for index, url in enumerate(urls, start=1):
        with _apprise_problems() as problems:
            plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            why = _first_problem(problems.messages, as_secrets(url_secrets(url)))
            raise ConfigError(
                f"{where} entry {index} ({_scheme(url)}://…) is not a notification URL"
                f" Apprise can use{why}"
            )
        targets.append(_target(index, plugin, url_secrets(url)))
    return tuple(targets)


def targets_from_config(path: str) -> tuple[Target, ...]:
    """The targets of an Apprise config file (YAML or TEXT, tags included), mode 600 only."""
    import apprise

    text = read_secret_file(path, "notify config", MAX_CONFIG_BYTES, holds="tokens")
    asset = delivery_asset()
    config = apprise.AppriseConfig(asset=asset)
    with _apprise_problems() as problems:
        readable = config.add_config(text, asset=asset)
        loader = apprise.Apprise(asset=asset)
        loader.add(config)
        plugins = list(loader.find(tag=apprise.common.MATCH_ALL_TAG))
    secrets = as_secrets(s for p in plugins for s in plugin_secrets(p))
    if not readable:
        raise ConfigError(
            f"notify config {path} is in neither of Apprise's formats (YAML or TEXT)"
            f"{_first_problem(problems.messages, secrets)}"
        )
    if not plugins:
        raise ConfigError(f"notify config {path} holds no notification URL Apprise can use")
    if problems.messages:
        count = len(problems.messages)
        raise ConfigError(
            f"notify config {path}: {count} {'entry' if count == 1 else 'entries'} could not be"
            f" used{_first_problem(problems.messages, secrets)}"
        )
    return tuple(_target(index, plugin) for index, plugin in enumerate(plugins, start=1))


def load_targets(
    config_file: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[Target, ...]:
    """Targets from --notify-config FILE when given, else from WAHDX_NOTIFY; () when neither.

    Their secrets are registered with the log redaction (core.logsetup.add_secrets). Also keeps Apprise's and urllib3's own log records away from any root handler: they can
    hold URLs, and only redacting handlers (core.logsetup) may see them.
    """
    isolate_delivery_logs()
    if config_file:
        targets = targets_from_config(config_file)
    else:
        env = os.environ if env is None else env
        targets = targets_from_urls(env.get(NOTIFY_ENV, "").split())
    add_secrets(*(s for t in targets for s in t.secrets))
    return targets
