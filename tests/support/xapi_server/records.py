"""Record factories: the fields a console reads, with XAPI's wire encodings.

The XenAPI wire protocol sends 64-bit ``int`` fields as decimal strings, ``datetime``
fields as ``dateTime.iso8601`` (``20240101T12:00:00Z``), refs as ``OpaqueRef:<uuid>``
strings and the null ref as ``OpaqueRef:NULL``; the factories follow it so a client
sees the same types as from a real pool.
"""

from __future__ import annotations

import time
import uuid as uuidlib
import xmlrpc.client
from typing import Any

Record = dict[str, Any]

NULL_REF = "OpaqueRef:NULL"
EPOCH = "19700101T00:00:00Z"

# XAPI class names as they appear in method names (``VM.get_all``); the event
# class of each is its lower-case form (``vm``).
CLASSES = (
    "pool", "host", "host_metrics", "VM", "VM_metrics", "VM_guest_metrics", "VIF", "VBD", "task",
)  # fmt: skip
NAMED_CLASSES = ("host", "VM", "task")  # those with a get_by_name_label

MIB = 1024 * 1024


def new_ref() -> str:
    """A fresh opaque reference."""
    return f"OpaqueRef:{uuidlib.uuid4()}"


def new_uuid() -> str:
    """A fresh OSF DCE UUID."""
    return str(uuidlib.uuid4())


def i64(value: int) -> str:
    """An API ``int`` as the wire carries it: a decimal string."""
    return str(int(value))


def stamp(epoch: float | None = None) -> xmlrpc.client.DateTime:
    """An API ``datetime`` (UTC, xapi's ``Z``-suffixed format); now by default."""
    t = time.time() if epoch is None else epoch
    return xmlrpc.client.DateTime(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime(t)))


def pool_record(name: str, master: str) -> Record:
    """A ``pool`` record."""
    return {
        "uuid": new_uuid(),
        "name_label": name,
        "name_description": "",
        "master": master,
        "default_SR": NULL_REF,
        "ha_enabled": False,
        "tags": [],
        "other_config": {},
    }


def host_record(name: str, address: str, cpus: int, metrics: str) -> Record:
    """A ``host`` record; ``control_domain`` and ``resident_VMs`` are filled in later."""
    return {
        "uuid": new_uuid(),
        "name_label": name,
        "name_description": "",
        "hostname": name,
        "address": address,
        "enabled": True,
        "metrics": metrics,
        "cpu_info": {
            "cpu_count": i64(cpus),
            "socket_count": "1",
            "vendor": "GenuineIntel",
            "modelname": "Intel(R) Xeon(R) CPU (simulated)",
            "speed": "2394.454",
        },
        "software_version": {
            "product_brand": "XCP-ng",
            "product_version": "8.3.0",
            "platform_name": "XCP",
            "xapi": "24.19",
            "xen": "4.17.5",
            "hostname": name,
        },
        "API_version_major": "2",
        "API_version_minor": "21",
        "API_version_vendor": "XenSource",
        "resident_VMs": [],
        "control_domain": NULL_REF,
        "memory_overhead": i64(600 * MIB),
        "tags": [],
        "other_config": {},
    }


def host_metrics_record(memory_total: int) -> Record:
    """A ``host_metrics`` record (``memory_free`` is recomputed from residents)."""
    return {
        "uuid": new_uuid(),
        "memory_total": i64(memory_total),
        "memory_free": i64(memory_total),
        "live": True,
        "last_updated": stamp(),
        "other_config": {},
    }


def vm_record(
    name: str,
    *,
    vcpus: int,
    memory: int,
    metrics: str,
    template: bool = False,
    control_domain: bool = False,
    other_config: dict[str, str] | None = None,
) -> Record:
    """A halted ``VM`` record; memory in bytes, every memory field consistent."""
    return {
        "uuid": new_uuid(),
        "name_label": name,
        "name_description": "",
        "power_state": "Halted",
        "allowed_operations": [],
        "current_operations": {},
        "blocked_operations": {},
        "is_a_template": template,
        "is_default_template": False,
        "is_a_snapshot": False,
        "snapshot_of": NULL_REF,
        "snapshots": [],
        "snapshot_time": stamp(0),
        "is_control_domain": control_domain,
        "resident_on": NULL_REF,
        "affinity": NULL_REF,
        "domid": "-1",
        "VCPUs_max": i64(vcpus),
        "VCPUs_at_startup": i64(vcpus),
        "memory_static_max": i64(memory),
        "memory_static_min": i64(min(memory, 512 * MIB)),
        "memory_dynamic_max": i64(memory),
        "memory_dynamic_min": i64(memory),
        "memory_target": i64(memory),
        "metrics": metrics,
        "guest_metrics": NULL_REF,
        "VIFs": [],
        "VBDs": [],
        "tags": [],
        "other_config": dict(other_config or {}),
    }


