"""Runs in the rig's Dom0: a bare loop, every INTERVAL seconds, of what one pass needs for
every domain's CPU time and memory, one way or the other:

    python3 raw_loop.py libvirt|xenstat INTERVAL

  libvirt  one domain listing and `info()` of each domain (the per-domain path's share)
  xenstat  one domain listing and one libxenstat read (xentui.backend.xenstat)

Prints a "NAME ..." line per pass (counted as passes by cpu_window.py).
"""

from __future__ import annotations

import sys
import time

import libvirt

from xentui.backend.xenstat import XenStat


def main() -> None:
    """Loop until killed."""
    how, interval = sys.argv[1], float(sys.argv[2])
    conn = libvirt.openReadOnly("xen:///system")
    reader = XenStat.probe() if how == "xenstat" else None
    if how == "xenstat" and reader is None:
        raise SystemExit("no libxenstat here")
    next_at = time.monotonic()
    while True:
        doms = conn.listAllDomains(0)
        if reader is not None:
            figures = len(reader.read())
        else:
            figures = len([dom.info() for dom in doms])
        print(f"NAME {len(doms)} domains, {figures} figures", flush=True)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
