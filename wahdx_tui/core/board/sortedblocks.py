"""A sorted list kept in blocks, so an insert or a removal moves one block, not the whole list."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain
from typing import Any, Generic, Protocol, TypeVar


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=_Ordered)

LOAD = 512
"""A block's usual size: it splits in two above twice this and joins a neighbour below half.
At 100,000 items a plain list moves 50,000 pointers per insert or removal; blocks of this size
move a few hundred and keep the list of blocks short enough to scan for a position."""


class SortedBlocks(Generic[T]):
    """Items kept in order, read by position (`[i]`, `index`) and changed one at a time
    (`add`, `discard`): a list of sorted blocks, the largest item of each beside it, and where
    each block starts (worked out again on the first read after a change)."""

    def __init__(self, items: Iterable[T] = (), *, load: int = LOAD) -> None:
        self._load = max(2, load)
        ordered = sorted(items)
        step = self._load
        self._blocks: list[list[T]] = [ordered[i : i + step] for i in range(0, len(ordered), step)]
        self._maxes: list[T] = [block[-1] for block in self._blocks]
        self._len = len(ordered)
        self._starts: list[int] | None = None

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[T]:
        return chain.from_iterable(self._blocks)

    def __getitem__(self, index: int) -> T:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("SortedBlocks index out of range")
        starts = self._block_starts()
        b = bisect_right(starts, index) - 1
        return self._blocks[b][index - starts[b]]

    def __contains__(self, item: object) -> bool:
        return self._find(item) is not None

    def index(self, item: T) -> int | None:
        """The position of `item`, or None when it is not held."""
        found = self._find(item)
        if found is None:
            return None
        b, i = found
        return self._block_starts()[b] + i

    def add(self, item: T) -> None:
        """Put `item` where it sorts."""
        blocks, maxes = self._blocks, self._maxes
        self._len += 1
        self._starts = None
        if not blocks:
            blocks.append([item])
            maxes.append(item)
            return
        b = bisect_left(maxes, item)
        if b == len(blocks):
            b -= 1
            blocks[b].append(item)
            maxes[b] = item
        else:
            insort(blocks[b], item)
        if len(blocks[b]) > 2 * self._load:
            self._split(b)

    def discard(self, item: T) -> bool:
        """Take `item` out; False when it was not held."""
        found = self._find(item)
        if found is None:
            return False
        b, i = found
        block = self._blocks[b]
        del block[i]
        self._len -= 1
        self._starts = None
        if not block:
            del self._blocks[b]
            del self._maxes[b]
            return True
        self._maxes[b] = block[-1]
        if len(block) < self._load // 2 and len(self._blocks) > 1:
            self._join(b)
        return True

    # -- inside ---------------------------------------------------------------------------

    def _find(self, item: Any) -> tuple[int, int] | None:
        """(block, place in it) of `item`, or None when it is not held."""
        b = bisect_left(self._maxes, item)
        if b == len(self._blocks):
            return None
        block = self._blocks[b]
        i = bisect_left(block, item)
        if i < len(block) and block[i] == item:
            return b, i
        return None

    def _block_starts(self) -> list[int]:
        starts = self._starts
        if starts is None:
            starts = self._starts = [0, *accumulate(len(block) for block in self._blocks)][:-1]
        return starts

    def _split(self, b: int) -> None:
        block = self._blocks[b]
        half = len(block) // 2
        self._blocks[b : b + 1] = [block[:half], block[half:]]
        self._maxes[b : b + 1] = [block[half - 1], block[-1]]

    def _join(self, b: int) -> None:
        """Join block `b` to a neighbour (the next, or the previous when it is the last)."""
        if b == len(self._blocks) - 1:
            b -= 1
        joined = self._blocks[b] + self._blocks[b + 1]
        self._blocks[b : b + 2] = [joined]
        self._maxes[b : b + 2] = [joined[-1]]
        if len(joined) > 2 * self._load:
            self._split(b)
