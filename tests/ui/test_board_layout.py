"""What the board looks like: failed rows, NO_COLOR contrast, the footer's keys, columns at
80x24, and hostile text from the API or the watchlist shown as plain inert text."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pytest
from rich.cells import set_cell_size
from textual.color import Color
from textual.strip import Strip

from tests.support.fixtures import (
    SEED,
    Harness,
    entry,
    header_text,
    rechecked,
    running_board,
    screen_text,
    toasts,
)
from wahdx_tui.core.domain.model import State, WatchedPost
from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.watchlist.reader import Watchlist, parse_watchlist
from wahdx_tui.sim.faults import hostile_index, hostile_text
from wahdx_tui.sim.schedule import timeline_for
from wahdx_tui.ui.keys import KEYS
from wahdx_tui.ui.screens.detail import DetailScreen
from wahdx_tui.ui.widgets.columns import COLUMNS, GAP

pytestmark = pytest.mark.usefixtures("quick_pilot")


# -- failed rows and NO_COLOR ----------------------------------------------------------------------


async def test_failed_rows_are_styled_as_whole_error_rows() -> None:
    async with running_board(advance=70) as h:
        await h.pilot.press("j")  # cursor off the first failed row
        strip = h.table.render_line(0)
        failed = h.table.get_component_rich_style("board-table--failed")
        colours = {seg.style.bgcolor if seg.style else None for seg in strip}
        assert colours == {(h.table.rich_style + failed).bgcolor}
        text = "".join(s.text for s in strip)
        assert text.startswith("✗ FAILED")


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def filtered_colours(
    h: Harness, strip: Strip
) -> list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]:
    """(text, foreground, background) of each segment as the terminal gets it: after the
    app's line filters (with NO_COLOR, Textual's Monochrome filter turns colours to greys)."""
    for line_filter in h.app.get_line_filters():
        strip = strip.apply_filter(line_filter, Color(0, 0, 0))
    out = []
    for seg in strip:
        style = seg.style
        if not seg.text.strip():
            continue  # blank cells: only their background shows
        assert style is not None and style.color is not None and style.bgcolor is not None
        fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
        if style.reverse:
            fg, bg = bg, fg
        out.append((seg.text, (fg.red, fg.green, fg.blue), (bg.red, bg.green, bg.blue)))
    return out


async def test_failed_rows_stand_out_with_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # Textual reads (and removes) it when the App is built
    async with running_board(advance=70) as h:
        assert h.app.no_color
        await h.pilot.press("G")  # cursor on a published row, away from the failed ones
        rows = [filtered_colours(h, h.table.render_line(y)) for y in range(3)]
        failed_bg = {bg for _, _, bg in rows[0]}
        processing_bg = {bg for _, _, bg in rows[2]}
        assert rows[0][0][0].startswith("✗ FAILED")
        assert failed_bg != processing_bg  # the whole row is highlighted, in grey
        for text, fg, bg in rows[0] + rows[1]:
            assert contrast(fg, bg) >= 4.5, text


async def test_the_failed_count_is_legible_with_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with running_board(advance=70) as h:
        counts = h.app.query_one("#counts")
        strip = counts.render_lines(counts.region.reset_offset)[0]
        pieces = {text.strip(): (fg, bg) for text, fg, bg in filtered_colours(h, strip)}
        fg, bg = pieces["✗ 2 FAILED"]
        assert contrast(fg, bg) >= 4.5  # actual: about 1.5


# -- the footer ------------------------------------------------------------------------------------


async def test_the_footer_shows_the_keys() -> None:
    async with running_board() as h:
        footer = screen_text(h).splitlines()[-1]
        for key in KEYS:
            if key.show:
                assert key.label in footer


@pytest.mark.parametrize("width", [60, 80, 100])
async def test_a_narrow_footer_shows_whole_keys_in_order_and_offers_help(width: int) -> None:
    async with running_board(size=(width, 24)) as h:
        footer = screen_text(h).splitlines()[-1].rstrip()
        assert "? Help" in footer
        shown = [k for k in KEYS if k.show and f" {k.label}" in f" {footer}"]
        assert shown == [k for k in KEYS if k.show][: len(shown)]  # the most used, whole
        assert footer.endswith(shown[-1].label)  # no key cut in half
        assert len(shown) < len([k for k in KEYS if k.show])
        # wider again: every key comes back
        await h.pilot.resize_terminal(160, 24)
        await h.until(
            lambda: all(k.label in screen_text(h).splitlines()[-1] for k in KEYS if k.show),
            "every key in a wide footer",
        )


# -- narrow terminals ------------------------------------------------------------------------------


async def test_a_resize_to_80x24_drops_low_value_columns_and_keeps_the_header_in_step() -> None:
    async with running_board(advance=70) as h:
        wide = {c.key for c in h.table.column_layout.columns}
        await h.pilot.resize_terminal(80, 24)
        await h.pilot.pause()
        layout = h.table.column_layout
        narrow = [c.key for c in layout.columns]
        assert set(narrow) < wide
        # the essentials stay, in order; the columns that went are the least useful ones
        assert narrow[:2] == ["state", "label"]
        assert {"publish", "detail"} <= set(narrow)
        dropped = [c for c in COLUMNS if c.key not in narrow]
        assert max(c.keep for c in dropped) < min(c.keep for c in layout.columns)
        room = h.table.scrollable_content_region.width
        assert sum(layout.widths) + GAP * (len(layout.widths) - 1) <= room
        # the header follows the new columns
        header = header_text(h)
        for col in layout.columns:
            assert col.title in header
        for col in dropped:
            assert col.title not in header
        # every line still starts with the state, glyph and word
        assert h.table_lines()[0].startswith(set_cell_size("✗ FAILED", layout.widths[0]))
        assert h.app.board.row_at(0).state is State.FAILED


# -- hostile strings -------------------------------------------------------------------------------


HOSTILE_ACCOUNT = "acc_tiktok_hostile"


def hostile_posts() -> list[WatchedPost]:
    """One post for each of the first nine hostile payload indexes, each ending failed or
    published (the simulator wraps its error or URL in payloads idx and idx + 1, and for
    idx % 3 == 0 also appends a payload to its status word)."""
    chosen: dict[int, WatchedPost] = {}
    for i in range(20_000):
        pid = f"h{i:05d}"
        idx = hostile_index(HOSTILE_ACCOUNT, pid)
        if idx >= 9 or idx in chosen:
            continue
        tl = timeline_for(SEED, (HOSTILE_ACCOUNT, pid), "video")
        if tl.outcome not in (State.FAILED, State.PUBLISHED):
            continue
        chosen[idx] = WatchedPost(HOSTILE_ACCOUNT, pid, "video", f"payload {idx}")
        if len(chosen) == 9:
            break
    assert len(chosen) == 9
    return [chosen[i] for i in sorted(chosen)]


HOSTILE_LABELS = (
    "[b red]markup[/]",
    "[link=https://e.x/]x",
    "\u202eevil\u202c bidi label",
    "zero\u200bwidth\ufeff label",
)


def hostile_watchlist(labels: Sequence[str] = HOSTILE_LABELS) -> Watchlist:
    lines = ["posts:\n"]
    for post in hostile_posts():
        lines.append(entry(post.account_id, post.publish_id, post.label))
    for i, label in enumerate(labels):
        quoted = label.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        lines.append(
            f'  - {{accountId: acc_tiktok_main, publishId: "lbl{i}", label: "{quoted}"}}\n'
        )
    return parse_watchlist("".join(lines))


def assert_inert(text: str) -> None:
    bad = [c for c in text if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F]
    assert not bad, f"control characters reached the screen: {bad!r} in {text!r}"
    for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff":
        assert c not in text, f"invisible/bidi character {c!r} reached the screen"


async def test_hostile_strings_are_shown_as_plain_inert_text() -> None:
    wl = hostile_watchlist()
    async with running_board(watchlist=wl, hostile=True, advance=1000) as h:
        board = h.app.board
        await h.pilot.press("s")  # by label
        await h.pilot.pause()
        # every drawn line: no escape or control character, no hyperlink, no control segment
        lines = h.table_lines()
        for y in range(h.table.size.height):
            for seg in h.table.render_line(y):
                assert seg.control is None
                assert seg.style is None or seg.style.link is None
            assert_inert(lines[y])
        # what the API sent is shown cleaned, as plain text
        for post in hostile_posts():
            row = board.rows[post.key]
            idx = hostile_index(*post.key)
            tl = timeline_for(SEED, post.key, "video")
            assert_inert(row.detail)
            if idx % 3 == 0:  # the status word itself carries a payload: not a known state
                assert row.state is State.UNKNOWN
                assert row.detail.startswith("unrecognised status")
            else:
                assert row.state is tl.outcome
                text = tl.error if tl.outcome is State.FAILED else tl.public_url
                assert row.detail == clean(hostile_text(text or "", idx), 500)
        one = next(ln for ln in lines if "payload 1 " in ln)
        assert "[link=https://evil.example/]" in one
        for post in hostile_posts():
            detail = board.rows[post.key].detail
            assert "pwned" not in detail  # an OSC title sequence is removed whole
            assert "cm0gLXJmIH4K" not in detail  # and so is an OSC 52 clipboard write
            assert "evil.example/\\innocent" not in detail  # and an OSC 8 link
        # labels from the watchlist: markup shown as text, bidi and zero-width removed
        shown = screen_text(h)
        assert "[b red]markup[/]" in shown
        assert "[link=https://e.x/]x" in shown
        assert "bidi label" in shown
        assert "width" in shown
        assert_inert(shown.replace("\n", " "))
        # the toasts of the failures are plain text too
        assert len(toasts(h.app)) > 0
        for title, message in toasts(h.app):
            assert_inert(message)
            assert_inert(title)
        assert h.app.title == f"wahdx-tui: {board.counts()[State.FAILED]} failed"


async def test_hostile_texts_on_the_detail_screen_are_inert() -> None:
    wl = hostile_watchlist()
    async with running_board(watchlist=wl, hostile=True, advance=1000) as h:
        board = h.app.board
        # the posts whose error or URL carries payloads, and one with a markup label
        keys = [p.key for p in hostile_posts() if hostile_index(*p.key) in (1, 2, 5)] + [
            ("acc_tiktok_main", "lbl0")
        ]
        for key in keys:
            index = board.index_of(key)
            assert index is not None
            await h.cursor_to(index)
            await h.pilot.press("enter")
            screen = h.app.screen
            assert isinstance(screen, DetailScreen)
            await h.until(functools.partial(rechecked, screen), "the re-check")
            await h.pilot.pause()
            text = []
            for widget_id in ("#detail-fields", "#detail-raw", "#detail-recheck"):
                widget = screen.query_one(widget_id)
                for strip in widget.render_lines(widget.region.reset_offset):
                    for seg in strip:
                        assert seg.control is None
                        assert seg.style is None or seg.style.link is None
                    line = "".join(seg.text for seg in strip)
                    assert_inert(line)
                    text.append(line)
            if key[1] == "lbl0":
                assert "[b red]markup[/]" in "\n".join(text)
            await h.pilot.press("c")
            assert_inert(h.app.clipboard)
            await h.pilot.press("escape")


async def test_escape_sequences_in_watchlist_labels_are_removed_whole() -> None:
    wl = hostile_watchlist(["\x1b[31mred label", "\x1b]0;pwned\x07title label"])
    async with running_board(watchlist=wl) as h:
        labels = {r.label for r in h.app.board.rows.values()}
        assert_inert(" ".join(labels))
        assert "red label" in labels
        assert "title label" in labels
