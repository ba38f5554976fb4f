"""GET /metrics: Prometheus text under `wahdx_`, read from the board serve keeps (never a publish
ID as a label), beside counters and histograms of what serve saw happen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from wahdx_tui.core.board.state import Row
from wahdx_tui.core.domain.model import PostKey, State
from wahdx_tui.core.domain.records import Transition
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.serve.web.wall import WallModel

PASS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
PUBLISH_BUCKETS = (
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1200.0,
    1800.0,
    3600.0,
    7200.0,
    21600.0,
    86400.0,
)
NO_PLATFORM = "unknown"


class Tally:
    """What serve counts as it happens: state changes, pass durations, and each post's time
    from first seen queued to published (for p95 service levels)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.transitions = Counter(
            "wahdx_transitions",
            "State changes seen by this serve, by the state entered",
            ["to"],
            registry=registry,
        )
        for state in State:
            self.transitions.labels(to=state.value)  # every series from the start, at 0
        self.pass_duration = Histogram(
            "wahdx_pass_duration_seconds",
            "How long this serve's passes took (only while it polls)",
            buckets=PASS_BUCKETS,
            registry=registry,
        )
        self.time_to_publish = Histogram(
            "wahdx_time_to_publish_seconds",
            "Seconds from a post first seen queued to published",
            buckets=PUBLISH_BUCKETS,
            registry=registry,
        )
        self._queued_at: dict[PostKey, float] = {}

    def seed(self, rows: Iterable[Row]) -> None:
        """Posts queued now were queued since their row says (at start, after a restore)."""
        for row in rows:
            if row.state is State.QUEUED and row.since is not None:
                self._queued_at.setdefault(row.key, row.since)

    def took(self, transitions: Iterable[Transition]) -> None:
        """Count state changes; a post published after being seen queued gives its time."""
        queued_at = self._queued_at
        for tr in transitions:
            self.transitions.labels(to=tr.new.value).inc()
            if tr.new is State.QUEUED:
                queued_at.setdefault(tr.key, tr.at)
            elif tr.new is State.PUBLISHED:
                began = queued_at.pop(tr.key, None)
                if began is not None:
                    self.time_to_publish.observe(max(0.0, tr.at - began))
            elif tr.new is State.FAILED:
                queued_at.pop(tr.key, None)

    def watched(self) -> list[PostKey]:
        """The posts seen queued and not yet published or failed."""
        return list(self._queued_at)

    def forget(self, keys: Iterable[PostKey]) -> None:
        """Posts no longer watched."""
        for key in keys:
            self._queued_at.pop(key, None)


class BoardCollector(Collector):
    """Gauges read at each scrape from the board's own aggregate (what the boards show)."""

    def __init__(self, engine: TeamEngine, wall: WallModel) -> None:
        self.engine = engine
        self.wall = wall

    def collect(self) -> Iterator[Metric]:
        """Every gauge and the API request counter, as they are now."""
        yield from self._posts()
        engine = self.engine
        holder = GaugeMetricFamily(
            "wahdx_lease_holder", "1 while this serve holds the poller lease, else 0"
        )
        holder.add_metric([], 1.0 if engine.polls_api else 0.0)
        yield holder
        last = engine.health.last_success
        if last is not None:
            yield GaugeMetricFamily(
                "wahdx_last_pass_timestamp_seconds",
                "When the poller's last complete pass ended (Unix time)",
                value=last,
            )
        yield GaugeMetricFamily(
            "wahdx_api_down",
            "1 while the API is down (as the poller says), else 0",
            value=1.0 if engine.health.state == "down" else 0.0,
        )
        yield GaugeMetricFamily(
            "wahdx_retired_posts",
            "Posts retired from the team's watchlist (finished, or retired by hand), as boards"
            " count them",
            value=float(engine.team_list.retired()),
        )
        yield GaugeMetricFamily(
            "wahdx_store_reachable",
            "1 while the store answers, else 0",
            value=0.0 if engine.store_down_since is not None else 1.0,
        )
        requests = CounterMetricFamily(
            "wahdx_api_requests",
            "Requests this serve sent to the API, by how each ended",
            labels=["outcome"],
        )
        client = engine.client
        for outcome, n in sorted((client.outcomes if client is not None else {}).items()):
            requests.add_metric([outcome], float(n))
        yield requests

    def _posts(self) -> Iterator[Metric]:
        """wahdx_posts, wahdx_stuck_posts and wahdx_not_known_posts, summed over the accounts
        by platform."""
        posts = GaugeMetricFamily(
            "wahdx_posts",
            "Posts watched, by state and platform; acknowledged failures apart",
            labels=["state", "platform", "acknowledged"],
        )
        stuck = GaugeMetricFamily(
            "wahdx_stuck_posts", "Posts flagged stuck, by platform", labels=["platform"]
        )
        not_known = GaugeMetricFamily(
            "wahdx_not_known_posts",
            "Posts the API answered about in no known state (not found: a typo in an ID?), by"
            " platform",
            labels=["platform"],
        )
        by_platform: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        stuck_by: dict[str, int] = defaultdict(int)
        not_known_by: dict[str, int] = defaultdict(int)
        for account in self.wall.accounts.rows.values():
            platform = account.platform or NO_PLATFORM
            counts = by_platform[platform]
            for state in State:
                n = account.counts.get(state, 0)
                if state is State.FAILED:
                    acked = n - account.unreviewed
                    counts[(state.value, "true")] = counts.get((state.value, "true"), 0) + acked
                    n = account.unreviewed
                counts[(state.value, "false")] = counts.get((state.value, "false"), 0) + n
            stuck_by[platform] += account.stuck
            not_known_by[platform] += account.not_known
        for platform, counts in sorted(by_platform.items()):
            for (word, acked_word), count in sorted(counts.items()):
                posts.add_metric([word, platform, acked_word], float(count))
            stuck.add_metric([platform], float(stuck_by[platform]))
            not_known.add_metric([platform], float(not_known_by[platform]))
        yield posts
        yield stuck
        yield not_known


def metrics_registry(engine: TeamEngine, wall: WallModel) -> tuple[CollectorRegistry, Tally]:
    """A registry of its own (never the process-wide default) with the board's gauges."""
    # No `_created` series beside each counter and histogram: noise on a dashboard.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BoardCollector(engine, wall))
    return registry, Tally(registry)


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of everything in the registry."""
    return generate_latest(registry)
