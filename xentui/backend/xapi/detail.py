"""One VM's full picture through XenAPI (blocking: run it in a worker thread)."""

from __future__ import annotations

import pprint
from typing import Any

from xentui.backend.errors import DomainGone
from xentui.backend.models import DomainDetail, VcpuInfo
from xentui.backend.xapi.errors import translate
from xentui.backend.xapi.records import NULL_REF, as_int, vm_sample
from xentui.backend.xapi.session import Failure, XapiSession

_MEMORY_FIELDS = ("memory_static_max", "memory_dynamic_max", "memory_dynamic_min",
                  "memory_target")  # fmt: skip


def _optional(session: XapiSession, method: str, ref: str) -> dict[str, Any] | None:
    if not ref or ref == NULL_REF:
        return None
    try:
        return dict(session.call(method, ref))
    except Failure:
        return None


def read_detail(session: XapiSession, uuid: str) -> DomainDetail:
    """The VM's record, metrics, devices, snapshots and resident host as neutral detail."""
    try:
        ref = session.call("VM.get_by_uuid", uuid)
        vm = dict(session.call("VM.get_record", ref))
    except Failure as err:
        if str(err.details[0]) in ("UUID_INVALID", "HANDLE_INVALID"):
            raise DomainGone(f"the VM {uuid} no longer exists") from None
        raise translate([str(d) for d in err.details], "detail") from None
    metrics = _optional(session, "VM_metrics.get_record", str(vm.get("metrics")))
    host = _optional(session, "host.get_record", str(vm.get("resident_on")))
    host_name = str(host.get("name_label", "")) if host else ""
    sample = vm_sample(vm, metrics, {str(vm.get("resident_on")): host_name}, 0.0)
    notes: list[str] = []
    disks: list[str] = []
    sources: dict[str, str] = {}
    for vbd_ref in vm.get("VBDs", []):
        vbd = _optional(session, "VBD.get_record", str(vbd_ref))
        if vbd is None:
            notes.append(f"VBD {vbd_ref} could not be read")
            continue
        disks.append(str(vbd.get("device") or f"userdevice {vbd.get('userdevice')}"))
        sources[disks[-1]] = f"{vbd.get('type', '?')} {vbd.get('mode', '')}".strip()
    nets: list[str] = []
    for vif_ref in vm.get("VIFs", []):
        vif = _optional(session, "VIF.get_record", str(vif_ref))
        if vif is not None:
            nets.append(f"vif{vif.get('device')}")
            sources[nets[-1]] = f"MAC {vif.get('MAC', '?')}"
    snapshots = []
    for snap in vm.get("snapshots", []):
        name = _optional(session, "VM.get_record", str(snap))
        if name is not None:
            snapshots.append(str(name.get("name_label", "")))
    power = str(vm.get("power_state", ""))
    reason = power.lower()
    if power == "Suspended":
        reason = "suspended (memory saved to disk; Restore resumes it)"
    if host_name and sample.state.active:
        reason += f" on {host_name}"
    memory = {f: v for f in _MEMORY_FIELDS if (v := as_int(vm.get(f))) is not None}
    if metrics is not None and (actual := as_int(metrics.get("memory_actual"))):
        memory["memory_actual"] = actual
    vcpus = [VcpuInfo(n, "online", 0, -1) for n in range(sample.vcpus or 0)] \
        if sample.state.active else []
    return DomainDetail(
        uuid=uuid,
        name=sample.name,
        state=sample.state,
        reason=reason,
        persistent=True,
        autostart=None,
        managed_save=power == "Suspended",
        vcpus=vcpus,
        memory={k: v // 1024 for k, v in memory.items()},
        snapshots=snapshots,
        xml=pprint.pformat({k: v for k, v in vm.items() if not isinstance(v, list | dict)},
                           width=100),
        disks=tuple(disks),
        nets=tuple(nets),
        sources=sources,
        notes=notes,
    )
