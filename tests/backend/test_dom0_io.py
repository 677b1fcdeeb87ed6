"""The sampler with Dom0's own I/O counters (a fake sysfs/procfs tree) in place of the
per-device libvirt calls; without the files, the libvirt calls as before."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.unit.test_xen_io import fake_dom0
from xentui.backend.libvirt.domxml import parse_devices
from xentui.backend.libvirt.sampler import Sampler
from xentui.backend.models import DiskCounters, NetCounters
from xentui.backend.xen_io import SECTOR_BYTES, XenLocalIo, vbd_devid
from xentui.demo import demo_uri


def test_dom0_files_replace_the_device_calls(node_file: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    conn = libvirt.open(demo_uri(node_file))
    try:
        running = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        vbds: dict[str, dict[str, int]] = {}
        net_lines = []
        expected: dict[str, tuple[dict[str, DiskCounters], dict[str, NetCounters]]] = {}
        for n, dom in enumerate(running, start=1):
            devs = parse_devices(dom.XMLDesc(0))
            disks = {}
            for disk in devs.disks:
                vbds[f"vbd-{dom.ID()}-{vbd_devid(disk)}"] = {
                    "rd_sect": n, "wr_sect": 2 * n, "rd_req": 3 * n, "wr_req": 4 * n}
                disks[disk] = DiskCounters(n * SECTOR_BYTES, 2 * n * SECTOR_BYTES, 3 * n, 4 * n)
            nets = {}
            for nic in devs.nets:
                net_lines.append(f"{nic}: {5 * n} {6 * n} 0 0 0 0 0 0 {7 * n} {8 * n} 0 0 0 0 0 0")
                nets[nic] = NetCounters(7 * n, 5 * n, 8 * n, 6 * n)
            expected[dom.UUIDString()] = (disks, nets)
        assert any(d for d, _n in expected.values()) and any(n for _d, n in expected.values())
        sys_root, proc_root = fake_dom0(tmp_path, vbds)
        (proc_root / "net" / "dev").write_text("h1\nh2\n" + "\n".join(net_lines) + "\n")
        calls: list[str] = []
        for name in ("blockStats", "interfaceStats"):
            orig = getattr(libvirt.virDomain, name)

            def counted(dom: Any, *args: Any, _orig: Any = orig, _name: str = name) -> Any:
                calls.append(_name)
                return _orig(dom, *args)

            monkeypatch.setattr(libvirt.virDomain, name, counted)
        with ThreadPoolExecutor(2) as pool:
            sampler = Sampler(conn, bulk=False, pool=pool, parallel=False)
            sampler.local_io = XenLocalIo.probe(sys_root, proc_root)
            samples = {s.uuid: s for s in sampler.read()}
        assert calls == []
        assert sampler.last_path == "per-domain, Dom0 I/O"
        for uuid, (disks, nets) in expected.items():
            assert (samples[uuid].disks, samples[uuid].nets) == (disks, nets)
            # all read by the pass's one refresh: stamped with its time, not the domain's
            assert samples[uuid].io_at == sampler.local_io.read_at < samples[uuid].at
    finally:
        conn.close()


def test_without_dom0_files_the_libvirt_calls_stay(node_file: Path, tmp_path: Path) -> None:
    conn = libvirt.open(demo_uri(node_file))
    try:
        with ThreadPoolExecutor(2) as pool:
            sampler = Sampler(conn, bulk=False, pool=pool, parallel=False)
            sampler.local_io = XenLocalIo.probe(tmp_path / "sys", tmp_path / "proc")
            assert sampler.local_io is None
            samples = sampler.read()
        assert sampler.last_path == "per-domain"
        dom = next(d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                   if parse_devices(d.XMLDesc(0)).disks)
        disk = parse_devices(dom.XMLDesc(0)).disks[0]
        got = next(s for s in samples if s.uuid == dom.UUIDString()).disks[disk]
        raw = dom.blockStats(disk)
        assert got.rd_reqs is not None and got.rd_reqs <= raw[0]
    finally:
        conn.close()
