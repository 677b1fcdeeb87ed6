"""Runs in the rig's Dom0 (plain python3): CPU % of one core of some processes and of Dom0
as a whole over one window, from /proc/<pid>/stat and /proc/stat (Dom0's kernel view) and
`xl list` (Xen's view of Domain-0's vCPU time), and the passes a poller wrote meanwhile
(header lines counted in its output file). One JSON line out.

    python3 cpu_window.py SECONDS [LABEL=CMDLINE_SUBSTRING ...] [passes=FILE]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def pids_matching(part: str) -> list[int]:
    """Processes whose command line contains `part` (this one excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if part in cmdline:
            found.append(int(entry))
    return found


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime (fields 14 and 15 of /proc/<pid>/stat) of all `pids`, in ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def dom0_ticks() -> tuple[int, int]:
    """Dom0's busy ticks over all its vCPUs (user, nice, system, irq, softirq) and its
    stolen ones (runnable, but Xen ran something else: here, QEMU was not scheduled)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


def xen_dom0_seconds() -> float:
    """Domain-0's CPU time as Xen's scheduler counts it (`xl list`, 0.1 s steps)."""
    out = subprocess.run(["xl", "list", "0"], capture_output=True, text=True, check=True)
    return float(out.stdout.splitlines()[-1].split()[-1])


def passes(path: str) -> int:
    """Header lines (one per pass, from xentui -b and xentop -b alike) in a file."""
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if line.lstrip().startswith("NAME "))
    except OSError:
        return 0


def main() -> None:
    """Settle a second (the ssh login's own burst), then measure one window."""
    seconds = float(sys.argv[1])
    groups: dict[str, list[int]] = {}
    pass_file = None
    for arg in sys.argv[2:]:
        label, _, value = arg.partition("=")
        if label == "passes":
            pass_file = value
        else:
            groups[label] = pids_matching(value)
    time.sleep(1.0)
    x0 = xen_dom0_seconds()
    t0, (b0, s0) = time.monotonic(), dom0_ticks()
    c0 = {k: cpu_ticks(p) for k, p in groups.items()}
    p0 = passes(pass_file) if pass_file else 0
    time.sleep(seconds)
    wall = time.monotonic() - t0
    out: dict[str, object] = {
        k: round(100 * (cpu_ticks(p) - c0[k]) / TICK / wall, 2) for k, p in groups.items()
    }
    b1, s1 = dom0_ticks()
    out["dom0_total"] = round(100 * (b1 - b0) / TICK / wall, 2)
    out["dom0_steal"] = round(100 * (s1 - s0) / TICK / wall, 2)
    out["dom0_xen"] = round(100 * (xen_dom0_seconds() - x0) / wall, 2)
    out["pids"] = groups
    out["wall_s"] = round(wall, 2)
    if pass_file:
        out["passes"] = passes(pass_file) - p0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
