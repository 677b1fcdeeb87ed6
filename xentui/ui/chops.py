"""Partial screen updates: render only the rows that hold a dirty cell, write only the
dirty cells.

Textual's partial update renders, for every widget that overlaps the box around all the
dirty regions, every visible line of that widget; a pass that changes a figure in the
header and a few in the graphs asks the table, the log, the footer and the screen under
them for all their lines. `RowsCompositor` asks each widget only for the rows where a
dirty span crosses it. What is drawn is the same: a cell outside the dirty spans is never
written (see below), and a widget's lines that were not asked for stay dirty in its own
cache until they are.

Textual's `ChopsUpdate` then writes each dirty span from the left edge of the widget it
falls in: a figure that changed in the middle of a table row rewrites the row up to it.
`CroppedChops` crops every piece to its dirty span, so the terminal gets the cells that
changed and nothing left of them.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.control import Control
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

ROW_GAP = 4
"""Rows of a widget between two dirty rows that are rendered anyway rather than asking
the widget twice (each ask costs its styles' look-up)."""


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, past-last) runs, joining runs less than `ROW_GAP` apart."""
    runs: list[tuple[int, int]] = []
    start = end = rows[0]
    for y in rows[1:]:
        if y - end > ROW_GAP:
            runs.append((start, end + 1))
            start = y
        end = y
    runs.append((start, end + 1))
    return runs


def _fill(line: dict[int, Strip | None], strip: Strip, left: int, cuts: list[int]) -> None:
    """A widget's line (starting at column `left`) cut at the screen's `cuts` within it,
    into the chops still empty (widgets come front to back: the first piece wins)."""
    for cut, piece in zip(cuts, strip.divide([c - left for c in cuts[1:]]), strict=False):
        if line.get(cut) is None:
            line[cut] = piece


class RowsCompositor(Compositor):
    """Textual's compositor whose partial update renders only rows that hold dirty spans."""

    def render_partial_update(self) -> ChopsUpdate | None:
        regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not regions:
            return None
        spans = list(self._regions_to_spans(regions))
        height = self.size.height
        by_row: dict[int, list[tuple[int, int]]] = {}
        for y, x1, x2 in spans:
            if 0 <= y < height:
                by_row.setdefault(y, []).append((x1, x2))
        span_rows = sorted(by_row)
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [{}] * len(cuts)  # read on span rows only
        for y in span_rows:
            chops[y] = dict.fromkeys(cuts[y][:-1])
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            left, right = shown.column_span
            top, bottom = shown.line_range.start, shown.line_range.stop
            rows = [y for y in span_rows if top <= y < bottom
                    and any(x1 < right and x2 > left for x1, x2 in by_row[y])]
            if not rows:
                continue
            for first, last in _runs(rows):
                strips = widget.render_lines(
                    Region(left - region.x, first - region.y, right - left, last - first))
                for y, strip in zip(range(first, last), strips, strict=False):
                    if y in by_row:  # a joined run's rows between spans are not written
                        _fill(chops[y], strip, left, [c for c in cuts[y] if right >= c >= left])
        return ChopsUpdate(chops, spans, [c[1:] for c in cuts])


class CroppedChops(ChopsUpdate):
    """A `ChopsUpdate` whose pieces start at their dirty span, not at their widget."""

    @classmethod
    def of(cls, update: ChopsUpdate) -> CroppedChops:
        return cls(update.chops, update.spans, update.chop_ends)

    def render_segments(self, console: Console) -> str:
        """The terminal sequences: for each dirty span, a move and the cells in it."""
        out: list[str] = []
        append = out.append
        move_to = Control.move_to
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            ends = self.chop_ends[y]
            for end, (x, strip) in zip(ends, self.chops[y].items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                left, right = max(x, x1), min(end, x2)
                piece = strip if (left, right) == (x, end) else strip.crop(left - x, right - x)
                append(move_to(left, y).segment.text)
                append(piece.render(console))
            if y != last_y:
                append("\n")
        return "".join(out)


def cropped(update: RenderableType | None) -> RenderableType | None:
    """A partial update as `CroppedChops`; anything else as it is."""
    return CroppedChops.of(update) if type(update) is ChopsUpdate else update
