"""Whether this machine can run libvirt's LXC driver: root, the driver and its controller,
unshare, and the cgroup controllers the driver needs (v1 hierarchies or cgroup v2)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from tests.support.daemons import libvirtd_path

CGROUP_ROOT = Path("/sys/fs/cgroup")
NEEDED_CONTROLLERS = ("cpu", "cpuacct", "memory", "devices", "freezer", "blkio")
_V2_NAMES = {"cpuacct": "cpu", "blkio": "io", "devices": None, "freezer": None}
"""cgroup v2 names of the v1 controllers (None: built into v2 itself)."""
LIBVIRT_LXC = "/usr/lib/libvirt/libvirt_lxc"
_DRIVER_DIRS = ("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver",
                "/usr/lib64/libvirt/connection-driver")


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, options) of this process's mounts."""
    out = []
    with open("/proc/self/mounts") as fh:
        for line in fh:
            _dev, point, fstype, opts = line.split()[:4]
            out.append((point, fstype, opts))
    return out


def cgroup_v1_mounts() -> dict[str, Path]:
    """v1 controller -> the hierarchy it is mounted in."""
    found: dict[str, Path] = {}
    for point, fstype, opts in _mounts():
        if fstype == "cgroup":
            for opt in opts.split(","):
                found.setdefault(opt, Path(point))
    return found


def hybrid_unified() -> str | None:
    """The cgroup v2 mount beside v1 hierarchies (systemd's 'hybrid' layout), if any."""
    if not cgroup_v1_mounts():
        return None
    for point, fstype, _opts in _mounts():
        if fstype == "cgroup2":
            return point
    return None


def _missing_controllers() -> list[str]:
    v1 = cgroup_v1_mounts()
    v2: set[str] = set()
    for point, fstype, _opts in _mounts():
        if fstype == "cgroup2" and not v1:
            with contextlib.suppress(OSError):
                v2 |= set(Path(point, "cgroup.controllers").read_text().split())
    missing = []
    for name in NEEDED_CONTROLLERS:
        if name in v1:
            continue
        if not v1 and _V2_NAMES.get(name, name) in v2 | {None}:
            continue
        missing.append(name)
    return missing


def unavailable_reason() -> str | None:
    """Why this machine cannot run the LXC rig (None: it can)."""
    if os.geteuid() != 0:
        return f"the LXC driver needs a privileged libvirtd: run as root (uid is {os.geteuid()})"
    if libvirtd_path() is None:
        return "libvirtd is not installed"
    if not any(Path(d, "libvirt_driver_lxc.so").exists() for d in _DRIVER_DIRS):
        return "libvirt's LXC driver is not installed (Debian: libvirt-daemon-driver-lxc)"
    if not os.access(LIBVIRT_LXC, os.X_OK):
        return f"{LIBVIRT_LXC} (the LXC driver's container controller) is missing"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    missing = _missing_controllers()
    if missing:
        return f"cgroup controllers the LXC driver needs are not mounted: {', '.join(missing)}"
    return None
