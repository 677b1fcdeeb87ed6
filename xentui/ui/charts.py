"""The Performance pane's lines as text: area charts, their time axis and how plots share the pane.

All pure (strings and Rich `Text`, no terminal), so the drawing can be tested alone; the
`PerformanceView` widget (widgets/graphs.py) picks the plots and paints these lines.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Span, Text

from xentui.backend.history import Series
from xentui.ui import format as fmt
from xentui.ui.graph_memo import GraphMemo

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_STEPS = ".:|#"
NAN = float("nan")
_GAP = float("-inf")
MAX_ROWS = 6
"""Most rows one graph gets however tall the pane is."""
TWO_COLUMNS_AT = 72
"""Pane width from which graphs are laid out in two columns."""


def _finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


def slot_size(n: int, width: int) -> int:
    """Values per column when `n` values are drawn in `width` columns (1: one each)."""
    return 1 if n <= width or width <= 0 else -(-n // width)


def resample(values: Sequence[float], width: int, first: int = 0,
             kept: dict[int, float] | None = None) -> list[float]:
    """`width` columns, newest at the right: short input is padded on the left with NaN,
    long input is bucketed keeping each bucket's peak (a spike never disappears).

    Buckets are fixed slots of pass numbers (`first` is the first value's): a pass
    joins the newest column until it is full, and only then does the graph move one
    column left. Buckets counted from the oldest value would all move on every pass,
    redrawing every row and letting a spike jump from column to column.

    `kept` holds, by slot, the peaks of buckets whose passes were all held, for values
    that keep their pass numbers from call to call (one series, see `Series.origin`)
    and the same values per column: such a bucket cannot change, so its peak is read
    from it or put in it, and slots left of the graph are dropped from it.
    """
    if width <= 0:
        return []
    n = len(values)
    if n <= width:
        # v - v is 0.0 for finite values only (NaN for NaN and the infinities)
        return [NAN] * (width - n) + [v if v - v == 0.0 else NAN for v in map(float, values)]
    k = slot_size(n, width)
    base = (first + n - 1) // k - width + 1  # the slot of column 0
    if kept is not None:
        return _kept_peaks(values, width, base * k - first, base, k, kept)
    # gaps sink below every value so that a bucket's max is its peak (-inf: all gaps)
    sunk = [v if v - v == 0.0 else _GAP for v in map(float, values)]
    # where each column's values start, kept within the values held
    edges = [e if 0 <= e <= n else (0 if e < 0 else n)
             for e in range(base * k - first, (base + width) * k - first + 1, k)]
    return [NAN if lo >= hi or (peak := max(sunk[lo:hi])) == _GAP else peak
            for lo, hi in itertools.pairwise(edges)]


def _kept_peaks(values: Sequence[float], width: int, lo: int, base: int, k: int,
                kept: dict[int, float]) -> list[float]:
    """`resample`'s columns from slot `base` on (its values start at index `lo`), the
    peaks of whole buckets taken from `kept` or put there."""
    n = len(values)
    if len(kept) > 2 * width:
        for slot in [s for s in kept if s < base]:
            del kept[slot]
    out: list[float] = []
    for slot in range(base, base + width):
        hi = lo + k
        whole = lo >= 0 and hi <= n  # every pass of the bucket is held: it cannot change
        peak = kept.get(slot) if whole else None
        if peak is None:
            a, b = max(lo, 0), min(hi, n)
            # v - v is 0.0 for finite values only (NaN for NaN and the infinities)
            peak = max((v for v in values[a:b] if v - v == 0.0), default=NAN) if a < b \
                else NAN
            if whole:
                kept[slot] = peak
        out.append(peak)
        lo = hi
    return out


def render_graph(
    values: Sequence[float],
    width: int,
    height: int,
    *,
    ascii: bool = False,
    vmax: float | None = None,
    first: int = 0,
) -> list[str]:
    """An area chart as `height` strings of exactly `width` characters, top row first.

    Values are scaled to `vmax` (default: their peak) and clipped to [0, vmax]; NaN and
    infinite values are gaps (blank columns). Any value above zero shows at least the
    smallest mark, so a quiet domain is not mistaken for a stopped one.
    """
    width, height = max(0, width), max(0, height)
    if height == 0:
        return []
    units = graph_units(resample(values, width, first), height, ascii=ascii, vmax=vmax)
    return graph_rows(units, height, ascii=ascii)


def graph_units(cols: Sequence[float], height: int, *, ascii: bool = False,
                vmax: float | None = None) -> tuple[int, ...]:
    """Each column's height in marks (a cell holds one glyph step per unit)."""
    top = vmax if vmax is not None and _finite(vmax) and vmax > 0 else \
        max((v for v in cols if v == v), default=0.0)
    if top <= 0:
        top = 1.0
    scale = height * len(ASCII_STEPS if ascii else BLOCKS)
    units: list[int] = []
    for v in cols:
        if v != v or v <= 0:
            units.append(0)
            continue
        u = round(min(v / top, 1.0) * scale)
        units.append(max(u, 1))
    return tuple(units)


def graph_rows(units: Sequence[int], height: int, *, ascii: bool = False) -> list[str]:
    """The chart's rows, top first, from its columns' units."""
    if height <= 0:
        return []
    column = _columns(ASCII_STEPS if ascii else BLOCKS, height)
    return ["".join(row) for row in zip(*(column(u) for u in units), strict=True)] if units \
        else [""] * height


@functools.cache
def _columns(glyphs: str, height: int) -> Callable[[int], str]:
    """A column of a chart `height` rows tall, top first, holding `u` units of marks
    (each cell holds one glyph's worth per unit), made once per number of units."""

    @functools.cache
    def column(u: int) -> str:
        steps = len(glyphs)
        cells = []
        for r in range(height):
            fill = min(max(u - (height - 1 - r) * steps, 0), steps)
            cells.append(glyphs[fill - 1] if fill else " ")
        return "".join(cells)

    return column


TICKS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
           86400, 172800, 604800)
