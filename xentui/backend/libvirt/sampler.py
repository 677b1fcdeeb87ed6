"""One sampling pass over a host: raw readings per domain, keyed by UUID.

Two paths. The bulk path asks `getAllDomainStats` once. The per-domain path asks each
domain for info, block and interface counters (readings.py), with calls spread over a
small thread pool when one thread is too slow. Domains the bulk call leaves without CPU
figures while running are completed through the per-domain path. Unwatched domains'
I/O counters, and paused and inactive domains, are read in turn, not every pass (see
Sampler); each sample says when its I/O counters were read (`io_at`). On a local Xen
Dom0, one libxenstat read per pass gives every running domain's CPU time, memory, vCPUs
and state in place of an `info()` call each.
All functions here block: run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import libvirt
from xentui.backend.libvirt.capabilities import BULK_ALL
from xentui.backend.libvirt.readings import (
    VANISHED,
    DeviceCache,
    Info,
    Listed,
    held_paused,
    relisted,
    sample_from_bulk,
    sample_one,
    xen_info,
)
from xentui.backend.models import DomainSample, DomainState
from xentui.backend.xen_io import XenLocalIo
from xentui.backend.xenstat import XenDomainStat, XenStat

__all__ = ["DeviceCache", "Sampler", "sample_from_bulk", "sample_one"]

LABEL_READS_PER_PASS = 50
"""The bulk path reads no XML: new instances' Nova names are read this many per pass,
so the first screen of a big host is not held back by them (they arrive over passes)."""
IO_EVERY = 10
"""Domains outside the watched set are read in turn every this many passes at least
(spread evenly over the passes): a running one's I/O counters, a paused or inactive
one's reading. Watched ones are read whole every pass."""
TURN_PER_PASS = 40
"""Unwatched domains whose turn comes in one pass, at most, over the whole fleet (a host
takes its `turn_share` of it): on a big host or fleet the turn takes longer than IO_EVERY
passes instead (1000 domains with a screenful watched: 24 passes; 20 hosts of 100: 50),
so that the calls a pass spends on what nobody sees stay bounded."""
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
    exact every pass; on a local Xen host one libxenstat read serves them instead), I/O
    counters of the watched domains and, in turn, of the others (`turn_period`). A
    domain the listing shows inactive, and that was inactive before, keeps its
    configuration figures until its turn comes; so does a paused one (its vCPUs do not
    run), except that a pass after a domain event, or after the listing changed, reads
    every paused domain. Calls run on one thread while that is quick enough
    (SERIAL_SHARE of the interval), else spread over the pool.
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
        self.xen_stat: XenStat | None = None
        """libxenstat on a local Xen host: every domain's CPU, memory, vCPUs and state in
        one read per pass (the host owns and closes it; a failed read drops it here)."""
        self.notice = ""
        """A word for the log from the last pass (the host hands it on once), or ''."""
        self._xen: dict[int, XenDomainStat] = {}
        """This pass's libxenstat snapshot, by domain id ({}: none)."""
        self._xen_at = 0.0
        """When that snapshot was taken (monotonic, the middle of the read)."""
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
        self.turn_share = 1.0
        """This host's part of the fleet's domains: its part of TURN_PER_PASS."""

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
        """IO_EVERY passes, or longer where more than this host's share of
        TURN_PER_PASS would be due."""
        watched = self.watched
        unwatched = 0 if watched is None else max(0, count - len(watched))
        budget = max(1, round(TURN_PER_PASS * self.turn_share))
        self.turn_period = max(self.io_every, -(-unwatched // budget))

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
                    return relisted(last, listed.name, time.monotonic(), persistent)
                if (last.state is DomainState.PAUSED and listed.id == last.id
                        and not self._changed):
                    return held_paused(last, listed.name, persistent)
            due = due or self.local_io is not None  # Dom0's own I/O counters cost no call
            info = self._xen_info(listed, last) if self._xen else None
            sample = sample_one(listed.dom, self.devices, persistent=persistent,
                                carry=None if due else last, local=self.local_io,
                                listed=listed, info=info, info_at=self._xen_at)
            if info is None:
                self.answered_at = sample.at
            return sample
        except libvirt.libvirtError as err:
            if err.get_error_code() in VANISHED:
                self.relist = True
                return None
            raise

    def _xen_info(self, listed: Listed, last: DomainSample | None) -> Info | None:
        """The domain's `info()` figures from this pass's libxenstat snapshot: for an
        instance running when listed, read before (its maximum memory is libvirt's, held
        from that first reading), under the same id and name in the snapshot; else None
        (ask `info()`: a domain started after the read is not in it)."""
        dom_id = listed.id
        if dom_id is None or last is None or last.id != dom_id or last.maxmem_kib is None:
            return None
        stat = self._xen.get(dom_id)
        if stat is None or stat.name != listed.name:
            return None
        return xen_info(stat, last.maxmem_kib)

    def _read_xen(self) -> dict[int, XenDomainStat]:
        """Every domain's libxenstat figures now; {} without the library. A failed read
        is logged and ends its use: the libvirt calls read every domain from then on."""
        stat = self.xen_stat
        if stat is None:
            return {}
        before = time.monotonic()
        try:
            found = stat.read()
        except Exception as err:  # any failure of the library: libvirt stays the source
            self.notice = (f"libxenstat read failed ({' '.join(str(err).split())}): CPU and "
                           "memory are read through libvirt from now on")
            self.xen_stat = None
            return {}
        self._xen_at = (before + time.monotonic()) / 2
        return found

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
            self._xen = {}
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
            self._xen = self._read_xen()
            samples = self._per_domain(listed)
            self.last_path = self._path_label()
            prune = relisted  # a held listing holds the same instances (a handle keeps its id)
        if prune:
            self.devices.keep_only((s.uuid, s.id) for s in samples)
        self._last = {s.uuid: s for s in samples}
        return samples

    def _path_label(self) -> str:
        """The per-domain path as the header names it: which of Dom0's own sources
        served this pass."""
        local = ["Dom0 I/O"] if self.local_io is not None else []
        if self._xen:
            local.append("xenstat")
        return "per-domain, " + " + ".join(local) if local else "per-domain"

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
