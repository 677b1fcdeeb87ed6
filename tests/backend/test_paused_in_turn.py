"""Paused domains between their turns are held, not re-read: their vCPUs do not run, so
their CPU time and memory cannot change, and a resume or destroy comes as an event. They
are read again in their turn, after any domain event and when the listing changed. On a
big host the turn stretches so that a pass reads about TURN_PER_PASS unwatched domains.
(The test driver's CPU clock runs for paused domains too; a real hypervisor's does not.)"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.backend.conftest import daemon_node
from tests.backend.helpers import read_raw
from tests.support import daemons
from xentui.backend.libvirt import sampler as sampler_module
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.libvirt.sampler import IO_EVERY, Sampler
from xentui.backend.models import DomainSample, DomainState
from xentui.demo import demo_uri, synthetic_node

N_GUESTS = 30
PAUSED = libvirt.VIR_CONNECT_LIST_DOMAINS_PAUSED


def counting(monkeypatch: pytest.MonkeyPatch, *names: str) -> Counter[str]:
    """Counts calls of these virDomain methods per domain UUID."""
    counts: Counter[str] = Counter()
    for name in names:
        orig = getattr(libvirt.virDomain, name)

        def counted(dom: libvirt.virDomain, *args: Any, _orig: Any = orig) -> Any:
            counts[dom.UUIDString()] += 1
            return _orig(dom, *args)

        monkeypatch.setattr(libvirt.virDomain, name, counted)
    return counts


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Sampler, libvirt.virConnect]]:
    """A sampler alone on an in-process node (no events delivered)."""
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(N_GUESTS))
    conn = libvirt.open(demo_uri(node))
    pool = ThreadPoolExecutor(2)
    try:
        yield Sampler(conn, bulk=False, pool=pool, parallel=False), conn
    finally:
        pool.shutdown()
        conn.close()


def by_uuid(samples: list[DomainSample]) -> dict[str, DomainSample]:
    return {s.uuid: s for s in samples}


def paused_uuids(conn: libvirt.virConnect) -> list[str]:
    return sorted(d.UUIDString() for d in conn.listAllDomains(PAUSED))


def test_paused_domains_are_read_in_turn_watched_ones_every_pass(
        rig: tuple[Sampler, libvirt.virConnect], monkeypatch: pytest.MonkeyPatch) -> None:
    sampler, conn = rig
    paused = paused_uuids(conn)
    assert len(paused) > 2
    watched, unwatched = paused[0], paused[1:]
    sampler.watched = frozenset([watched])
    last = by_uuid(sampler.read())
    raw_info = libvirt.virDomain.info  # the test's own reads, not counted
    infos = counting(monkeypatch, "info")
    passes = 2 * IO_EVERY
    read_at: dict[str, list[int]] = {u: [] for u in paused}
    for k in range(passes):
        cur = by_uuid(sampler.read())
        for uuid in paused:
            s = cur[uuid]
            state, maxmem, mem, _vcpus, _cpu = raw_info(conn.lookupByUUIDString(uuid))
            assert (s.state, s.mem_kib, s.maxmem_kib) == (DomainState.from_libvirt(state),
                                                          mem, maxmem)
            if s.at > last[uuid].at:
                read_at[uuid].append(k)
            else:  # held: the last reading itself, CPU time included
                assert s is last[uuid]
        last = cur
    assert infos[watched] == passes and read_at[watched] == list(range(passes))
    for uuid in unwatched:
        assert infos[uuid] == passes // IO_EVERY
        assert len(read_at[uuid]) == 2 and read_at[uuid][1] - read_at[uuid][0] == IO_EVERY
    running = [u for u, s in last.items() if s.state is DomainState.RUNNING]
    assert running and all(infos[u] == passes for u in running)


def test_a_pass_whose_listing_changed_reads_every_paused_domain(
        rig: tuple[Sampler, libvirt.virConnect]) -> None:
    """No events here: a resume alone changes neither running ids nor inactive names,
    but a start beside it does, and that pass reads every paused domain again."""
    sampler, conn = rig
    sampler.watched = frozenset()
    for _ in range(2):
        sampler.read()
    resumed = conn.lookupByUUIDString(paused_uuids(conn)[0])
    resumed.resume()
    conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)[0].create()
    s = by_uuid(sampler.read())[resumed.UUIDString()]
    assert s.state is DomainState.RUNNING and s.mem_kib == resumed.info()[2]


def test_without_events_a_resume_shows_by_its_turn(rig: tuple[Sampler, libvirt.virConnect]
                                                   ) -> None:
    sampler, conn = rig
    sampler.watched = frozenset()
    sampler.read()
    resumed = conn.lookupByUUIDString(paused_uuids(conn)[0])
    resumed.resume()
    states = [by_uuid(sampler.read())[resumed.UUIDString()].state
              for _ in range(sampler.turn_period)]
    assert states[-1] is DomainState.RUNNING
    assert DomainState.RUNNING in states[:sampler.turn_period]


@pytest.fixture
async def dhost(testd: daemons.PrivateDaemon) -> AsyncIterator[Host]:
    """A per-domain host over the private daemon (events delivered), nothing watched."""
    h = Host(daemon_node(testd, N_GUESTS), per_domain=True)
    await h.connect()
    h.watch([])
    try:
        yield h
    finally:
        await h.close()


async def test_a_resume_shows_running_with_fresh_figures_on_the_next_pass(dhost: Host
                                                                          ) -> None:
    conn = dhost.link.conn
    sampler = dhost._sampler
    assert sampler is not None
    for _ in range(2):
        await dhost.sample()
    # a paused domain whose turn is not the next pass: only the event can bring it
    nxt = (sampler.passes + 1) % sampler.turn_period
    uuid = next(u for u in paused_uuids(conn) if hash(u) % sampler.turn_period != nxt)
    held = dhost.last.domains[uuid].sample
    dom = conn.lookupByUUIDString(uuid)
    await asyncio.to_thread(dom.resume)
    await asyncio.sleep(0.3)  # the event arrives
    before = await asyncio.to_thread(read_raw, conn)
    result = await dhost.sample()
    after = await asyncio.to_thread(read_raw, conn)
    s = result.domains[uuid].sample
    assert s.state is DomainState.RUNNING and s.id == held.id
    assert s.mem_kib == dom.info()[2]
    assert s.cpu_time_ns is not None
    assert before[uuid].cpu_ns <= s.cpu_time_ns <= after[uuid].cpu_ns
    assert s.at > held.at and s.io_read_at >= held.io_read_at  # I/O: in its turn, aged


def test_a_big_host_stretches_the_turn(rig: tuple[Sampler, libvirt.virConnect],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sampler, conn = rig
    per_pass = 2
    monkeypatch.setattr(sampler_module, "TURN_PER_PASS", per_pass)
    listed = conn.listAllDomains(0)
    sampler.watched = frozenset(d.UUIDString() for d in listed[:4])
    unwatched = len(listed) - len(sampler.watched)
    sampler.read()
    period = sampler.turn_period
    assert period == math.ceil(unwatched / per_pass) > IO_EVERY
    io = counting(monkeypatch, "blockStats", "interfaceStats")
    for _ in range(2 * period):
        sampler.read()
    running = [d for d in listed if d.info()[0] == libvirt.VIR_DOMAIN_RUNNING]
    assert any(d.UUIDString() not in sampler.watched for d in running)
    for dom in running:
        uuid = dom.UUIDString()
        held = sampler.devices.known(uuid, dom.ID())
        assert held is not None
        reads = 2 * period if uuid in sampler.watched else 2  # once per turn
        assert io[uuid] == reads * (len(held.disks) + len(held.nets))


def test_a_hosts_part_of_the_fleet_takes_its_part_of_the_turn_budget(
        rig: tuple[Sampler, libvirt.virConnect], monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty hosts of a hundred spend on unseen domains what one host of 2000 does."""
    sampler, conn = rig
    monkeypatch.setattr(sampler_module, "TURN_PER_PASS", 4)
    listed = conn.listAllDomains(0)
    sampler.watched = frozenset(d.UUIDString() for d in listed[:2])
    unwatched = len(listed) - 2
    sampler.read()
    alone = sampler.turn_period
    sampler.turn_share = 0.25  # a quarter of the fleet's domains: one of the 4 a pass
    sampler.read()
    assert alone == max(IO_EVERY, math.ceil(unwatched / 4))
    assert sampler.turn_period == max(IO_EVERY, unwatched) > alone
