"""Which cells of a line changed (ui/cell_diff): widgets mark only these dirty."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from xentui.ui.cell_diff import (
    MERGE_GAP,
    _cells,
    merge,
    multiline_spans,
    segment_spans,
    text_spans,
)

GREEN = Style(color="green")


def test_merge_joins_runs_a_few_cells_apart_and_keeps_far_ones_apart() -> None:
    near = 2 + MERGE_GAP
    far = near + 10
    assert merge([(far, 1), (0, 2), (near, 1)]) == [(0, near + 1), (far, 1)]
    assert merge([(3, 0)]) == []


def test_segment_spans_give_the_changed_characters_of_same_styled_cells() -> None:
    old = [Segment("web01   ", GREEN), Segment(" "), Segment(" 12.5%")]
    new = [Segment("web01   ", GREEN), Segment(" "), Segment(" 13.0%")]
    # ' 12.5%' -> ' 13.0%': characters 2..4 of the third segment (which starts at 9)
    assert segment_spans(old, new, 15) == [(11, 3)]
    assert segment_spans(old, list(old), 15) == []


def test_segment_spans_take_a_whole_segment_whose_style_changed() -> None:
    old = [Segment("web01", GREEN), Segment(" 1%")]
    new = [Segment("web01", Style(reverse=True)), Segment(" 1%")]
    assert segment_spans(old, new, 8) == [(0, 5)]


def test_segment_spans_take_the_whole_line_when_the_cuts_differ() -> None:
    old = [Segment("ab"), Segment("cd")]
    assert segment_spans(old, [Segment("abcd")], 9) == [(0, 9)]
    assert segment_spans(old, [Segment("abc"), Segment("d")], 9) == [(0, 9)]


def test_text_spans_follow_characters_and_a_changed_length() -> None:
    assert text_spans(Text("pass 5 ms"), Text("pass 12 ms"), 40) == [(5, 5)]
    assert text_spans(Text("abc"), Text("abc"), 40) == []
    assert text_spans(None, Text("abc"), 40) == [(0, 40)]


def test_text_spans_take_the_whole_line_for_moved_styles_wide_or_cut_text() -> None:
    a = Text("ab cd")
    a.stylize("bold", 0, 2)
    b = Text("ab cd")
    b.stylize("bold", 3, 5)
    assert text_spans(a, b, 20) == [(0, 20)]
    assert text_spans(Text("名前 1"), Text("名前 2"), 20) == [(0, 20)]
    assert text_spans(Text("x" * 30), Text("y" * 30), 20) == [(0, 20)]


def test_multiline_spans_diff_line_by_line_where_styles_stay() -> None:
    old = Text("host\nMem 1 GiB\nDomains 3")
    new = Text("host\nMem 2 GiB\nDomains 3")
    assert multiline_spans(old, new, 30) == [(1, 4, 1)]
    moved = Text("host\nMem 2 GiB\nDomains 3")
    moved.stylize("bold", 0, 4)
    assert multiline_spans(old, moved, 30) == [(0, 0, 30), (1, 0, 30), (2, 0, 30)]


@given(st.text(alphabet=st.sampled_from("ab 9%\t\x1b\x00é世🙂\u0301"), max_size=8))
def test_quick_cell_count_is_richs(text: str) -> None:
    """The ASCII shortcut counts cells as Rich does, control characters and wide or
    combining ones included."""
    assert _cells(text) == cell_len(text)
