"""One domain's reading: a bulk statistics record turned into a sample, or the
per-domain calls (info, block and interface counters, devices from the XML cached per
running instance), and the readings a pass holds over instead of asking again.
All functions here that call libvirt block: run them in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import libvirt
from xentui.backend.libvirt.domxml import DomainDevices, parse_devices
from xentui.backend.models import ZERO_UUID, DiskCounters, DomainSample, DomainState, NetCounters
from xentui.backend.xen_io import XenLocalIo
from xentui.backend.xenstat import XenDomainStat

VANISHED = {libvirt.VIR_ERR_NO_DOMAIN}

Info = tuple[int, int, int, int, int]
"""`virDomain.info()`'s answer: state, max memory KiB, memory KiB, vCPUs, CPU time ns."""


def is_dom0(uuid: str, dom_id: int | None) -> bool:
    """Domain-0: id 0 on Xen (ids of other drivers start at 1), and the all-zero UUID
    (Xen's, also used by test hosts shaped like Xen)."""
    return dom_id == 0 or uuid == ZERO_UUID


def _opt_int(value: Any) -> int | None:
    return None if value is None or value < 0 else int(value)


def _bulk_devices(rec: dict[str, Any], group: str, fields: tuple[str, ...],
                  need_any: int = 0) -> list[tuple[str, tuple[int | None, ...]]]:
    """Each named device of a bulk record's group ("block", "net") with its `fields`;
    with `need_any`, only devices that report at least one of the first `need_any`."""
    out = []
    for i in range(rec.get(f"{group}.count", 0)):
        p = f"{group}.{i}."
        name = rec.get(p + "name")
        if name is None or (need_any and not any(p + f in rec for f in fields[:need_any])):
            continue
        out.append((name, tuple(_opt_int(rec.get(p + f)) for f in fields)))
    return out


def sample_from_bulk(dom: libvirt.virDomain, rec: dict[str, Any], at: float) -> DomainSample:
    """Build a sample from one `getAllDomainStats` record."""
    state = DomainState.from_libvirt(rec.get("state.state", 0))
    disks = {name: DiskCounters(*figures) for name, figures in _bulk_devices(
        rec, "block", ("rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs"), need_any=2)}
    nets = {name: NetCounters(*figures) for name, figures in _bulk_devices(
        rec, "net", ("rx.bytes", "tx.bytes", "rx.pkts", "tx.pkts"))}
    dom_id: int | None = dom.ID()
    if dom_id is None or dom_id < 0 or not state.active:
        dom_id = None
    uuid = dom.UUIDString()
    return DomainSample(
        uuid=uuid,
        name=dom.name(),
        id=dom_id,
        state=state,
        vcpus=rec.get("vcpu.current"),
        cpu_time_ns=rec.get("cpu.time") if state.active else None,
        mem_kib=rec.get("balloon.current") if state.active else None,
        maxmem_kib=rec.get("balloon.maximum"),
        disks=disks,
        nets=nets,
        at=at,
        is_dom0=is_dom0(uuid, dom_id),
    )


class DeviceCache:
    """What each domain instance's XML says (devices, Nova's names), keyed by (UUID, id):
    read once per instance. Xen names NICs `vif<id>.<n>`, so a restart (new id) reads
    the XML again; a metadata-change event forgets the domain."""

    def __init__(self) -> None:
        self._devices: dict[tuple[str, int | None], DomainDevices] = {}

    def get(self, dom: libvirt.virDomain, uuid: str, dom_id: int | None) -> DomainDevices:
        key = (uuid, dom_id)
        found = self._devices.get(key)
        if found is None:
            found = parse_devices(dom.XMLDesc(0))
            self._devices[key] = found
        return found

    def known(self, uuid: str, dom_id: int | None) -> DomainDevices | None:
        """What is held for this instance, reading nothing."""
        return self._devices.get((uuid, dom_id))

    def forget(self, uuid: str) -> None:
        """Read this domain's XML again next time (its metadata changed)."""
        for key in [k for k in self._devices if k[0] == uuid]:
            del self._devices[key]

    def keep_only(self, live: Iterable[tuple[str, int | None]]) -> None:
        """Drop instances that no longer exist, so the cache stays bounded."""
        alive = set(live)
        for key in [k for k in self._devices if k not in alive]:
            del self._devices[key]


def _quiet_call(fn: Any, *args: Any) -> Any:
    """A counter read that may fail on one device without failing the domain."""
    try:
        return fn(*args)
    except libvirt.libvirtError as err:
        if err.get_error_code() in VANISHED:
            raise
        return None


def _read_io(
    dom: libvirt.virDomain, devices: DomainDevices, local: XenLocalIo | None, dom_id: int | None
) -> tuple[dict[str, DiskCounters], dict[str, NetCounters], bool]:
    """Block and interface counters of one running domain: from Dom0's own files where
    the local reader has them, else one libvirt call per device; and whether they all
    came from the files (then they are as of the reader's `read_at`)."""
    disks: dict[str, DiskCounters] = {}
    nets: dict[str, NetCounters] = {}
    if local is not None and dom_id is not None:
        disks = local.disks(dom_id, devices.disks)
        nets = local.nets(devices.nets)
    from_files = (local is not None and len(disks) == len(devices.disks)
                  and len(nets) == len(devices.nets))
    for dev in devices.disks:
        if dev in disks:
            continue
        blk = _quiet_call(dom.blockStats, dev)
        if blk is not None:
            rd_req, rd_bytes, wr_req, wr_bytes, _err = blk
            disks[dev] = DiskCounters(
                _opt_int(rd_bytes), _opt_int(wr_bytes), _opt_int(rd_req), _opt_int(wr_req)
            )
    for dev in devices.nets:
        if dev in nets:
            continue
        nic = _quiet_call(dom.interfaceStats, dev)
        if nic is not None:
            nets[dev] = NetCounters(
                _opt_int(nic[0]), _opt_int(nic[4]), _opt_int(nic[1]), _opt_int(nic[5])
            )
    return disks, nets, from_files


