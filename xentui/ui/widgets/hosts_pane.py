"""The Hosts pane: one row per host of the fleet, its link, size and load at a glance;
a pool (XenAPI) also gets a row per member host under its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from xentui.backend.api import HostBackend
from xentui.backend.models import DomainState, PoolMember
from xentui.backend.pass_sums import pass_sums
from xentui.ui import format as fmt
from xentui.ui.painted import Geometry
from xentui.ui.widgets.domain_rows import CURSOR, HEADER
from xentui.ui.widgets.host_bar import link_text
from xentui.ui.widgets.painted_scroll import PaintedScroll

COLUMNS = ("Host", "Link", "CPUs", "Mem free", "Domains", "Dom0", "Pass")
_SHORT = {DomainState.RUNNING: "run", DomainState.BLOCKED: "run", DomainState.PAUSED: "paused",
          DomainState.SHUTOFF: "off", DomainState.CRASHED: "crashed"}


def domains_text(host: HostBackend) -> str:
    """Domains by state in a few words, e.g. '12: 9 run, 1 paused, 2 off'."""
    if host.last is None:
        return "-"
    states: Counter[str] = Counter()
    for state, n in pass_sums(host.last).states.items():
        states[_SHORT.get(state, state.value)] += n
    parts = ", ".join(f"{n} {s}" for s, n in sorted(states.items(), key=lambda x: -x[1]))
    return f"{len(host.last.domains)}: {parts}" if parts else "0"


def host_row(host: HostBackend, stale: bool, show_timing: bool) -> tuple[str | Text, ...]:
    info = host.info
    link = link_text(host.status, host.readonly)
    if stale:
        link.append(" · stale", style="bold red")
    dom0 = "-"
    if info is not None and info.dom0 is not None:
        d = info.dom0
        dom0 = f"{fmt.pct(d.cpu_pct, 0)} load {d.load[0]:.2f}"
    took = "-"
    if host.last is not None and show_timing:
        took = f"{host.last.took_s * 1000:.0f} ms"
    return (
        Text(fmt.visible(host.id)),
        link,
        "-" if info is None else str(info.cpus),
        "-" if info is None else memory_cell(info.free_kib, info.memory_kib),
        domains_text(host),
        dom0,
        took,
    )


def memory_cell(free_kib: int | None, total_kib: int) -> str:
    """Free memory beside the total: '12.0 GiB of 64.0 GiB'."""
    return f"{fmt.bytes_kib(free_kib)} of {fmt.bytes_kib(total_kib)}"


MEMBER_SEP = "\x00"
"""Separates a pool's id from a member's name in a member row's key."""


def member_row(host: HostBackend, member: PoolMember) -> tuple[str | Text, ...]:
    """A pool member: live or not, master or not, its CPUs, free memory and the domains
    running on it."""
    link = Text("● live", style="green") if member.live else Text("✖ not live",
                                                                   style="bold red")
    if member.master:
        link.append(" · master")
    running = 0
    if host.last is not None:
        running = sum(f.sample.resident == member.name for f in host.last.domains.values())
    return (
        Text(f" └ {fmt.visible(member.name)}"),
        link,
        str(member.cpus),
        memory_cell(member.free_kib, member.memory_kib) if member.live else "-",
        f"{running} here",
        "-",
        "-",
    )


Cell = str | Text


def _width(value: Cell) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(value)


def _segments(value: Cell, width: int, console: Console) -> list[Segment]:
    """A cell's text and styles, cut or padded to `width` cells."""
    if isinstance(value, Text):
        return Segment.adjust_line_length(list(value.render(console)), width)
    return [Segment(set_cell_size(value, width))]


