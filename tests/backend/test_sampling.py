"""Host.connect / Host.sample over the test driver, checked against raw libvirt reads."""

from __future__ import annotations

import asyncio
import math

import libvirt
import pytest

from tests.backend.helpers import rate_bounds, read_raw, targets
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, DomainState
from xentui.demo import demo_uri

SLACK = 0.02  # wall clock (test driver counters) against monotonic time (our brackets)


def check_against_raw(conn: libvirt.virConnect, result) -> None:
    """Every figure of a pass equals what libvirt says when asked directly."""
    raw = {d.UUIDString(): d for d in conn.listAllDomains(0)}
    assert set(result.domains) == set(raw)
    host_kib = conn.getInfo()[1] * 1024
    for uuid, fig in result.domains.items():
        dom = raw[uuid]
        state, maxmem, mem, vcpus, _cpu = dom.info()
        s = fig.sample
        assert s.name == dom.name()
        assert s.state is DomainState.from_libvirt(state)
        assert s.maxmem_kib == maxmem
        if s.state.active:
            assert s.id == dom.ID()
            assert s.cpu_time_ns is not None and s.cpu_time_ns > 0
            assert s.mem_kib == mem
            assert s.vcpus == vcpus
            assert math.isclose(fig.mem_pct, 100.0 * mem / host_kib)
            disks, nets = targets(dom)
            assert sorted(s.disks) == sorted(disks)
            assert sorted(s.nets) == sorted(nets)
        else:
            assert s.id is None and s.cpu_time_ns is None and s.mem_kib is None
            assert fig.mem_pct is None


async def two_bracketed_passes(host: Host, gap: float = 0.3):
    conn = host.link.conn
    a = read_raw(conn)
    first = await host.sample()
    b = read_raw(conn)
    await asyncio.sleep(gap)
    c = read_raw(conn)
    second = await host.sample()
    d = read_raw(conn)
    return first, second, (a, b, c, d)


def check_rates(first, second, brackets) -> int:
    """Rates of the second pass lie within the bounds the raw counters allow."""
    a, b, c, d = brackets
    checked = 0
    for uuid, fig in second.domains.items():
        r = fig.rates
        if not fig.sample.state.active:
            assert r.cpu_pct is None
            continue
        ts = (a[uuid].t, b[uuid].t, c[uuid].t, d[uuid].t)

        def within(value, pick, scale=1.0, uuid=uuid, ts=ts):
            lo, hi = rate_bounds(*(pick(x[uuid]) for x in (a, b, c, d)), *ts)
            assert value is not None
            assert lo / scale * (1 - SLACK) <= value <= hi / scale * (1 + SLACK)

        within(r.cpu_pct, lambda x: x.cpu_ns, 1e7)
        for dev in a[uuid].disks:
            within(r.disks[dev].read_bps, lambda x, dev=dev: x.disks[dev][0])
            within(r.disks[dev].write_bps, lambda x, dev=dev: x.disks[dev][1])
        for dev in a[uuid].nets:
            within(r.nets[dev].read_bps, lambda x, dev=dev: x.nets[dev][0])
            within(r.nets[dev].write_bps, lambda x, dev=dev: x.nets[dev][1])
        if a[uuid].disks:
            assert math.isclose(r.disk_rd_bps, sum(v.read_bps for v in r.disks.values()))
        for v in (r.cpu_pct, r.disk_rd_bps, r.disk_wr_bps, r.net_rx_bps, r.net_tx_bps):
            assert v is None or v >= 0
        checked += 1
    return checked


async def test_connect_learns_the_driver(host: Host):
    conn = host.link.conn
    assert host.connected
    assert host.caps is not None and host.caps.driver == conn.getType()
    _model, mem_mib, cpus, mhz, *_ = conn.getInfo()
    assert (host.info.cpus, host.info.mhz, host.info.memory_kib) == (cpus, mhz, mem_mib * 1024)


async def test_bulk_path_falls_back_and_still_reports_figures(host: Host):
    conn = host.link.conn
    # The test driver offers getAllDomainStats but fills only the state group.
    records = conn.getAllDomainStats(0, 0)
    assert records and all("cpu.time" not in rec for _d, rec in records)
    assert host.caps.bulk_stats and not host.force_per_domain
    first, second, brackets = await two_bracketed_passes(host)
    assert "per-domain" in first.path and second.path == "per-domain"
    check_against_raw(conn, second)
    for fig in first.domains.values():  # None on first sample, never a made-up figure
        assert fig.rates.cpu_pct is None and fig.rates.disk_rd_bps is None
    active = sum(1 for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
    assert check_rates(first, second, brackets) == active > 0


async def test_forced_per_domain_path(node_file):
    h = Host(demo_uri(node_file), per_domain=True)
    await h.connect()
    try:
        first, second, brackets = await two_bracketed_passes(h)
        assert first.path == second.path == "per-domain"
        check_against_raw(h.link.conn, first)
        check_against_raw(h.link.conn, second)
        assert check_rates(first, second, brackets) > 0
    finally:
        await h.close()


async def test_restart_between_passes_gives_no_rate_and_new_uptime(host: Host):
    conn = host.link.conn
    await host.sample()
    dom = next(d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
               if d.isPersistent() and d.UUIDString() != ZERO_UUID)
    old_id = dom.ID()
    dom.destroy()
    dom.create()
    assert dom.ID() != old_id
    await asyncio.sleep(0.05)
    result = await host.sample()
    fig = result.domains[dom.UUIDString()]
    assert fig.sample.id == dom.ID()
    assert fig.rates.cpu_pct is None and fig.rates.disk_rd_bps is None
    assert fig.started_at is not None and fig.started_at >= result.wall_time - 1


async def test_history_records_passes(host: Host):
    for _ in range(3):
        await host.sample()
        await asyncio.sleep(0.01)
    assert len(host.history) == 3
    uuid = next(u for u, f in host.last.domains.items() if f.sample.state.active)
    s = host.history.series(uuid, "mem_kib")
    assert s.current == host.link.conn.lookupByUUIDString(uuid).info()[2]


@pytest.mark.parametrize("per_domain", [False, True])
async def test_domain_vanishing_between_passes(node_file, per_domain):
    h = Host(demo_uri(node_file), per_domain=per_domain)
    await h.connect()
    try:
        await h.sample()
        conn = h.link.conn
        dom = next(d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE))
        gone = dom.UUIDString()
        dom.undefine()
        result = await h.sample()
        assert gone not in result.domains
        check_against_raw(conn, result)
    finally:
        await h.close()
