"""The domain table's columns: label, width, how to show a cell and how to sort by it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from xentui.backend.models import DomainFigures, DomainKind, DomainState
from xentui.ui import format as fmt

HOT_CPU_SHARE = 0.9
"""A domain using this share of all its vCPUs is flagged hot."""
MEM_NEAR_MAX = 0.95


def _uptime_s(f: DomainFigures) -> float | None:
    return None if f.started_at is None else max(0.0, time.time() - f.started_at)


def cpu_hot(f: DomainFigures) -> bool:
    pct, vcpus = f.rates.cpu_pct, f.sample.vcpus or 1
    return pct is not None and pct >= 100.0 * vcpus * HOT_CPU_SHARE


def mem_hot(f: DomainFigures) -> bool:
    """Ballooned up to within 5% of its ceiling; a fixed allocation (current equal to
    maximum, the usual Xen set-up) is not flagged, it has nowhere to grow."""
    s = f.sample
    return bool(
        s.mem_kib and s.maxmem_kib and MEM_NEAR_MAX * s.maxmem_kib <= s.mem_kib < s.maxmem_kib
    )


def name_cell(f: DomainFigures) -> str:
    """The libvirt name, and beside it the name people know where OpenStack set one."""
    nova = f.sample.openstack
    if nova is not None and nova.name and nova.name != f.name:
        return fmt.visible(f"{f.name} ({nova.name})")
    return fmt.visible(f.name)


def _nova(f: DomainFigures, attr: str) -> str:
    nova = f.sample.openstack
    return fmt.visible(getattr(nova, attr)) if nova is not None and getattr(nova, attr) else "-"


def _flag(text: str, hot: bool) -> str:
    """A hot figure carries a '!' so it stands out without colour."""
    return f"{text}!" if hot else text


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    cell: Callable[[DomainFigures], str]
    sort: Callable[[DomainFigures], Any]
    right: bool = True
    hot: Callable[[DomainFigures], bool] | None = None


def _num(value: float | int | None) -> tuple[bool, float]:
    """Sort key placing unknown figures last in ascending order."""
    return (value is None, 0.0 if value is None else float(value))


_ORDER = {s: i for i, s in enumerate(DomainState)}
KIND_LABELS = {DomainKind.VM: "VM", DomainKind.CONTAINER: "container"}

COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("host", "Host", 12, lambda f: fmt.visible(f.sample.resident or f.host),
               lambda f: f.host.casefold(), right=False),
        Column("type", "Type", 9, lambda f: KIND_LABELS[f.sample.kind],
               lambda f: f.sample.kind.value, right=False),
        Column("name", "Name", 24, name_cell, lambda f: f.name.casefold(), right=False),
        Column("id", "ID", 5, lambda f: "-" if f.sample.id is None else str(f.sample.id),
               lambda f: _num(f.sample.id)),
        Column("state", "State", 11, lambda f: f.sample.state.value,
               lambda f: _ORDER[f.sample.state], right=False),
        Column("cpu", "CPU%", 7, lambda f: _flag(fmt.pct(f.rates.cpu_pct), cpu_hot(f)),
               lambda f: _num(f.rates.cpu_pct), hot=cpu_hot),
        Column("cputime", "CPU time", 13, lambda f: fmt.cpu_time(f.sample.cpu_time_ns),
               lambda f: _num(f.sample.cpu_time_ns)),
        Column("mem", "Mem", 10, lambda f: _flag(fmt.bytes_kib(f.sample.mem_kib), mem_hot(f)),
               lambda f: _num(f.sample.mem_kib), hot=mem_hot),
        Column("mempct", "Mem%", 6, lambda f: fmt.pct(f.mem_pct), lambda f: _num(f.mem_pct)),
        Column("maxmem", "MaxMem", 10, lambda f: fmt.bytes_kib(f.sample.maxmem_kib),
               lambda f: _num(f.sample.maxmem_kib)),
        Column("vcpus", "vCPU", 4, lambda f: "-" if f.sample.vcpus is None else str(f.sample.vcpus),
               lambda f: _num(f.sample.vcpus)),
        Column("rd", "Disk rd", 12, lambda f: fmt.rate_bps(f.rates.disk_rd_bps),
               lambda f: _num(f.rates.disk_rd_bps)),
        Column("wr", "Disk wr", 12, lambda f: fmt.rate_bps(f.rates.disk_wr_bps),
               lambda f: _num(f.rates.disk_wr_bps)),
        Column("rx", "Net rx", 12, lambda f: fmt.rate_bps(f.rates.net_rx_bps),
               lambda f: _num(f.rates.net_rx_bps)),
        Column("tx", "Net tx", 12, lambda f: fmt.rate_bps(f.rates.net_tx_bps),
               lambda f: _num(f.rates.net_tx_bps)),
        Column("uptime", "Uptime", 13, lambda f: fmt.uptime(_uptime_s(f)),
               lambda f: _num(_uptime_s(f))),
        Column("flavor", "Flavor", 12, lambda f: _nova(f, "flavor"),
               lambda f: _nova(f, "flavor").casefold(), right=False),
        Column("project", "Project", 14, lambda f: _nova(f, "project"),
               lambda f: _nova(f, "project").casefold(), right=False),
    )
}


def fleet_columns(chosen: tuple[str, ...], *, several: bool, mixed: bool) -> tuple[str, ...]:
    """The columns shown: the chosen ones, led by Host when the fleet has several hosts
    and by Type when it holds both VMs and containers."""
    lead = tuple(k for k, want in (("host", several), ("type", mixed))
                 if want and k not in chosen)
    return (*lead, *chosen)


def kinds_mixed(figures: Iterable[DomainFigures]) -> bool:
    """Whether these domains are of more than one kind (VMs and containers)."""
    kinds = set()
    for f in figures:
        kinds.add(f.sample.kind)
        if len(kinds) > 1:
            return True
    return False


def pinned_first(f: DomainFigures) -> bool:
    """Domain-0 is listed first whatever the sort."""
    return not f.sample.is_dom0


def matches(f: DomainFigures, needle: str) -> bool:
    """The filter: a piece of the name (or of the OpenStack name, flavor or project), or
    a state word; `host:NAME` keeps the domains of hosts whose name holds NAME, a pool
    member's included (combine: `host:xen-a web`)."""
    words = needle.casefold().split()
    rest: list[str] = []
    for word in words:
        if word.startswith("host:"):
            if word[5:] not in f.host.casefold() and word[5:] not in f.sample.resident.casefold():
                return False
        else:
            rest.append(word)
    if not rest:
        return True
    n = " ".join(rest)
    if n in f.name.casefold() or f.sample.state.value.startswith(n):
        return True
    nova = f.sample.openstack
    return nova is not None and any(
        n in v.casefold() for v in (nova.name, nova.flavor, nova.project) if v)
