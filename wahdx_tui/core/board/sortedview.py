"""A sorted view of items: sort tuples (the item's key last), an optional filtered copy, either way."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

SortTuple = tuple[Any, ...]


class SortedView:
    """What the posts board and the accounts have in common: a list of sort tuples kept in
    order (`_all`), the filtered part of it when a filter is on (`_shown`), read from either
    end (`reverse`). Subclasses keep the lists; this reads them."""

    reverse: bool
    _all: list[SortTuple]
    _shown: list[SortTuple] | None

    def _view(self) -> list[SortTuple]:
        return self._all if self._shown is None else self._shown

    def __len__(self) -> int:
        return len(self._view())

    def _pos(self, index: int) -> int:
        return len(self._view()) - 1 - index if self.reverse else index

    def _key_at(self, index: int) -> Any:
        """The key of the item shown at `index` of the view."""
        return self._view()[self._pos(index)][-1]

    def _index_of_tuple(self, sort_tuple: SortTuple) -> int | None:
        """Where the item with this sort tuple stands in the view (None: not shown)."""
        view = self._view()
        i = bisect_left(view, sort_tuple)
        if i < len(view) and view[i] == sort_tuple:
            return self._pos(i)
        return None

    def _keys_in_view(self) -> list[Any]:
        """Every key in view order; O(n)."""
        keys = [t[-1] for t in self._view()]
        return keys[::-1] if self.reverse else keys
