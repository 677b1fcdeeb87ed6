"""Which cells of a line changed: widgets mark only those dirty, so a refresh writes the
few figures that moved instead of whole lines (Textual writes every dirty region whole).

Lines are compared as Rich segments or as Text lines; a span is (x, width) in cells.
Nearby changed runs are merged: a cursor move costs about as much as a few cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text

MERGE_GAP = 4
"""Unchanged cells between two changed runs up to which they are written as one."""

Span = tuple[int, int]


def merge(spans: Iterable[Span], gap: int = MERGE_GAP) -> list[Span]:
    """Spans sorted and joined where at most `gap` unchanged cells lie between them."""
    out: list[Span] = []
    for x, w in sorted(spans):
        if w <= 0:
            continue
        if out and x - (out[-1][0] + out[-1][1]) <= gap:
            px, pw = out[-1]
            out[-1] = (px, max(px + pw, x + w) - px)
        else:
            out.append((x, w))
    return out


def segment_spans(old: Sequence[Segment], new: Sequence[Segment], width: int) -> list[Span]:
    """Changed spans between two lines built segment for segment alike (same cuts);
    the whole line when their cuts differ."""
    if len(old) != len(new):
        return [(0, width)]
    spans: list[Span] = []
    x = 0
    for a, b in zip(old, new, strict=True):
        w = _cells(b.text)
        if a.text != b.text or a.style != b.style:
            if _cells(a.text) != w:
                return [(0, width)]
            spans.append(_char_run(a.text, b.text, x) if a.style == b.style else (x, w))
        x += w
    return merge(spans)


def _cells(text: str) -> int:
    """Cells `text` takes: one a character where all are printable ASCII (most figures),
    checked far faster than Rich's width tables are read."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


def _char_run(a: str, b: str, x: int) -> Span:
    """The run from the first to the last differing character of two texts of the same
    width (single-cell characters only; else the whole text)."""
    if len(a) != len(b) or _cells(b) != len(b):
        return (x, _cells(b))
    first = next(i for i in range(len(a)) if a[i] != b[i])
    last = next(i for i in range(len(a) - 1, -1, -1) if a[i] != b[i])
    return (x + first, last - first + 1)


def text_spans(old: Text | None, new: Text, width: int) -> list[Span]:
    """Changed spans between two single-line Texts as drawn in `width` cells: character
    runs (and the tail where the lengths differ) where the styles sit at the same places
    and every character is one cell wide; the whole line otherwise (styles moved, wide
    characters, or a line cut to fit)."""
    if old is None:
        return [(0, width)]
    if old is new:
        return []
    a, b = old.plain, new.plain
    if a == b and old.spans == new.spans and old.style == new.style:
        return []
    if old.spans != new.spans or old.style != new.style:
        return [(0, width)]
    return plain_spans(a, b, width)


def plain_spans(a: str, b: str, width: int) -> list[Span]:
    """`text_spans` of two lines whose styles sit at the same places."""
    if a == b:
        return []
    if max(len(a), len(b)) > width or cell_len(a) != len(a) or cell_len(b) != len(b):
        return [(0, width)]
    runs: list[Span] = []
    start = -1
    common = min(len(a), len(b))
    for i in range(common):
        if a[i] != b[i]:
            if start < 0:
                start = i
        elif start >= 0:
            runs.append((start, i - start))
            start = -1
    if start >= 0:
        runs.append((start, common - start))
    if len(a) != len(b):
        runs.append((common, max(len(a), len(b)) - common))
    return merge(runs)


def multiline_spans(old: Text | None, new: Text, width: int) -> list[tuple[int, int, int]]:
    """Changed (line, x, width) spans between two Texts of several lines. Where their
    styles sit at the same offsets, line by line as `text_spans` does; else every line
    whole (a style moved with the text)."""
    lines = new.plain.split("\n")
    if old is None or old.spans != new.spans or old.style != new.style:
        count = len(lines) if old is None else max(len(lines), old.plain.count("\n") + 1)
        return [(y, 0, width) for y in range(count)]
    before = old.plain.split("\n")
    out: list[tuple[int, int, int]] = []
    for y in range(max(len(before), len(lines))):
        a = before[y] if y < len(before) else ""
        b = lines[y] if y < len(lines) else ""
        out.extend((y, x, w) for x, w in plain_spans(a, b, width))
    return out
