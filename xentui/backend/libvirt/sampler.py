"""One sampling pass over a host: raw readings per domain, keyed by UUID.

Two paths. The bulk path asks `getAllDomainStats` once. The per-domain path asks each
domain for info, block and interface counters (devices from its XML, cached per running
instance), with calls spread over a small thread pool. Domains the bulk call leaves
without CPU figures while running are completed through the per-domain path.
Off-screen domains' I/O counters are read every few passes, not every pass (see Sampler);
each sample says when its I/O counters were read (`io_at`).
All functions here block: run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, NamedTuple

import libvirt
from xentui.backend.libvirt.capabilities import BULK_ALL
from xentui.backend.libvirt.domxml import DomainDevices, parse_devices
from xentui.backend.models import ZERO_UUID, DiskCounters, DomainSample, DomainState, NetCounters
from xentui.backend.xen_io import XenLocalIo

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


def _read_io(
    dom: libvirt.virDomain, devices: DomainDevices, local: XenLocalIo | None, dom_id: int | None
) -> tuple[dict[str, DiskCounters], dict[str, NetCounters]]:
    """Block and interface counters of one running domain: from Dom0's own files where
    the local reader has them, else one libvirt call per device."""
    disks: dict[str, DiskCounters] = {}
    nets: dict[str, NetCounters] = {}
    if local is not None and dom_id is not None:
        disks = local.disks(dom_id, devices.disks)
        nets = local.nets(devices.nets)
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
    return disks, nets


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
) -> DomainSample:
    """Read one domain through per-domain calls (raises libvirtError if it vanished).

    Without a device cache only the domain-wide figures are read. `carry`, an earlier
    sample of the same running instance, lends its I/O counters (with their reading
    time) instead of reading them again. `local` reads Xen's own counters on Dom0.
    `listed`: the handle's listing entry, whose UUID, name and id the handle holds (a
    handle keeps what it was listed with), so that they are not asked again.
    """
    at = time.monotonic()
    state_code, maxmem, mem, nvcpus, cpu_time = dom.info()
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
            disks, nets = _read_io(dom, devices, local, dom_id)
            io_at = at
    # Positional: a keyword call of this 17-field record costs half as much again, and
    # every domain builds one every pass.
    return DomainSample(
        uuid, name, dom_id, state, nvcpus, cpu_time if active else None,
        mem if active else None, maxmem, disks, nets, at, is_dom0(uuid, dom_id), persistent,
        "", devices.openstack if devices is not None else None, io_at,
    )


def _relisted(last: DomainSample, name: str, at: float, persistent: bool | None) -> DomainSample:
    """An inactive domain as the listing shows it again: its last reading, retimed."""
    return DomainSample(last.uuid, name, None, last.state, last.vcpus, None, None,
                        last.maxmem_kib, last.disks, last.nets, at, last.is_dom0, persistent,
                        openstack=last.openstack)


def _held_paused(last: DomainSample, name: str, persistent: bool | None) -> DomainSample:
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


IO_EVERY = 10
"""Domains outside the watched set are read in turn every this many passes at least
(spread evenly over the passes): a running one's I/O counters, a paused or inactive
one's reading. Watched ones are read whole every pass."""
TURN_PER_PASS = 40
"""Unwatched domains whose turn comes in one pass, at most: on a big host the turn
takes longer than IO_EVERY passes instead (1000 domains with a screenful watched: 24
passes), so that the calls a pass spends on what nobody sees stay bounded."""
SERIAL_SHARE = 0.8
"""A pass whose calls take less than this share of the interval on one thread runs on one
thread: spreading them over the pool saves wall time but costs CPU (each call hands the
connection between threads and wakes libvirt's event thread). The first pass, and passes
after a serial one ran longer, spread (PARALLEL_PASSES of them before trying one thread
again)."""
PARALLEL_PASSES = 30
PERSISTENCE_EVERY = 30
"""Passes between listings of transient domains; events keep persistence current between
(a define or undefine re-reads the domain it names), new UUIDs trigger a listing at once."""
RELIST_EVERY = 30
"""Passes between full domain listings while the cheap one (running ids, inactive names)
shows no change: a full listing makes a handle and a UUID string per domain."""


