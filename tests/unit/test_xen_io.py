"""Dom0's own I/O counters (xentui.backend.xen_io) on a fake sysfs/procfs tree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from xentui.backend.models import DiskCounters, NetCounters
from xentui.backend.xen_io import SECTOR_BYTES, XenLocalIo, vbd_devid

NET_DEV = "\n".join([
    "Inter-|   Receive                            |  Transmit",
    " face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop ...",
    "    lo: 1000  10  0  0  0  0  0  0  1000  10  0  0  0  0  0  0",
    " vif5.0: 111   11    0    0    0     0    0   0   222  22    0  0  0  0  0  0",
    "vif12.1:9876543210 1234 0 0 0 0 0 0 42 7 0 0 0 0 0 0",
]) + "\n"


def fake_dom0(root: Path, vbds: dict[str, dict[str, int]]) -> tuple[Path, Path]:
    sys_root, proc_root = root / "sys", root / "proc"
    (proc_root / "net").mkdir(parents=True)
    (proc_root / "net" / "dev").write_text(NET_DEV)
    backend = sys_root / "bus" / "xen-backend" / "devices"
    backend.mkdir(parents=True)
    for name, stats in vbds.items():
        folder = backend / name / "statistics"
        folder.mkdir(parents=True)
        for key, value in stats.items():
            (folder / key).write_text(f"{value}\n")
    return sys_root, proc_root


@pytest.mark.parametrize(("target", "devid"), [
    ("xvda", 51712), ("xvdb", 51728), ("xvdp", 51952), ("xvda1", 51713),
    ("xvdq", (1 << 28) | (16 << 8)), ("xvdaa", (1 << 28) | (26 << 8)),
    ("sda", 2048), ("sdb2", 2066), ("hda", 768), ("hdb", 832), ("hdc", 5632), ("hdd", 5696),
    ("vda", None), ("nvme0n1", None),
])
def test_vbd_device_numbers(target: str, devid: int | None) -> None:
    assert vbd_devid(target) == devid


def test_counters_from_fake_dom0(tmp_path: Path) -> None:
    sys_root, proc_root = fake_dom0(tmp_path, {
        "vbd-5-51712": {"rd_sect": 8, "wr_sect": 3, "rd_req": 2, "wr_req": 1},
        "vbd-5-51728": {"rd_sect": 100, "wr_sect": 0, "rd_req": 9, "wr_req": 0},
        "vbd-7-51712": {"rd_sect": 999, "wr_sect": 999, "rd_req": 9, "wr_req": 9},
    })
    reader = XenLocalIo.probe(sys_root, proc_root)
    assert reader is not None
    reader.refresh()
    assert reader.disks(5, ["xvda", "xvdb", "xvdc"]) == {
        "xvda": DiskCounters(8 * SECTOR_BYTES, 3 * SECTOR_BYTES, 2, 1),
        "xvdb": DiskCounters(100 * SECTOR_BYTES, 0, 9, 0),
    }
    # the guest's receive is what the host sent down its vif
    assert reader.nets(["vif5.0", "vif12.1", "vif9.0"]) == {
        "vif5.0": NetCounters(222, 111, 22, 11),
        "vif12.1": NetCounters(42, 9876543210, 7, 1234),
    }


def test_counters_are_as_of_the_last_refresh(tmp_path: Path) -> None:
    """vifs and vbds are read together by `refresh` (one reading time for all of them,
    `read_at`, inside the refresh); between refreshes the figures stand."""
    sys_root, proc_root = fake_dom0(tmp_path, {"vbd-3-51712": {"rd_sect": 1, "wr_sect": 1}})
    reader = XenLocalIo.probe(sys_root, proc_root)
    assert reader is not None
    reader.refresh()
    (proc_root / "net" / "dev").write_text(NET_DEV.replace("vif5.0: 111", "vif5.0: 5111"))
    (sys_root / "bus/xen-backend/devices/vbd-3-51712/statistics/rd_sect").write_text("40\n")
    assert reader.nets(["vif5.0"])["vif5.0"].tx_bytes == 111  # until the next refresh
    assert reader.disks(3, ["xvda"])["xvda"].rd_bytes == 1 * SECTOR_BYTES
    before = time.monotonic()
    reader.refresh()
    assert before <= reader.read_at <= time.monotonic()
    assert reader.nets(["vif5.0"])["vif5.0"].tx_bytes == 5111
    assert reader.disks(3, ["xvda"])["xvda"].rd_bytes == 40 * SECTOR_BYTES
    assert reader.disks(3, ["xvda"])["xvda"].rd_reqs is None  # a file missing: unknown


def test_no_reader_where_the_files_are_missing(tmp_path: Path) -> None:
    (tmp_path / "proc" / "net").mkdir(parents=True)
    (tmp_path / "proc" / "net" / "dev").write_text(NET_DEV)
    assert XenLocalIo.probe(tmp_path / "sys", tmp_path / "proc") is None
    (tmp_path / "sys" / "bus" / "xen-backend" / "devices").mkdir(parents=True)
    assert XenLocalIo.probe(tmp_path / "sys", tmp_path / "nothing") is None
    assert XenLocalIo.probe(tmp_path / "sys", tmp_path / "proc") is not None
