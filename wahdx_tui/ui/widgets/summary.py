"""The summary bar: counts per state, last and next refresh, API health, and the current view."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from wahdx_tui.core.board.state import Board
from wahdx_tui.core.domain.display import STATE_GLYPHS
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.engine.health import Health
from wahdx_tui.core.team.engine import Source
from wahdx_tui.ui.widgets.fit import ALARM, Piece, fit_line

_ORDER = (State.FAILED, State.PROCESSING, State.QUEUED, State.PUBLISHED, State.UNKNOWN)
_STYLE = {
    State.FAILED: "bold red",
    State.PROCESSING: "yellow",
    State.QUEUED: "cyan",
    State.PUBLISHED: "green",
    State.UNKNOWN: "magenta",
}


def _clock(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "never"


def _hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.localtime(ts))


_SHORT = {State.PROCESSING: "PROC", State.PUBLISHED: "PUBL", State.UNKNOWN: "UNKN"}
# How long each count keeps its place when the line is narrow (the alarms: always).
_COUNT_RANK = {State.PUBLISHED: 30, State.QUEUED: 35, State.PROCESSING: 40, State.UNKNOWN: 70}


def count_pieces(
    board: Board, counts: Mapping[State, int], *, mono: bool = False, retired: int = 0
) -> list[Piece]:
    """'✗ 3 FAILED (2 unreviewed)  ◐ 5 PROCESSING ...  ⚠ 1 STUCK  Σ 25 total', as pieces: on a
    narrow line the zero counts and the total go first, then the words of the others are
    shortened ('◐ 5 PROC'), and the failed and stuck counts stay whole.

    Failures are drawn reversed, so they stand out in colour and in monochrome (NO_COLOR) alike.
    """
    pieces: list[Piece] = []
    for state in _ORDER:
        n = counts.get(state, 0)
        style = _STYLE[state] if n else "dim"
        if state is State.FAILED and n:
            style = "bold reverse" if mono else "bold white on red"
        elif state is State.UNKNOWN and board.unknown:
            # Answered in no known state: the API does not know them (a typo in an ID?).
            style = "bold reverse" if mono else "bold white on magenta"
        text = Text(f"{STATE_GLYPHS[state]} {n} {state.value.upper()}", style=style)
        if state is State.FAILED and n:
            unreviewed = board.unreviewed
            if unreviewed != n:
                text.append(f" ({unreviewed} unreviewed)", style=style)
        if (state is State.FAILED and n) or (state is State.UNKNOWN and board.unknown):
            pieces.append(Piece(text, ALARM, name=state.value))  # never cut: they need a human
            continue
        word = _SHORT.get(state, "")
        short = Text(f"{STATE_GLYPHS[state]} {n} {word}", style=style) if word else None
        if not n:  # a zero count goes first
            pieces.append(Piece(text, 10, name=state.value))
            continue
        rank = _COUNT_RANK[state]  # said shorter at its rank, dropped only after every other
        pieces.append(Piece(text, rank + 20, short, short_rank=rank, name=state.value))
    stuck = board.stuck
    if stuck:
        pieces.append(Piece(Text(f"⚠ {stuck} STUCK", style="bold yellow"), ALARM, name="stuck"))
    pieces.append(Piece(Text(f"Σ {len(board.rows)} total", style="bold"), 20, name="total"))
    if retired:
        pieces.append(Piece(Text(f"{retired} retired", style="dim"), 15, sep=" · ", name="retired"))
    return pieces


def counts_text(board: Board, counts: Mapping[State, int], *, mono: bool = False) -> Text:
    """The counts line whole (see `count_pieces`)."""
    return fit_line(count_pieces(board, counts, mono=mono), 10_000)


@dataclass(frozen=True, slots=True)
class Status:
    """What the status line says about the board's data, in one place: how fresh it is, when
    the next pass comes, and where the states come from (this board, or the team's poller)."""

    health: Health
    next_at: float | None = None
    paused: bool = False
    source: Source | None = None  # None: a board of its own, no team

    @property
    def follows(self) -> bool:
        """The states come from another process's poller (or would, when one is alive)."""
        return self.source is not None and not self.source.polling

    @property
    def live(self) -> bool:
        """A poller is alive, keeping up, and the API answers it: what it writes is current."""
        source = self.source
        health = self.health
        return (
            source is not None
            and source.host is not None
            and source.late is None
            and health.state == "ok"
            and not health.stale
        )


def _updated(status: Status) -> list[Piece]:
    """'updated 14:02:05', with STALE when the data is old (said once, here)."""
    health = status.health
    pieces = [Piece(Text(f"updated {_clock(health.last_success)}"), 60, name="updated")]
    if health.stale and health.last_success:
        pieces.append(Piece(Text("STALE", style="bold reverse"), ALARM, sep=" ", name="stale"))
    return pieces


def _next(status: Status) -> list[Piece]:
    """'next 14:02:20', 'refreshing…' or 'PAUSED' on a board that polls; 'live' on one that
    follows a poller that keeps up; nothing otherwise (the source says why)."""
    if status.follows:
        return [Piece(Text("live"), 40, name="next")] if status.live else []
    if status.paused:
        return [Piece(Text("PAUSED", style="bold reverse"), ALARM, name="next")]
    if status.next_at is None:
        return [Piece(Text("refreshing…"), 50, name="next")]
    return [Piece(Text(f"next {_clock(status.next_at)}"), 50, name="next")]


def _source(status: Status) -> list[Piece]:
    """Where a team board's states come from: 'polling for the team', 'via poller on HOST',
    or 'no poller since 14:02' (then nothing is said of the API: nobody is asking it)."""
    source = status.source
    if source is None:
        return []
    if source.polling:
        return [Piece(Text("polling for the team", style="bold"), 25, name="source")]
    if source.host is None:
        since = f" since {_hhmm(source.gone_since)}" if source.gone_since else ""
        return [Piece(Text(f"no poller{since}", style="bold red"), ALARM, name="source")]
    text = Text(f"via poller on {source.host}", style="bold")
    return [Piece(text, 45, cut=True, name="source")]


def _api(status: Status) -> list[Piece]:
    """'API ok', 'API retrying: …' or 'API DOWN since 14:02: …'; for a poller that stopped
    passing, 'no pass since 14:02' instead (what it last said of the API is old news)."""
    source, health = status.source, status.health
    if source is not None and not source.polling:
        if source.host is None:
            return []
        if source.late is not None:
            since = _hhmm(time.time() - source.late)
            text = Text(f"no pass since {since}", style="bold red")
            return [Piece(text, ALARM, sep=" · ", name="health")]
    sep = " · " if source is not None else "  "
    detail: Piece | None = None
    if health.last_error and health.state in ("retrying", "down"):
        detail = Piece(Text(f": {health.last_error}"), 30, cut=True, sep="", name="error")
    if health.state == "ok":
        head = Piece(Text.assemble("API ", ("ok", "green")), 55, sep=sep, name="health")
    elif health.state == "starting":
        head = Piece(Text("API connecting…"), 55, sep=sep, name="health")
    elif health.state == "retrying":
        text = Text.assemble("API ", ("retrying", "bold yellow"))
        head = Piece(text, 70, sep=sep, name="health")
    else:
        since = _clock(health.down_since)[:5]
        text = Text.assemble("API ", (f"DOWN since {since}", "bold red"))
        head = Piece(text, ALARM, sep=sep, name="health")
    return [head] if detail is None else [head, detail]


def status_pieces(status: Status) -> list[Piece]:
    """The status line, left to right: updated, next, source, API."""
    return [*_updated(status), *_next(status), *_source(status), *_api(status)]


def view_pieces(board: Board, *, sort_shown: bool = True) -> list[Piece]:
    """'state: failed · text: "tiktok" · 12 shown · sort: label ▲', flush right.

    On a narrow line the sort goes first (a heading carries its arrow), then the count; the
    filters, shown nowhere else, stay longest. A sort by a column off screen is said here
    as long as the filters are.
    """
    words: list[tuple[str, str]] = []
    if board.state_filter is not None:
        words.append(("state", f"state: {board.state_filter.value}"))
    if board.account_filter is not None:
        words.append(("account", f"account: {clean(board.account_filter, 60)}"))
    if board.category_filter is not None:
        words.append(("reason", f"reason: {board.category_filter.value.replace('_', ' ')}"))
    if board.text_filter:
        words.append(("text", f"text: {board.text_filter!r}"))
    pieces = [Piece(Text(w, style="dim"), 65, cut=True, right=True, name=n) for n, w in words]
    pieces.append(Piece(Text(f"{len(board)} shown", style="dim"), 35, right=True, name="shown"))
    arrow = "▼" if board.reverse else "▲"
    sort = Text(f"sort: {board.sort_column} {arrow}", style="dim")
    pieces.append(Piece(sort, 15 if sort_shown else 64, right=True, name="sort"))
    return [replace(p, sep=" · ") for p in pieces]


def view_text(board: Board) -> Text:
    """The view pieces whole (see `view_pieces`)."""
    return fit_line(view_pieces(board), 10_000)


def title_text(counts: Mapping[State, int], health: Health) -> str:
    """The terminal title: 'wahdx-tui: 3 failed (stale)', so a background tab tells too."""
    failed = counts.get(State.FAILED, 0)
    title = f"wahdx-tui: {failed} failed" if failed else "wahdx-tui: no failures"
    return title + " (stale)" if health.stale else title


def summary_key(
    board: Board,
    counts: Mapping[State, int],
    status: Status,
    *,
    sort_shown: bool,
    retired: int,
    mono: bool,
) -> tuple[object, ...]:
    """Everything the summary's pieces and the terminal title read, as one value: while it
    is equal, so are they (a board redraws it every second, and rebuilt, it cost most of an
    idle attached board's own CPU)."""
    health = status.health
    return (
        tuple(counts.items()),
        (board.unreviewed, board.stuck, board.unknown, len(board.rows), len(board)),
        (board.state_filter, board.account_filter, board.category_filter, board.text_filter),
        (board.sort_column, board.reverse, sort_shown, retired, mono),
        (health.state, health.down_since, health.last_error, health.last_success, health.stale),
        (status.next_at, status.paused, status.source),
    )


class SummaryLine(Widget):
    """One line of the summary bar, made of pieces fitted to its width when drawn (the least
    useful give way, the alarms never); redrawn only when a piece's text changes."""

    DEFAULT_CSS = "SummaryLine { height: 1; width: 1fr; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: tuple[Piece, ...] | None = None

    def show(self, pieces: Sequence[Piece]) -> None:
        """Update when different from what is on screen."""
        new = tuple(pieces)
        old = self._shown
        if old is None or [(p.text, p.rank) for p in new] != [(p.text, p.rank) for p in old]:
            self._shown = new
            self.refresh()

    def render(self) -> Text:
        """The pieces that fit the line's width."""
        return fit_line(self._shown or (), self.content_region.width or self.size.width)

    @property
    def plain(self) -> str:
        """Every piece's text, whole, without styles (for tests)."""
        return fit_line(self._shown or (), 10_000).plain.rstrip()

    def piece(self, name: str) -> str:
        """The whole text of the pieces of that name (for tests)."""
        return " ".join(p.plain for p in self._shown or () if p.name == name)


class SummaryBar(Static):
    """Counts on the first line; updated, next, where from, API health and the view on the
    second."""

    def compose(self) -> ComposeResult:
        """The two lines, each redrawn on its own."""
        yield SummaryLine(id="counts")
        yield SummaryLine(id="status")

    def show_board(
        self,
        board: Board,
        counts: Mapping[State, int],
        status: Status,
        *,
        sort_shown: bool,
        retired: int = 0,
    ) -> None:
        """Redraw each line whose text changed; `retired` says how many posts retired."""
        mono = self.app.no_color
        pieces = count_pieces(board, counts, mono=mono, retired=retired)
        self.query_one("#counts", SummaryLine).show(pieces)
        pieces = [*status_pieces(status), *view_pieces(board, sort_shown=sort_shown)]
        self.query_one("#status", SummaryLine).show(pieces)
