"""A sorted view of items: sort tuples (the item's key last), an optional filtered copy, either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from wahdx_tui.core.board.sortedblocks import SortedBlocks

SortTuple = tuple[Any, ...]


class Sorted(Protocol):
    """An item of a sorted view: it knows its own sort tuple (its key last) and its text."""

    sort_tuple: SortTuple

    @property
    def haystack(self) -> str:
        """Its text, casefolded, for the text filter."""
        ...


K = TypeVar("K")
R = TypeVar("R", bound=Sorted)


@dataclass(slots=True)
class SortStats:
    """Counters that show which path a view took, for tests and benchmarks."""

    full_sorts: int = 0
    moved_rows: int = 0


class SortedView(Generic[K, R]):
    """What the posts board and the accounts have in common: `rows` by key, their
    sort tuples kept in order in blocks (`_all`), the filtered part of it when a filter is on
    (`_shown`), read from either end (`reverse`). Subclasses say how an item sorts (`_tuple`)
    and which items a filter lets through (`_matches`, `_filtering`)."""

    SORT_COLUMNS: ClassVar[tuple[str, ...]]
    """What the view sorts by; the first is the default."""

    def __init__(self, sort: str, reverse: bool) -> None:
        self.rows: dict[K, R] = {}
        self.sort_column = sort if sort in self.SORT_COLUMNS else self.SORT_COLUMNS[0]
        self.reverse = reverse
        self.text_filter = ""
        self.stats = SortStats()
        self._all: SortedBlocks[SortTuple] = SortedBlocks()
        self._shown: SortedBlocks[SortTuple] | None = None

    # -- what the subclass knows ----------------------------------------------------------

    def _tuple(self, row: R) -> SortTuple:
        """How `row` sorts by the current column (its key last)."""
        raise NotImplementedError

    def _matches(self, row: R) -> bool:
        """Whether the filters let `row` through (here: the text filter)."""
        return not self.text_filter or self.text_filter in row.haystack

    def _filtering(self) -> bool:
        """Whether any filter is on (here: the text filter)."""
        return bool(self.text_filter)

    # -- reading --------------------------------------------------------------------------

    def _view(self) -> SortedBlocks[SortTuple]:
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
        i = self._view().index(sort_tuple)
        return None if i is None else self._pos(i)

    def _was_shown(self, old: SortTuple) -> bool:
        """Whether the filtered view holds this sort tuple (False when no filter is on)."""
        return self._shown is not None and old in self._shown

    def keys_in_view(self) -> list[K]:
        """Every key in view order (for export); O(n)."""
        keys: list[K] = [t[-1] for t in self._view()]
        return keys[::-1] if self.reverse else keys

    # -- sorting and filtering ------------------------------------------------------------

    def _rebuild(self) -> None:
        """Sort every item again (a new sort column, or too many changes to move one by one)."""
        for row in self.rows.values():
            row.sort_tuple = self._tuple(row)
        self._all = SortedBlocks(row.sort_tuple for row in self.rows.values())
        self._refilter()
        self.stats.full_sorts += 1

    def _refilter(self) -> None:
        if not self._filtering():
            self._shown = None
            return
        rows = self.rows
        self._shown = SortedBlocks(t for t in self._all if self._matches(rows[t[-1]]))

    def _move(self, row: R, old: SortTuple | None, was_shown: bool) -> None:
        """Put an item whose sort tuple or filter match changed where it now belongs (`old`:
        its tuple before, None for a new item; `was_shown`: the filtered view held it)."""
        new = row.sort_tuple
        if new != old:
            if old is not None:
                self._all.discard(old)
            self._all.add(new)
        if self._shown is not None:
            if was_shown and old is not None:
                self._shown.discard(old)
            if self._matches(row):
                self._shown.add(new)
        self.stats.moved_rows += 1

    def _forget(self, old: SortTuple, was_shown: bool) -> None:
        """Take a removed item's sort tuple out of the lists."""
        self._all.discard(old)
        if self._shown is not None and was_shown:
            self._shown.discard(old)

    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by `column` (one of SORT_COLUMNS); keep or set the direction."""
        if column not in self.SORT_COLUMNS:
            raise ValueError(f"unknown sort column {column!r}")
        if reverse is not None:
            self.reverse = reverse
        if column != self.sort_column:
            self.sort_column = column
            self._rebuild()

    def set_text_filter(self, text: str) -> None:
        """Show only the items whose text contains `text`, case-insensitively."""
        self.text_filter = text.strip().casefold()
        self._refilter()
