"""Fitting text into the room it has: the least useful pieces give way first, the alarms never."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

from wahdx_tui.core.domain.display import cut_words

ALARM = 100
"""The rank of a piece that is never shortened, cut or dropped: failed and stuck counts,
STALE, API DOWN since, no poller since."""
MIN_CUT = 12  # a piece cut from the middle keeps at least this many cells, or goes whole


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a line: its text, how useful it is, and how it may give way."""

    text: Text
    rank: int = 50
    """Lower gives way first; ALARM never does."""
    short: Text | None = None
    """Said shorter, at `short_rank` (by default, just before it would be cut or dropped)."""
    short_rank: int | None = None
    cut: bool = False
    """May be cut from the middle, at whole words, before it is dropped."""
    sep: str = "  "
    """What comes between it and the piece before."""
    right: bool = False
    """In the group flush with the line's end."""
    name: str = ""

    @property
    def plain(self) -> str:
        """Its whole text, without styles."""
        return self.text.plain


def _width(pieces: Sequence[tuple[Piece, Text]]) -> int:
    """Cells the pieces take: left group, at least two cells, right group."""
    total = 0
    for group in (False, True):
        shown = [(p, t) for p, t in pieces if p.right is group]
        if not shown:
            continue
        if total:
            total += 2
        total += sum(cell_len(t.plain) for _, t in shown)
        total += sum(cell_len(p.sep) for p, _ in shown[1:])
    return total


def _cut(text: Text, width: int) -> Text:
    """The text cut from the middle at whole words, in its first style."""
    style = text.spans[0].style if text.spans else text.style
    return Text(cut_words(text.plain, width), style=style or text.style)


def fit_pieces(pieces: Sequence[Piece], width: int) -> list[tuple[Piece, Text]]:
    """The pieces kept, each with the text it shows, in their order. While the line is too
    wide, the least useful piece gives way: said shorter (at its `short_rank`), else cut from
    the middle (if it may be) or dropped. Alarms stay whole."""
    shown = [(p, p.text) for p in pieces]
    steps: list[tuple[int, int, int]] = []  # (rank, stage: 0 shorten / 1 cut or drop, -index)
    for i, piece in enumerate(pieces):
        if piece.rank >= ALARM:
            continue
        if piece.short is not None:
            rank = piece.rank if piece.short_rank is None else piece.short_rank
            steps.append((rank, 0, -i))
        steps.append((piece.rank, 1, -i))
    for _rank, stage, index in sorted(steps):
        over = _width(shown) - width
        if over <= 0:
            break
        piece = pieces[-index]
        if stage == 0:
            shown = [(p, piece.short if p is piece and piece.short else t) for p, t in shown]
            continue
        text = next((t for p, t in shown if p is piece), None)
        if text is None:
            continue
        room = cell_len(text.plain) - over
        if piece.cut and room >= MIN_CUT:
            shown = [(p, _cut(t, room) if p is piece else t) for p, t in shown]
        else:
            shown = [(p, t) for p, t in shown if p is not piece]
    return shown


def fit_line(pieces: Sequence[Piece], width: int) -> Text:
    """The pieces as one line of at most `width` cells (right-hand ones flush with its end);
    cut at the end only when the alarms alone do not fit."""
    shown = fit_pieces(pieces, width)
    groups: list[Text] = []
    for group in (False, True):
        line = Text(no_wrap=True)
        for n, (piece, text) in enumerate((p, t) for p, t in shown if p.right is group):
            if n:
                line.append(piece.sep)
            line.append_text(text)
        groups.append(line)
    left, right = groups
    if right.plain:
        pad = max(2 if left.plain else 0, width - cell_len(left.plain) - cell_len(right.plain))
        left.append(" " * pad)
        left.append_text(right)
    left.truncate(width, overflow="ellipsis")
    return left


@dataclass(frozen=True, slots=True)
class Said:
    """A banner message: `lead` and `tail` stay whole, `detail` (an error's text) is cut from
    the middle at whole words when the message would not fit its lines."""

    lead: str
    detail: str = ""
    tail: str = ""

    @property
    def text(self) -> str:
        """The whole message."""
        return self.lead + self.detail + self.tail


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` cells, broken between words where it can."""
    return textwrap.wrap(text, max(1, width), break_on_hyphens=False) or [""]


MIN_DETAIL = 24  # characters of an error a message keeps before it gives up its advice


def _longest_detail(lead: str, detail: str, tail: str, width: int, lines: int) -> list[str]:
    """The message with the longest middle cut of `detail` that fits, or [] if none does."""
    low, high = 0, len(detail)
    best: list[str] = []
    while low <= high:
        mid = (low + high) // 2
        wrapped = wrap(lead + (cut_words(detail, mid) if mid else "") + tail, width)
        if len(wrapped) <= lines:
            best, low = wrapped, mid + 1
        else:
            high = mid - 1
    return best


def fit_said(said: Said, width: int, lines: int) -> list[str]:
    """The message in at most `lines` lines of `width`: the detail cut from the middle at
    whole words as far as needed; when that would leave too little of it, without the tail
    (the advice); the lead (what happened, since when) always whole where it fits at all."""
    whole = wrap(said.text, width)
    if len(whole) <= lines:
        return whole
    enough = min(len(said.detail), MIN_DETAIL)
    for tail in (said.tail, ""):
        best = _longest_detail(said.lead, said.detail, tail, width, lines)
        if best and len(" ".join(best)) >= len(said.lead) + len(tail) + enough - 3:
            return best
    best = _longest_detail(said.lead, said.detail, "", width, lines)
    if best:
        return best
    kept = wrap(said.lead, width)
    last = kept[lines - 1]
    if " " in last[: width - 1]:
        last = last[: width - 1].rsplit(" ", 1)[0]
    return [*kept[: lines - 1], last[: max(0, width - 2)] + " …"]


def share_lines(needs: Sequence[int], lines: int) -> list[int]:
    """The lines each message gets: what it needs while they all fit; else the longest give
    up lines first, each keeping one (the messages past the banner's lines get none)."""
    shares = [max(1, n) for n in needs]
    while sum(shares) > lines:
        longest = max(range(len(shares)), key=lambda i: (shares[i], i))
        if shares[longest] > 1:
            shares[longest] -= 1
        else:
            shares[max(i for i, n in enumerate(shares) if n)] = 0
    return shares
