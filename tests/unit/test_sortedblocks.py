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
        assert blocks.bisect_left(probe) == bisect_left(plain, probe)
        i = bisect_left(plain, probe)
        held = i < len(plain) and plain[i] == probe
        assert blocks.index(probe) == (i if held else None)
        assert (probe in blocks) is held


@SETTINGS
@given(start=st.lists(st.integers(0, 60), max_size=40), ops=OPS, load=st.integers(2, 6))
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
    # Blocks stay near their size: a long run of changes leaves no trail of tiny blocks.
    if len(plain) > 4 * load:
        assert len(blocks._blocks) <= len(plain) // (load // 2) + 1


def test_reading_past_either_end_is_an_index_error() -> None:
    blocks = SortedBlocks([3, 1, 2])
    assert [blocks[0], blocks[-1]] == [1, 3]
    with pytest.raises(IndexError):
        blocks[3]
    with pytest.raises(IndexError):
        blocks[-4]
    with pytest.raises(IndexError):
        SortedBlocks[int]()[0]
