"""The `Performance` pane: small area charts of one domain's figures, or the host's top CPU users.

The charts are drawn by `xentui.ui.charts` (pure text). The widget keeps no copy of the
data: it reads the backend's `History` when it paints, paints only when it is on screen and
something new arrived, and fits what it shows to its size.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from xentui.backend.history import METRICS, History, mean_known
from xentui.ui import format as fmt
from xentui.ui.cell_diff import text_spans
from xentui.ui.charts import Plot, Summary, layout
from xentui.ui.graph_memo import GraphMemo
from xentui.ui.text_strips import TextStrips

RECENT = 5
"""Passes over which the host view ranks domains by CPU use."""


def _cpu_scale(*summaries: Summary) -> float:
    """CPU graphs are scaled to at least one busy physical CPU (100%)."""
    return max([100.0, *(s.peak or 0.0 for s in summaries)])


def _rate_scale(*summaries: Summary) -> float:
    """Rate graphs share a scale per pair (read/write) with a floor of 1 KiB/s."""
    return max([1024.0, *(s.peak or 0.0 for s in summaries)])


def domain_plots(history: History, uuid: str) -> list[Plot]:
    """One domain's figures, most important first."""
    s = {m: history.series(uuid, m) for m in METRICS}
    sm = {m: Summary.of(series) for m, series in s.items()}
    disk = _rate_scale(sm["disk_rd_bps"], sm["disk_wr_bps"])
    net = _rate_scale(sm["net_rx_bps"], sm["net_tx_bps"])
    rate, short = fmt.rate_bps, fmt.rate_bps_short
    return [
        Plot("CPU", s["cpu_pct"], fmt.pct, _cpu_scale(sm["cpu_pct"]), "green",
             summary=sm["cpu_pct"]),
        Plot("Mem", s["mem_kib"], fmt.bytes_kib, max(1.0, sm["mem_kib"].peak or 0.0),
             "magenta", fmt.bytes_kib_short, sm["mem_kib"]),
        Plot("Net rx", s["net_rx_bps"], rate, net, "cyan", short, sm["net_rx_bps"]),
        Plot("Net tx", s["net_tx_bps"], rate, net, "cyan", short, sm["net_tx_bps"]),
        Plot("Disk rd", s["disk_rd_bps"], rate, disk, "yellow", short, sm["disk_rd_bps"]),
        Plot("Disk wr", s["disk_wr_bps"], rate, disk, "yellow", short, sm["disk_wr_bps"]),
    ]


def host_plots(history: History, names: dict[str, str], top: int = 5) -> list[Plot]:
    """CPU of all domains together, then of the `top` busiest lately (over the last
    `RECENT` passes; a domain with no CPU figure in them is not among them), each on its
    own line. Only those few domains' whole series are read: a host of a thousand
    domains would otherwise be read whole every pass."""
    recent = {u: m for u in history.domains()
              if (m := mean_known(history.recent(u, "cpu_pct", RECENT))) is not None}
    busiest = sorted(recent, key=lambda u: (-recent[u], names.get(u, u)))[: max(0, top)]
    series = {u: history.series(u, "cpu_pct") for u in busiest}
    sm = {u: Summary.of(s) for u, s in series.items()}
    scale = _cpu_scale(*sm.values())
    total_series = history.cpu_total()
    total_sm = Summary.of(total_series)
    plots = [Plot("All CPU", total_series, fmt.pct, _cpu_scale(total_sm), "green",
                  summary=total_sm)]
    plots += [Plot(names.get(u, u[:8]), s, fmt.pct, scale, "green", summary=sm[u])
              for u, s in series.items()]
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
        self._names_version = 0
        """Counts changes of `_names` (a cheap part of the lines' cache key)."""
        self._top = 5
        self._drawn_key: tuple[object, ...] | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._lines_data_key: tuple[object, ...] | None = None
        """The data the cached lines were built from."""
        self._cache: list[Text] = []
        self._shown: tuple[tuple[int, int], list[Text]] | None = None
        """The lines last drawn and the size they were drawn at."""
        self._strips: dict[int, Strip] = {}
        self._asked: list[Text] | None = None
        """The lines whose changed cells were last marked dirty (not drawn yet)."""
        self._text_strips = TextStrips()
        self._memo = GraphMemo()
        """Bucket peaks and chart rows the last build worked out (see graph_memo)."""
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
        if names != self._names:
            self._names = dict(names)
            self._names_version += 1
        self._top = top
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
        if after is before or after is self._asked:  # drawn, or its cells already asked for
            return
        self._asked = after
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
        return (id(h), self._mode, self._uuid, self._top, h.passes)

    def render(self) -> Text:
        """The pane as one Text (what render_line draws line by line)."""
        return Text("\n").join(self._lines(self.content_size.width, self.content_size.height))

    def render_line(self, y: int) -> Strip:
        """Line `y`, each built line turned into a Strip once (as Textual would turn the
        whole pane): a refresh of a few cells renders only the lines they are on."""
        width, height = self.content_size  # worked out anew on each access: once
        lines = self._lines(width, height)
        if self._shown is None or self._shown[1] is not lines or self._shown[0] != (
                width, height):
            self._shown = ((width, height), lines)
            self._strips = {}
        self._drawn_key = self._lines_data_key
        strip = self._strips.get(y)
        if strip is None:
            strip = (self._text_strips.strip(self, lines[y], width, self.app.console)
                     if y < len(lines) else Strip.blank(width, self.visual_style.rich_style))
            self._strips[y] = strip
        return strip

    def _lines(self, width: int, height: int) -> list[Text]:
        """The pane's lines for this size and the data now (built again only on a change)."""
        data_key = self._data_key()
        key = (data_key, width, height, self._ascii, self._title, self._names_version)
        if key != self._cache_key:
            self._cache = self._build(width, height)
            self._cache_key = key
            self._lines_data_key = data_key
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
        return layout(title, plots, h.times(), width, height, ascii=self._ascii,
                      memo=self._memo)