"""Ages the time axis may mark, in seconds: it marks multiples of the first that leaves
room between labels."""
TICK_GAP = 10
"""Fewest columns between two marks."""


def time_axis(times: Sequence[float], n_values: int, width: int) -> str:
    """A `width`-wide axis under a graph of `n_values` points: '   -4m    -2m      now'.

    Marks sit at round ages (multiples of one of `TICKS_S`) under the column holding
    values that old, so an axis stays put while its graph moves: a mark is added, or
    the graph's buckets grow, a few times a minute at most.
    """
    if width <= 0:
        return ""
    cells = [" "] * width
    if width >= 3:
        cells[width - 3 :] = "now"
    n = min(n_values, len(times))
    if n < 2 or width < 8:
        return "".join(cells)
    per_pass = round((times[-1] - times[-n]) / (n - 1), 2)  # jitter must not move marks
    per_col = slot_size(n, width) * per_pass
    if not per_col > 0:
        return "".join(cells)
    tick = next((t for t in TICKS_S if t / per_col >= TICK_GAP), None)
    if tick is None:
        return "".join(cells)
    oldest = width - n if n <= width else 0  # the first column holding values
    age = tick
    # the column of values `age` old: column width-1-j holds ages [j, j + 1) * per_col
    while (col := width - 1 - math.floor(age / per_col + 1e-9)) >= oldest:
        label = "-" + fmt.span(age)
        lo = max(0, col - len(label) // 2)
        hi = lo + len(label)
        if hi <= width - 4 and all(c == " " for c in cells[max(0, lo - 1) : hi + 1]):
            cells[lo:hi] = label
        age += tick
    return "".join(cells)


@dataclass(frozen=True, slots=True)
class Summary:
    """A series' latest known value, average and peak (None: nothing known), worked out
    once: each reads the whole history."""

    current: float | None
    average: float | None
    peak: float | None

    @classmethod
    def of(cls, series: Series) -> Summary:
        values = series.values
        total = sum(values)
        if total - total == 0.0 and values:  # no gap (NaN) nor infinity: no need to sift
            return cls(values[-1], total / len(values), max(values))
        known = series.known()
        if not known:
            return cls(None, None, None)
        return cls(known[-1], sum(known) / len(known), max(known))


@dataclass(frozen=True, slots=True)
class Plot:
    """One graph: a label (literal text), its series, how to print a value, its scale."""

    label: str
    series: Series
    show: Callable[[float | None], str]
    vmax: float
    style: str
    brief: Callable[[float | None], str] = fmt.pct_short
    """A shorter form of `show` for narrow panes."""
    summary: Summary | None = None
    """The series' summary if already worked out (else worked out when drawn)."""

    def figures(self) -> Summary:
        return self.summary or Summary.of(self.series)


def _stats_header(plot: Plot, width: int, label_w: int, memo: GraphMemo | None = None) -> Text:
    """The plot's label and its figures now, on average and at their peak (a memo keeps
    the line while they read the same)."""
    s = plot.figures()
    now, avg, peak = plot.show(s.current), plot.show(s.average), plot.show(s.peak)
    b_avg, b_peak = plot.brief(s.average), plot.brief(s.peak)
    if memo is None:
        return _stats_line(plot, width, label_w, now, avg, peak, b_avg, b_peak)
    return memo.piece(("stats", plot.label, plot.style), (width, label_w, now, avg, peak, b_avg,
                                                          b_peak),
                      lambda: _stats_line(plot, width, label_w, now, avg, peak, b_avg, b_peak))


def _stats_line(plot: Plot, width: int, label_w: int, now: str, avg: str, peak: str,
                b_avg: str, b_peak: str) -> Text:
    label = Text(fmt.visible(plot.label), style=f"bold {plot.style}")
    label.truncate(label_w, overflow="crop", pad=True)
    for tail in (
        f" {now}  avg {avg}  max {peak}",
        f" {now} avg {avg} max {peak}",
        f" {now}  avg {b_avg}  max {b_peak}",
        f" {now} avg {b_avg} max {b_peak}",
        f" {now} max {b_peak}",
        f" {now}",
    ):
        if label_w + cell_len(tail) <= width:
            break
    line = label + Text(tail)
    line.truncate(width, overflow="crop", pad=True)
    return line


def layout(
    title: Text | None,
    plots: Sequence[Plot],
    times: Sequence[float],
    width: int,
    height: int,
    *,
    ascii: bool = False,
    memo: GraphMemo | None = None,
) -> list[Text]:
    """The pane's lines for its size: full graphs (stats line and rows) when there is room,
    else one sparkline per figure with spare rows given to the first (most important)
    figures as full graphs, else fewer figures in their order of priority. The title
    says how far back the graphs go where no time axis fits under them. With a `memo`,
    what the last build worked out and is still the same is reused (the lines are the
    same as without)."""
    if width <= 0 or height <= 0:
        return []
    if memo is None:
        return _layout(title, plots, times, width, height, ascii, None)
    memo.begin()
    try:
        return _layout(title, plots, times, width, height, ascii, memo)
    finally:
        memo.end()


def _layout(title: Text | None, plots: Sequence[Plot], times: Sequence[float], width: int,
            height: int, ascii: bool, memo: GraphMemo | None) -> list[Text]:
    lines: list[Text] = []
    use_axis = height - (1 if title is not None and height >= 3 else 0) >= 3
    if title is not None and height >= 3:
        t = title.copy()
        if not use_axis and len(times) >= 2:  # else the axis tells the ages
            t.append(f"  last {fmt.span(times[-1] - times[0])}", style="dim")
        t.truncate(width, overflow="crop" if ascii else "ellipsis")
        lines.append(t)
    avail = height - len(lines) - (1 if use_axis else 0)
    if not plots:
        return [*lines, Text("no figures yet", style="dim")][:height]
    ncols = 2 if width >= TWO_COLUMNS_AT and len(plots) > 1 else 1
    gap = 2
    col_w = (width - gap * (ncols - 1)) // ncols
    per_col = -(-len(plots) // ncols)
    label_w = max(cell_len(fmt.visible(p.label)) for p in plots)
    label_w = min(label_w, max(4, col_w // 3))
    n_values = max((len(p.series.values) for p in plots), default=0)

    columns = [list(plots[c * per_col : (c + 1) * per_col]) for c in range(ncols)]
    col_blocks: list[list[list[Text]]] = []
    if avail >= 2 * per_col:
        rows = min(MAX_ROWS, avail // per_col - 1)
        col_blocks = [[_full_block(p, col_w, rows, label_w, ascii, memo)
                       for p in col] for col in columns]
        graph_w, graph_x = col_w, 0
    else:
        columns = [col[: max(1, avail)] for col in columns]
        shown = [p for col in columns for p in col]
        head_w = label_w + 1 + max(cell_len(p.show(p.figures().current)) for p in shown) + 1
        head_w = min(head_w, max(1, col_w - 8))
        for col in columns:
            spare = max(0, avail - len(col))
            blocks: list[list[Text]] = []
            for p in col:
                if spare:
                    rows = min(MAX_ROWS, spare)
                    blocks.append(_full_block(p, col_w, rows, label_w, ascii, memo))
                    spare -= rows
                else:
                    blocks.append([_spark_line(p, col_w, label_w, head_w, ascii, memo)])
            col_blocks.append(blocks)
        graph_w, graph_x = col_w - head_w, head_w

    col_lines = [[line for block in bs for line in block] for bs in col_blocks]
    depth = max(len(c) for c in col_lines)
    for i in range(min(depth, avail)):
        pieces = [c[i] if i < len(c) else None for c in col_lines]
        if memo is None:
            lines.append(_side_by_side(pieces, col_w, gap))
        else:  # the very pieces the memo kept make the very line it kept
            lines.append(memo.joined(("line", i, col_w, gap), pieces,
                                     functools.partial(_side_by_side, pieces, col_w, gap)))
    if use_axis:
        axis = Text(style="dim")
        for c in range(ncols):
            if c:
                axis.append(" " * gap)
            axis.append(" " * graph_x + time_axis(times, n_values, graph_w))
        lines.append(axis)
    return lines[:height]


def _side_by_side(pieces: Sequence[Text | None], col_w: int, gap: int) -> Text:
    """One line of the pane from each column's piece (None: blank), `gap` apart; what
    `Text.append_text` would make of them, without its cost per piece."""
    plain: list[str] = []
    spans: list[Span] = []
    x = 0
    for c, piece in enumerate(pieces):
        if c:
            plain.append(" " * gap)
            x += gap
        if piece is None:
            plain.append(" " * col_w)
            x += col_w
            continue
        text = piece.plain
        if piece.style:
            spans.append(Span(x, x + len(text), piece.style))
        spans.extend(Span(x + sp.start, x + sp.end, sp.style) for sp in piece.spans)
        plain.append(text)
        x += len(text)
    return Text("".join(plain), spans=spans)


def _graph_columns(plot: Plot, width: int, memo: GraphMemo | None) -> list[float]:
    series = plot.series
    kept = None
    if memo is not None and series.origin is not None:
        kept = memo.peaks(series.origin, slot_size(len(series.values), width))
    return resample(series.values, width, series.first, kept)


def _graph_texts(plot: Plot, width: int, rows: int, ascii: bool,
                 memo: GraphMemo | None) -> list[Text]:
    """A plot's chart rows as styled lines (kept while its columns' marks stay put)."""
    origin = plot.series.origin
    cols = _graph_columns(plot, width, memo)
    if memo is None or origin is None:
        units = graph_units(cols, rows, ascii=ascii, vmax=plot.vmax)
    else:
        units = memo.piece(("units", origin, width, rows, ascii), (tuple(cols), plot.vmax),
                           lambda: graph_units(cols, rows, ascii=ascii, vmax=plot.vmax))

    def make() -> list[Text]:
        return [Text(g, style=plot.style) for g in graph_rows(units, rows, ascii=ascii)]

    if memo is None or origin is None:
        return make()
    return memo.piece(("rows", origin, width, rows, ascii, plot.style), units, make)


def _full_block(plot: Plot, width: int, rows: int, label_w: int, ascii: bool,
                memo: GraphMemo | None = None) -> list[Text]:
    return [_stats_header(plot, width, label_w, memo),
            *_graph_texts(plot, width, rows, ascii, memo)]


def _spark_line(plot: Plot, width: int, label_w: int, head_w: int, ascii: bool,
                memo: GraphMemo | None = None) -> Text:
    head = Text(fmt.visible(plot.label), style=f"bold {plot.style}")
    head.truncate(label_w, overflow="crop", pad=True)
    head.append(" " + plot.show(plot.figures().current))
    head.truncate(head_w, overflow="crop", pad=True)
    graph = _graph_texts(plot, max(0, width - head_w), 1, ascii, memo)
    return head + (graph[0] if graph else Text("", style=plot.style))
