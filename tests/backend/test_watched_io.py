"""The reduced per-domain path over a daemon: CPU, state and memory of every running domain
every pass, I/O counters of watched domains every pass and of the others every IO_EVERY passes,
each with its own reading time, and rates over the readings' own spans."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import libvirt
import pytest

from tests.backend.conftest import daemon_node
from tests.backend.helpers import RawReading, rate_bounds, read_raw
from tests.support import daemons
from xentui.backend.libvirt import sampler as sampler_module
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.libvirt.sampler import IO_EVERY
from xentui.backend.models import DomainState, PassResult

SLACK = 0.02  # the test driver's counters follow the wall clock; our brackets, monotonic
GAP = 0.05
N_GUESTS = 30


@pytest.fixture
def io_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the sampler's blockStats/interfaceStats calls per domain UUID (those made
    on its connection's pool threads; the tests' own raw reads are not counted)."""
    counts: Counter[str] = Counter()
    for name in ("blockStats", "interfaceStats"):
        orig = getattr(libvirt.virDomain, name)

        def counted(dom: libvirt.virDomain, *args: Any, _orig: Any = orig) -> Any:
            if threading.current_thread().name.startswith("libvirt-call"):
                counts[dom.UUIDString()] += 1
            return _orig(dom, *args)

        monkeypatch.setattr(libvirt.virDomain, name, counted)
    yield counts


@pytest.fixture
async def dhost(testd: daemons.PrivateDaemon) -> AsyncIterator[Host]:
    """A per-domain host over the private daemon, on a node of its own."""
    h = Host(daemon_node(testd, N_GUESTS), per_domain=True)
    await h.connect()
    try:
        yield h
    finally:
        await h.close()


def active_uuids(conn: libvirt.virConnect) -> list[str]:
    flag = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    return sorted(d.UUIDString() for d in conn.listAllDomains(flag))


async def bracketed(host: Host) -> tuple[dict[str, RawReading], PassResult, dict[str, RawReading]]:
    """A pass with raw readings of every active domain just before and just after it."""
    conn = host.link.conn
    before = await asyncio.to_thread(read_raw, conn)
    result = await host.sample()
    after = await asyncio.to_thread(read_raw, conn)
    await asyncio.sleep(GAP)
    return before, result, after


def check_exact(conn: libvirt.virConnect, before: dict[str, RawReading], result: PassResult,
                after: dict[str, RawReading]) -> None:
    """Every domain, every pass: state and memory as libvirt says, CPU time between the
    raw readings around the pass."""
    raw = {d.UUIDString(): d for d in conn.listAllDomains(0)}
    assert set(result.domains) == set(raw)
    for uuid, fig in result.domains.items():
        state, maxmem, mem, vcpus, _cpu = raw[uuid].info()
        s = fig.sample
        assert s.state is DomainState.from_libvirt(state)
        assert s.maxmem_kib == maxmem
        if s.state.active:
            assert s.mem_kib == mem and s.vcpus == vcpus
            assert s.cpu_time_ns is not None
            if s.state is DomainState.PAUSED and s.at < before[uuid].t:
                continue  # held between its turns (test_paused_in_turn.py checks those)
            assert before[uuid].cpu_ns <= s.cpu_time_ns <= after[uuid].cpu_ns
        else:
            assert s.cpu_time_ns is None and s.mem_kib is None


def check_io_rates(prev: tuple[dict[str, RawReading], dict[str, RawReading]],
                   cur: tuple[dict[str, RawReading], dict[str, RawReading]],
                   uuid: str, fig: Any) -> None:
    """The I/O rates of `fig` lie within what raw readings around its two I/O readings
    allow (the span is the readings' own, however many passes lie between)."""
    (a, b), (c, d) = prev, cur
    ts = (a[uuid].t, b[uuid].t, c[uuid].t, d[uuid].t)
    for dev in a[uuid].disks:
        for i, value in enumerate((fig.rates.disks[dev].read_bps, fig.rates.disks[dev].write_bps)):
            lo, hi = rate_bounds(*(x[uuid].disks[dev][i] for x in (a, b, c, d)), *ts)
            assert value is not None and lo * (1 - SLACK) <= value <= hi * (1 + SLACK)
    for dev in a[uuid].nets:
        for i, value in enumerate((fig.rates.nets[dev].read_bps, fig.rates.nets[dev].write_bps)):
            lo, hi = rate_bounds(*(x[uuid].nets[dev][i] for x in (a, b, c, d)), *ts)
            assert value is not None and lo * (1 - SLACK) <= value <= hi * (1 + SLACK)


