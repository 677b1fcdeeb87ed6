"""The header: the host, its memory, Dom0's load, domains by state, the link's state;
for a fleet, the same summed over every host."""

from __future__ import annotations

import time
from collections import Counter

from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from xentui.backend.api import HostBackend
from xentui.backend.models import DomainState, LinkState, LinkStatus, PassResult
from xentui.backend.pass_sums import pass_sums
from xentui.ui import format as fmt
from xentui.ui.cell_diff import multiline_spans
from xentui.ui.text_strips import TextStrips

_LINK_STYLE = {
    LinkState.CONNECTED: "green",
    LinkState.CONNECTING: "yellow",
    LinkState.LOST: "bold red",
    LinkState.CLOSED: "dim",
}


def link_text(status: LinkStatus, readonly: bool) -> Text:
    """The connection's state in words (with a symbol, not colour alone)."""
    if status.state is LinkState.LOST:
        words = "✖ lost"
        if status.retry_in is not None:
            left = max(0.0, status.at + status.retry_in - time.time())
            words += f", retrying in {left:.0f} s" if left >= 0.5 else ", retrying now"
    elif status.state is LinkState.CONNECTED:
        words = "● connected"
    else:
        words = f"◌ {status.state.value}"
    out = Text(words, style=_LINK_STYLE[status.state])
    if readonly:
        out.append(" · read-only (actions disabled)", style="yellow")
    return out


