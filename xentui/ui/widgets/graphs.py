"""The `Performance` pane: small area charts of one domain's figures, or the host's top CPU users.

`render_graph` is pure (lists of strings) so it can be tested without a terminal. The
widget keeps no copy of the data: it reads the backend's `History` when it paints, paints
only when it is on screen and something new arrived, and fits what it shows to its size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from xentui.backend.history import METRICS, History, Series
from xentui.ui import format as fmt
from xentui.ui.cell_diff import text_spans

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_STEPS = ".:|#"
NAN = float("nan")
MAX_ROWS = 6
"""Most rows one graph gets however tall the pane is."""
TWO_COLUMNS_AT = 72
"""Pane width from which graphs are laid out in two columns."""
RECENT = 5
"""Passes over which the host view ranks domains by CPU use."""


def _finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


def resample(values: Sequence[float], width: int) -> list[float]:
    """`width` columns, newest at the right: short input is padded on the left with NaN,
    long input is bucketed keeping each bucket's peak (a spike never disappears)."""
    if width <= 0:
        return []
    # v - v is 0.0 for finite values only (NaN for NaN and the infinities)
    clean = [v if v - v == 0.0 else NAN for v in map(float, values)]
    n = len(clean)
    if n <= width:
        return [NAN] * (width - n) + clean
    out: list[float] = []
    for i in range(width):
        bucket = [v for v in clean[i * n // width : (i + 1) * n // width] if v == v]
        out.append(max(bucket) if bucket else NAN)
    return out


def render_graph(
    values: Sequence[float],
    width: int,
    height: int,
    *,
    ascii: bool = False,
    vmax: float | None = None,
) -> list[str]:
    """An area chart as `height` strings of exactly `width` characters, top row first.

    Values are scaled to `vmax` (default: their peak) and clipped to [0, vmax]; NaN and
    infinite values are gaps (blank columns). Any value above zero shows at least the
    smallest mark, so a quiet domain is not mistaken for a stopped one.
    """
    width, height = max(0, width), max(0, height)
    if height == 0:
        return []
    cols = resample(values, width)
    known = [v for v in cols if v == v]
    top = vmax if vmax is not None and _finite(vmax) and vmax > 0 else max(known, default=0.0)
    if top <= 0:
        top = 1.0
    glyphs = ASCII_STEPS if ascii else BLOCKS
    steps = len(glyphs)
    units: list[int] = []
    for v in cols:
        if v != v or v <= 0:
            units.append(0)
            continue
        u = round(min(v / top, 1.0) * height * steps)
        units.append(max(u, 1))
    rows: list[str] = []
    for r in range(height):
        base = (height - 1 - r) * steps
        row = []
        for u in units:
            fill = min(max(u - base, 0), steps)
            row.append(glyphs[fill - 1] if fill else " ")
        rows.append("".join(row))
    return rows


def time_axis(times: Sequence[float], n_values: int, width: int) -> str:
    """A `width`-wide axis under a graph of `n_values` points: '-10m    -5m     now'."""
    if width <= 0:
        return ""
    cells = [" "] * width
    if width >= 3:
        cells[width - 3 :] = "now"
    n = min(n_values, len(times))
    if n < 2 or width < 8:
        return "".join(cells)
    now = times[-1]
    start = width - n if n <= width else 0

    def time_at(col: int) -> float:
        idx = col - start if n <= width else col * n // width
        return times[len(times) - n + min(max(idx, 0), n - 1)]

    def place(col: int, label: str) -> None:
        lo, hi = col, col + len(label)
        if hi > width - 4 or any(c != " " for c in cells[max(0, lo - 1) : hi + 1]):
            return
        cells[lo:hi] = label

    place(start, "-" + fmt.span(now - time_at(start)))
    mid = start + (width - start) // 2
    if mid - start >= 8:
        label = "-" + fmt.span(now - time_at(mid))
        place(mid - len(label) // 2, label)
    return "".join(cells)


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


def _stats_header(plot: Plot, width: int, label_w: int) -> Text:
    s = plot.series
    now, avg, peak = plot.show(s.current), plot.show(s.average), plot.show(s.peak)
    b_avg, b_peak = plot.brief(s.average), plot.brief(s.peak)
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
) -> list[Text]:
    """The pane's lines for its size: full graphs (stats line and rows) when there is room,
    else one sparkline per figure with spare rows given to the first (most important)
    figures as full graphs, else fewer figures in their order of priority."""
    if width <= 0 or height <= 0:
        return []
    lines: list[Text] = []
    if title is not None and height >= 3:
        t = title.copy()
        t.truncate(width, overflow="crop" if ascii else "ellipsis")
        lines.append(t)
    use_axis = height - len(lines) >= 3
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
        col_blocks = [[_full_block(p, col_w, rows, label_w, ascii) for p in col] for col in columns]
        graph_w, graph_x = col_w, 0
    else:
        columns = [col[: max(1, avail)] for col in columns]
        shown = [p for col in columns for p in col]
        head_w = label_w + 1 + max(cell_len(p.show(p.series.current)) for p in shown) + 1
        head_w = min(head_w, max(1, col_w - 8))
        for col in columns:
            spare = max(0, avail - len(col))
            blocks: list[list[Text]] = []
            for p in col:
                if spare:
                    rows = min(MAX_ROWS, spare)
                    blocks.append(_full_block(p, col_w, rows, label_w, ascii))
                    spare -= rows
                else:
                    blocks.append([_spark_line(p, col_w, label_w, head_w, ascii)])
            col_blocks.append(blocks)
        graph_w, graph_x = col_w - head_w, head_w

    col_lines = [[line for block in bs for line in block] for bs in col_blocks]
    depth = max(len(c) for c in col_lines)
    for i in range(min(depth, avail)):
        row = Text()
        for c, col_text in enumerate(col_lines):
            if c:
                row.append(" " * gap)
            piece = col_text[i] if i < len(col_text) else Text(" " * col_w)
            row.append_text(piece)
        lines.append(row)
    if use_axis:
        axis = Text(style="dim")
        for c in range(ncols):
            if c:
                axis.append(" " * gap)
            axis.append(" " * graph_x + time_axis(times, n_values, graph_w))
        lines.append(axis)
    return lines[:height]


def _full_block(plot: Plot, width: int, rows: int, label_w: int, ascii: bool) -> list[Text]:
    graph = render_graph(plot.series.values, width, rows, ascii=ascii, vmax=plot.vmax)
    return [_stats_header(plot, width, label_w)] + [Text(g, style=plot.style) for g in graph]


def _spark_line(plot: Plot, width: int, label_w: int, head_w: int, ascii: bool) -> Text:
    head = Text(fmt.visible(plot.label), style=f"bold {plot.style}")
    head.truncate(label_w, overflow="crop", pad=True)
    head.append(" " + plot.show(plot.series.current))
    head.truncate(head_w, overflow="crop", pad=True)
    graph = render_graph(plot.series.values, width - head_w, 1, ascii=ascii, vmax=plot.vmax)
    return head + Text(graph[0] if graph else "", style=plot.style)


def _cpu_scale(*series: Series) -> float:
    """CPU graphs are scaled to at least one busy physical CPU (100%)."""
    return max([100.0, *(s.peak or 0.0 for s in series)])


def _rate_scale(*series: Series) -> float:
    """Rate graphs share a scale per pair (read/write) with a floor of 1 KiB/s."""
    return max([1024.0, *(s.peak or 0.0 for s in series)])


def domain_plots(history: History, uuid: str) -> list[Plot]:
    """One domain's figures, most important first."""
    s = {
        m: history.series(uuid, m)
        for m in METRICS
    }
    disk = _rate_scale(s["disk_rd_bps"], s["disk_wr_bps"])
    net = _rate_scale(s["net_rx_bps"], s["net_tx_bps"])
    return [
        Plot("CPU", s["cpu_pct"], fmt.pct, _cpu_scale(s["cpu_pct"]), "green"),
        Plot(
            "Mem",
            s["mem_kib"],
            fmt.bytes_kib,
            max(1.0, s["mem_kib"].peak or 0.0),
            "magenta",
            fmt.bytes_kib_short,
        ),
        Plot("Net rx", s["net_rx_bps"], fmt.rate_bps, net, "cyan", fmt.rate_bps_short),
        Plot("Net tx", s["net_tx_bps"], fmt.rate_bps, net, "cyan", fmt.rate_bps_short),
        Plot("Disk rd", s["disk_rd_bps"], fmt.rate_bps, disk, "yellow", fmt.rate_bps_short),
        Plot("Disk wr", s["disk_wr_bps"], fmt.rate_bps, disk, "yellow", fmt.rate_bps_short),
    ]


def _recent_cpu(series: Series) -> float:
    known = [v for v in series.values[-RECENT:] if not math.isnan(v)]
    return sum(known) / len(known) if known else -1.0


def host_plots(history: History, names: dict[str, str], top: int = 5) -> list[Plot]:
    """CPU of all domains together, then of the `top` busiest lately, each on its own line."""
    all_cpu = {u: history.series(u, "cpu_pct") for u in history.domains()}
    times = history.times()
    total: list[float] = []
    for i in range(len(times)):
        known = [s.values[i] for s in all_cpu.values() if not math.isnan(s.values[i])]
        total.append(sum(known) if known else NAN)
    total_series = Series(times, total)
    ranked = sorted(all_cpu.items(), key=lambda kv: (-_recent_cpu(kv[1]), names.get(kv[0], kv[0])))
    busiest = [(u, s) for u, s in ranked if s.current is not None][: max(0, top)]
    scale = _cpu_scale(*(s for _, s in busiest))
    plots = [Plot("All CPU", total_series, fmt.pct, _cpu_scale(total_series), "green")]
    plots += [Plot(names.get(u, u[:8]), s, fmt.pct, scale, "green") for u, s in busiest]
    return plots


class PerformanceView(Widget):
    """Graphs of CPU, memory, disk and network for one domain, or the host's top CPU users.

    Call `show_domain` / `show_host` to choose what to show, and `refresh_graphs` after
    every sampling pass; painting happens only when the pane is on screen and the history
    holds a pass it has not drawn yet.
    """

    DEFAULT_CSS = """
    PerformanceView {
        height: 1fr;
        min-height: 3;
    }
    """

    def __init__(
        self,
        *,
        ascii: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._ascii = ascii
        self._history: History | None = None
        self._mode = ""
        self._uuid = ""
        self._title = ""
        self._names: dict[str, str] = {}
        self._top = 5
        self._drawn_key: tuple[object, ...] | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._cache: list[Text] = []
        self._shown: tuple[tuple[int, int], list[Text]] | None = None
        """The lines last drawn and the size they were drawn at."""
        self._strips: dict[int, Strip] = {}
        self.paints = 0
        """How many times the graphs were rebuilt (for tests and benchmarks)."""

    @property
    def ascii(self) -> bool:
        """Draw with ASCII only (for terminals without Unicode block characters)."""
        return self._ascii

    @ascii.setter
    def ascii(self, value: bool) -> None:
        if value != self._ascii:
            self._ascii = value
            if self.is_mounted:
                self.refresh()

    def show_domain(self, history: History, uuid: str, name: str) -> None:
        """Show one domain's graphs (name shown literally)."""
        self._history, self._mode, self._uuid, self._title = history, "domain", uuid, name
        self.refresh_graphs(force=True)

    def show_host(self, history: History, names: dict[str, str], top: int = 5) -> None:
        """Show the CPU of all domains together and of the `top` busiest ones."""
        self._history, self._mode, self._uuid = history, "host", ""
        self._names, self._top = dict(names), top
        self._title = "All domains"
        self.refresh_graphs(force=True)

    def refresh_graphs(self, force: bool = False) -> None:
        """Repaint if on screen and new data arrived since the last paint; cheap otherwise.
        Only the cells that differ from the lines drawn are marked dirty: a graph that
        gains a column rewrites the columns whose marks moved, not the pane."""
        if not self._on_screen():
            return
        if force or self._data_key() != self._drawn_key:
            self._repaint_changed()

    def _repaint_changed(self) -> None:
        width, height = self.content_size.width, self.content_size.height
        if self._shown is None or self._shown[0] != (width, height):
            self.refresh()
            return
        before, after = self._shown[1], self._lines(width, height)
        regions = [
            Region(x, y, w, 1)
            for y in range(max(len(before), len(after)))
            for x, w in text_spans(before[y] if y < len(before) else None,
                                   after[y] if y < len(after) else Text(), width)
        ]
        if regions:
            self.refresh(*regions)

    def _on_screen(self) -> bool:
        if not self.is_mounted or not self.display:
            return False
        try:
            return self.screen.is_current and self.is_on_screen
        except Exception:  # not attached to a screen yet
            return False

    def on_show(self, _: events.Show) -> None:
        self.refresh_graphs()

    def _data_key(self) -> tuple[object, ...]:
        h = self._history
        if h is None:
            return (None,)
        times = h.times()
        return (id(h), self._mode, self._uuid, self._top, len(times), times[-1] if times else 0.0)

    def render(self) -> Text:
        """The pane as one Text (what render_line draws line by line)."""
        return Text("\n").join(self._lines(self.content_size.width, self.content_size.height))

    def render_line(self, y: int) -> Strip:
        """Line `y`, each built line turned into a Strip once (as Textual would turn the
        whole pane): a refresh of a few cells renders only the lines they are on."""
        width, height = self.content_size.width, self.content_size.height
        lines = self._lines(width, height)
        if self._shown is None or self._shown[1] is not lines or self._shown[0] != (
                width, height):
            self._shown = ((width, height), lines)
            self._strips = {}
        self._drawn_key = self._data_key()
        strip = self._strips.get(y)
        if strip is None:
            strips = (Visual.to_strips(self, visualize(self, lines[y]), width, 1,
                                       self.visual_style) if y < len(lines) else [])
            strip = strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)
            self._strips[y] = strip
        return strip

    def _lines(self, width: int, height: int) -> list[Text]:
        """The pane's lines for this size and the data now (built again only on a change)."""
        data_key = self._data_key()
        key = (data_key, width, height, self._ascii, self._title, tuple(self._names.items()))
        if key != self._cache_key:
            self._cache = self._build(width, height)
            self._cache_key = key
            self.paints += 1
        return self._cache

    def _build(self, width: int, height: int) -> list[Text]:
        h = self._history
        if h is None or not self._mode:
            return [Text("no domain selected", style="dim")]
        if len(h) == 0:
            return [Text("waiting for the first sample", style="dim")]
        if self._mode == "domain":
            plots = domain_plots(h, self._uuid)
            title = Text(fmt.visible(self._title), style="bold")
        else:
            plots = host_plots(h, self._names, self._top)
            title = Text(self._title, style="bold")
        times = h.times()
        if len(times) >= 2:
            title.append(f"  last {fmt.span(times[-1] - times[0])}", style="dim")
        return layout(title, plots, times, width, height, ascii=self._ascii)
