"""A sorted view of items: sort tuples (the item's key last), an optional filtered copy, either way."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Generic, Protocol, TypeVar

SortTuple = tuple[Any, ...]


class Sorted(Protocol):
    """An item of a sorted view: it knows its own sort tuple (its key last)."""

    @property
    def sort_tuple(self) -> SortTuple: ...


K = TypeVar("K")
R = TypeVar("R", bound=Sorted)


class SortedView(Generic[K, R]):
    """What the posts board and the accounts have in common: `rows` by key, a list of their
    sort tuples kept in order (`_all`), the filtered part of it when a filter is on
    (`_shown`), read from either end (`reverse`). Subclasses keep the lists; this reads them."""

    reverse: bool
    rows: dict[K, R]
    _all: list[SortTuple]
    _shown: list[SortTuple] | None

    def _view(self) -> list[SortTuple]:
        return self._all if self._shown is None else self._shown

    def __len__(self) -> int:
        return len(self._view())

    def _pos(self, index: int) -> int:
        return len(self._view()) - 1 - index if self.reverse else index

    def key_at(self, index: int) -> K:
        """The key of the item shown at `index` of the view."""
        key: K = self._view()[self._pos(index)][-1]
        return key

    def row_at(self, index: int) -> R:
        """The item shown at `index` of the view."""
        return self.rows[self.key_at(index)]

    def index_of(self, key: K) -> int | None:
        """Where the item stands in the view, or None when it is filtered out or gone."""
        row = self.rows.get(key)
        return None if row is None else self._index_of_tuple(row.sort_tuple)

    def _index_of_tuple(self, sort_tuple: SortTuple) -> int | None:
        """Where the item with this sort tuple stands in the view (None: not shown)."""
        view = self._view()
        i = bisect_left(view, sort_tuple)
        if i < len(view) and view[i] == sort_tuple:
            return self._pos(i)
        return None

    def keys_in_view(self) -> list[K]:
        """Every key in view order (for export); O(n)."""
        keys: list[K] = [t[-1] for t in self._view()]
        return keys[::-1] if self.reverse else keys
