"""Terminal output benchmark: the real console in a 160x50 pty beside `top -d 1` in another.

    python bench/terminal.py [--sizes 10,1000] [--seconds 20] [--interval 1]
                             [--cases busy,idle,demo] [--warmup 8] [--before TREE]

For each size N and case the real app (`python -m xentui -c test:///node.xml -d INTERVAL`)
runs in a pseudo-terminal of 160x50 (TERM=xterm-256color, private settings and state
directories); everything it writes is read and counted. After a warm-up (first screen,
rates known) `top -d 1` starts in its own 160x50 pty and both are measured over the same
window: bytes written per second, and CPU % of one core of each process.

Cases: `busy`, the synthetic node on libvirt's test driver (most guests running; of
their figures the driver moves CPU time, the others stay put); `idle`, the same number
of guests all shut off (nothing changes between passes but Domain-0's row and the
header's pass timing); `demo`, the simulated fleet of `xentui --demo` (N is ignored: 3
hosts, their guests' CPU, memory, disk and network all move every pass: the case where
all figures change). B/pass is the window's bytes per interval.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from refs import SIZE, Window, top_running  # noqa: E402

from xentui.demo import demo_uri, guest_xml, node_xml, synthetic_node  # noqa: E402


def idle_node(n: int) -> str:
    """`n` guests, all shut off: nothing on screen changes between passes but Domain-0."""
    guests = [guest_xml(f"guest{i:05d}", state="shutoff", vcpus=1 + i % 4,
                        mem_mib=256 + 64 * (i % 8), maxmem_mib=1024, vif=i + 1)
              for i in range(n)]
    return node_xml(guests, cpus=64, mem_gib=max(64, n))


class PtyApp:
    """A process on the slave side of a pty of `size`; a thread counts what it writes."""

    def __init__(self, argv: list[str], size: tuple[int, int], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self.master = master
        self.written = 0
        self.last_write = time.perf_counter()
        self.kept: list[tuple[float, bytes]] | None = None
        """Set to a list to keep what is written (with when) from then on."""
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.written += len(chunk)
            self.last_write = time.perf_counter()
            if self.kept is not None:
                self.kept.append((self.last_write, chunk))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)


@dataclass
class Result:
    n: int
    case: str
    kib_s: float
    bytes_per_pass: float
    cpu_pct: float
    top_kib_s: float
    top_pct: float


def run_case(n: int, case: str, seconds: float, interval: float, warmup: float,
             root: Path = ROOT) -> Result:
    """One case, the app run from the source tree `root` (another checkout: a before)."""
    with tempfile.TemporaryDirectory(prefix="xentui-term-") as tmp:
        node = Path(tmp) / "node.xml"
        node.write_text(synthetic_node(n) if case == "busy" else idle_node(n), encoding="utf-8")
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
               "XDG_CONFIG_HOME": f"{tmp}/config", "XDG_STATE_HOME": f"{tmp}/state",
               "PYTHONPATH": str(root)}
        env.pop("TEXTUAL", None)
        where = ["--demo"] if case == "demo" else ["-c", demo_uri(node)]
        app = PtyApp([sys.executable, "-m", "xentui", *where, "-d", f"{interval:g}"], SIZE, env)
        try:
            time.sleep(warmup)
            if app.proc.poll() is not None:
                raise RuntimeError(f"the app ended early ({app.proc.returncode})")
            with top_running(SIZE) as top:
                w = Window(app=app.proc.pid)
                b0 = app.written
                time.sleep(seconds)
                b1 = app.written
                ours = w.close()
                tops = top()
        finally:
            app.stop()
    kib_s = (b1 - b0) / 1024 / ours["wall_s"]
    return Result(n, case, kib_s, (b1 - b0) / (ours["wall_s"] / interval), ours["app"],
                  tops["top_kib_s"], tops["top"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,1000")
    ap.add_argument("--cases", default="busy,idle,demo")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=8.0,
                    help="seconds from start to the window (first screen, rates known)")
    ap.add_argument("--before", type=Path,
                    help="another checkout's tree (e.g. a git worktree of an older commit): "
                         "each case also runs from it, in turn with this one, as 'CASE<'")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cases = [c for c in args.cases.split(",") if c]
    results = []
    runs = [(n, c) for n in sizes for c in cases if c != "demo"]
    runs += [(0, "demo")] if "demo" in cases else []
    roots = [ROOT] + ([args.before.resolve()] if args.before else [])
    for n, case in runs:
        for root in roots:
            label = case if root == ROOT else case + "<"
            print(f"  running N={n} {label} ...", file=sys.stderr, flush=True)
            r = run_case(n, case, args.seconds, args.interval, args.warmup, root)
            r.case = label
            results.append(r)
    print(f"terminal output at {SIZE[0]}x{SIZE[1]}, {args.interval:g} s interval, "
          f"{args.seconds:g} s window; top -d 1 in its own pty over the same window")
    head = (f"{'N':>6} | {'case':<6} | {'KiB/s':>7} | {'B/pass':>7} | {'CPU %':>6} | "
            f"{'top KiB/s':>9} | {'top CPU %':>9} | {'ours/top':>8}")
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = r.kib_s / r.top_kib_s if r.top_kib_s else float("nan")
        print(f"{r.n:>6} | {r.case:<6} | {r.kib_s:>7.2f} | {r.bytes_per_pass:>7.0f} | "
              f"{r.cpu_pct:>6.2f} | {r.top_kib_s:>9.2f} | {r.top_pct:>9.2f} | {ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
