"""`make bench`: every metric as `name: value`, with its goal; results kept in bench/."""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import headless, poll, scale, store, team, teamlist, terminal, web
from bench.common import Skipped

# name -> (goal, how the goal reads); None: reported beside its metric, no goal of its own.
GOALS: dict[str, tuple[float, str] | None] = {
    "apply_1pct_10k_ms": (20, "<= 20"),
    "rebuild_10k_ms": None,
    "first_board_10k_s": (3, "<= 3"),
    "poll_10k_s": None,
    "poll_10k_bound_s": None,
    "poll_10k_ratio": (1.5, "<= 1.5 (poll_10k_s / poll_10k_bound_s)"),
    "seq_10k_s": None,
    "idle_cpu_pct": (2, "<= 2"),
    "idle_bytes_per_s": (1024, "<= 1024"),
    "rss_100k_mb": (220, "<= 220"),
    "scroll_100k_ms": (50, "<= 50"),
    "viewers_10_request_ratio": (1.0, "<= 1.00 (requests attached / alone)"),
    "viewers_requests_alone": None,
    "viewers_requests_attached": None,
    "viewers_passes_per_window": None,
    "change_to_screen_p95_ms": (1000, "<= 1000"),
    "change_to_screen_p50_ms": None,
    "notice_change_p95_ms": None,
    "attached_idle_cpu_10k_pct": (1, "<= 1"),
    "attached_idle_bytes_per_s": None,
    "serve_idle_cpu_10k_pct": None,
    "write_10k_changes_ms": None,
    "pg_write_10k_changes_ms": (1000, "<= 1000"),
    "pg_notice_change_p95_ms": None,
    "pg_change_to_screen_p95_ms": (1000, "<= 1000"),
    "pg_change_to_screen_p50_ms": None,
    # Scale, round two (issue 15): end to end against a simulator in another process.
    "first_board_100k_s": None,
    "first_board_100k_at_once_s": None,
    "first_board_100k_floor_s": None,
    "first_board_100k_ratio": (1.5, "<= 1.5 (first_board_100k_s / first_board_100k_floor_s)"),
    "first_board_10k_20ms_s": None,
    "first_board_10k_floor_s": None,
    "first_board_10k_20ms_ratio": (2.0, "<= 2.0 (first_board_10k_20ms_s / its floor)"),
    "steady_cpu_100k_pct": (3, "<= 3"),
    "cpu_per_asked_post_us": (10, "<= 10"),
    "cpu_per_asked_slowest_window_us": None,
    "cpu_per_asked_fastest_window_us": None,
    "asked_per_pass_100k": None,
    "apply_100_10k_ms": None,
    "apply_100_100k_ms": None,
    "apply_100_changes_ratio": (1.5, "<= 1.5 (apply_100_100k_ms / apply_100_10k_ms)"),
    "attached_steady_cpu_100k_pct": (1, "<= 1 (median of three windows of four passes)"),
    "attached_steady_highest_window_pct": None,
    "attached_steady_bytes_per_s": None,
    "serve_steady_cpu_100k_pct": (2, "<= 2 (median of the same windows)"),
    "serve_steady_highest_window_pct": None,
    # The team's watchlist (issue 24).
    "add_10k_s": (2, "<= 2 (the slower of SQLite and PostgreSQL)"),
    "add_10k_sqlite_s": None,
    "add_10k_pg_s": None,
    "add_to_screen_p95_ms": (2000, "<= 2000"),
    "add_to_screen_p50_ms": None,
    "retired_requests_ratio": (0.15, "<= 0.15 (requests per pass with retirement / without)"),
    "requests_per_pass_without_retirement": None,
    "requests_per_pass_with_retirement": None,
    # serve --http (issue 25): pages, ingest, and serve's steady CPU with its HTTP side on.
    "web_viewers_20_cpu_pct": (1, "<= 1 (extra CPU of serve with 20 live pages)"),
    "web_serve_alone_cpu_pct": None,
    "change_to_page_p95_ms": (1000, "<= 1000"),
    "change_to_page_p50_ms": None,
    "ingest_10k_s": (2, "<= 2"),
    "serve_http_steady_cpu_100k_pct": None,
}
RESULTS = Path(__file__).resolve().parent / "last-results.txt"


def main() -> int:
    """Run every benchmark; exit 1 when a goal is missed."""
    groups: list[Callable[[], dict[str, float]]] = [
        headless.run,
        poll.run,
        terminal.first_board,
        terminal.idle,
        terminal.memory,
        team.viewers,
        team.change_to_screen,
        team.attached_idle,
        store.run,
        headless.apply_growth,
        scale.first_boards,
        scale.steady_100k,
        team.attached_steady_100k,
        teamlist.add_10k,
        teamlist.add_to_screen,
        teamlist.retired_requests,
        web.viewers_20,
        web.change_to_page,
        web.ingest_10k,
        web.serve_steady_100k,
    ]
    values: dict[str, float] = {}
    skipped: dict[str, str] = {}  # metric -> why its group could not run here
    for group in groups:
        try:
            values.update(group())
        except Skipped as why:  # its metrics say "skipped"; one line says how to run them
            skipped.update((name, str(why)) for name in why.names)
    lines = [
        f"# wahdx-tui bench, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.machine()}, Python {platform.python_version()}"
    ]
    missed = 0
    for name, goal in GOALS.items():
        if name in skipped:
            lines.append(f"{name}: skipped")
            continue
        value = values[name]
        line = f"{name}: {value:.3f}" if value < 100 else f"{name}: {value:.1f}"
        if goal is not None:
            ok = value <= goal[0]
            missed += not ok
            line += f"    goal {goal[1]}: {'ok' if ok else 'MISSED'}"
        lines.append(line)
    lines += [f"skipped: {why}" for why in dict.fromkeys(skipped.values())]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    RESULTS.write_text(text)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
