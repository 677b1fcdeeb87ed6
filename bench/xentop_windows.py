"""Whose window holds what: xentui (remote, xen+tcp) and xentop (in Dom0) against Xen's own
CPU counters read every 0.1 s in Dom0, on the real-Xen rig (issue 12).

    python bench/xentop_windows.py [--passes 5] [--reads 4] [--interval 2] [--runs 1]

tiny runs a busy loop; Xen's counters are logged in Dom0 (bench/in_dom0/xen_cpu_log.py);
xentop -b is opened over ssh and released by a line on its stdin when xentui -b --format json
has printed its first pass, as tests/xen/test_xen_sampling.py does; each xentop block is
stamped in Dom0 as it comes out. Then for every window of each tool it prints the tool's
CPU % beside Xen's counter over the same window: xentui's reading instants are found where
Xen's counter of tiny (busy, so it climbs about 1 ms per ms) passed the value xentui
reported (to the millisecond), so no clock is compared across machines. Last, Domain-0's
CPU % in 0.5 s steps with each tool's readings marked: where the bursts fall.
"""

from __future__ import annotations

import argparse
import bisect
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dom0_cost import TREE, rig_running

from tests.xen import dom0_python
from tests.xen.conftest import Rig

LOGGER = f"{TREE}/bench/in_dom0/xen_cpu_log.py"
LOG = "/tmp/xentop-windows.json"
STEP_S = 0.1
STAMPER = "import sys,time\nfor l in sys.stdin: print(time.time(), l, end='')"
"""Dom0-side: each line of xentop with Dom0's wall clock when it came out."""


class XenLog:
    """Xen's CPU counters over time (Dom0's wall clock), linear between reads."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self.t = [(before + after) / 2 for before, after, _ in rows]
        self.ns: list[dict[str, int]] = [row[2] for row in rows]

    def at(self, name: str, when: float) -> float:
        """`name`'s CPU ns at `when`."""
        i = min(max(bisect.bisect_left(self.t, when), 1), len(self.t) - 1)
        t0, t1 = self.t[i - 1], self.t[i]
        c0, c1 = self.ns[i - 1][name], self.ns[i][name]
        return c0 + (c1 - c0) * (when - t0) / (t1 - t0)

    def when(self, name: str, ns: float) -> float | None:
        """When `name`'s counter passed `ns` (None: outside the log)."""
        for i in range(1, len(self.t)):
            c0, c1 = self.ns[i - 1][name], self.ns[i][name]
            if c0 <= ns <= c1:
                share = (ns - c0) / (c1 - c0) if c1 > c0 else 0.5
                return self.t[i - 1] + (self.t[i] - self.t[i - 1]) * share
        return None

    def pct(self, name: str, a: float, b: float) -> float:
        """`name`'s CPU % (100 = one CPU) from `a` to `b`."""
        return (self.at(name, b) - self.at(name, a)) / (b - a) / 1e7


