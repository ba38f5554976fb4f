"""Assemble a team engine from resolved settings: the store, the link, and the no-poller check."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from wahdx_tui.core.alerts import AlertSettings, open_alerter
from wahdx_tui.core.alerts.hook import AlertHook
from wahdx_tui.core.api.client import (
    ClientEvent,
    ClientFactory,
    ClientOptions,
    WahdxClient,
    client_factory,
)
from wahdx_tui.core.domain.errors import ConfigError
from wahdx_tui.core.settings.secret import ApiKey
from wahdx_tui.core.settings.table import Settings
from wahdx_tui.core.store.protocol import Store, scope_for
from wahdx_tui.core.store.url import resolve_store_url
from wahdx_tui.core.store.writer import StoreWriter
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.team.lease import TeamLink, lease_name, new_holder
from wahdx_tui.core.team.watchlist import Retirement
from wahdx_tui.core.watchlist.reader import Watchlist

NO_POLLER = (
    "no API key and no poller running for this watchlist: start wahdx-tui serve, "
    "or set WAHDX_API_KEY"
)


def store_url(
    store: str | None, history: str | None, env: Mapping[str, str] | None = None
) -> str | None:
    """--store, else $WAHDX_STORE, else --history FILE, else None (the default SQLite file)."""
    return resolve_store_url(store, env) or history or None


def _no_client(_on_event: Callable[[ClientEvent], None]) -> WahdxClient:
    raise ConfigError("this board has no API key: it follows the team's poller")


def team_engine(
    watchlist: Watchlist,
    *,
    base_url: str,
    api_key: ApiKey | None,
    settings: Settings,
    options: ClientOptions,
    fixed_settings: frozenset[str],
    store: Store,
    can_poll: bool,
    notify_config: str | None = None,
    operator: str | None = None,
    accounts: Collection[str] = (),
    shows_file: bool = True,
) -> TeamEngine:
    """An engine in the team of `store` for this API (polling only if `can_poll` and keyed),
    showing its watchlist file (unless not `shows_file`: serve's wall and metrics are the
    whole list's, its file only one source), or without one the team's list (of `accounts`
    only, if any); its acknowledgements are signed by `operator` (default: user@host)."""
    scope = scope_for(base_url)
    holder = new_holder()
    link = TeamLink(store, scope, can_poll and api_key is not None, holder, holder.id)
    factory: ClientFactory = (
        client_factory(base_url, api_key, options) if api_key is not None else _no_client
    )
    engine = TeamEngine(
        watchlist,
        factory,
        team=link,
        interval=settings.interval,
        final_every=settings.final_every,
        history=StoreWriter(store, scope),
        fixed_settings=fixed_settings,
        watch_file=bool(watchlist.path),
        operator=operator,
    )
    engine.team_list.accounts = frozenset(accounts)
    engine.team_list.shows_file = shows_file
    engine.retirement = Retirement.of(settings)
    engine.history.forget_after = settings.forget_after
    if link.can_poll:  # only the poller sends: a board that may become it gets the targets
        alerter = open_alerter(settings.into(AlertSettings, prefix="notify_"), notify_config)
        engine.alerts = AlertHook(alerter) if alerter is not None else None
    return engine


def poller_alive(store: Store, base_url: str) -> bool:
    """Whether a poller holds a live lease for this API in the store (raises StoreError)."""
    lease = store.lease_info(lease_name(scope_for(base_url)))
    return lease is not None and not lease.expired
