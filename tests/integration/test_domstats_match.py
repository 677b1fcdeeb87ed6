"""xentui's figures against `virsh domstats` over the same interval, through a daemon."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator

import libvirt
import pytest

from tests.support.daemons import PrivateDaemon
from tests.support.qemu_guest import domain_xml, spinning_disk
from xentui.backend.libvirt.host import LibvirtHost as Host

pytestmark = pytest.mark.integration


def domstats(uri: str, name: str) -> tuple[float, float, dict[str, int]]:
    """`virsh domstats --raw` of one domain, with the monotonic times around the call."""
    t0 = time.monotonic()
    out = subprocess.run(
        ["virsh", "-c", uri, "domstats", "--raw", name],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    t1 = time.monotonic()
    stats: dict[str, int] = {}
    for line in out.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and value.lstrip("-").isdigit():
            stats[key] = int(value)
    return t0, t1, stats


@pytest.fixture
async def spinning(qemu_daemon: PrivateDaemon, tmp_path) -> AsyncIterator[tuple[str, str]]:
    """A guest that burns one vCPU, on the private QEMU daemon."""
    folder = qemu_daemon.images_dir / f"spin-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    disk = spinning_disk(folder)
    qemu_daemon.chown(folder)
    qemu_daemon.chown(disk)
    name = f"xt-spin-{time.monotonic_ns() % 10**8}"
    conn = libvirt.open(qemu_daemon.uri)
    dom = conn.defineXML(domain_xml(name, disk, nic=False))
    dom.create()
    try:
        yield qemu_daemon.uri, name
    finally:
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
        dom.undefine()
        conn.close()
        shutil.rmtree(folder, ignore_errors=True)


async def test_cpu_memory_and_disk_match_virsh_domstats(spinning) -> None:
    uri, name = spinning
    host = Host(uri, interval=2.0)
    await host.connect()
    try:
        await asyncio.sleep(1.0)  # past QEMU's start-up burst
        a1, _b1, before1 = domstats(uri, name)
        first = await host.sample()
        _a2, b2, after1 = domstats(uri, name)
        await asyncio.sleep(2.0)
        a3, _b3, before2 = domstats(uri, name)
        second = await host.sample()
        _a4, b4, after2 = domstats(uri, name)
    finally:
        await host.close()
    assert first.path == second.path == "bulk"
    uuid = next(u for u, f in second.domains.items() if f.name == name)
    fig = second.domains[uuid]
    # The counters xentui read lie between virsh's readings around each pass; so does
    # the rate, over the widest and narrowest spans those brackets allow.
    low = (before2["cpu.time"] - after1["cpu.time"]) / (b4 - a1) / 1e7
    high = (after2["cpu.time"] - before1["cpu.time"]) / (a3 - b2) / 1e7
    assert fig.rates.cpu_pct is not None
    assert low <= fig.rates.cpu_pct <= high
    # The guest spins (close to a full CPU on an idle machine, less on two busy cores):
    # the rate is far from zero, so the bracket above compared real figures.
    assert fig.rates.cpu_pct > 5
    assert fig.sample.mem_kib == after2["balloon.current"]
    assert fig.sample.maxmem_kib == after2["balloon.maximum"]
    assert fig.sample.vcpus == after2["vcpu.current"]
    rd1, rd2 = before2["block.0.rd.bytes"], after2["block.0.rd.bytes"]
    assert fig.sample.disks["vda"].rd_bytes is not None
    assert rd1 <= fig.sample.disks["vda"].rd_bytes <= rd2
