"""Runs in the rig's Dom0: every domain's CPU time as Xen counts it (libxenstat through
xentui.backend.xenstat), read every STEP seconds for SECONDS, written as JSON to PATH at the
end (so nothing crosses ssh meanwhile). Each row: the wall clock before and after the read,
and {domain name: CPU ns}.

    python3 xen_cpu_log.py SECONDS STEP PATH
"""

from __future__ import annotations

import json
import sys
import time

from xentui.backend.xenstat import XenStat


def main() -> None:
    """Read until the time is up, then write the rows."""
    seconds, step, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    reader = XenStat.probe()
    if reader is None:
        raise SystemExit("no libxenstat here")
    rows = []
    end = time.time() + seconds
    while time.time() < end:
        before = time.time()
        snap = reader.read()
        rows.append([before, time.time(), {s.name: s.cpu_time_ns for s in snap.values()}])
        time.sleep(max(0.0, step - (time.time() - before)))
    reader.close()
    with open(path, "w") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main()