def host_lines(
    result: PassResult | None,
    status: LinkStatus,
    *,
    interval: float,
    stale: bool,
    show_timing: bool = True,
) -> Text:
    """Three lines of plain facts; text from the host is appended literally."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if result is None:
        out.append(fmt.visible(status.uri), style="bold")
        out.append(" · ")
        out.append_text(link_text(status, status.readonly))
        out.append("\n")
        out.append(fmt.visible(status.message))
        return out
    h = result.host
    out.append(fmt.visible(h.hostname), style="bold")
    out.append(f" · {fmt.visible(h.uri)} · {h.hypervisor} {h.hv_version} ")
    out.append(f"· {h.cpus} CPU × {h.mhz} MHz · ")
    out.append_text(link_text(status, status.readonly))
    out.append("\n")
    sums = pass_sums(result)
    given = sums.given_kib
    out.append(f"Mem {fmt.bytes_kib(h.memory_kib)} total, {fmt.bytes_kib(h.free_kib)} free, ")
    out.append(f"{fmt.bytes_kib(given)} to domains")
    if h.dom0 is not None:
        d = h.dom0
        out.append(
            f" · Dom0 CPU {fmt.pct(d.cpu_pct, 0)} mem {fmt.bytes_kib(d.mem_used_kib)}/"
            f"{fmt.bytes_kib(d.mem_total_kib)} load {d.load[0]:.2f} {d.load[1]:.2f} {d.load[2]:.2f}"
        )
    out.append("\n")
    parts = ", ".join(f"{n} {s}" for s, n in sorted(by_value(sums.states).items()))
    out.append(f"Domains {len(result.domains)} ({parts}) · every {interval:g} s")
    if show_timing:
        out.append(f" · last pass {result.took_s * 1000:.0f} ms ({result.path})")
    if stale:
        out.append(" · STALE: figures are from the last good pass", style="bold red")
    return out


_ASCII = str.maketrans({"●": "*", "✖": "x", "◌": "o", "·": "|", "×": "x"})


def to_ascii(text: Text) -> Text:
    """The same text with its symbols swapped one for one for ASCII (spans stay valid)."""
    return Text(
        text.plain.translate(_ASCII), spans=list(text.spans), no_wrap=True, overflow="ellipsis"
    )


class HostBar(Widget):
    """Shows `host_lines`; the app calls `show` after each pass or link change."""

    DEFAULT_CSS = """
    HostBar { height: 3; padding: 0 1; background: $boost; text-wrap: nowrap;
              text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text: Text | None = None
        self._lines: list[Text] = []
        """`_text` split into its lines (what `render_line` draws)."""
        self._whole: tuple[object, list[Strip]] | None = None
        """`_text` drawn whole by Textual for a size and look (for lines cut to the width)."""
        self._text_strips = TextStrips()

    def show(
        self,
        result: PassResult | None,
        status: LinkStatus,
        *,
        interval: float,
        stale: bool,
        show_timing: bool = True,
        ascii: bool = False,
    ) -> None:
        text = host_lines(result, status, interval=interval, stale=stale, show_timing=show_timing)
        self._put(to_ascii(text) if ascii else text)

    def show_fleet(
        self, hosts: list[HostBackend], stale: set[str], *, show_timing: bool = True,
        ascii: bool = False,
    ) -> None:
        text = fleet_lines(hosts, stale, show_timing=show_timing)
        self._put(to_ascii(text) if ascii else text)

    def render(self) -> Text:
        return self._text if self._text is not None else Text()

    def render_line(self, y: int) -> Strip:
        """Line `y` alone, as Textual draws it from the whole text: a pass changes a line
        or two of the three, and only those are drawn again (Textual's own path turns
        the whole text into strips whenever any cell of it is refreshed). A line cut to
        the width takes Textual's path."""
        width, height = self.size
        if y >= len(self._lines):
            return Strip.blank(width, self.visual_style.rich_style)
        fast = self._text_strips.fast(self, self._lines[y], width, self.app.console, y)
        if fast is not None:
            return fast
        key = (width, height, self.visual_style)
        if self._whole is None or self._whole[0] != key:
            visual = visualize(self, self.render())
            self._whole = (key, Visual.to_strips(self, visual, width, height, self.visual_style))
        return self._whole[1][y]

    def _put(self, text: Text) -> None:
        """The bar's height is fixed: new text repaints only the cells that changed
        (never a layout pass of the screen), and the same text is nothing at all."""
        if text == self._text:
            return
        old, self._text = self._text, text
        self._lines = list(text.split("\n", allow_blank=True))
        self._whole = None
        if old is None or not self.is_mounted:
            self.refresh()
            return
        width = self.content_size.width
        regions = [Region(x, y, w, 1) for y, x, w in multiline_spans(old, text, width)]
        if regions:
            self.refresh(*regions)


def by_value(states: Counter[DomainState]) -> Counter[str]:
    """Counts by the states' words ('running')."""
    return Counter({state.value: n for state, n in states.items()})


def fleet_lines(
    hosts: list[HostBackend],
    stale: set[str],
    *,
    show_timing: bool = True,
) -> Text:
    """The header of a fleet: three lines summing every host (text from hosts is literal).
    Each host's pass is summed once (`pass_sums`)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    links = Counter(h.status.state for h in hosts)
    if hosts and all(h.uri.startswith("demo://") for h in hosts):
        out.append("DEMO", style="bold reverse")
        out.append(" simulated · ")
    out.append(f"Fleet of {len(hosts)} hosts", style="bold")
    out.append(" · ")
    out.append(f"● {links[LinkState.CONNECTED]} connected", style="green")
    lost = [h for h in hosts if h.status.state is not LinkState.CONNECTED]
    if lost:
        out.append(" · ")
        out.append(f"✖ {len(lost)} not: {', '.join(fmt.visible(h.id) for h in lost)}",
                   style="bold red")
    out.append("\n")
    infos = [h.info for h in hosts if h.info is not None]
    total = sum(i.memory_kib for i in infos)
    free = sum(i.free_kib or 0 for i in infos)
    cpus = sum(i.cpus for i in infos)
    per_host = [pass_sums(h.last) for h in hosts if h.last is not None]
    results = [h.last for h in hosts if h.last is not None]
    given = sum(p.given_kib for p in per_host)
    out.append(f"{cpus} CPUs · Mem {fmt.bytes_kib(total)} total, {fmt.bytes_kib(free)} free, ")
    out.append(f"{fmt.bytes_kib(given)} to domains\n")
    counts: Counter[DomainState] = Counter()
    for p in per_host:
        counts.update(p.states)
    states = by_value(counts)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    out.append(f"Domains {sum(states.values())} ({parts})")
    if show_timing and results:
        slow = max(hosts, key=lambda h: h.last.took_s if h.last is not None else -1.0)
        if slow.last is not None:
            out.append(f" · slowest pass {slow.last.took_s * 1000:.0f} ms ({fmt.visible(slow.id)})")
    if stale:
        out.append(f" · STALE: {', '.join(sorted(stale))}", style="bold red")
    return out
