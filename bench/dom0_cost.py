"""What xentui's polling costs the Dom0 it watches (issue 12), on the real-Xen rig
(../shared/tools/xen-in-qemu.sh: Xen 4.17 + libvirtd's libxl driver in QEMU TCG).

    python bench/dom0_cost.py [--guests N] [--seconds S] [--runs R] [--interval I]
                              [--cases idle,remote,local,xentop,raw-libvirt,...]

Starts the rig under `nice -n 19` unless it runs (and then stops it at the end), starts N
small guests beside `tiny` (transient copies of it, each with its own disk and vif),
installs xentui in Dom0 (tests/xen/dom0_python.py), then for each case and run measures
in Dom0 over the same window (bench/in_dom0/cpu_window.py, /proc/<pid>/stat): libvirtd's
CPU, the poller's own, Dom0's busy and stolen time (its kernel's view), Domain-0's vCPU
time (Xen's view, `xl list`), and the passes the poller wrote. Cases:
  idle    nothing polls
  remote  xentui -b -d I on this host over xen+tcp (its CPU here is printed too)
  local   xentui -b -d I in Dom0 on xen:///system (Dom0's own I/O counters and
          libxenstat in use: the header's path "per-domain, Dom0 I/O + xenstat")
  local-no-xenstat   the same with libxenstat hidden (bench/in_dom0/xentui_no_xenstat.py):
          every domain's info() through libvirtd, as where the library is not installed
  xentop  xentop -b -d I in Dom0: the reference (libxenstat, no libvirt)
  raw-libvirt, raw-xenstat   bare loops in Dom0 (bench/in_dom0/raw_loop.py): each domain's
          CPU and memory from libvirt's info(), or from one libxenstat read
          (xentui/backend/xenstat.py), after one listing; what replacing the info() calls
          would save libvirtd
  raw-libvirt-io   raw-libvirt plus blockStats and interfaceStats of every device: the
          whole per-domain pass, bare, over the local socket
  raw-remote-io    the same loop run on this host over xen+tcp
Every figure is % of one core (CPU seconds / wall seconds) of the emulated Dom0; compare
cases within one run only: under TCG on a shared host, absolute figures mean little.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from tests.xen import dom0_python  # noqa: E402
from tests.xen.conftest import TOOL, Rig  # noqa: E402

TREE = dom0_python.DOM0_TREE
WINDOW = f"{TREE}/bench/in_dom0/cpu_window.py"
RAW = f"{TREE}/bench/in_dom0/raw_loop.py"
NO_XENSTAT = f"{TREE}/bench/in_dom0/xentui_no_xenstat.py"
OUT = "/tmp/dom0-cost-poller.out"
"""The Dom0 poller's output file (its passes are counted there)."""
WARMUP_S = 12.0
"""Before a window: the poller connects and its first passes (device XML) are over."""


