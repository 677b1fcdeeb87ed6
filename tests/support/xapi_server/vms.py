"""VM mechanics shared by the API actions and the test helpers.

Placing a VM in a power state updates every bound field the way xapi's
``force_state_reset`` and xenopsd's domain events do: ``resident_on`` and ``domid``
(-1 without a domain), the VM_metrics (memory_actual, VCPUs_number, start_time),
devices' ``currently_attached``, and the hosts' ``resident_VMs`` / ``memory_free``.

Guest metrics follow xapi's ``delete_guest_metrics``: a new domain drops the old
``VM_guest_metrics`` record; the simulated guest agent then reports a fresh one at
once (a VM created with ``agent=False`` never does).  After a shutdown the record
stays, stale, with ``live`` false.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import HOST_NOT_ENOUGH_FREE_MEMORY, XapiError
from .lifecycle import HALTED, PAUSED, RUNNING
from .records import (
    MIB,
    NULL_REF,
    guest_metrics_record,
    i64,
    new_uuid,
    stamp,
    vbd_record,
    vif_record,
    vm_metrics_record,
    vm_record,
)

if TYPE_CHECKING:
    from .db import Database

OS_NAMES = ("Debian 12.7", "Ubuntu 24.04", "Rocky 9.4", "Alpine 3.20")


def _report_guest(db: Database, vm: str) -> None:
    """Replace ``vm``'s guest metrics by what its (simulated) agent reports now."""
    rec = db.get("VM", vm)
    old = str(rec["guest_metrics"])
    if old in db.tables["VM_guest_metrics"]:
        db.delete("VM_guest_metrics", old)
    if vm in db.agentless or rec["is_control_domain"]:
        if old != NULL_REF:
            db.update("VM", vm, guest_metrics=NULL_REF)
        return
    tag = sum(rec["uuid"].encode()) % 200 + 20
    networks: dict[str, str] = {}
    for vif in rec["VIFs"]:
        device = db.get("VIF", vif)["device"]
        networks[f"{device}/ip"] = networks[f"{device}/ipv4/0"] = f"10.{device}.0.{tag}"
    os_name = OS_NAMES[tag % len(OS_NAMES)]
    gm = db.create("VM_guest_metrics", guest_metrics_record(os_name, networks))
    db.update("VM", vm, guest_metrics=gm)


def next_domid(db: Database, host: str) -> str:
    """A fresh domain id on ``host`` (dom0 is 0)."""
    db.domids[host] = db.domids.get(host, 0) + 1
    return i64(db.domids[host])


def refresh_host(db: Database, host: str) -> None:
    """Recompute ``resident_VMs`` and ``memory_free`` of ``host`` from its VMs."""
    if host == NULL_REF:
        return
    hrec = db.get("host", host)
    residents = [r for r, v in db.tables["VM"].items() if v["resident_on"] == host]
    used = sum(
        int(db.get("VM_metrics", db.get("VM", r)["metrics"])["memory_actual"]) for r in residents
    )
    metrics = db.get("host_metrics", hrec["metrics"])
    free = max(0, int(metrics["memory_total"]) - int(hrec["memory_overhead"]) - used)
    if sorted(residents) != sorted(hrec["resident_VMs"]):
        db.update("host", host, resident_VMs=residents)
    if metrics["memory_free"] != i64(free):
        db.update("host_metrics", hrec["metrics"], memory_free=i64(free))


def pick_host(db: Database, vm: str, *, strict: bool = True) -> str:
    """Where xapi would start ``vm``: its affinity if it fits, else the freest live host.

    With ``strict``, HOST_NOT_ENOUGH_FREE_MEMORY [needed, available] when none fits.
    """
    rec = db.get("VM", vm)
    need = int(rec["memory_target"])
    free: dict[str, int] = {}
    for ref, host in db.tables["host"].items():
        metrics = db.get("host_metrics", host["metrics"])
        if host["enabled"] and metrics["live"]:
            free[ref] = int(metrics["memory_free"])
    fitting = [h for h, f in free.items() if f >= need]
    if rec["affinity"] in fitting:
        return str(rec["affinity"])
    if fitting:
        return max(fitting, key=lambda h: free[h])
    if strict or not free:
        raise XapiError(HOST_NOT_ENOUGH_FREE_MEMORY, i64(need), i64(max(free.values(), default=0)))
    return max(free, key=lambda h: free[h])


