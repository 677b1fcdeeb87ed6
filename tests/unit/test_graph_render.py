"""The pure chart renderer, axis and pane layout behind the Performance pane."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from xentui.backend.history import Series
from xentui.ui import format as fmt
from xentui.ui.charts import (
    ASCII_STEPS,
    BLOCKS,
    Plot,
    layout,
    render_graph,
    resample,
    time_axis,
)

NAN = float("nan")


def heights(rows: list[str], glyphs: str = BLOCKS) -> list[int]:
    """Filled units of each column (0 = blank)."""
    steps = len(glyphs)
    out = []
    for c in range(len(rows[0])):
        total = 0
        for r, row in enumerate(rows):
            ch = row[c]
            level = len(rows) - 1 - r
            if ch != " ":
                total = max(total, level * steps + glyphs.index(ch) + 1)
        out.append(total)
    return out


@pytest.mark.parametrize(("width", "height"), [(1, 1), (10, 1), (30, 4), (7, 8), (0, 3)])
@pytest.mark.parametrize("n", [0, 1, 5, 30, 301])
def test_size_is_exact(width: int, height: int, n: int) -> None:
    rows = render_graph([float(i % 7) for i in range(n)], width, height)
    assert len(rows) == height
    assert all(len(r) == width for r in rows)


def test_zero_height_or_negative_sizes() -> None:
    assert render_graph([1.0, 2.0], 10, 0) == []
    assert render_graph([1.0, 2.0], -3, -1) == []
    assert render_graph([1.0], -3, 2) == ["", ""]


def test_nan_gaps_are_blank_columns() -> None:
    rows = render_graph([4.0, NAN, 4.0, NAN], 4, 3)
    for r in rows:
        assert r[1] == " " and r[3] == " "
    assert rows[-1][0] == "█" and rows[-1][2] == "█"


def test_all_nan_and_empty_are_blank() -> None:
    assert render_graph([NAN] * 5, 5, 2) == ["     ", "     "]
    assert render_graph([], 5, 2) == ["     ", "     "]


def test_short_input_is_right_aligned_newest_last() -> None:
    rows = render_graph([1.0, 2.0], 6, 1)
    assert rows[0][:4] == "    "
    assert rows[0][-1] == "█"


def test_long_input_keeps_peaks_when_resampling() -> None:
    values = [0.0] * 100
    values[37] = 10.0
    cols = resample(values, 10)
    assert len(cols) == 10
    assert cols[3] == 10.0
    assert max(cols) == 10.0


def test_scale_and_clipping() -> None:
    assert render_graph([50.0], 1, 2, vmax=100.0) == [" ", "█"]
    assert render_graph([500.0, -5.0], 2, 1, vmax=100.0) == ["█ "]
    # a tiny value still shows the smallest mark
    assert render_graph([0.001], 1, 1, vmax=100.0) == ["▁"]


def test_infinite_values_are_gaps() -> None:
    rows = render_graph([math.inf, 1.0, -math.inf], 3, 1)
    assert rows == [" █ "]


def test_ascii_mode_is_ascii_only() -> None:
    rows = render_graph([0.1 * i for i in range(40)] + [NAN], 20, 3, ascii=True)
    text = "".join(rows)
    assert text.isascii()
    assert set(text) <= set(ASCII_STEPS) | {" "}
    assert "#" in text


@pytest.mark.parametrize("ascii", [False, True])
@pytest.mark.parametrize(("n", "width", "height"), [(10, 10, 3), (50, 13, 4), (5, 20, 2)])
def test_monotone_input_gives_non_decreasing_heights(
    ascii: bool, n: int, width: int, height: int
) -> None:
    rows = render_graph([float(i) for i in range(n)], width, height, ascii=ascii)
    hs = heights(rows, ASCII_STEPS if ascii else BLOCKS)
    known = [h for h in hs[width - min(n, width) :]]
    assert known == sorted(known)
    assert known[-1] == height * len(ASCII_STEPS if ascii else BLOCKS)


values_st = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12)),
    max_size=400,
)


@given(
    values=values_st,
    width=st.integers(-2, 120),
    height=st.integers(-2, 12),
    ascii=st.booleans(),
    vmax=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_random_input_never_raises(
    values: list[float], width: int, height: int, ascii: bool, vmax: float | None
) -> None:
    rows = render_graph(values, width, height, ascii=ascii, vmax=vmax)
    assert len(rows) == max(0, height)
    assert all(len(r) == max(0, width) for r in rows)
    if ascii:
        assert "".join(rows).isascii()


def test_time_axis_marks_round_ages_under_their_columns() -> None:
    times = [1000.0 + 10 * i for i in range(61)]  # ten minutes, a point a column
    axis = time_axis(times, 61, 61)
    assert len(axis) == 61
    assert axis.endswith("now")
    assert axis.split() == ["-10m", "-8m", "-6m", "-4m", "-2m", "now"]
    assert axis.startswith("-10m")  # the oldest column, 600 s back
    assert axis.index("-2m") == 47  # centred under column 48, 12 columns (120 s) back
    assert time_axis(times, 61, 5) == "  now"
    assert time_axis([], 0, 10) == "       now"


def test_time_axis_for_short_history_marks_only_where_data_is() -> None:
    times = [float(i) for i in range(40)]  # forty seconds in sixty columns
    axis = time_axis(times, 40, 60)
    assert axis.split() == ["-30s", "-20s", "-10s", "now"]
    assert axis.index("-10s") == 47 and axis.index("-30s") == 27
    young = time_axis(times[:9], 9, 60)
    assert young.strip() == "now"  # no round age reached yet


def test_time_axis_stays_put_while_its_graph_fills() -> None:
    times = [float(i) for i in range(60)]
    axes = {time_axis(times[:n], n, 60) for n in range(31, 41)}
    assert len(axes) == 1  # ten passes, one axis: nothing to redraw


def _plots(n: int, values: list[float]) -> list[Plot]:
    times = [float(i) for i in range(len(values))]
    s = Series(times, values)
    return [Plot(f"P{i}", s, fmt.pct, 100.0, "green") for i in range(n)]


@pytest.mark.parametrize(("width", "height"), [(30, 10), (36, 10), (40, 24), (80, 12), (20, 2)])
def test_layout_fits_the_pane(width: int, height: int) -> None:
    values = [float(i % 100) for i in range(120)]
    lines = layout(Text("[b]evil ünïcode & co"), _plots(6, values), list(range(120)), width, height)
    assert 0 < len(lines) <= height
    assert all(line.cell_len <= width for line in lines)


def test_layout_shows_all_figures_at_80x24_pane_size() -> None:
    values = [float(i) for i in range(60)]
    lines = layout(Text("dom"), _plots(6, values), list(range(60)), 36, 10)
    plain = "\n".join(line.plain for line in lines)
    for i in range(6):
        assert f"P{i}" in plain
    assert "now" in plain


def test_layout_full_mode_has_current_average_and_peak() -> None:
    values = [10.0, 20.0, 30.0]
    lines = layout(Text("dom"), _plots(1, values), [0.0, 1.0, 2.0], 50, 8)
    head = lines[1].plain
    assert "30.0%" in head and "avg 20.0%" in head and "max 30.0%" in head


def test_layout_shows_labels_literally() -> None:
    s = Series([0.0], [1.0])
    plot = Plot("[b]x\x1b", s, fmt.pct, 100.0, "green")
    lines = layout(Text("[b]evil ünïcode & co"), [plot], [0.0], 40, 5)
    assert lines[0].plain == "[b]evil ünïcode & co"
    assert lines[1].plain.startswith("[b]x\\x1b")


def test_buckets_are_fixed_slots_of_passes() -> None:
    """A long history moves its bucketed columns only when the newest bucket is full:
    in between, a pass changes the newest column (and the oldest, part-shown one) only."""
    import random

    rng = random.Random(7)
    stream = [rng.uniform(0.0, 100.0) for _ in range(400)]
    n, width = 100, 10
    before = resample(stream[:n], width, 0)
    moved = still = 0
    for first in range(1, 300):
        cols = resample(stream[first:first + n], width, first)
        assert len(cols) == width
        if (first + n - 1) % (n // width) == 0:  # the newest pass opened a new bucket
            assert cols[1:-1] == before[2:]
            moved += 1
        else:
            assert cols[1:-1] == before[1:-1]
            still += 1
        before = cols
    assert moved and still > moved


def test_a_spike_keeps_its_column_until_the_buckets_move() -> None:
    spike = 58  # a pass number; buckets of ten passes, the newest of passes 100..109
    stream = [50.0 if p == spike else 1.0 for p in range(120)]
    for first in range(3, 11):  # newest pass 102..109: the same buckets
        assert resample(stream[first:first + 100], 10, first).index(50.0) == 4
    assert resample(stream[11:111], 10, 11).index(50.0) == 3  # pass 110 opened one


def test_time_axis_under_buckets_moves_with_them() -> None:
    times = [1000.0 + i for i in range(601)]
    axis = time_axis(times, 601, 38)
    # columns of 16 passes: -5m under column 37-18 (ages 288..304 s), -10m under column 0
    assert axis.split() == ["-10m", "-5m", "now"] and axis.index("-5m") == 18
    later = [t + 1.0 for t in times]
    assert time_axis(later, 601, 38) == axis