async def test_watched_every_pass_others_in_turn(dhost: Host, io_calls: Counter[str]) -> None:
    conn = dhost.link.conn
    running = active_uuids(conn)
    watched = set(running[:4])
    with_io = with_disks(conn)
    others = [u for u in running if u not in watched and u in with_io]
    assert len(others) > IO_EVERY  # so that the turns are spread over several passes
    passes = [await bracketed(dhost)]  # first pass: everything read, nothing watched yet
    dhost.watch(watched)
    io_calls.clear()
    fresh_at: dict[str, list[int]] = {u: [] for u in running}
    for k in range(1, 2 * IO_EVERY + 1):
        passes.append(await bracketed(dhost))
        before, result, after = passes[-1]
        check_exact(conn, before, result, after)
        for uuid in running:
            s = result.domains[uuid].sample
            if s.io_age_s == 0 and s.at >= before[uuid].t:
                fresh_at[uuid].append(k)
            else:  # carried: the counters and reading time of its last fresh reading
                last = max(j for j in [0, *fresh_at[uuid]])
                held = passes[last][1].domains[uuid].sample
                assert (s.disks, s.nets, s.io_read_at) == (held.disks, held.nets, held.at)
                assert s.io_age_s == pytest.approx(s.at - held.at)
    for uuid in watched:
        assert fresh_at[uuid] == list(range(1, 2 * IO_EVERY + 1))
    for uuid in others:  # exactly once in every IO_EVERY passes, at a fixed turn
        turns = fresh_at[uuid]
        assert len(turns) == 2 and turns[1] - turns[0] == IO_EVERY
    # calls: watched domains' devices every pass, the others' once per IO_EVERY passes
    per_domain = {u: io_calls[u] for u in running}
    first = passes[0][1]
    devices = {u: len(first.domains[u].sample.disks) + len(first.domains[u].sample.nets)
               for u in running}
    for uuid in running:
        expected = 2 * IO_EVERY if uuid in watched else 2
        assert per_domain[uuid] == expected * devices[uuid]
    # rates: watched ones against the pass before; the others over their own I/O span
    for uuid in watched:
        for k in range(2, 2 * IO_EVERY + 1):
            fig = passes[k][1].domains[uuid]
            check_io_rates(passes[k - 1][0::2], passes[k][0::2], uuid, fig)
    for uuid in others:
        t0, t1 = fresh_at[uuid]
        fig = passes[t1][1].domains[uuid]
        check_io_rates(passes[t0][0::2], passes[t1][0::2], uuid, fig)
        # between readings, the rate over the last two readings stands
        for k in range(t1 + 1, 2 * IO_EVERY + 1):
            assert passes[k][1].domains[uuid].rates.disks == fig.rates.disks
            assert passes[k][1].domains[uuid].rates.nets == fig.rates.nets


def with_disks(conn: libvirt.virConnect) -> set[str]:
    return {u for u, r in read_raw(conn).items() if r.disks}


async def test_without_a_watch_every_domain_is_read_every_pass(dhost: Host,
                                                               io_calls: Counter[str]) -> None:
    await dhost.sample()
    for _ in range(3):
        await asyncio.sleep(GAP)
        result = await dhost.sample()
        assert all(f.sample.io_age_s == 0 for f in result.domains.values())
    running = active_uuids(dhost.link.conn)
    assert {u for u in running if io_calls[u]} == with_disks(dhost.link.conn)


async def test_inactive_domain_started_between_passes_is_read(dhost: Host) -> None:
    conn = dhost.link.conn
    dhost.watch([])
    for _ in range(2):
        await dhost.sample()
    dom = next(d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE))
    held = dhost.last.domains[dom.UUIDString()].sample
    assert held.state is DomainState.SHUTOFF
    await asyncio.to_thread(dom.create)
    result = await dhost.sample()
    s = result.domains[dom.UUIDString()].sample
    assert s.state is DomainState.RUNNING and s.id == dom.ID()
    assert s.cpu_time_ns is not None and s.mem_kib == dom.info()[2]
    assert s.io_age_s == 0  # a new instance never borrows counters


async def test_persistence_follows_undefine_and_new_transient_domains(dhost: Host) -> None:
    conn = dhost.link.conn
    dhost.watch([])
    await dhost.sample()
    dom = next(d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
               if d.isPersistent() and d.ID() != 0)
    uuid = dom.UUIDString()
    assert dhost.last.domains[uuid].sample.persistent is True
    await asyncio.to_thread(dom.undefine)  # running on, now transient
    xml = dom.XMLDesc(0).replace(dom.name(), "xt-transient").replace(uuid, "")
    new = await asyncio.to_thread(conn.createXML, xml.replace("<uuid></uuid>", ""), 0)
    await asyncio.sleep(0.3)  # the events' re-reads
    for _ in range(2):
        result = await dhost.sample()
        assert result.domains[uuid].sample.persistent is bool(dom.isPersistent()) is False
        assert result.domains[new.UUIDString()].sample.persistent is False


async def test_quick_passes_run_on_one_thread_slow_ones_spread(
        dhost: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[set[str]] = []
    orig = libvirt.virDomain.info

    def info(dom: libvirt.virDomain) -> Any:
        threads[-1].add(threading.current_thread().name)
        return orig(dom)

    monkeypatch.setattr(libvirt.virDomain, "info", info)

    async def pass_threads() -> set[str]:
        threads.append(set())
        await dhost.sample()
        return threads[-1]

    assert len(await pass_threads()) > 1  # the first pass spreads over the pool
    assert len(await pass_threads()) == 1  # it was quick: the next runs on one thread
    monkeypatch.setattr(sampler_module, "SERIAL_SHARE", 0.0)  # every pass is "slow" now
    assert len(await pass_threads()) == 1  # this one ran serially and too long...
    assert len(await pass_threads()) > 1  # ...so the next ones spread again