def place(
    db: Database, vm: str, state: str, host: str | None = None, *, new_domain: bool = False
) -> None:
    """Put ``vm`` in ``state``; a live VM lands on ``host`` (default: where it is)."""
    rec = db.get("VM", vm)
    old_host = str(rec["resident_on"])
    live = state in (RUNNING, PAUSED)
    fresh_domain = False
    fields: dict[str, Any] = {"power_state": state}
    metrics: dict[str, Any]
    if live:
        target = host or (old_host if old_host != NULL_REF else pick_host(db, vm, strict=False))
        vcpus = int(rec["VCPUs_at_startup"])
        fields["resident_on"] = target
        metrics = {
            "memory_actual": rec["memory_target"],
            "VCPUs_number": i64(vcpus),
            "VCPUs_utilisation": {str(i): 0.0 for i in range(vcpus)},
            "last_updated": stamp(),
        }
        if rec["is_control_domain"]:
            fields["domid"] = "0"
        elif new_domain or rec["domid"] == "-1" or target != old_host:
            fields["domid"] = next_domid(db, target)
            metrics["start_time"] = stamp()
            fresh_domain = True
    else:
        fields.update(resident_on=NULL_REF, domid="-1")
        metrics = {"memory_actual": "0", "VCPUs_number": "0", "VCPUs_utilisation": {}}
    db.update("VM_metrics", rec["metrics"], **metrics)
    db.update("VM", vm, **fields)
    guest = str(rec["guest_metrics"])
    if fresh_domain:
        _report_guest(db, vm)
    elif not live and guest in db.tables["VM_guest_metrics"]:
        if db.get("VM_guest_metrics", guest)["live"]:
            db.update("VM_guest_metrics", guest, live=False)
    for cls in ("VIF", "VBD"):
        for dev in rec[cls + "s"]:
            if db.get(cls, dev)["currently_attached"] != live:
                db.update(cls, dev, currently_attached=live)
    for h in {old_host, str(rec["resident_on"])}:
        refresh_host(db, h)


def create_vm(
    db: Database,
    name: str,
    *,
    power_state: str = HALTED,
    host: str | None = None,
    vcpus: int = 1,
    memory_mib: int = 1024,
    vifs: int = 1,
    disks: int = 1,
    cdrom: bool = False,
    template: bool = False,
    default_template: bool = False,
    control_domain: bool = False,
    agent: bool = True,
    other_config: dict[str, str] | None = None,
) -> str:
    """A new VM with metrics, ``vifs`` VIFs (0..) and ``disks`` disks (xvda..).

    ``agent``: whether the guest runs an agent that reports guest metrics.
    """
    metrics = db.create("VM_metrics", vm_metrics_record())
    rec = vm_record(
        name,
        vcpus=vcpus,
        memory=memory_mib * MIB,
        metrics=metrics,
        template=template or default_template,
        control_domain=control_domain,
        other_config=other_config,
    )
    rec["is_default_template"] = default_template
    ref = db.create("VM", rec)
    if not agent:
        db.agentless.add(ref)
    vif_refs = [db.create("VIF", vif_record(ref, n)) for n in range(vifs)]
    vbd_refs = [db.create("VBD", vbd_record(ref, n)) for n in range(disks)]
    if cdrom:
        vbd_refs.append(db.create("VBD", vbd_record(ref, 3, "CD")))
    db.update("VM", ref, VIFs=vif_refs, VBDs=vbd_refs)
    if power_state != HALTED:
        place(db, ref, power_state, db.find("host", host) if host else None)
    return ref


def snapshot_vm(db: Database, vm: str, name: str) -> str:
    """A snapshot of ``vm``: a halted template record with ``snapshot_of`` set."""
    src = db.get("VM", vm)
    rec = copy.deepcopy(src)
    rec.update(
        uuid=new_uuid(),
        name_label=name,
        power_state=HALTED,
        is_a_snapshot=True,
        is_a_template=True,
        is_default_template=False,
        is_control_domain=False,
        snapshot_of=vm,
        snapshots=[],
        snapshot_time=stamp(),
        resident_on=NULL_REF,
        domid="-1",
        current_operations={},
        metrics=db.create("VM_metrics", vm_metrics_record()),
        guest_metrics=NULL_REF,
        VIFs=[],
        VBDs=[],
    )
    ref = db.create("VM", rec)
    vif_refs = []
    for dev in src["VIFs"]:
        vif = copy.deepcopy(db.get("VIF", dev))
        vif.update(uuid=new_uuid(), VM=ref, currently_attached=False)
        vif_refs.append(db.create("VIF", vif))
    vbd_refs = []
    for dev in src["VBDs"]:
        vbd = copy.deepcopy(db.get("VBD", dev))
        vbd.update(uuid=new_uuid(), VM=ref, currently_attached=False)
        vbd_refs.append(db.create("VBD", vbd))
    db.update("VM", ref, VIFs=vif_refs, VBDs=vbd_refs)
    db.update("VM", vm, snapshots=[*src["snapshots"], ref])
    return ref


def destroy_vm(db: Database, vm: str) -> None:
    """Delete ``vm``, its devices and metrics; unlink it from its parent's snapshots."""
    rec = db.get("VM", vm)
    for cls in ("VIF", "VBD"):
        for dev in rec[cls + "s"]:
            db.delete(cls, dev)
    db.delete("VM_metrics", rec["metrics"])
    if rec["guest_metrics"] in db.tables["VM_guest_metrics"]:
        db.delete("VM_guest_metrics", rec["guest_metrics"])
    db.agentless.discard(vm)
    parent = rec["snapshot_of"]
    if parent in db.tables["VM"]:
        kept = [s for s in db.get("VM", parent)["snapshots"] if s != vm]
        db.update("VM", parent, snapshots=kept)
    db.delete("VM", vm)
    refresh_host(db, str(rec["resident_on"]))


def is_live(state: str) -> bool:
    """Whether a VM in ``state`` has a domain (Running or Paused)."""
    return state in (RUNNING, PAUSED)
