"""Sampling on real Xen (libxl driver): per-domain path, Domain-0, tiny, xentop agreement."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from tests.xen.conftest import Rig
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, DomainFigures, DomainState, PassResult
from xentui.batch import ordered

pytestmark = pytest.mark.xen


@pytest.fixture
async def host(rig: Rig) -> AsyncIterator[Host]:
    h = Host(rig.uri, interval=1.0)
    await h.connect()
    try:
        yield h
    finally:
        await h.close()


def by_name(result: PassResult, name: str) -> DomainFigures:
    found = [f for f in result.domains.values() if f.sample.name == name]
    assert found, f"no domain {name!r} in {sorted(f.sample.name for f in result.domains.values())}"
    return found[0]


async def test_capabilities_probed_from_the_driver(host: Host) -> None:
    caps = host.caps
    assert caps is not None
    assert caps.driver == "Xen"
    assert not caps.bulk_stats  # virConnectGetAllDomainStats: not supported
    assert not caps.snapshots
    assert not caps.reset
    assert caps.managed_save
    result = await host.sample()
    assert result.path == "per-domain"


async def test_domain0_row(rig: Rig, host: Host) -> None:
    result = await host.sample()
    dom0 = by_name(result, "Domain-0")
    s = dom0.sample
    assert s.id == 0 and s.uuid == ZERO_UUID and s.is_dom0
    assert s.state in (DomainState.RUNNING, DomainState.BLOCKED)
    assert s.disks == {} and s.nets == {}  # Domain-0's XML lists no devices
    assert ordered(result)[0] is dom0
    xl_mem_mib = int(rig.sh("xl list Domain-0 | tail -n 1").split()[2])
    assert s.mem_kib == xl_mem_mib * 1024
    assert s.vcpus == int(rig.sh("xl list Domain-0 | tail -n 1").split()[3])
    result = await host.sample()
    assert by_name(result, "Domain-0").rates.cpu_pct is not None


async def test_tiny_devices_follow_the_domain_id(tiny_running: Rig, host: Host) -> None:
    rig = tiny_running
    s = by_name(await host.sample(), "tiny").sample
    first_id = rig.xl_id()
    assert s.id == first_id
    assert set(s.disks) == {"xvda"}
    assert set(s.nets) == {f"vif{first_id}.0"}
    # a new instance gets a new id and new interface names: the cache must follow
    rig.virsh("destroy", "tiny")
    rig.wait_state("shut off")
    await host.sample()
    from tests.xen.conftest import start_when_possible

    start_when_possible(rig)
    second_id = rig.xl_id()
    assert second_id != first_id
    s = by_name(await host.sample(), "tiny").sample
    assert s.id == second_id
    assert set(s.nets) == {f"vif{second_id}.0"}
    assert s.nets[f"vif{second_id}.0"].rx_bytes is not None
    fig = by_name(await host.sample(), "tiny")
    assert fig.rates.cpu_pct is not None
    assert fig.rates.net_rx_bps is not None and fig.rates.disk_rd_bps is not None


async def test_disk_and_network_rates_match_dom0_counters(tiny_running: Rig, host: Host) -> None:
    """Counters moved by known traffic; xentui's rate x span = Dom0's own counter delta."""
    rig = tiny_running
    domid = rig.xl_id()
    rig.sh("ip addr replace 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up")
    rig.guest("ip addr replace 10.99.0.2/24 dev eth0")
    rig.guest("echo 3 > /proc/sys/vm/drop_caches")
    time.sleep(2)
    await host.sample()
    fig1 = by_name(await host.sample(), "tiny")
    before = rig.dom0_counters(domid)
    rig.guest(
        "dd if=/dev/xvda of=/dev/null bs=64k count=128 2>/dev/null;"
        " dd if=/dev/zero of=/dev/xvda bs=64k count=32 seek=160 conv=fsync 2>/dev/null"
    )
    rig.sh("busybox ping -q -c 4 -i 0.2 -s 20000 10.99.0.2")
    time.sleep(4)  # let the guest's dd finish
    after = rig.dom0_counters(domid)
    fig2 = by_name(await host.sample(), "tiny")
    assert rig.dom0_counters(domid) == after, "traffic still running; the test needs idle ends"
    span = fig2.sample.at - fig1.sample.at
    r = fig2.rates
    seen = {
        "rd_bytes": r.disk_rd_bps,
        "wr_bytes": r.disk_wr_bps,
        "rx_bytes": r.net_rx_bps,
        "tx_bytes": r.net_tx_bps,
    }
    print(f"\ntiny over {span:.2f} s: Dom0 counter deltas vs xentui rate x span")
    for key, rate in seen.items():
        delta = after[key] - before[key]
        assert rate is not None, key
        print(f"  {key}: Dom0 {delta} B, xentui {rate * span:.0f} B ({rate:.0f} B/s)")
        assert delta > 0, f"no {key} traffic was generated"
        assert rate * span == pytest.approx(delta, rel=0.01, abs=64), key


async def test_detail_vcpu_placement_and_memory(rig: Rig, tiny_running: Rig, host: Host) -> None:
    result = await host.sample()
    ncpus = host.info.cpus if host.info else 0
    for name, want_vcpus in (("Domain-0", int(rig.sh("xl list Domain-0 | tail -n 1").split()[3])),
                             ("tiny", 1)):
        fig = by_name(result, name)
        d = await host.detail(fig.uuid)
        assert d.notes == [], d.notes
        assert len(d.vcpus) == want_vcpus
        for v in d.vcpus:
            assert 0 <= v.pcpu < ncpus
            assert v.state in ("running", "blocked")
            assert v.cpu_time_ns > 0
        assert set(d.memory) == {"actual", "available"}  # all libxl's memoryStats gives
        assert d.memory["actual"] == fig.sample.mem_kib
        assert d.snapshots == []
    xl = rig.sh("xl vcpu-list tiny | tail -n 1").split()
    d = await host.detail(by_name(result, "tiny").uuid)
    assert d.vcpus[0].cpu_time_ns / 1e9 == pytest.approx(float(xl[5]), abs=1.0)


def _busy(rig: Rig, seconds: int) -> None:
    """One vCPU's worth of load in tiny for `seconds` (Domain-0 keeps its own light load)."""
    rig.guest(f"timeout {seconds} sh -c 'while :; do :; done' &")