class HostsPane(PaintedScroll, can_focus=True):
    """A small table of hosts; shown by default when the console has several.

    Drawn line by line like the Domains pane: a host's pass changes the cells of its row
    that moved (its pass time, Dom0's load), and only those cells are written. Columns
    grow to fit what they held, never shrink (a row does not jump as figures change)."""

    DEFAULT_CSS = """
    HostsPane { height: auto; max-height: 10; border: round $primary-darken-2; }
    """
    BINDINGS = [
        # Priority, as in the Domains pane: Enter (the screen's, priority) runs when it is
        # read, so a move typed before it in one burst must run when it is read too.
        Binding("up,k", "cursor(-1)", "Up", show=False, priority=True),
        Binding("down,j", "cursor(1)", "Down", show=False, priority=True),
        Binding("home", "jump(0)", "First", show=False, priority=True),
        Binding("end", "jump(-1)", "Last", show=False, priority=True),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Hosts"
        self.rows: dict[str, tuple[Cell, ...]] = {}
        """Each row's cells by key (a host's id; a pool member's is the pool's id, then
        MEMBER_SEP and its name), in the order they were first shown."""
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._widths = [cell_len(label) for label in COLUMNS]
        self._strips: dict[str, tuple[bool, Strip]] = {}
        self._header: Strip | None = None

    # -- rows --------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def get_row(self, key: str) -> list[Cell]:
        return list(self.rows[key])

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_cell(self, key: str, label: str) -> Cell:
        return self.rows[key][COLUMNS.index(label)]

    def show(self, hosts: Iterable[HostBackend], stale: set[str], *, show_timing: bool) -> None:
        """Update every host's row in place (rows are keyed by host id; a pool member's
        by the pool's id and its name); only the cells that changed are written."""
        grew = False
        for host in hosts:
            grew |= self._put(host.id, host_row(host, host.id in stale, show_timing))
            members = host.info.members if host.info is not None else ()
            for member in members:
                grew |= self._put(f"{host.id}{MEMBER_SEP}{member.name}",
                                  member_row(host, member))
        if grew:
            self._strips.clear()
            self._header = None
        self.virtual_size = Size(self._line_width(), len(self.rows) + 1)
        self._repaint_changed()

    def _put(self, key: str, cells: tuple[Cell, ...]) -> bool:
        """Hold a row's cells; whether a column had to grow for them."""
        if self.rows.get(key) == cells:
            return False
        if key not in self.rows:
            self._index[key] = len(self._keys)
            self._keys.append(key)
        self.rows[key] = cells
        self._strips.pop(key, None)
        grew = False
        for i, value in enumerate(cells):
            if (w := _width(value)) > self._widths[i]:
                self._widths[i], grew = w, True
        return grew

    def selected_host(self) -> str | None:
        """The selected row's host id, or a pool member's name (the `host:` filter
        matches both)."""
        if not self.rows:
            return None
        return self._keys[min(self.cursor, len(self._keys) - 1)].split(MEMBER_SEP)[-1]

    # -- cursor ------------------------------------------------------------------------
    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on row `row` (kept within the rows)."""
        self.cursor = max(0, min(len(self.rows) - 1, row))
        self._scroll_to_cursor()
        self._repaint_changed()

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor + step)

    def action_jump(self, where: int) -> None:
        self.move_cursor(row=0 if where == 0 else len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y > 0:
            self.move_cursor(row=int(self.scroll_offset.y) + offset.y - 1)

    def on_focus(self, _: events.Focus) -> None:
        self._repaint_changed()

    def on_blur(self, _: events.Blur) -> None:
        self._repaint_changed()

    # -- drawing -----------------------------------------------------------------------
    def _line_width(self) -> int:
        return sum(w + 2 for w in self._widths)

    def full_line(self, y: int, geometry: Geometry) -> Strip | None:
        """Line `y` (0: the header) scrolled to the geometry's top row."""
        top = geometry[1]
        if y == 0:
            if self._header is None:
                self._header = self._strip([Text(label) for label in COLUMNS], HEADER)
            return self._header
        index = top + y - 1
        if index >= len(self.rows):
            return None
        key = self._keys[index]
        cursor = index == self.cursor and self.has_focus
        held = self._strips.get(key)
        if held is None or held[0] != cursor:
            strip = self._strip(self.rows[key], None)
            held = self._strips[key] = (cursor, strip.apply_style(CURSOR) if cursor else strip)
        return held[1]

    def _strip(self, cells: Iterable[Cell], style: Style | None) -> Strip:
        segs: list[Segment] = []
        for value, width in zip(cells, self._widths, strict=True):
            segs.append(Segment(" "))
            segs.extend(_segments(value, width, self.app.console))
            segs.append(Segment(" "))
        strip = Strip(segs, self._line_width())
        return strip.apply_style(style) if style is not None else strip
