"""One domain in full: state, vCPUs, devices with their rates, memory, and its XML.

The details are read once (and again on `r`) by an async worker; the device and vCPU
rates come from the host's last sampling pass and are redrawn as passes arrive. A
domain that vanished, or a read that failed, shows as a message, never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from xentui.backend.api import HostBackend as Host
from xentui.backend.models import DeviceRates, DomainDetail, DomainFigures
from xentui.ui import format as fmt
from xentui.ui.chops import RowsCompositor

_MEMORY_FIELDS = (
    ("actual", "balloon target"),
    ("available", "available"),
    ("usable", "usable"),
    ("unused", "unused"),
    ("disk_caches", "caches"),
    ("rss", "rss"),
    ("swap_in", "swapped in"),
    ("swap_out", "swapped out"),
)


def _yes_no(value: bool | None, yes: str = "yes", no: str = "no") -> str:
    return "unknown" if value is None else (yes if value else no)


def _grid(title: str) -> Table:
    table = Table(
        title=Text(title, style="bold"),
        title_justify="left",
        box=None,
        show_header=True,
        header_style="dim",
        pad_edge=False,
        expand=False,
    )
    return table


def facts_view(detail: DomainDetail, fig: DomainFigures | None) -> RenderableType:
    """State, persistence, memory, snapshots and notes (figures from the last pass)."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    state = Text(detail.state.value, style="bold")
    if detail.reason:
        state.append(f" ({detail.reason})")
    facts.add_row("State", state)
    facts.add_row("UUID", Text(detail.uuid))
    nova = detail.openstack
    if nova is not None:
        facts.add_row("OpenStack", Text(f"{fmt.visible(nova.name)} (Nova name)"))
        facts.add_row("Flavor", Text(fmt.visible(nova.flavor or "-")))
        facts.add_row("Project", Text(fmt.visible(nova.project or "-")))
        if nova.user:
            facts.add_row("User", Text(fmt.visible(nova.user)))
    facts.add_row("Kind", Text("persistent" if detail.persistent else "transient"))
    facts.add_row("Autostart", Text(_yes_no(detail.autostart)))
    facts.add_row("Managed save", Text(_yes_no(detail.managed_save, "image present", "none")))
    if fig is not None:
        s = fig.sample
        mem = Text(f"{fmt.bytes_kib(s.mem_kib)} of max {fmt.bytes_kib(s.maxmem_kib)}")
        if fig.mem_pct is not None:
            mem.append(f" ({fmt.pct(fig.mem_pct)} of host)")
        facts.add_row("Memory", mem)
        facts.add_row(
            "CPU", Text(f"{fmt.pct(fig.rates.cpu_pct)} now, {fmt.cpu_time(s.cpu_time_ns)} in total")
        )
        if fig.started_at is not None:
            facts.add_row("Started", Text(_clock(fig.started_at)))
    balloon = [
        f"{label} {fmt.bytes_kib(detail.memory[key])}"
        for key, label in _MEMORY_FIELDS
        if key in detail.memory
    ]
    facts.add_row("Balloon", Text(", ".join(balloon) if balloon else "no statistics"))
    snaps = Text(", ".join(fmt.visible(s) for s in detail.snapshots) or "none")
    facts.add_row("Snapshots", snaps)
    parts: list[RenderableType] = [facts]
    if detail.notes:
        notes = Text("Could not read:\n", style="yellow")
        for note in detail.notes:
            notes.append(f"  - {fmt.visible(note)}\n", style="")
        parts.append(notes)
    return Group(*parts)


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def vcpu_view(detail: DomainDetail) -> RenderableType:
    """Each vCPU's state, the physical CPU it runs on, and its CPU time."""
    if not detail.vcpus:
        return Text("vCPUs: none running", style="dim")
    table = _grid("vCPUs")
    for col in ("vCPU", "state", "on pCPU", "time"):
        table.add_column(col, justify="right" if col != "state" else "left")
    for v in detail.vcpus:
        table.add_row(
            str(v.number), v.state, str(v.pcpu) if v.pcpu >= 0 else "-", fmt.cpu_time(v.cpu_time_ns)
        )
    return table


def _device_table(
    title: str,
    heads: tuple[str, str, str, str, str],
    names: list[str],
    rates: dict[str, DeviceRates],
    counters: dict[str, tuple[int | None, int | None]],
    sources: dict[str, str],
) -> RenderableType:
    """One table of devices: per-second rates, cumulative bytes and where each goes."""
    if not names:
        return Text(f"{title}: none", style="dim")
    table = _grid(title)
    for col in ("dev", *heads):
        table.add_column(col, justify="left" if col in ("dev", heads[-1]) else "right")
    for dev in names:
        r = rates.get(dev)
        total_r, total_w = counters.get(dev, (None, None))
        table.add_row(
            Text(fmt.visible(dev)),
            fmt.rate_bps(r.read_bps if r else None),
            fmt.rate_bps(r.write_bps if r else None),
            fmt.bytes_kib(None if total_r is None else total_r / 1024),
            fmt.bytes_kib(None if total_w is None else total_w / 1024),
            Text(fmt.visible(sources.get(dev, ""))),
        )
    return table


