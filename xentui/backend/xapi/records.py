"""XAPI records (VM, VM_metrics, host, host_metrics, pool) as neutral samples and host facts.

A console lists the VMs that are not templates and not snapshots; each host's control
domain is that host's Domain-0. XAPI's `Suspended` (memory saved to disk, no domain)
reads as shut off, as libvirt lists a domain with a managed-save image.
All functions here are pure except `read_pool` (blocking: run it in a worker thread).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xentui.backend.models import DomainSample, DomainState, HostInfo, PoolMember
from xentui.backend.xapi.session import XapiSession

Record = dict[str, Any]
Change = tuple[str, str, str, Record | None]
"""One `event.from` event: (class in lower case, 'add'/'mod'/'del', ref, record or None)."""
NULL_REF = "OpaqueRef:NULL"

POWER_STATES = {
    "Running": DomainState.RUNNING,
    "Paused": DomainState.PAUSED,
    "Halted": DomainState.SHUTOFF,
    "Suspended": DomainState.SHUTOFF,
}


def as_int(value: Any) -> int | None:
    """An API int (a decimal string on the wire); None if absent or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_listed(vm: Record) -> bool:
    """Whether a VM record is a VM a console lists (not a template, not a snapshot)."""
    return not vm.get("is_a_template") and not vm.get("is_a_snapshot")


@dataclass
class PoolRecords:
    """One reading of the pool: every record a pass needs, keyed by ref."""

    pool: Record
    hosts: dict[str, Record]
    host_metrics: dict[str, Record]
    vms: dict[str, Record]
    vm_metrics: dict[str, Record]
    at: float = 0.0
    host_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.host_names = {ref: str(h.get("name_label", "")) for ref, h in self.hosts.items()}

    def listed(self) -> dict[str, Record]:
        """The VMs a console shows, by ref."""
        return {ref: vm for ref, vm in self.vms.items() if is_listed(vm)}

    def apply(self, cls: str, op: str, ref: str, snapshot: Record | None) -> None:
        """One `event.from` change (class in lower case): an `add` or `mod` puts the
        record, a `del` drops it; classes a pass does not use are ignored."""
        if cls == "pool":
            if op != "del" and snapshot is not None:
                self.pool = snapshot
            return
        table = self._tables().get(cls)
        if table is None:
            return
        if op == "del" or snapshot is None:
            table.pop(ref, None)
        else:
            table[ref] = snapshot
        if cls == "host":
            self.host_names = {r: str(h.get("name_label", "")) for r, h in self.hosts.items()}

    def _tables(self) -> dict[str, dict[str, Record]]:
        return {"vm": self.vms, "vm_metrics": self.vm_metrics, "host": self.hosts,
                "host_metrics": self.host_metrics}

    def is_live(self, host_ref: str) -> bool:
        host = self.hosts.get(host_ref)
        metrics = self.host_metrics.get(str(host.get("metrics"))) if host else None
        return bool(metrics and metrics.get("live"))


def records_of(changes: Iterable[Change], at: float) -> PoolRecords:
    """The pool as `event.from`'s first answer (every object, as `add`) gives it."""
    recs = PoolRecords({}, {}, {}, {}, {}, at)
    for change in changes:
        recs.apply(*change)
    return recs


def read_pool(session: XapiSession, at: float) -> PoolRecords:
    """Every record of the pool a pass needs (five calls; blocking)."""
    pools = session.call("pool.get_all_records")
    hosts = session.call("host.get_all_records")
    host_metrics = session.call("host_metrics.get_all_records")
    vms = session.call("VM.get_all_records")
    vm_metrics = session.call("VM_metrics.get_all_records")
    pool = next(iter(pools.values())) if pools else {}
    return PoolRecords(pool, hosts, host_metrics, vms, vm_metrics, at)


def vm_sample(
    vm: Record, metrics: Record | None, host_names: dict[str, str], at: float
) -> DomainSample:
    """A neutral sample of one VM: counters stay empty (XAPI rates come from the RRDs)."""
    power = str(vm.get("power_state", ""))
    state = POWER_STATES.get(power, DomainState.NOSTATE)
    live = state.active
    domid = as_int(vm.get("domid"))
    vcpus = as_int(metrics.get("VCPUs_number")) if live and metrics else None
    if not vcpus:
        vcpus = as_int(vm.get("VCPUs_at_startup"))
    mem = as_int(metrics.get("memory_actual")) if live and metrics else None
    if live and not mem:
        mem = as_int(vm.get("memory_target"))
    maxmem = as_int(vm.get("memory_static_max"))
    resident = str(vm.get("resident_on", NULL_REF))
    return DomainSample(
        uuid=str(vm["uuid"]),
        name=str(vm.get("name_label", "")),
        id=domid if live and domid is not None and domid >= 0 else None,
        state=state,
        vcpus=vcpus,
        mem_kib=None if mem is None else mem // 1024,
        maxmem_kib=None if maxmem is None else maxmem // 1024,
        at=at,
        is_dom0=bool(vm.get("is_control_domain")),
        persistent=True,
        resident=host_names.get(resident, "") if live else "",
    )


def pool_members(recs: PoolRecords) -> tuple[PoolMember, ...]:
    """Every host of the pool with its size and whether it is live, master first."""
    master = str(recs.pool.get("master", NULL_REF))
    out = []
    for ref, host in recs.hosts.items():
        metrics = recs.host_metrics.get(str(host.get("metrics")), {})
        total = as_int(metrics.get("memory_total")) or 0
        free = as_int(metrics.get("memory_free"))
        out.append(PoolMember(
            name=str(host.get("name_label", "")),
            uuid=str(host.get("uuid", "")),
            address=str(host.get("address", "")),
            cpus=as_int(host.get("cpu_info", {}).get("cpu_count")) or 0,
            memory_kib=total // 1024,
            free_kib=None if free is None else free // 1024,
            live=bool(metrics.get("live")),
            master=ref == master,
        ))  # fmt: skip
    return tuple(sorted(out, key=lambda m: (not m.master, m.name)))


def pool_info(uri: str, recs: PoolRecords) -> HostInfo:
    """The pool as one host: its name, the members' CPUs and memory summed (free memory
    only of live hosts), the master's CPU model and software versions."""
    members = pool_members(recs)
    master_ref = str(recs.pool.get("master", NULL_REF))
    master = recs.hosts.get(master_ref) or next(iter(recs.hosts.values()), {})
    software = master.get("software_version", {})
    cpu = master.get("cpu_info", {})
    down = [m.name for m in members if not m.live]
    name = str(recs.pool.get("name_label") or (members[0].name if members else "pool"))
    summary = f"{name} ({len(members)} hosts"
    summary += f", not live: {', '.join(down)})" if down else ")"
    try:
        mhz = int(float(cpu.get("speed", 0)))
    except (TypeError, ValueError):
        mhz = 0
    return HostInfo(
        uri=uri,
        hostname=summary,
        hypervisor=str(software.get("product_brand") or "XAPI"),
        hv_version=str(software.get("product_version", "?")),
        libvirt_version=f"xapi {software.get('xapi', '?')}",
        cpus=sum(m.cpus for m in members),
        mhz=mhz,
        cpu_model=str(cpu.get("modelname", "")),
        memory_kib=sum(m.memory_kib for m in members),
        free_kib=sum(m.free_kib or 0 for m in members if m.live),
        members=members,
    )
