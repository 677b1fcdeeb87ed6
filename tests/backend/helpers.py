"""Small helpers for backend tests: raw libvirt reads that bypass xentui's model."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import libvirt


@dataclass(frozen=True)
class RawReading:
    """One domain's counters read straight from libvirt, with the time around the read."""

    t: float
    cpu_ns: int
    disks: dict[str, tuple[int, int]]
    nets: dict[str, tuple[int, int]]


def targets(dom: libvirt.virDomain) -> tuple[list[str], list[str]]:
    """Disk and NIC target names, read from the domain's XML here (not through xentui)."""
    root = ET.fromstring(dom.XMLDesc(0))
    disks = [t.get("dev") for t in root.findall("./devices/disk/target")]
    nets = [t.get("dev") for t in root.findall("./devices/interface/target")]
    return [d for d in disks if d], [n for n in nets if n]


def read_raw(conn: libvirt.virConnect) -> dict[str, RawReading]:
    """Counters of every active domain, one virDomain call per counter."""
    out: dict[str, RawReading] = {}
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        t = time.monotonic()
        disks, nets = targets(dom)
        d = {}
        for dev in disks:
            _rd_req, rd_bytes, _wr_req, wr_bytes, _ = dom.blockStats(dev)
            d[dev] = (rd_bytes, wr_bytes)
        n = {}
        for dev in nets:
            st = dom.interfaceStats(dev)
            n[dev] = (st[0], st[4])
        out[dom.UUIDString()] = RawReading(t, dom.info()[4], d, n)
    return out


def rate_bounds(
    before1: float, after1: float, before2: float, after2: float,
    t_before1: float, t_after1: float, t_before2: float, t_after2: float,
) -> tuple[float, float]:
    """Bounds of (v2 - v1) / (t2 - t1) for a counter read once in each bracket.

    v1 was read between readings before1 and after1 (times t_before1 .. t_after1), v2
    between before2 and after2; the counter never decreases.
    """
    low = (before2 - after1) / (t_after2 - t_before1)
    high = (after2 - before1) / (t_before2 - t_after1)
    return max(low, 0.0), high


async def wait_for(pred: Callable[[], bool], timeout: float = 5.0, step: float = 0.02) -> bool:
    """Poll `pred` on the loop until true or `timeout`; returns the last verdict."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True
