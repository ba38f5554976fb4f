"""The board's two edits of the team's watchlist: the form of `n` (add a post) and the
confirmation of `d` (retire the selected one)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.watchlist.intake import IntakeError, item_post
from wahdx_tui.core.watchlist.reader import MAX_ID_LENGTH, MAX_LABEL_LENGTH
from wahdx_tui.ui.screens.postdialog import PostDialog

_FIELDS = (
    ("accountId", "account ID", MAX_ID_LENGTH),
    ("publishId", "publish ID", MAX_ID_LENGTH),
    ("mediaType", "media type: video, photo, or leave it empty", 5),
    ("label", "label (optional)", MAX_LABEL_LENGTH),
)


class AddPostScreen(ModalScreen[WatchedPost | None]):
    """A small form for one post; Enter adds it (checked as `wahdx-tui add` checks it), Tab
    moves between the fields, Esc cancels (dismisses with None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, account: str = "") -> None:
        super().__init__()
        self.account = account  # the selected row's account, to start from

    def compose(self) -> ComposeResult:
        """A line of help, the four fields, and where a mistake is said."""
        with Vertical(id="add-body"):
            yield Static(
                Text(
                    "Enter adds the post to the team's watchlist (every board shows it) ·"
                    " Tab next field · Esc cancels",
                    style="dim",
                )
            )
            for name, placeholder, limit in _FIELDS:
                value = self.account if name == "accountId" else ""
                yield Input(value, placeholder=placeholder, max_length=limit, id=f"add-{name}")
            yield Static(id="add-error")

    def on_mount(self) -> None:
        """Title the frame; start in the first empty field."""
        self.query_one("#add-body").border_title = "Add a post"
        first = "add-publishId" if self.account else "add-accountId"
        self.query_one(f"#{first}", Input).focus()

    def values(self) -> dict[str, str]:
        """What each field holds."""
        return {name: self.query_one(f"#add-{name}", Input).value for name, _, _ in _FIELDS}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Add the post, or say what is wrong with it and go to that field."""
        event.stop()
        try:
            post = item_post(self.values(), "this post")
        except IntakeError as exc:
            said = str(exc).removeprefix("this post: ")
            self.query_one("#add-error", Static).update(Text(said))
            for name, _, _ in _FIELDS:
                if said.startswith(name):
                    self.query_one(f"#add-{name}", Input).focus()
            return
        self.dismiss(post)

    def action_cancel(self) -> None:
        """Add nothing."""
        self.dismiss(None)


class RetireScreen(PostDialog[bool]):
    """Asks before a post retires: y or Enter retires it, n or Esc keeps it."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Retire"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]

    def compose(self) -> ComposeResult:
        """The post, and what retiring does."""
        text = self.heading("Retire ", "?\n")
        text.append(
            "It leaves every board and is no longer asked for; its history stays, and"
            " `wahdx-tui add` brings it back.\n",
            style="dim",
        )
        text.append("y / Enter retire · n / Esc keep it", style="bold")
        with Vertical(id="retire-body"):
            yield Static(text)

    def on_mount(self) -> None:
        """Title the frame."""
        self.query_one("#retire-body").border_title = "Retire a post"

    def action_answer(self, retire: bool) -> None:
        """Retire, or keep the post."""
        self.dismiss(retire)