def xen_state_code(letters: str) -> int:
    """libxenstat's state letters (d s b c p r) as the `VIR_DOMAIN_*` number libvirt's
    libxl driver reports: crashed, shutting down (dying or shut down), paused, else
    running (the driver calls a blocked, idle domain running too)."""
    if letters[3] == "c":
        return libvirt.VIR_DOMAIN_CRASHED
    if letters[0] == "d" or letters[1] == "s":
        return libvirt.VIR_DOMAIN_SHUTDOWN
    if letters[4] == "p":
        return libvirt.VIR_DOMAIN_PAUSED
    return libvirt.VIR_DOMAIN_RUNNING


def xen_info(stat: XenDomainStat, maxmem_kib: int) -> Info:
    """What `info()` would answer, from one domain's libxenstat figures and the maximum
    memory libvirt gave for this instance (libxenstat's carries libxl's 1 MiB slack)."""
    return (xen_state_code(stat.state), maxmem_kib, stat.mem_kib, stat.vcpus,
            stat.cpu_time_ns)


_NO_DISKS: dict[str, DiskCounters] = {}
_NO_NETS: dict[str, NetCounters] = {}


def sample_one(
    dom: libvirt.virDomain,
    cache: DeviceCache | None,
    *,
    persistent: bool | None = None,
    carry: DomainSample | None = None,
    local: XenLocalIo | None = None,
    uuid: str | None = None,
    listed: Listed | None = None,
    info: Info | None = None,
    info_at: float | None = None,
) -> DomainSample:
    """Read one domain through per-domain calls (raises libvirtError if it vanished).

    Without a device cache only the domain-wide figures are read. `carry`, an earlier
    sample of the same running instance, lends its I/O counters (with their reading
    time) instead of reading them again. `local` reads Xen's own counters on Dom0.
    `listed`: the handle's listing entry, whose UUID, name and id the handle holds (a
    handle keeps what it was listed with), so that they are not asked again. `info`:
    the domain's figures read another way (libxenstat), so that `info()` is not asked,
    and `info_at` when they were read: the sample's time, for its CPU time to be held
    against (the I/O counters, read now, keep their own).
    """
    read_at = time.monotonic()
    at = info_at if info is not None and info_at is not None else read_at
    state_code, maxmem, mem, nvcpus, cpu_time = dom.info() if info is None else info
    state = DomainState.from_libvirt(state_code)
    active = state.active
    if listed is not None:
        uuid, name, dom_id = listed.uuid, listed.name, listed.id if active else None
    else:
        if uuid is None:
            uuid = dom.UUIDString()
        name = dom.name()
        dom_id = dom.ID() if active else None
        if dom_id is not None and dom_id < 0:
            dom_id = None
    devices = cache.get(dom, uuid, dom_id) if cache is not None else None
    disks, nets, io_at = _NO_DISKS, _NO_NETS, None
    if active and devices is not None:
        if carry is not None and carry.id == dom_id and carry.uuid == uuid and carry.state.active:
            disks, nets, io_at = carry.disks, carry.nets, carry.io_read_at
        else:
            disks, nets, from_files = _read_io(dom, devices, local, dom_id)
            io_at = local.read_at if from_files and local is not None else read_at
    # Positional: a keyword call of this 17-field record costs half as much again, and
    # every domain builds one every pass.
    return DomainSample(
        uuid, name, dom_id, state, nvcpus, cpu_time if active else None,
        mem if active else None, maxmem, disks, nets, at, is_dom0(uuid, dom_id), persistent,
        "", devices.openstack if devices is not None else None, io_at,
    )


def relisted(last: DomainSample, name: str, at: float, persistent: bool | None) -> DomainSample:
    """An inactive domain as the listing shows it again: its last reading, retimed."""
    return DomainSample(last.uuid, name, None, last.state, last.vcpus, None, None,
                        last.maxmem_kib, last.disks, last.nets, at, last.is_dom0, persistent,
                        openstack=last.openstack)


def held_paused(last: DomainSample, name: str, persistent: bool | None) -> DomainSample:
    """A paused domain between its turns: its last reading as it was, reading time
    included (its vCPUs do not run, so its CPU time and memory stand; a resume or
    destroy comes as an event, after which it is read again)."""
    if last.name == name and last.persistent == persistent:
        return last
    return DomainSample(last.uuid, name, last.id, last.state, last.vcpus, last.cpu_time_ns,
                        last.mem_kib, last.maxmem_kib, last.disks, last.nets, last.at,
                        last.is_dom0, persistent, last.resident, last.openstack, last.io_at,
                        last.kind)


class Listed(NamedTuple):
    """One domain of a full listing: its handle and what the handle holds (no call
    asks the driver again: libvirt keeps a handle's UUID, name and id as listed)."""

    dom: libvirt.virDomain
    uuid: str
    name: str
    id: int | None
    """None: the domain was not running when listed."""

    @classmethod
    def of(cls, dom: libvirt.virDomain) -> Listed:
        dom_id = dom.ID()
        return cls(dom, dom.UUIDString(), dom.name(), None if dom_id < 0 else dom_id)


