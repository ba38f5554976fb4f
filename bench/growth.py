"""`python -m bench.growth`: each scale metric at 1,000, 10,000 and 100,000 posts, as a table.

`python -m bench.growth METRIC N` prints one figure as JSON (for side-by-side runs of two
checkouts); METRIC is one of first_board, steady, rss, apply, attached (the steady workload
on a board attached to a team's poller).
"""

from __future__ import annotations

import asyncio
import json
import sys

from bench import headless, scale, team

SIZES = (1_000, 10_000, 100_000)
METRICS = ("first_board", "steady", "attached", "rss", "apply")


def measure(metric: str, n: int) -> dict[str, float]:
    """One metric at n posts."""
    if metric == "first_board":
        return scale.first_board(n)
    if metric == "steady":
        got = scale.steady(n)
        return {"cpu_pct": got.cpu_pct, "us_per_asked": got.us_per_asked}
    if metric == "attached":
        got = team.attached_steady(n)
        return {"cpu_pct": got.cpu_pct, "serve_cpu_pct": got.serve_cpu_pct}
    if metric == "rss":
        return {"mb": scale.memory(n)}
    if metric == "apply":
        return {"ms": asyncio.run(headless.apply_changes(n, changed=min(100, n // 10)))}
    raise SystemExit(
        f"error: unknown metric {metric!r}: first_board, steady, rss, apply or attached"
    )


def table() -> str:
    """Every metric at every size, as a Markdown table."""
    rows = {n: {m: measure(m, n) for m in METRICS} for n in SIZES}
    head = "| metric | " + " | ".join(f"{n:,} posts" for n in SIZES) + " |"
    lines = [head, "|---|" + "---|" * len(SIZES)]

    def row(name: str, pick: str, key: str, fmt: str) -> None:
        cells = [format(rows[n][pick][key], fmt) for n in SIZES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("launch to full board, 20 ms per request (s)", "first_board", "seconds", ".2f")
    row("the same, API answering at once (s)", "first_board", "at_once", ".2f")
    row("first board / (poll floor + at once)", "first_board", "ratio", ".2f")
    row("steady CPU, 15 s interval, 60% final (% of a core)", "steady", "cpu_pct", ".2f")
    row("CPU per asked post (us)", "steady", "us_per_asked", ".1f")
    row("the same workload, board attached to a poller (% of a core)", "attached", "cpu_pct", ".2f")
    row("resident memory after the first pass (MiB)", "rss", "mb", ".0f")
    row("UI time to apply 100 changes (ms)", "apply", "ms", ".1f")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """The table, or one figure as JSON."""
    if len(argv) == 2:
        print(json.dumps(measure(argv[0], int(argv[1]))))
    else:
        sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