def one_run(rig: Rig, passes: int, reads: int, interval: float) -> dict[str, Any]:
    """Log, xentop and xentui over the same seconds; the raw material."""
    seconds = passes * interval + 14
    rig.guest(f"timeout {int(seconds + 5)} sh -c 'while :; do :; done' &")
    time.sleep(3)
    logger = subprocess.Popen([str(rig.tool), "exec", "sh", "-c",
                               f"PYTHONPATH={TREE} python3 {LOGGER} {seconds} {STEP_S} {LOG}"])
    time.sleep(4)
    top = subprocess.Popen(
        [str(rig.tool), "exec", "sh", "-c",
         f"(read go; exec xentop -b -i {reads} -d {interval:g}) | python3 -u -c \"{STAMPER}\""],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert top.stdin is not None and top.stdout is not None
    top_out: list[str] = []
    reader = threading.Thread(target=lambda: top_out.extend(top.stdout or []))
    reader.start()
    time.sleep(3)
    ours = subprocess.Popen(
        [sys.executable, "-m", "xentui", "-c", rig.uri, "-b", "-n", str(passes), "-d",
         f"{interval:g}", "--format", "json"], stdout=subprocess.PIPE, text=True)
    assert ours.stdout is not None
    lines = [ours.stdout.readline()]
    top.stdin.write("go\n")
    top.stdin.flush()
    lines += list(ours.stdout)
    ours.wait()
    top.stdin.close()
    top.wait()
    reader.join()
    logger.wait()
    return {"xentui": lines, "xentop": top_out,
            "log": json.loads(rig.exec("cat", LOG)), "interval": interval}


def xentop_blocks(lines: list[str]) -> list[tuple[float, dict[str, float]]]:
    """Each xentop block: Dom0's clock when its header came out, each domain's CPU %."""
    blocks: list[tuple[float, dict[str, float]]] = []
    for line in lines:
        stamp, _, rest = line.partition(" ")
        words = rest.split()
        if not words:
            continue
        if words[0] == "NAME":
            blocks.append((float(stamp), {}))
        else:
            blocks[-1][1][words[0]] = float(words[3])
    return blocks


def report(raw: dict[str, Any]) -> None:
    """Each tool's windows beside Xen's counter over them; Domain-0 in 0.5 s steps."""
    log = XenLog(raw["log"])
    recs = [json.loads(line) for line in raw["xentui"]]
    mine = {name: [r for r in recs if r["name"] == name] for name in ("Domain-0", "tiny")}
    # xentui's reading instants: where tiny's counter passed what xentui read
    ours_at = [log.when("tiny", r["cpu_seconds"] * 1e9) for r in mine["tiny"]]
    tops = xentop_blocks(raw["xentop"])
    print("window  xentui  Xen over xentui's  |  xentop  Xen over xentop's   (Domain-0; tiny)")
    for k in range(1, len(ours_at)):
        a, b = ours_at[k - 1], ours_at[k]
        cells = []
        for name in ("Domain-0", "tiny"):
            ours_fig = mine[name][k]["cpu_pct"]
            xen_ours = f"{log.pct(name, a, b):5.1f}" if a and b else "  n/a"
            if k < len(tops):
                ta, tb = tops[k - 1][0], tops[k][0]
                top_cells = f"{tops[k][1][name]:5.1f}  {log.pct(name, ta, tb):5.1f}"
            else:
                top_cells = "    -      -"
            cells.append(f"{ours_fig:5.1f}  {xen_ours}  |  {top_cells}")
        print(f"  {k - 1}:   " + ";   ".join(cells))
    first = min(x for x in (*ours_at, tops[0][0]) if x is not None) - 1.0
    last = max(x for x in (*ours_at, tops[-1][0]) if x is not None) + 1.0
    marks = [(t, "U") for t in ours_at if t] + [(t, "T") for t, _ in tops]
    steps = []
    t = first
    while t < last:
        here = "".join(m for at, m in marks if t <= at < t + 0.5)
        steps.append(f"{t - first:4.1f}{here:<2}{log.pct('Domain-0', t, t + 0.5):4.0f}")
        t += 0.5
    print("Domain-0 % per 0.5 s (U: a xentui reading, T: an xentop reading):")
    for i in range(0, len(steps), 8):
        print("  " + "  ".join(steps[i:i + 8]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--reads", type=int, default=4)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--save", help="write the raw runs as JSON here")
    args = ap.parse_args()
    with rig_running() as rig:
        dom0_python.install(rig)
        rig.ensure_running()
        runs = []
        for i in range(args.runs):
            print(f"== run {i + 1}: xentui -n {args.passes}, xentop -i {args.reads}, "
                  f"-d {args.interval:g}")
            raw = one_run(rig, args.passes, args.reads, args.interval)
            runs.append(raw)
            report(raw)
        if args.save:
            Path(args.save).write_text(json.dumps(runs))


if __name__ == "__main__":
    main()
