"""A dialog about one post (acknowledge, take back, retire): the post, and its heading line."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.screen import ModalScreen

from wahdx_tui.core.board.state import Row

_R = TypeVar("_R")


class PostDialog(ModalScreen[_R]):
    """A modal dialog that asks about one post (`row`) and dismisses with the answer."""

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row

    def heading(self, what: str, end: str) -> Text:
        """The first line: `what` the dialog does (bold), then the post by label and IDs."""
        row = self.row
        text = Text()
        text.append(what, style="bold")
        text.append(f"{row.label or row.publish}  ({row.account} · {row.publish}){end}")
        return text
