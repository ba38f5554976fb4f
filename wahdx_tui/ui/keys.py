"""Every key of the board in one table: bindings, the help screen and the palette come from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Key:
    """One key: what to press, the action it runs, and what it does in words."""

    keys: str
    action: str
    label: str
    help: str
    show: bool = True
    priority: bool = False


# In footer order: what an operator needs most comes first, as a narrow footer cuts the end.
KEYS: tuple[Key, ...] = (
    Key("q", "quit", "Quit", "Quit the board"),
    Key("question_mark", "help", "Help", "Show this help"),
    Key("r", "refresh", "Refresh", "Refresh every post now (a running refresh is not cancelled)"),
    Key("enter", "open_detail", "Detail", "Open the selected post: every field, re-checked now"),
    # Priority: the app must switch focus to the filter box before the next typed keys arrive.
    Key(
        "slash", "filter", "Filter", "Filter by text across all columns (Esc clears)", priority=True
    ),
    Key("f", "state_filter", "State", "Cycle the state filter: all, failed, processing, ..."),
    Key("c", "copy", "Copy", "Copy the error, URL or publish ID of the post (or the account ID)"),
    Key("a", "ack", "Ack", "Acknowledge the selected failed post, with a note (again: take back)"),
    Key("p", "pause", "Pause", "Pause or resume automatic refreshes"),
    Key("s", "sort_next", "Sort", "Sort by the next column on screen"),
    Key("e", "events", "Events", "Event log: every state change, newest first"),
    Key("v", "toggle_view", "Accounts", "Switch between the posts and the accounts view"),
    Key("x", "export('csv')", "Export", "Export the current view (posts or accounts) to CSV"),
    # In the help and the palette: the footer keeps its room for the keys used every day.
    Key(
        "plus,equals_sign",
        "interval(1)",
        "Slower",
        "Refresh less often (longer interval)",
        show=False,
    ),
    Key("minus", "interval(-1)", "Faster", "Refresh more often (shorter interval)", show=False),
    Key("S", "sort_reverse", "Reverse", "Reverse the sort order", show=False),
    Key("F", "category_filter", "Reason", "Cycle the failure-reason filter", show=False),
    Key(
        "X",
        "export('json')",
        "JSON",
        "Export the current view (posts or accounts) to JSON",
        show=False,
    ),
    Key(
        "n",
        "add_post",
        "Add",
        "Add a post to the team's watchlist: account, publish ID, media type, label",
        show=False,
    ),
    Key(
        "d",
        "retire_post",
        "Retire",
        "Retire the selected post from the team's watchlist, after a confirmation",
        show=False,
    ),
)
NAVIGATION = (
    ("j / ↓", "Move down"),
    ("k / ↑", "Move up"),
    ("g / Home", "First row"),
    ("G / End", "Last row"),
    ("PgUp / PgDn", "Page up / down"),
    ("Esc", "Clear the text filter, close a screen"),
    ("Ctrl+P", "Command palette: every action by name"),
    ("click heading", "Sort by that column (again: reverse)"),
)


def bindings() -> list[Binding]:
    """The app's bindings, from KEYS."""
    return [Binding(k.keys, k.action, k.label, show=k.show, priority=k.priority) for k in KEYS]


def display_key(keys: str) -> str:
    """'plus,equals_sign' -> '+'; 'question_mark' -> '?'."""
    names = {"plus": "+", "minus": "-", "slash": "/", "question_mark": "?", "enter": "Enter"}
    first = keys.split(",")[0]
    return names.get(first, first)


def palette_commands(app: App[Any]) -> Iterator[SystemCommand]:
    """Every action of KEYS (but quit and help, which Textual lists) for the command palette."""
    for key in KEYS:
        if key.action not in ("quit", "help"):
            yield SystemCommand(key.label, key.help, _runner(app, key.action))


def _runner(app: App[Any], action: str) -> Callable[[], object]:
    async def run() -> None:
        await app.run_action(action)

    return run
