"""Which columns fit a width, and how wide: the Label keeps more room than the Detail."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wahdx_tui.ui.widgets.columns import COLUMNS, GAP, layout_for

LABEL = next(c for c in COLUMNS if c.key == "label")
SAMPLE = {"label": 34, "account": 22, "publish": 11}  # the sample watchlist's longest values


def widths_at(width: int, wanted: dict[str, int]) -> dict[str, int]:
    layout = layout_for(width, wanted)
    return {c.key: w for c, w in zip(layout.columns, layout.widths, strict=True)}


@given(
    width=st.integers(20, 260),
    label=st.integers(0, 120),
    account=st.integers(0, 60),
    publish=st.integers(0, 60),
    stale=st.booleans(),
)
def test_the_label_has_more_room_than_the_detail_at_every_width(
    width: int, label: int, account: int, publish: int, stale: bool
) -> None:
    wanted = {"label": label, "account": account, "publish": publish}
    layout = layout_for(width, wanted, stale=stale)
    widths = {c.key: w for c, w in zip(layout.columns, layout.widths, strict=True)}
    assert sum(layout.widths) + GAP * (len(layout.widths) - 1) <= max(width, 12 + GAP + 16)
    assert layout.columns[0].key == "state"
    assert "label" in widths  # the last column to give way, after the Detail
    whole = min(LABEL.max_width, max(LABEL.min_width, label))
    if "detail" in widths and widths["label"] < whole:
        assert widths["label"] > widths["detail"]  # some labels cut: the Detail is narrower
    for col in layout.columns:
        assert widths[col.key] >= col.min_width


def test_the_sample_labels_show_whole_from_100_columns() -> None:
    for width in range(98, 200):
        assert widths_at(width, SAMPLE)["label"] == 34
    assert widths_at(118, SAMPLE)["detail"] < 34
    assert widths_at(200, SAMPLE)["detail"] > 34  # every label whole: the rest is the Detail's


def test_a_narrow_terminal_drops_the_detail_before_the_label() -> None:
    assert list(widths_at(40, SAMPLE)) == ["state", "label"]
    assert list(widths_at(60, SAMPLE)) == ["state", "label", "publish", "detail"]
    at_78 = widths_at(78, SAMPLE)
    assert list(at_78) == ["state", "label", "account", "publish", "since", "detail"]
    assert at_78["publish"] == 11  # a publish ID is never cut while the Detail has room