def _parse_xentop(text: str) -> list[dict[str, dict[str, float]]]:
    passes: list[dict[str, dict[str, float]]] = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "NAME":
            passes.append({})
            continue
        passes[-1][words[0]] = {"cpu_pct": float(words[3]), "mem_kib": float(words[4])}
    return passes


def test_cpu_and_memory_agree_with_xentop(tiny_running: Rig) -> None:
    """xentop -b -i 3 -d 2 in Dom0 and xentui -b -n 3 -d 2 over the same seconds."""
    rig = tiny_running
    _busy(rig, 30)
    time.sleep(3)
    # Both must measure the same seconds. ssh'ing into Dom0 costs it a burst of CPU, and
    # xentui's start-up costs this host a second or more: so open the ssh session to
    # xentop first, let it settle, start xentui, and release xentop (one line on its
    # stdin) the moment xentui has taken its first reading.
    top_proc = subprocess.Popen(
        [str(rig.tool), "exec", "sh", "-c", "read go; exec xentop -b -i 3 -d 2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    time.sleep(3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "xentui", "-c", rig.uri, "-b", "-n", "3", "-d", "2",
         "--format", "json"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and top_proc.stdin is not None
    first = proc.stdout.readline()
    top_proc.stdin.write("go\n")
    top_proc.stdin.flush()
    rest, _ = proc.communicate(timeout=60)
    xentui = first + rest
    got = {"xentop": top_proc.communicate(timeout=60)[0]}
    top = _parse_xentop(got["xentop"])
    ours: list[dict[str, dict[str, float | None]]] = [{}, {}, {}]
    records = [json.loads(line) for line in xentui.splitlines()]
    for i, rec in enumerate(records):
        ours[i // 2][rec["name"]] = rec
    print("\n--- xentop -b -i 3 -d 2 (in Dom0) ---\n" + got["xentop"])
    print("--- xentui -b -n 3 -d 2 --format json ---\n" + xentui)
    assert len(top) == 3 and len(records) == 6
    for name, tolerance in (("Domain-0", 10.0), ("tiny", 5.0)):
        # passes 2 and 3: xentop's first pass has no interval behind it (0.0), ours null
        theirs = [top[i][name]["cpu_pct"] for i in (1, 2)]
        mine = [ours[i][name]["cpu_pct"] for i in (1, 2)]
        print(f"{name}: CPU% xentop {theirs} xentui {mine}")
        assert all(m is not None for m in mine)
        avg_theirs = sum(theirs) / 2
        avg_mine = sum(m for m in mine if m is not None) / 2
        assert avg_mine == pytest.approx(avg_theirs, abs=tolerance), name
        for i in range(3):
            assert ours[i][name]["mem_kib"] == top[i][name]["mem_kib"], name
