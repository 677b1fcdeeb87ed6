"""What a line-drawn widget last drew on each of its lines, so that a change marks dirty
only the cells that differ from it (the rest of the screen already shows them)."""

from __future__ import annotations

from collections.abc import Callable

from textual.geometry import Region
from textual.strip import Strip

from xentui.ui.cell_diff import segment_spans

Geometry = tuple[int, int, int, int]
"""Horizontal and vertical scroll offsets, width and height the lines were drawn at."""

_UNKNOWN = Strip([])
"""A line not drawn since the geometry changed (told apart from a blank one)."""


class PaintedLines:
    """Uncropped lines as drawn (None: blank), for the geometry they were drawn at."""

    def __init__(self) -> None:
        self._lines: dict[int, Strip | None] = {}
        self._at: Geometry = (-1, -1, -1, -1)

    def drawn(self, geometry: Geometry, y: int, line: Strip | None) -> None:
        """Line `y` was drawn as `line` (a new geometry forgets the others)."""
        if geometry != self._at:
            self._lines.clear()
            self._at = geometry
        self._lines[y] = line

    def changed(self, geometry: Geometry,
                line_at: Callable[[int], Strip | None]) -> list[Region] | None:
        """Regions (in the widget's content) whose cells differ from what was drawn, with
        `line_at(y)` giving each line now; None when the geometry changed (draw all)."""
        if geometry != self._at:
            return None
        sx, _top, width, height = geometry
        regions: list[Region] = []
        for y in range(height):
            new = line_at(y)
            old = self._lines.get(y, _UNKNOWN)
            if old is new:
                continue
            if old is None or new is None or old is _UNKNOWN:
                regions.append(Region(0, y, width, 1))
                continue
            span_w = max(old.cell_length, new.cell_length)
            for x, w in segment_spans(list(old), list(new), span_w):
                x0, x1 = max(0, x - sx), min(width, x + w - sx)
                if x1 > x0:
                    regions.append(Region(x0, y, x1 - x0, 1))
        return regions
