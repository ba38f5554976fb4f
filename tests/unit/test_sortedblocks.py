"""The blocked sorted list behind the board's order reads the same as a plain sorted list."""

from __future__ import annotations

from bisect import bisect_left, insort

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wahdx_tui.core.board.sortedblocks import SortedBlocks

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=300)

# (add?, value): small values so removals often hit an item that is held.
OPS = st.lists(st.tuples(st.booleans(), st.integers(0, 60)), max_size=400)


def same(blocks: SortedBlocks[int], plain: list[int]) -> None:
    """Every way the board reads the list agrees with the plain list."""
    assert len(blocks) == len(plain)
    assert list(blocks) == plain
    assert [blocks[i] for i in range(len(plain))] == plain
    if plain:
        assert blocks[-1] == plain[-1]
    for probe in range(-1, 62, 7):
        i = bisect_left(plain, probe)
        held = i < len(plain) and plain[i] == probe
        assert blocks.index(probe) == (i if held else None)
        assert (probe in blocks) is held


def well_kept(blocks: SortedBlocks[int], load: int) -> None:
    """The blocks themselves: none empty, none over twice the load, at most one under half of
    it (what was left over when it was built, or the only block), each block's largest beside
    it, and in order across blocks."""
    sizes = [len(b) for b in blocks._blocks]
    assert all(0 < n <= 2 * load for n in sizes), sizes
    assert sum(n < load // 2 for n in sizes) <= 1, sizes
    assert blocks._maxes == [b[-1] for b in blocks._blocks]
    flat = [x for b in blocks._blocks for x in b]
    assert flat == sorted(flat)


# Grow, then shrink: the adds split blocks, the removals that follow join them again.
PHASES = st.tuples(
    st.lists(st.integers(0, 300), max_size=300),
    st.lists(st.integers(0, 300), max_size=300),
)


@SETTINGS
@given(start=st.lists(st.integers(0, 60), max_size=40), ops=OPS, load=st.integers(2, 16))
def test_any_run_of_adds_and_removals_reads_as_a_sorted_list(
    start: list[int], ops: list[tuple[bool, int]], load: int
) -> None:
    blocks = SortedBlocks(start, load=load)
    plain = sorted(start)
    same(blocks, plain)
    for add, value in ops:
        if add:
            blocks.add(value)
            insort(plain, value)
        else:
            held = value in plain
            assert blocks.discard(value) is held
            if held:
                plain.remove(value)
        same(blocks, plain)
        well_kept(blocks, load)


@SETTINGS
@given(phases=PHASES, load=st.integers(2, 16), data=st.data())
def test_growing_then_emptying_splits_and_joins_blocks_and_reads_the_same(
    phases: tuple[list[int], list[int]], load: int, data: st.DataObject
) -> None:
    grow, more = phases
    blocks = SortedBlocks[int](load=load)
    plain: list[int] = []
    for value in grow + more:
        blocks.add(value)
        insort(plain, value)
    well_kept(blocks, load)
    # Take out all but a few, in an order hypothesis picks: blocks shrink and join.
    order = data.draw(st.permutations(plain))
    for value in order[: max(0, len(order) - 3)]:
        assert blocks.discard(value)
        plain.remove(value)
        well_kept(blocks, load)
        assert [blocks[i] for i in range(len(plain))] == plain
    same_values = list(blocks)
    assert same_values == plain


def test_a_shrinking_list_joins_its_blocks() -> None:
    blocks = SortedBlocks(range(400), load=8)
    assert len(blocks._blocks) == 50
    for value in [v for v in range(400) if v % 4]:  # three in four: blocks of 2, under 4
        assert blocks.discard(value)
        well_kept(blocks, 8)
    assert list(blocks) == list(range(0, 400, 4)) and len(blocks._blocks) <= 100 // 4 + 1
    for value in range(0, 392, 4):  # all but the last two
        assert blocks.discard(value)
    assert list(blocks) == [392, 396] and len(blocks._blocks) == 1


def test_reading_past_either_end_is_an_index_error() -> None:
    blocks = SortedBlocks([3, 1, 2])
    assert [blocks[0], blocks[-1]] == [1, 3]
    with pytest.raises(IndexError):
        blocks[3]
    with pytest.raises(IndexError):
        blocks[-4]
    with pytest.raises(IndexError):
        SortedBlocks[int]()[0]


def test_a_small_block_joins_its_next_or_its_previous_and_a_join_too_big_splits() -> None:
    # The last block shrinks: it joins the one before it.
    tail = SortedBlocks(range(8), load=4)
    assert [len(b) for b in tail._blocks] == [4, 4]
    for value in (4, 5, 6):
        tail.discard(value)
    assert tail._blocks == [[0, 1, 2, 3, 7]]
    # The first shrinks beside a full one: joined, the block is too big and splits again.
    head = SortedBlocks(range(8), load=4)
    for value in range(8, 12):
        head.add(value)
    assert [len(b) for b in head._blocks] == [4, 8]
    for value in (0, 1, 2):
        head.discard(value)
    well_kept(head, 4)
    assert list(head) == list(range(3, 12)) and len(head._blocks) == 2