def tool(*args: str, nice: bool = False, timeout: float = 1800) -> str:
    """Run xen-in-qemu.sh; its stdout (raises on failure)."""
    cmd = (["nice", "-n", "19"] if nice else []) + [str(TOOL), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"xen-in-qemu.sh {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


@contextmanager
def rig_running() -> Iterator[Rig]:
    """The rig, started under nice -n 19 if it was not running, stopped if started here."""
    status = subprocess.run([str(TOOL), "status"], capture_output=True, text=True, check=False)
    started = "libvirt answers" not in status.stdout
    if started:
        tool("build")
        tool("start", nice=True)
    rig = Rig(TOOL, tool("uri"), tool("ssh-uri"), started)
    try:
        yield rig
    finally:
        if started:
            tool("stop", timeout=180)


def guest_xml(base: str, i: int, disk: str) -> str:
    """tiny's XML as guest `bench-i`: its own name, MAC and loop-device disk, no UUID."""
    return (base.replace("<name>tiny</name>", f"<name>bench-{i}</name>")
            .replace("00:16:3e:00:00:01", f"00:16:3e:00:01:{i:02x}")
            .replace("/dev/loop0", disk))


@contextmanager
def guests(rig: Rig, count: int) -> Iterator[list[str]]:
    """tiny running and `count` transient copies of it; destroyed (copies) afterwards."""
    rig.ensure_running()
    base = rig.exec("cat", "/var/lib/xenrig/tiny.xml")
    names: list[str] = []
    loops: list[str] = []
    try:
        for i in range(1, count + 1):
            img = f"/var/lib/xenrig/bench-{i}.img"
            loop = rig.sh(f"truncate -s 8M {img} && losetup -f --show {img}").strip()
            loops.append(loop)
            rig.exec("sh", "-c", f"cat > /tmp/bench-{i}.xml",
                     stdin=guest_xml(base, i, loop).encode())
            rig.virsh("create", f"/tmp/bench-{i}.xml", timeout=300)
            names.append(f"bench-{i}")
        yield ["tiny", *names]
    finally:
        for name in names:
            rig.virsh("destroy", name, check=False)
        for loop in loops:
            rig.exec("losetup", "-d", loop, check=False)


def window(rig: Rig, seconds: float, passes: str | None = None, **procs: str) -> dict[str, Any]:
    """One measurement window in Dom0 (cpu_window.py); its JSON."""
    args = [f"{k}={v}" for k, v in procs.items()]
    if passes:
        args.append(f"passes={passes}")
    out = rig.exec("python3", WINDOW, str(seconds), *args, timeout=seconds + 120)
    found: dict[str, Any] = json.loads(out)
    return found


@contextmanager
def in_dom0(rig: Rig, command: str) -> Iterator[None]:
    """A command running in Dom0 (output to OUT) for the duration; killed by its pid."""
    proc = subprocess.Popen(
        [str(rig.tool), "exec", "sh", "-c", f"echo $$; exec {command} > {OUT} 2>&1"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    try:
        yield
    finally:
        rig.exec("kill", str(pid), check=False)
        proc.wait(timeout=60)
        rig.exec("rm", "-f", OUT, check=False)


def remote_poller(rig: Rig, interval: float, out: Path, raw: bool) -> subprocess.Popen[bytes]:
    """xentui -b (or, `raw`, the bare libvirt-io loop) on this host over xen+tcp, its
    output to `out`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    every = f"{interval:g}"
    cmd = ([str(ROOT / "bench" / "in_dom0" / "raw_loop.py"), "libvirt-io", every, rig.uri]
           if raw else ["-m", "xentui", "-c", rig.uri, "-b", "-d", every])
    with out.open("wb") as f:
        return subprocess.Popen([sys.executable, *cmd], stdout=f, stderr=subprocess.STDOUT,
                                env=env)


def count_passes(path: Path) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines()
               if line.lstrip().startswith("NAME "))


def measure_case(rig: Rig, case: str, seconds: float, interval: float) -> dict[str, Any]:
    """One case's window: Dom0 figures, and for `remote` this host's poller too."""
    every = f"{interval:g}"
    pollers = {"local": f"python3 -m xentui -c xen:///system -b -d {every}",
               "local-no-xenstat": f"python3 {NO_XENSTAT} -c xen:///system -b -d {every}",
               "xentop": f"xentop -b -d {every}",
               "raw-libvirt": f"python3 {RAW} libvirt {every}",
               "raw-libvirt-io": f"python3 {RAW} libvirt-io {every}",
               "raw-xenstat": f"python3 {RAW} xenstat {every}"}
    if case == "idle":
        return window(rig, seconds, libvirtd="/usr/sbin/libvirtd")
    if case in ("remote", "raw-remote-io"):
        out = Path(f"/tmp/dom0-cost-remote-{os.getpid()}.out")
        proc = remote_poller(rig, interval, out, raw=case == "raw-remote-io")
        try:
            time.sleep(WARMUP_S)
            here = psutil.Process(proc.pid)
            c0, p0, t0 = sum(here.cpu_times()[:2]), count_passes(out), time.monotonic()
            got = window(rig, seconds, libvirtd="/usr/sbin/libvirtd")
            wall = time.monotonic() - t0
            got["poller_here"] = round(100 * (sum(here.cpu_times()[:2]) - c0) / wall, 2)
            got["passes"] = count_passes(out) - p0
            got["passes_wall_s"] = round(wall, 1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            out.unlink(missing_ok=True)
        return got
    with in_dom0(rig, f"env PYTHONPATH={TREE} {pollers[case]}"):
        time.sleep(WARMUP_S)
        return window(rig, seconds, OUT, libvirtd="/usr/sbin/libvirtd", poller=pollers[case])


def row(case: str, run: int, got: dict[str, Any]) -> str:
    cells = [case, str(run), f"{got['libvirtd']:.2f}", f"{got.get('poller', 0.0):.2f}",
             f"{got['dom0_total']:.2f}", f"{got['dom0_steal']:.2f}", f"{got['dom0_xen']:.1f}",
             str(got.get("passes", "-")),
             f"{got['poller_here']:.2f}" if "poller_here" in got else "-",
             f"{got['wall_s']:.1f}", f"{os.getloadavg()[0]:.1f}"]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guests", type=int, default=4, help="copies of tiny besides tiny")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--cases", default="idle,remote,local,xentop")
    args = ap.parse_args()
    cases = args.cases.split(",")
    say: Callable[[str], None] = lambda text: print(text, flush=True)  # noqa: E731
    with rig_running() as rig:
        dom0_python.install(rig)
        with guests(rig, args.guests) as names:
            say(f"domains: Domain-0 + {len(names)} ({', '.join(names)}); "
                f"{args.seconds:.0f} s windows, interval {args.interval} s")
            say("| case | run | libvirtd % | poller in Dom0 % | Dom0 busy % | Dom0 steal % "
                "| Domain-0 (Xen) % | passes | poller here % | window s | host load |")
            say("|---|---|---|---|---|---|---|---|---|---|---|")
            for run in range(1, args.runs + 1):
                for case in cases:
                    got = measure_case(rig, case, args.seconds, args.interval)
                    say(row(case, run, got))
                    print(json.dumps({"case": case, "run": run, **got}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
