"""The demo fleet behind the host interface: three simulated Xen hosts that look alive
and follow actions; and no real URI ever reaches the simulation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from xentui.backend.errors import NotAllowed, PermissionDenied
from xentui.backend.models import ZERO_UUID, DomainState, PassResult
from xentui.demo.host import DemoHost, demo_fleet

ROOT = Path(__file__).resolve().parents[2]


async def one_pass(fleet) -> dict[str, PassResult]:
    got: dict[str, PassResult] = {}
    fleet.subscribe(lambda r: got.setdefault(r.host_id, r) if isinstance(r, PassResult) else None)
    fleet.start()
    while len(got) < len(fleet.hosts):
        await asyncio.sleep(0.01)
    return got


async def test_three_xen_shaped_hosts_with_live_figures() -> None:
    fleet = demo_fleet(interval=1.0, live=False, past_s=60)
    try:
        passes = await one_pass(fleet)
    finally:
        await fleet.close()
    assert len(passes) == 3
    cpu: list[float] = []
    for result in passes.values():
        dom0 = [f for f in result.domains.values() if f.sample.is_dom0]
        assert len(dom0) == 1 and dom0[0].sample.id == 0 and dom0[0].uuid == ZERO_UUID
        info = result.host
        given = sum(f.sample.mem_kib or 0 for f in result.domains.values()
                    if f.sample.state.active)
        assert info.free_kib == info.memory_kib - given
        for f in result.domains.values():
            if f.sample.state is DomainState.RUNNING and not f.sample.is_dom0:
                assert f.rates.cpu_pct is not None  # rates from the first pass on
                assert f.started_at is not None  # uptime known
                cpu.append(f.rates.cpu_pct)
    assert len({round(c) for c in cpu}) > 5  # guests differ
    assert max(cpu) > 150 and min(cpu) < 5  # one pegged at its vCPUs, some idle


async def test_actions_change_the_simulation() -> None:
    fleet = demo_fleet(interval=1.0, live=False, past_s=0)
    try:
        passes = await one_pass(fleet)
        host_id, result = next(iter(passes.items()))
        host = fleet.hosts[host_id]
        guest = next(f for f in result.domains.values()
                     if f.sample.state is DomainState.RUNNING and not f.sample.is_dom0)
        await host.act(guest.uuid, "pause")
        after = await host.sample()
        assert after.domains[guest.uuid].sample.state is DomainState.PAUSED
        await asyncio.sleep(0.2)
        later = await host.sample()
        assert later.domains[guest.uuid].rates.cpu_pct == 0.0
        with pytest.raises(NotAllowed, match="paused"):
            await host.act(guest.uuid, "pause")
        readonly = DemoHost(host.world, host_id + "-ro", interval=1.0, readonly=True)
        with pytest.raises(PermissionDenied):
            await readonly.act(guest.uuid, "resume")
    finally:
        await fleet.close()


def test_a_real_uri_never_reaches_the_demo() -> None:
    code = (
        "import sys\n"
        "from xentui.cli import build_fleet\n"
        "from xentui.config import HostEntry\n"
        "f = build_fleet([HostEntry('', 'test:///default'), HostEntry('x', 'xen:///system')],"
        " readonly=False, interval=1.0, per_domain=False)\n"
        "kinds = {type(h).__name__ for h in f.hosts.values()}\n"
        "assert kinds == {'LibvirtHost'}, kinds\n"
        "bad = [m for m in sys.modules if m.startswith('xentui.demo')]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-m", "xentui", "--demo", "-c", "test:///default",
                          "-b", "-n", "1"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode == 2 and "exclusive" in res.stderr


async def test_migration_between_demo_hosts() -> None:
    from xentui.backend.models import DomainRef, MigrationOptions

    fleet = demo_fleet(interval=1.0, live=False, past_s=0)
    try:
        passes = await one_pass(fleet)
        src, result = next(iter(passes.items()))
        dst = next(h for h in fleet.hosts if h != src)
        guest = next(f for f in result.domains.values()
                     if f.sample.state is DomainState.RUNNING and not f.sample.is_dom0)
        text = await fleet.migrate(DomainRef(src, guest.uuid), dst, MigrationOptions())
        assert guest.name in text
        assert guest.uuid not in (await fleet.hosts[src].sample()).domains
        moved = (await fleet.hosts[dst].sample()).domains[guest.uuid]
        assert moved.sample.state is DomainState.RUNNING
        with pytest.raises(NotAllowed):
            await fleet.migrate(DomainRef(dst, guest.uuid), dst, MigrationOptions())
    finally:
        await fleet.close()
