"""The Hosts pane: one row per host of the fleet, its link, size and load at a glance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from xentui.backend.api import HostBackend
from xentui.backend.models import DomainState
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
        "-" if info is None else fmt.bytes_kib(info.free_kib),
        domains_text(host),
        dom0,
        took,
    )


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
        """Update every host's row in place (rows are keyed by host id)."""
        for host in hosts:
            cells = host_row(host, host.id in stale, show_timing)
            if host.id not in self.rows:
                self.add_row(*cells, key=host.id)
                continue
            for label, value in zip(COLUMNS, cells, strict=True):
                self.update_cell(host.id, label, value)

    def selected_host(self) -> str | None:
        if not self.rows:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)