class Sampler:
    """Reads every domain of one connection, by the best path the driver offers.

    Per pass: one domain listing, `info()` of every running domain (CPU, state and memory
    exact every pass), I/O counters of the watched domains and, in turn, of the others
    (`turn_period`). A domain the listing shows inactive, and that was inactive before,
    keeps its configuration figures until its turn comes; so does a paused one (its
    vCPUs do not run), except that a pass after a domain event, or after the listing
    changed, reads every paused domain. Calls run on one thread while that is quick
    enough (SERIAL_SHARE of the interval), else spread over the pool.
    """

    def __init__(
        self,
        conn: libvirt.virConnect,
        *,
        bulk: bool,
        pool: ThreadPoolExecutor,
        parallel: bool = True,
        threads: int = 4,
        io_every: int = IO_EVERY,
        interval: float = 1.0,
    ) -> None:
        self.conn = conn
        self.bulk = bulk
        self.pool = pool
        self.parallel = parallel
        """Spread per-domain calls over the pool: worth it when each is a round trip to a
        daemon; for an in-process driver the threads cost more than they save."""
        self.threads = max(1, threads)
        """Pool threads one pass uses, each taking an equal share of the domains."""
        self.io_every = max(1, io_every)
        self.interval = interval
        """Seconds between passes (a serial pass may take up to SERIAL_SHARE of it)."""
        self.watched: frozenset[str] | None = None
        """UUIDs whose I/O counters are read every pass; None: every domain's are."""
        self.devices = DeviceCache()
        self.last_path = "bulk" if bulk else "per-domain"
        self.passes = 0
        self._last: dict[str, DomainSample] = {}
        self._persistent: dict[str, bool] = {}
        self._serial = False
        self._parallel_left = 0
        self.local_io: XenLocalIo | None = None
        """Dom0's own I/O counters (a local Xen host): every domain's, every pass."""
        self.answered_at = 0.0
        """When the newest domain read of a pass began (monotonic): the daemon answers."""
        self._held: list[Listed] = []
        self._held_key: tuple[frozenset[int], frozenset[str]] | None = None
        self._listed_at = 0
        self.relist = True
        """List every domain next pass (set on any domain event, or a vanished handle)."""
        self._changed = True
        """This pass's listing was asked for by an event or found a change: read every
        paused domain (one may have been resumed)."""
        self.turn_period = self.io_every
        """Passes between two turns of an unwatched domain (this pass's)."""

    def note_persistence(self, uuid: str, persistent: bool) -> None:
        """Learn a domain's persistence from a re-read (after a define/undefine event)."""
        self._persistent[uuid] = persistent

    def _turn(self, uuid: str) -> bool:
        """Whether this pass reads the domain whole: watched, or its turn has come."""
        watched = self.watched
        if watched is None or uuid in watched:
            return True
        period = self.turn_period
        return hash(uuid) % period == self.passes % period

    def _set_turn_period(self, count: int) -> None:
        """IO_EVERY passes, or longer where more than TURN_PER_PASS would be due."""
        watched = self.watched
        unwatched = 0 if watched is None else max(0, count - len(watched))
        self.turn_period = max(self.io_every, -(-unwatched // TURN_PER_PASS))

    def forget(self, uuid: str) -> None:
        """Read this domain whole next pass, its XML too (its metadata changed)."""
        self.devices.forget(uuid)
        self._last.pop(uuid, None)

    def _listing(self) -> list[Listed]:
        """Every domain's handle and UUID. The handles of the last full listing serve
        again while the running ids and the inactive names are the same sets (two calls
        returning plain ints and strings): a start, stop, restart (ids are not reused),
        define, undefine or rename changes one of them, and events ask for a full
        listing too. A handle keeps the id it was listed with, so a changed id is
        always a new listing."""
        conn = self.conn
        key = (frozenset(conn.listDomainsID()), frozenset(conn.listDefinedDomains()))
        self._changed = self.relist or key != self._held_key
        if self._changed or self.passes - self._listed_at >= RELIST_EVERY:
            self.relist = False
            domains = conn.listAllDomains(0)
            self._held = [Listed.of(d) for d in domains]
            self._held_key = key
            self._listed_at = self.passes
        return self._held

    def _one(self, listed: Listed) -> DomainSample | None:
        uuid = listed.uuid
        last = self._last.get(uuid)
        persistent = self._persistent.get(uuid)
        due = last is None or self._turn(uuid)
        try:
            if not due and last is not None:
                if not last.state.active and listed.id is None:
                    return _relisted(last, listed.name, time.monotonic(), persistent)
                if (last.state is DomainState.PAUSED and listed.id == last.id
                        and not self._changed):
                    return _held_paused(last, listed.name, persistent)
            due = due or self.local_io is not None  # Dom0's own I/O counters cost no call
            sample = sample_one(listed.dom, self.devices, persistent=persistent,
                                carry=None if due else last, local=self.local_io,
                                listed=listed)
            self.answered_at = sample.at
            return sample
        except libvirt.libvirtError as err:
            if err.get_error_code() in _VANISHED:
                self.relist = True
                return None
            raise

    def _share(self, listed: list[Listed]) -> list[DomainSample | None]:
        return [self._one(entry) for entry in listed]

    def _per_domain(self, listed: list[Listed]) -> list[DomainSample]:
        spread = self.parallel and self.threads > 1 and len(listed) > 1
        if not spread or self._serial:
            started = time.perf_counter()
            found = self._share(listed)
            if spread and time.perf_counter() - started > SERIAL_SHARE * self.interval:
                self._serial, self._parallel_left = False, PARALLEL_PASSES
        else:
            k = self.threads
            shares = self.pool.map(self._share, [listed[i::k] for i in range(k)])
            found = [s for share in shares for s in share]
            self._parallel_left -= 1
            self._serial = self._parallel_left <= 0
        return [s for s in found if s is not None]

    def _learn_persistence(self, uuids: list[str]) -> None:
        """List transient domains when a new UUID shows up or every PERSISTENCE_EVERY."""
        known = self._persistent
        if self.passes % PERSISTENCE_EVERY == 1 or any(u not in known for u in uuids):
            flag = libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT
            transient = {d.UUIDString() for d in self.conn.listAllDomains(flag)}
            self._persistent = {u: u not in transient for u in uuids}

    def read(self) -> list[DomainSample]:
        """One pass: a sample for every domain the connection knows."""
        self.passes += 1
        prune = self.bulk
        if self.bulk:
            samples = self._read_bulk()
            flag = libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT
            transient = {d.UUIDString() for d in self.conn.listAllDomains(flag)}
            samples = [replace(s, persistent=s.uuid not in transient) for s in samples]
        else:
            listed = self._listing()
            self.answered_at = time.monotonic()
            self._set_turn_period(len(listed))
            relisted = self._listed_at == self.passes
            if relisted or self.passes % PERSISTENCE_EVERY == 1:
                self._learn_persistence([entry.uuid for entry in listed])
            if self.local_io is not None:
                self.local_io.refresh()
            samples = self._per_domain(listed)
            self.last_path = "per-domain" if self.local_io is None else "per-domain, Dom0 I/O"
            prune = relisted  # a held listing holds the same instances (a handle keeps its id)
        if prune:
            self.devices.keep_only((s.uuid, s.id) for s in samples)
        self._last = {s.uuid: s for s in samples}
        return samples

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
            samples.extend(self._per_domain([Listed.of(d) for d in incomplete]))
            self.last_path = "bulk+per-domain" if complete else "per-domain"
        else:
            self.last_path = "bulk"
        return samples
