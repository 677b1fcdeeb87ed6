"""One sampling pass over a host: raw readings per domain, keyed by UUID.

Two paths. The bulk path asks `getAllDomainStats` once. The per-domain path asks each
domain for info, block and interface counters (devices from its XML, cached per running
instance), with calls spread over a small thread pool. Domains the bulk call leaves
without CPU figures while running are completed through the per-domain path.
All functions here block: run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import libvirt
from xentui.backend.libvirt.capabilities import BULK_ALL
from xentui.backend.libvirt.domxml import DomainDevices, parse_devices
from xentui.backend.models import ZERO_UUID, DiskCounters, DomainSample, DomainState, NetCounters

_VANISHED = {libvirt.VIR_ERR_NO_DOMAIN}


def is_dom0(uuid: str, dom_id: int | None) -> bool:
    """Domain-0: id 0 on Xen (ids of other drivers start at 1), and the all-zero UUID
    (Xen's, also used by test hosts shaped like Xen)."""
    return dom_id == 0 or uuid == ZERO_UUID


def _opt_int(value: Any) -> int | None:
    return None if value is None or value < 0 else int(value)


def sample_from_bulk(dom: libvirt.virDomain, rec: dict[str, Any], at: float) -> DomainSample:
    """Build a sample from one `getAllDomainStats` record."""
    state = DomainState.from_libvirt(rec.get("state.state", 0))
    disks: dict[str, DiskCounters] = {}
    for i in range(rec.get("block.count", 0)):
        p = f"block.{i}."
        name = rec.get(p + "name")
        if name is None or ((p + "rd.bytes") not in rec and (p + "wr.bytes") not in rec):
            continue
        disks[name] = DiskCounters(
            _opt_int(rec.get(p + "rd.bytes")),
            _opt_int(rec.get(p + "wr.bytes")),
            _opt_int(rec.get(p + "rd.reqs")),
            _opt_int(rec.get(p + "wr.reqs")),
        )
    nets: dict[str, NetCounters] = {}
    for i in range(rec.get("net.count", 0)):
        p = f"net.{i}."
        name = rec.get(p + "name")
        if name is None:
            continue
        nets[name] = NetCounters(
            _opt_int(rec.get(p + "rx.bytes")),
            _opt_int(rec.get(p + "tx.bytes")),
            _opt_int(rec.get(p + "rx.pkts")),
            _opt_int(rec.get(p + "tx.pkts")),
        )
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


LABEL_READS_PER_PASS = 50
"""The bulk path reads no XML: new instances' Nova names are read this many per pass,
so the first screen of a big host is not held back by them (they arrive over passes)."""


def _quiet_call(fn: Any, *args: Any) -> Any:
    """A counter read that may fail on one device without failing the domain."""
    try:
        return fn(*args)
    except libvirt.libvirtError as err:
        if err.get_error_code() in _VANISHED:
            raise
        return None


def sample_one(dom: libvirt.virDomain, cache: DeviceCache | None) -> DomainSample:
    """Read one domain through per-domain calls (raises libvirtError if it vanished).

    Without a device cache only the domain-wide figures are read.
    """
    at = time.monotonic()
    state_code, maxmem, mem, nvcpus, cpu_time = dom.info()
    state = DomainState.from_libvirt(state_code)
    uuid = dom.UUIDString()
    dom_id = dom.ID() if state.active else None
    if dom_id is not None and dom_id < 0:
        dom_id = None
    disks: dict[str, DiskCounters] = {}
    nets: dict[str, NetCounters] = {}
    devices = cache.get(dom, uuid, dom_id) if cache is not None else None
    if state.active and devices is not None:
        for dev in devices.disks:
            blk = _quiet_call(dom.blockStats, dev)
            if blk is not None:
                rd_req, rd_bytes, wr_req, wr_bytes, _err = blk
                disks[dev] = DiskCounters(
                    _opt_int(rd_bytes), _opt_int(wr_bytes), _opt_int(rd_req), _opt_int(wr_req)
                )
        for dev in devices.nets:
            nic = _quiet_call(dom.interfaceStats, dev)
            if nic is not None:
                nets[dev] = NetCounters(
                    _opt_int(nic[0]), _opt_int(nic[4]), _opt_int(nic[1]), _opt_int(nic[5])
                )
    return DomainSample(
        uuid=uuid,
        name=dom.name(),
        id=dom_id,
        state=state,
        vcpus=nvcpus,
        cpu_time_ns=cpu_time if state.active else None,
        mem_kib=mem if state.active else None,
        maxmem_kib=maxmem,
        disks=disks,
        nets=nets,
        at=at,
        is_dom0=is_dom0(uuid, dom_id),
        openstack=devices.openstack if devices is not None else None,
    )


class Sampler:
    """Reads every domain of one connection, by the best path the driver offers."""

    def __init__(
        self,
        conn: libvirt.virConnect,
        *,
        bulk: bool,
        pool: ThreadPoolExecutor,
        parallel: bool = True,
    ) -> None:
        self.conn = conn
        self.bulk = bulk
        self.pool = pool
        self.parallel = parallel
        """Spread per-domain calls over the pool: worth it when each is a round trip to a
        daemon; for an in-process driver the threads cost more than they save."""
        self.devices = DeviceCache()
        self.last_path = "bulk" if bulk else "per-domain"

    def _try_one(self, dom: libvirt.virDomain) -> DomainSample | None:
        try:
            return sample_one(dom, self.devices)
        except libvirt.libvirtError as err:
            if err.get_error_code() in _VANISHED:
                return None
            raise

    def _per_domain(self, domains: list[libvirt.virDomain]) -> list[DomainSample]:
        if len(domains) <= 1 or not self.parallel:
            found = [self._try_one(d) for d in domains]
        else:
            found = list(self.pool.map(self._try_one, domains))
        return [s for s in found if s is not None]

    def read(self) -> list[DomainSample]:
        """One pass: a sample for every domain the connection knows."""
        if self.bulk:
            samples = self._read_bulk()
        else:
            samples = self._per_domain(self.conn.listAllDomains(0))
            self.last_path = "per-domain"
        self.devices.keep_only((s.uuid, s.id) for s in samples)
        transient = {
            d.UUIDString()
            for d in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
        }
        return [replace(s, persistent=s.uuid not in transient) for s in samples]

    def _read_bulk(self) -> list[DomainSample]:
        at = time.monotonic()
        records = self.conn.getAllDomainStats(BULK_ALL, 0)
        samples: list[DomainSample] = []
        incomplete: list[libvirt.virDomain] = []
        active = 0
        reads = LABEL_READS_PER_PASS
        for dom, rec in records:
            sample = sample_from_bulk(dom, rec, at)
            held = self.devices.known(sample.uuid, sample.id)
            if held is None and reads > 0:
                reads -= 1
                with contextlib.suppress(libvirt.libvirtError):
                    held = self.devices.get(dom, sample.uuid, sample.id)
            if held is not None and held.openstack is not None:
                sample = replace(sample, openstack=held.openstack)
            active += sample.state.active
            if (sample.state.active and sample.cpu_time_ns is None) or sample.maxmem_kib is None:
                incomplete.append(dom)
            else:
                samples.append(sample)
        if active and not any(s.state.active for s in samples):
            # The driver's bulk call fills no figures (libvirt's test driver fills only
            # the state group): stop paying for it.
            self.bulk = False
        complete = len(samples)
        if incomplete:
            samples.extend(self._per_domain(incomplete))
            self.last_path = "bulk+per-domain" if complete else "per-domain"
        else:
            self.last_path = "bulk"
        return samples
