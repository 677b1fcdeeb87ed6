"""The Hosts pane: one row per host of the fleet, its link, size and load at a glance;
a pool (XenAPI) also gets a row per member host under its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from xentui.backend.api import HostBackend
from xentui.backend.models import DomainState, PoolMember
from xentui.ui import format as fmt
from xentui.ui.widgets.host_bar import link_text

COLUMNS = ("Host", "Link", "CPUs", "Mem free", "Domains", "Dom0", "Pass")
_SHORT = {DomainState.RUNNING: "run", DomainState.BLOCKED: "run", DomainState.PAUSED: "paused",
          DomainState.SHUTOFF: "off", DomainState.CRASHED: "crashed"}


def domains_text(host: HostBackend) -> str:
    """Domains by state in a few words, e.g. '12: 9 run, 1 paused, 2 off'."""
    if host.last is None:
        return "-"
    states = Counter(_SHORT.get(f.sample.state, f.sample.state.value)
                     for f in host.last.domains.values())
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


def _width(value: str | Text) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(value)


class HostsPane(DataTable[str | Text]):
    """A small table of hosts; shown by default when the console has several."""

    DEFAULT_CSS = """
    HostsPane { height: auto; max-height: 10; border: round $primary-darken-2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=True)
        self.border_title = "Hosts"

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(label, key=label)

    def show(self, hosts: Iterable[HostBackend], stale: set[str], *, show_timing: bool) -> None:
        """Update every host's row in place (rows are keyed by host id; a pool member's
        by the pool's id and its name)."""
        in_place: dict[str, set[str]] = {}
        for host in hosts:
            self._put(host.id, host_row(host, host.id in stale, show_timing), in_place)
            members = host.info.members if host.info is not None else ()
            for member in members:
                self._put(f"{host.id}{MEMBER_SEP}{member.name}", member_row(host, member),
                          in_place)
        if in_place:
            self._forget_cells(in_place)
            for key, labels in in_place.items():
                index = self.get_row_index(key)
                for label in labels:
                    self.refresh_coordinate(Coordinate(index, self.get_column_index(label)))

    def _put(self, key: str, cells: tuple[str | Text, ...],
             in_place: dict[str, set[str]]) -> None:
        """Put a row's cells; the labels of those changed in place join `in_place`
        (their renders are forgotten and their cells repainted once for all rows)."""
        if key not in self.rows:
            self.add_row(*cells, key=key)
            return
        changed = {label: value for label, value in zip(COLUMNS, cells, strict=True)
                   if self.get_cell(key, label) != value}
        if not changed:
            return
        widths = {label: self.columns[ColumnKey(label)].content_width for label in changed}
        if any(_width(v) > widths[label] for label, v in changed.items()):
            # A wider value (a pass of 9 ms, then of 1200 ms): the column grows, and the
            # whole pane is laid out and drawn again, as DataTable does it.
            for label, value in changed.items():
                self.update_cell(key, label, value, update_width=True)
            return
        row = RowKey(key)
        for label, value in changed.items():
            self._data[row][self.columns[label].key] = value  # type: ignore[index]
        in_place.setdefault(key, set()).update(changed)

    def _forget_cells(self, changed: dict[str, set[str]]) -> None:
        """Drop what DataTable keeps rendered of these rows' cells (labels by row key)
        and of those rows' lines, so each row is put together again from its other
        cells' renders and every other row is drawn from cache; one look through each
        cache for all rows. DataTable.update_cell drops every row's renders instead (it
        counts an update) and repaints the whole pane: with a pass per host and
        interval, each row would render all its cells again."""
        cells = {(RowKey(key), ColumnKey(label)) for key, labels in changed.items()
                 for label in labels}
        rows = {RowKey(key) for key in changed}
        indexes = {self.get_row_index(key) for key in changed}

        def on_row(y: int) -> bool:
            try:
                return self._get_offsets(y)[0] in rows
            except LookupError:
                return False

        caches: list[tuple[LRUCache[Any, Any], Callable[[Any], bool]]] = [
            (self._cell_render_cache, lambda k: (k[0], k[1]) in cells),
            (self._row_render_cache, lambda k: k[0] in rows),
            (self._row_renderable_cache, lambda k: k[1] in indexes),
            (self._line_cache, lambda k: on_row(k[0])),
        ]
        for cache, hit in caches:
            for cache_key in [k for k in cache.keys() if hit(k)]:
                cache.discard(cache_key)

    def selected_host(self) -> str | None:
        """The selected row's host id, or a pool member's name (the `host:` filter
        matches both)."""
        if not self.rows:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value).split(MEMBER_SEP)[-1]
