"""Host against a real QEMU guest through libvirt's embedded QEMU driver.

`qemu:///embed?root=DIR` runs the QEMU driver inside this process: no daemon needed.
The guest has 64 MiB, no OS and a boot sector that spins (`jmp $`), so its CPU time
really advances. The driver is process-wide and bound to one root, so the whole
module shares one root, one asyncio loop and one Host.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import libvirt
import pytest
import pytest_asyncio

from tests.backend.helpers import rate_bounds
from tests.support.daemons import unavailable
from tests.support.qemu_guest import (
    domain_xml,
    prepare_embed_root,
    qemu_binary,
    qemu_img,
    spinning_disk,
)
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import DomainState

pytestmark = pytest.mark.asyncio(loop_scope="module")

STATS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
         | libvirt.VIR_DOMAIN_STATS_BALLOON)
SLACK = 0.05


def qemu_driver_installed() -> bool:
    dirs = list(Path("/usr/lib").glob("*/libvirt/connection-driver"))
    dirs.append(Path("/usr/lib64/libvirt/connection-driver"))
    return any((d / "libvirt_driver_qemu.so").exists() for d in dirs)


def require_qemu() -> None:
    missing = [what for what, ok in (
        ("qemu-system-x86_64", qemu_binary()),
        ("qemu-img", qemu_img()),
        ("libvirt's QEMU driver (libvirt-daemon-driver-qemu)", qemu_driver_installed()),
    ) if not ok]
    if not missing:
        return
    reason = "needs " + ", ".join(missing) + " (Debian: qemu-system-x86 qemu-utils " \
        "libvirt-daemon-driver-qemu)"
    unavailable(reason)


@pytest.fixture(scope="module")
def embed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_qemu()
    root = tmp_path_factory.mktemp("embed")
    prepare_embed_root(root)
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def guest(embed_root: Path):
    """(host, uri, uuid): a connected Host and a running spinning guest."""
    uri = f"qemu:///embed?root={embed_root}"
    host = Host(uri, open_timeout=60)
    await host.connect()
    conn = host.link.conn
    disk = spinning_disk(embed_root)
    dom = conn.defineXML(domain_xml("xt-embed", disk, nic=True))
    try:
        dom.create()
        yield host, uri, dom.UUIDString()
    finally:
        fresh = conn.lookupByUUIDString(dom.UUIDString())
        if fresh.isActive():
            fresh.destroy()
        fresh.undefine()
        await host.close()
        shutil.rmtree(embed_root / "lib", ignore_errors=True)


def raw_record(conn: libvirt.virConnect, uuid: str) -> tuple[float, dict]:
    dom = conn.lookupByUUIDString(uuid)
    t = time.monotonic()
    [(_d, rec)] = conn.domainListGetStats([dom], STATS, 0)
    return t, rec


async def test_bulk_path_follows_libvirt_counters(guest):
    host, _uri, uuid = guest
    conn = host.link.conn
    await asyncio.sleep(0.3)  # let the guest reach its loop
    a = raw_record(conn, uuid)
    first = await host.sample()
    b = raw_record(conn, uuid)
    await asyncio.sleep(1.0)
    c = raw_record(conn, uuid)
    second = await host.sample()
    d = raw_record(conn, uuid)
    assert first.path == second.path == "bulk"
    f1, f2 = first.domains[uuid], second.domains[uuid]
    assert f2.sample.state is DomainState.RUNNING
    assert f2.sample.id == conn.lookupByUUIDString(uuid).ID()
    assert f2.sample.cpu_time_ns > f1.sample.cpu_time_ns  # CPU time really advances
    lo, hi = rate_bounds(*(x[1]["cpu.time"] for x in (a, b, c, d)),
                         *(x[0] for x in (a, b, c, d)))
    assert hi > 0
    assert lo / 1e7 * (1 - SLACK) <= f2.rates.cpu_pct <= hi / 1e7 * (1 + SLACK)
    assert f2.sample.mem_kib == d[1]["balloon.current"] == c[1]["balloon.current"]
    assert f2.sample.maxmem_kib == d[1]["balloon.maximum"]
    assert "vda" in f2.sample.disks
    raw_block = conn.lookupByUUIDString(uuid).blockStats("vda")
    assert 0 <= f2.sample.disks["vda"].rd_bytes <= raw_block[1]


async def test_per_domain_path_agrees(guest):
    host, uri, uuid = guest
    other = Host(uri, per_domain=True, open_timeout=60)
    await other.connect()
    try:
        bulk = (await host.sample()).domains[uuid]
        per = await other.sample()
        assert per.path == "per-domain"
        fig = per.domains[uuid]
        assert fig.sample.state is bulk.sample.state is DomainState.RUNNING
        assert fig.sample.mem_kib == bulk.sample.mem_kib
        assert fig.sample.maxmem_kib == bulk.sample.maxmem_kib
        assert fig.sample.vcpus == bulk.sample.vcpus
        assert fig.sample.id == bulk.sample.id
        assert set(fig.sample.disks) == set(bulk.sample.disks)
    finally:
        await other.close()


async def test_pause_resume_destroy_seen_by_libvirt(guest):
    host, _uri, uuid = guest
    conn = host.link.conn

    def raw_state() -> DomainState:
        return DomainState.from_libvirt(conn.lookupByUUIDString(uuid).state()[0])

    def cpu_used_over(seconds: float) -> int:
        before = conn.lookupByUUIDString(uuid).info()[4]
        time.sleep(seconds)
        return conn.lookupByUUIDString(uuid).info()[4] - before

    running_use = cpu_used_over(0.3)
    await host.act(uuid, "pause")
    assert raw_state() is DomainState.PAUSED
    assert cpu_used_over(0.3) < running_use / 2  # the vCPU really stopped spinning
    await host.act(uuid, "resume")
    assert raw_state() is DomainState.RUNNING
    await host.act(uuid, "destroy")
    assert raw_state() is DomainState.SHUTOFF
    result = await host.sample()
    assert result.domains[uuid].sample.state is DomainState.SHUTOFF
    assert result.domains[uuid].sample.id is None
