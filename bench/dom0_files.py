"""What a pass's read of Dom0's own I/O counters costs (XenLocalIo: /proc/net/dev once,
then every vbd's blkback statistics), on a fake sysfs/procfs tree of N domains with one
vbd and one vif each, beside a bare loop that reads the same files.

    python bench/dom0_files.py [--sizes 10,1000] [--passes 50]

Printed per pass: the reader's refresh plus the lookups of every domain's disk and NIC,
and the bare reads of the same files (the floor any reader of these files pays). CPU
time of this thread (time.thread_time), so other load on the machine counts less.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xentui.backend.xen_io import XenLocalIo, vbd_devid

STATS = ("rd_sect", "wr_sect", "rd_req", "wr_req")


def fake_tree(root: Path, n: int) -> tuple[Path, Path]:
    """N domains (ids 1..N), each with xvda and vif<id>.0."""
    backend = root / "sys" / "bus" / "xen-backend" / "devices"
    lines = ["Inter-| header", " face | header"]
    devid = vbd_devid("xvda")
    for dom_id in range(1, n + 1):
        stats = backend / f"vbd-{dom_id}-{devid}" / "statistics"
        stats.mkdir(parents=True)
        for i, name in enumerate(STATS):
            (stats / name).write_text(f"{dom_id * 10 + i}\n")
        (backend / f"vif-{dom_id}-0").mkdir()
        lines.append(f"vif{dom_id}.0: {dom_id} 1 0 0 0 0 0 0 {dom_id} 1 0 0 0 0 0 0")
    (root / "proc" / "net").mkdir(parents=True)
    (root / "proc" / "net" / "dev").write_text("\n".join(lines) + "\n")
    return root / "sys", root / "proc"


def reader_pass(reader: XenLocalIo, n: int) -> int:
    reader.refresh()
    found = 0
    for dom_id in range(1, n + 1):
        found += len(reader.disks(dom_id, ["xvda"])) + len(reader.nets([f"vif{dom_id}.0"]))
    return found


def bare_pass(sys_root: Path, proc_root: Path, n: int) -> int:
    total = len((proc_root / "net" / "dev").read_text())
    backend = sys_root / "bus" / "xen-backend" / "devices"
    devid = vbd_devid("xvda")
    for dom_id in range(1, n + 1):
        stats = backend / f"vbd-{dom_id}-{devid}" / "statistics"
        for name in STATS:
            total += len((stats / name).read_text())
    return total


def per_pass_ms(fn: Callable[[], object], passes: int) -> float:
    fn()  # warm the page cache and the interpreter
    start = time.thread_time()
    for _ in range(passes):
        fn()
    return (time.thread_time() - start) / passes * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,1000")
    ap.add_argument("--passes", type=int, default=50)
    args = ap.parse_args(argv)
    print(f"{'N':>6} | {'reader ms/pass':>14} | {'bare reads ms/pass':>18} | ratio")
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="xentui-dom0-files-") as tmp:
            sys_root, proc_root = fake_tree(Path(tmp), n)
            reader = XenLocalIo.probe(sys_root, proc_root)
            assert reader is not None
            assert reader_pass(reader, n) == 2 * n  # every disk and NIC found
            ours = per_pass_ms(partial(reader_pass, reader, n), args.passes)
            bare = per_pass_ms(partial(bare_pass, sys_root, proc_root, n), args.passes)
            print(f"{n:>6} | {ours:>14.2f} | {bare:>18.2f} | {ours / bare:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