def devices_view(detail: DomainDetail, fig: DomainFigures | None) -> RenderableType:
    """Every disk and NIC of the domain with its own rates and cumulative bytes."""
    sources = detail.sources
    sample = fig.sample if fig is not None else None
    rates = fig.rates if fig is not None else None
    disks = {d: (c.rd_bytes, c.wr_bytes) for d, c in (sample.disks if sample else {}).items()}
    nets = {d: (c.rx_bytes, c.tx_bytes) for d, c in (sample.nets if sample else {}).items()}
    parts: list[RenderableType] = [
        _device_table("Disks", ("read/s", "write/s", "read", "written", "source"),
                      _merge(detail.disks, disks), rates.disks if rates else {}, disks, sources),
        _device_table("Network interfaces", ("rx/s", "tx/s", "rx", "tx", "bridge, MAC"),
                      _merge(detail.nets, nets), rates.nets if rates else {}, nets, sources),
    ]
    if sample is not None and not sample.state.active:
        parts.append(Text("No counters while the domain is not running.", style="dim"))
    elif sample is not None and sample.io_age_s >= IO_AGE_SHOWN_S:
        parts.append(Text(io_age_line(sample.io_age_s), style="dim"))
    return Group(*parts)


IO_AGE_SHOWN_S = 1.0
"""Disk and NIC counters older than this (beside the CPU and memory figures) get a line."""


def io_age_line(age_s: float) -> str:
    """Says how old the I/O counters are: off-screen domains' are read less often."""
    return (
        f"Disk and network counters read {fmt.span(age_s)} before the other figures "
        "(read less often while the domain is off screen)."
    )


def _merge(first: Iterable[str], second: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(first))
    out += [d for d in second if d not in out]
    return out


class DetailScreen(Screen[None]):
    """Everything about one domain. Esc goes back, `r` reads it again."""

    DEFAULT_CSS = """
    DetailScreen #detail-title {
        height: 1;
        background: $primary-background;
        text-style: bold;
        padding: 0 1;
    }
    DetailScreen #detail-status { height: auto; padding: 0 1; }
    DetailScreen #detail-status.error { color: $error; text-style: bold; }
    DetailScreen #detail-facts {
        height: auto;
        max-height: 60%;
        padding: 0 1;
    }
    DetailScreen #detail-xml {
        height: 1fr;
        min-height: 4;
        border-top: solid $primary;
        border-title-align: left;
    }
    """
    closing_keys: ClassVar[frozenset[str]] = frozenset({"escape"})
    """See `key_routing`."""
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("r", "reload", "Reload", id="detail.reload"),
    ]

    def __init__(self, host: Host, uuid: str, name: str) -> None:
        super().__init__()
        self._compositor = RowsCompositor()  # renders only rows that changed
        self.host = host
        self.uuid = uuid
        self.domain_name = name
        self.detail: DomainDetail | None = None
        self.error: str | None = None
        """The last load's failure, shown on screen; None after a good load."""
        self._shown_pass: object = None

    def compose(self) -> ComposeResult:
        title = Text("Domain ")
        title.append(fmt.visible(self.domain_name), style="bold")
        yield Static(title, id="detail-title")
        yield Static(Text("loading…"), id="detail-status")
        with VerticalScroll(id="detail-facts"):
            yield Static(id="detail-summary")
            yield Static(id="detail-vcpus")
            yield Static(id="detail-devices")
        scroll = VerticalScroll(id="detail-xml")
        scroll.border_title = "XML"
        with scroll:
            yield Static(id="detail-xml-text")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(max(0.5, self.host.interval), self.refresh_figures)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read the domain again (in a worker; a newer read replaces an older one)."""
        self._status("loading…")
        self.run_worker(
            self.host.detail(self.uuid),
            name="detail",
            group="detail",
            exclusive=True,
            exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "detail":
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, DomainDetail):
            self.detail, self.error = worker.result, None
            self._status("")
            self._show_detail(worker.result)
        elif event.state is WorkerState.ERROR:
            err = worker.error
            self.error = " ".join(str(err).split()) or type(err).__name__
            self._status(f"Could not read the domain: {self.error}", error=True)

    def _status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#detail-status", Static)
        status.update(Text(fmt.visible(message)))
        status.set_class(error, "error")
        status.display = bool(message)

    def _figures(self) -> DomainFigures | None:
        last = self.host.last
        return last.domains.get(self.uuid) if last is not None else None

    def _show_detail(self, detail: DomainDetail) -> None:
        fig = self._figures()
        self.query_one("#detail-summary", Static).update(facts_view(detail, fig))
        self.query_one("#detail-vcpus", Static).update(vcpu_view(detail))
        self.query_one("#detail-devices", Static).update(devices_view(detail, fig))
        self._shown_pass = self.host.last
        xml = Syntax(detail.xml, "xml", theme="ansi_dark", word_wrap=True, line_numbers=False)
        self.query_one("#detail-xml-text", Static).update(xml)

    def refresh_figures(self) -> None:
        """Redraw rates and counters if a new sampling pass arrived (no libvirt call)."""
        if self.detail is None or self.host.last is self._shown_pass or not self.is_current:
            return
        fig = self._figures()
        self._shown_pass = self.host.last
        self.query_one("#detail-summary", Static).update(facts_view(self.detail, fig))
        self.query_one("#detail-devices", Static).update(devices_view(self.detail, fig))
