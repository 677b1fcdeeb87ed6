"""Xen's own I/O counters on Dom0, read the way xentop reads them: one read of
/proc/net/dev for every vif, blkback's sysfs statistics for every vbd (under
/sys/bus/xen-backend/devices, as libxenstat and libvirt's libxl driver read them: the
devices themselves sit at the top of /sys/devices, there is no xen-backend folder there).

Exists only on a Xen Dom0 (the files are there); elsewhere `XenLocalIo.probe` gives None
and the libvirt calls stay the source. Counters are as libvirt's libxl driver reports
them: NIC figures from the guest's side (a vif's host transmit is the guest's receive),
disk bytes as 512-byte sectors.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from xentui.backend.models import DiskCounters, NetCounters

SECTOR_BYTES = 512
"""blkback counts sectors of 512 bytes whatever the disk's own sector size."""

_XVD = re.compile(r"^xvd([a-z]+)(\d*)$")
_SD_HD = re.compile(r"^(sd|hd)([a-z])(\d*)$")


def _letters_index(letters: str) -> int:
    """xvda -> 0, xvdz -> 25, xvdaa -> 26 (as Xen's virtual-device numbering counts)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - ord("a") + 1)
    return n - 1


def vbd_devid(target: str) -> int | None:
    """The Xen virtual device number of a disk target name (docs/misc/vbd-interface)."""
    m = _XVD.match(target)
    if m:
        disk, part = _letters_index(m.group(1)), int(m.group(2) or 0)
        if disk < 16 and part < 16:
            return (202 << 8) | (disk << 4) | part
        return (1 << 28) | (disk << 8) | part
    m = _SD_HD.match(target)
    if m:
        kind, disk, part = m.group(1), ord(m.group(2)) - ord("a"), int(m.group(3) or 0)
        if kind == "sd" and disk < 16:
            return (8 << 8) | (disk << 4) | part
        if kind == "hd" and disk < 4:
            return ((3, 3, 22, 22)[disk] << 8) | ((disk % 2) << 6) | part
    return None


def parse_net_dev(text: str) -> dict[str, tuple[int, int, int, int]]:
    """/proc/net/dev -> {iface: (rx_bytes, rx_packets, tx_bytes, tx_packets)} (host side)."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 10:
            continue
        try:
            out[name.strip()] = (int(fields[0]), int(fields[1]), int(fields[8]), int(fields[9]))
        except ValueError:
            continue
    return out


def _read_int(path: str | Path) -> int | None:
    """A sysfs counter (os.open/os.read: a third of what Path.read_text costs, and a
    pass reads four of these per vbd)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return int(os.read(fd, 64))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


class XenLocalIo:
    """Every guest's vif and vbd counters from Dom0's own files, all read at once by
    `refresh` (once per pass), so that they share one reading time (`read_at`)."""

    def __init__(self, sys_root: Path = Path("/sys"), proc_root: Path = Path("/proc")) -> None:
        self.vbd_root = sys_root / "bus" / "xen-backend" / "devices"
        self.net_dev = proc_root / "net" / "dev"
        self._nics: dict[str, tuple[int, int, int, int]] = {}
        self._vbds: dict[tuple[int, int], DiskCounters] = {}
        self.read_at = 0.0
        """When the counters were read (monotonic, the middle of the last refresh)."""

    @classmethod
    def probe(cls, sys_root: Path = Path("/sys"),
              proc_root: Path = Path("/proc")) -> XenLocalIo | None:
        """A reader if this machine is a Xen Dom0 with blkback and /proc/net/dev, else None."""
        reader = cls(sys_root, proc_root)
        if reader.vbd_root.is_dir() and reader.net_dev.is_file():
            return reader
        return None

    def refresh(self) -> None:
        """Read /proc/net/dev once for all interfaces and every vbd's statistics."""
        before = time.monotonic()
        try:
            self._nics = parse_net_dev(self.net_dev.read_text())
        except OSError:
            self._nics = {}
        self._vbds = self._read_vbds()
        self.read_at = (before + time.monotonic()) / 2

    def _read_vbds(self) -> dict[tuple[int, int], DiskCounters]:
        """Every vbd's counters, by (domain id, device number)."""
        out: dict[tuple[int, int], DiskCounters] = {}
        try:
            entries = list(os.scandir(self.vbd_root))
        except OSError:
            return out
        for entry in entries:
            kind, _, ids = entry.name.partition("-")
            dom_id, _, devid = ids.partition("-")
            if kind != "vbd" or not dom_id.isdigit() or not devid.isdigit():
                continue
            stats = f"{entry.path}/statistics/"  # strings: Path joins cost as much again
            rd_sect, wr_sect = _read_int(stats + "rd_sect"), _read_int(stats + "wr_sect")
            if rd_sect is None and wr_sect is None:
                continue
            out[int(dom_id), int(devid)] = DiskCounters(
                None if rd_sect is None else rd_sect * SECTOR_BYTES,
                None if wr_sect is None else wr_sect * SECTOR_BYTES,
                _read_int(stats + "rd_req"),
                _read_int(stats + "wr_req"),
            )
        return out

    def nets(self, names: tuple[str, ...] | list[str]) -> dict[str, NetCounters]:
        """Counters of the named vifs, from the guest's side, as of the last refresh."""
        out: dict[str, NetCounters] = {}
        for name in names:
            found = self._nics.get(name)
            if found is not None:
                rx_b, rx_p, tx_b, tx_p = found
                out[name] = NetCounters(tx_b, rx_b, tx_p, rx_p)
        return out

    def disks(self, dom_id: int, targets: tuple[str, ...] | list[str]) -> dict[str, DiskCounters]:
        """Counters of the named disks of domain `dom_id`, as of the last refresh."""
        out: dict[str, DiskCounters] = {}
        for target in targets:
            devid = vbd_devid(target)
            found = None if devid is None else self._vbds.get((dom_id, devid))
            if found is not None:
                out[target] = found
        return out
