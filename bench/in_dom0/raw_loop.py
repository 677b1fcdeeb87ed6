"""Runs in the rig's Dom0: a bare loop, every INTERVAL seconds, of what one pass needs for
every domain's CPU time and memory, one way or the other:

    python3 raw_loop.py libvirt|libvirt-io|xenstat INTERVAL [URI]

  libvirt     one domain listing and `info()` of each domain (the per-domain path's share)
  libvirt-io  the same, plus `blockStats` and `interfaceStats` of each running domain's
              devices (learned once from its XML): the whole per-domain pass
  xenstat     one domain listing and one libxenstat read (xentui.backend.xenstat)

URI (default xen:///system) lets bench/dom0_cost.py run the libvirt loops from this host
over xen+tcp too. Prints a "NAME ..." line per pass (counted as passes by cpu_window.py).
"""

from __future__ import annotations

import sys
import time

import libvirt

from xentui.backend.libvirt.domxml import DomainDevices, parse_devices
from xentui.backend.xenstat import XenStat


def device_calls(dom: libvirt.virDomain, known: dict[tuple[str, int], DomainDevices]) -> int:
    """Block and interface counters of a running domain's devices; the calls made."""
    key = (dom.UUIDString(), dom.ID())
    if key[1] <= 0:
        return 0
    if key not in known:
        known[key] = parse_devices(dom.XMLDesc(0))
    devices = known[key]
    for disk in devices.disks:
        dom.blockStats(disk)
    for nic in devices.nets:
        dom.interfaceStats(nic)
    return len(devices.disks) + len(devices.nets)


def main() -> None:
    """Loop until killed."""
    how, interval = sys.argv[1], float(sys.argv[2])
    conn = libvirt.openReadOnly(sys.argv[3] if len(sys.argv) > 3 else "xen:///system")
    reader = XenStat.probe() if how == "xenstat" else None
    if how == "xenstat" and reader is None:
        raise SystemExit("no libxenstat here")
    known: dict[tuple[str, int], DomainDevices] = {}
    next_at = time.monotonic()
    while True:
        doms = conn.listAllDomains(0)
        if reader is not None:
            figures = len(reader.read())
        else:
            figures = len([dom.info() for dom in doms])
        if how == "libvirt-io":
            figures += sum(device_calls(dom, known) for dom in doms)
        print(f"NAME {len(doms)} domains, {figures} figures", flush=True)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