def vm_metrics_record() -> Record:
    """A ``VM_metrics`` record for a VM with no domain (legacy zero utilisation)."""
    return {
        "uuid": new_uuid(),
        "memory_actual": "0",
        "VCPUs_number": "0",
        "VCPUs_utilisation": {},
        "start_time": stamp(0),
        "install_time": stamp(),
        "last_updated": stamp(0),
        "state": [],
        "other_config": {},
    }


def guest_metrics_record(os_name: str, networks: dict[str, str]) -> Record:
    """A ``VM_guest_metrics`` record as a guest agent with PV drivers reports it."""
    distro, _, version = os_name.partition(" ")
    major, _, minor = version.partition(".")
    return {
        "uuid": new_uuid(),
        "os_version": {"name": os_name, "distro": distro.lower(), "major": major, "minor": minor},
        "PV_drivers_version": {"major": "9", "minor": "4", "micro": "0", "build": "1"},
        "PV_drivers_up_to_date": True,
        "PV_drivers_detected": True,
        "memory": {},
        "disks": {},
        "networks": dict(networks),
        "other": {"feature-shutdown": "1", "feature-suspend": "1", "has-vendor-device": "0"},
        "last_updated": stamp(),
        "live": True,
        "can_use_hotplug_vbd": "yes",
        "can_use_hotplug_vif": "yes",
        "other_config": {},
    }


def vif_record(vm: str, device: int) -> Record:
    """A ``VIF`` record: device number and owning VM."""
    mac = f"aa:{device:02x}:" + ":".join(new_uuid()[i : i + 2] for i in (0, 2, 4, 6))
    return {
        "uuid": new_uuid(),
        "device": str(device),
        "VM": vm,
        "MAC": mac,
        "MTU": "1500",
        "network": NULL_REF,
        "currently_attached": False,
        "other_config": {},
    }


def vbd_record(vm: str, userdevice: int, kind: str = "Disk") -> Record:
    """A ``VBD`` record: ``xvda``, ``xvdb``... by user device number."""
    return {
        "uuid": new_uuid(),
        "device": "xvd" + "abcdefghijklmnop"[userdevice],
        "userdevice": str(userdevice),
        "VM": vm,
        "VDI": NULL_REF,
        "type": kind,
        "mode": "RW" if kind == "Disk" else "RO",
        "bootable": userdevice == 0,
        "empty": False,
        "currently_attached": False,
        "other_config": {},
    }


def task_record(name: str, session_host: str) -> Record:
    """A pending ``task`` record, as ``Async.*`` calls create."""
    return {
        "uuid": new_uuid(),
        "name_label": name,
        "name_description": "",
        "status": "pending",
        "progress": 0.0,
        "created": stamp(),
        "finished": stamp(0),
        "resident_on": session_host,
        "result": "",
        "error_info": [],
        "allowed_operations": ["cancel"],
        "current_operations": {},
        "other_config": {},
    }


def _field_names() -> dict[str, frozenset[str]]:
    """The fields of every class, from a sample record of each (for ``get_<field>``)."""
    samples = {
        "pool": pool_record("", NULL_REF),
        "host": host_record("", "", 1, NULL_REF),
        "host_metrics": host_metrics_record(0),
        "VM": vm_record("", vcpus=1, memory=0, metrics=NULL_REF),
        "VM_metrics": vm_metrics_record(),
        "VM_guest_metrics": guest_metrics_record("", {}),
        "VIF": vif_record(NULL_REF, 0),
        "VBD": vbd_record(NULL_REF, 0),
        "task": task_record("", NULL_REF),
    }
    return {cls: frozenset(record) for cls, record in samples.items()}


FIELDS = _field_names()
