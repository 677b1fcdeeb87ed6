"""Sampling on real Xen (libxl driver): per-domain path, Domain-0, tiny, xentop agreement."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import IO, Any

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
    # No IPv6 on the link: Linux sends router solicitations from every IPv6 interface with
    # a growing backoff for as long as it is up (router_solicitations=-1), so Dom0's vif and
    # bridge put a 70-byte packet on it now and then, which moved tiny's rx counter between
    # two readings of an otherwise idle end (seen on the rig: 82746 -> 82816).
    rig.sh(f"for c in xenbr0 vif{domid}.0; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6;"
           " done; ip addr replace 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up")
    rig.guest("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;"
              " ip addr replace 10.99.0.2/24 dev eth0")
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


TopBlock = tuple[float, dict[str, dict[str, float]]]
"""One xentop reading: when its header line arrived here, and each domain's CPU % and memory."""


def _parse_xentop(lines: list[tuple[float, str]]) -> list[TopBlock]:
    """xentop -b's blocks, each stamped with the arrival of its header."""
    passes: list[TopBlock] = []
    for at, line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "NAME":
            passes.append((at, {}))
            continue
        passes[-1][1][words[0]] = {"cpu_pct": float(words[3]), "mem_kib": float(words[4])}
    return passes


def _stamp_lines(stream: IO[str], into: list[tuple[float, str]]) -> None:
    """Each line of `stream` with the monotonic time it arrived, until it ends."""
    for line in stream:
        into.append((time.monotonic(), line))


XENTUI_PASSES = 5
XENTOP_READS = 4
COMPARED = (1, 2)
"""The windows compared (window k runs from reading k to reading k+1 of each tool, k from
0). Window 0 of xentui holds the end of its first pass (each domain's XML, the persistence
listing) and xentop's start-up (released just after that pass); xentop's exit (its ssh
session closing) falls in xentui's window 3, and xentui's exit after both tools' last
compared reading. Windows 1 and 2 hold neither tool's start or end: in them Domain-0 carries
the same load every period (a xentui pass through libvirtd, an xentop read and its ssh
output), so two windows of whole periods hold the same load whatever their phase."""
WINDOW_S = 2.0 * len(COMPARED)
"""The compared span: two windows of 2 s."""
STEADY_SPREAD = {"Domain-0": 44.0, "tiny": 19.0}
"""Points of CPU % between the least and the most busy 0.5 s of each domain inside the
compared windows, measured on the rig against Xen's own counter read every 0.1 s in Dom0
(bench/xentop_windows.py; bench/NOTES-dom0.md, run F): Domain-0 18-62% (a xentui pass shows
as a burst), tiny's busy loop 80-99%."""
READ_JITTER = 1.0
"""Points of CPU %: each tool stamps its reading a little off the counter's own instant
(xentui before its RPC: up to 30 ms in 2 s, 1.5% of Domain-0's 30-40%)."""
MAX_START_LAG = 1.0
"""Seconds xentop's readings may trail xentui's (release, ssh, xentop's start-up): beyond
this the windows share under three quarters of their span and the comparison means little."""


def tolerance(name: str, lag: float) -> float:
    """How far the two tools may differ over the compared span when xentop's readings trail
    xentui's by `lag`: the spans differ by a sliver that long at each end, and at the same
    phase of the period (just after a xentui pass); two such slivers cannot differ by more
    than the domain's steady spread, so the means by at most lag x spread / span."""
    return lag * STEADY_SPREAD[name] / WINDOW_S + READ_JITTER


def test_cpu_and_memory_agree_with_xentop(tiny_running: Rig) -> None:
    """xentop -b -d 2 in Dom0 and xentui -b -d 2 over the same seconds: xentop started on
    xentui's first reading, both compared over windows that hold neither tool's start or end.

    Run one after the other, or over windows one of which held a tool's start-up, Domain-0
    read 115.8% in xentui against 34.8% in xentop and 32.45% against 19.1%: Xen's own counter,
    read every 0.1 s in Dom0, matched each tool over its own window within 1-2 points
    (bench/NOTES-dom0.md, run F); the windows held different load, not the figures.
    """
    rig = tiny_running
    _busy(rig, 40)
    time.sleep(3)
    # ssh'ing into Dom0 costs it a burst of CPU, and xentui's start-up costs this host a
    # second or more: so open the ssh session to xentop first, let it settle, start xentui,
    # and release xentop (one line on its stdin) the moment xentui has taken its first
    # reading; xentop's own start-up then lands in xentui's window 0, which is not compared.
    top_proc = subprocess.Popen(
        [str(rig.tool), "exec", "sh", "-c", f"read go; exec xentop -b -i {XENTOP_READS} -d 2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert top_proc.stdin is not None and top_proc.stdout is not None
    top_lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=_stamp_lines, args=(top_proc.stdout, top_lines))
    reader.start()
    time.sleep(3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "xentui", "-c", rig.uri, "-b", "-n", str(XENTUI_PASSES),
         "-d", "2", "--format", "json"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    our_lines = [(time.monotonic(), proc.stdout.readline())]
    top_proc.stdin.write("go\n")
    top_proc.stdin.flush()
    _stamp_lines(proc.stdout, our_lines)
    assert proc.wait(timeout=60) == 0
    top_proc.stdin.close()
    assert top_proc.wait(timeout=60) == 0
    reader.join(timeout=10)
    top = _parse_xentop(top_lines)
    ours: list[tuple[float, dict[str, dict[str, Any]]]] = []
    for at, line in our_lines:
        rec = json.loads(line)
        if not ours or rec["name"] in ours[-1][1]:
            ours.append((at, {}))
        ours[-1][1][rec["name"]] = rec
    print(f"\n--- xentop -b -i {XENTOP_READS} -d 2 (in Dom0) ---\n"
          + "".join(line for _, line in top_lines))
    print(f"--- xentui -b -n {XENTUI_PASSES} -d 2 --format json ---\n"
          + "".join(line for _, line in our_lines))
    assert len(top) == XENTOP_READS and len(ours) == XENTUI_PASSES
    # The readings that bound the compared windows. (xentop's first block comes out late:
    # 1.2 s after xentui's first where the next ones trail by 0.5-0.6 s, 2.04 s apart.)
    edges = range(COMPARED[0], COMPARED[-1] + 2)
    lags = [top[k][0] - ours[k][0] for k in edges]
    print("xentop's readings after xentui's (arrival here): "
          + " ".join(f"{lag:.2f} s" for lag in lags))
    assert all(0 < lag < MAX_START_LAG for lag in lags), lags
    for name in STEADY_SPREAD:
        # the figure at reading k+1 is each tool's CPU % over window k
        theirs = [top[k + 1][1][name]["cpu_pct"] for k in COMPARED]
        mine = [ours[k + 1][1][name]["cpu_pct"] for k in COMPARED]
        allowed = tolerance(name, max(lags))
        print(f"{name}: CPU% over windows {COMPARED}: xentop {theirs} xentui {mine} "
              f"(means may differ by {allowed:.1f})")
        assert None not in mine
        assert sum(mine) / len(mine) == pytest.approx(sum(theirs) / len(theirs),
                                                       abs=allowed), name
        for k in range(XENTOP_READS):
            assert ours[k][1][name]["mem_kib"] == top[k][1][name]["mem_kib"], name
