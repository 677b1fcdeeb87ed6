"""Fleet benchmark: the real console, headless, on N private test-driver daemons.

    python bench/fleet.py [--seconds 10] [--shapes 1x100,5x100,20x100,1x2000]

Each shape HOSTSxDOMAINS runs in a fresh subprocess (`--one`), so RSS is per shape:
HOSTS private libvirtd daemons (libvirt's test driver, reached over their unix sockets as
a real Dom0 is reached: every pass is the per-domain path, as with the Xen libxl driver)
each serving DOMAINS guests. The console runs at a 1 s interval; after a warm-up it
measures over a steady window:

- refresh wall time per host (mean of PassResult.took_s) and the slowest host's;
- the fleet's freshness: every 0.25 s, the age of the oldest host's newest figures
  (now minus the end of that host's last pass); its worst value is compared with the
  reference from the same run, the interval plus the slowest host's pass (what one
  host alone would show): a host held back by another would push it far above;
- the work done: domain reads per second over all hosts, and the console's CPU time
  per 1000 domain reads (a shape that cannot keep up with the interval does fewer
  reads, so its CPU share alone flatters it);
- the console's CPU share of one core (this process, all threads) and the daemons'
  (all libvirtd processes together);
- peak RSS of the console process;
- the raw reference: one serial `listAllDomains` + `info()` per domain over one
  connection, from this process, on the first host (what a naive poller pays).

Targets from the fleet issue: 20x100 costs no more CPU than 1x2000; a refresh of 20
hosts takes no longer in wall time than the slowest single host.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from xentui.backend.models import PassResult

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MARK = "BENCH-RESULT "
INTERVAL = 1.0


def node_uri(daemon: object, n: int) -> str:
    from tests.backend.conftest import daemon_node

    return daemon_node(daemon, n)  # type: ignore[arg-type]


def raw_reference(uri: str) -> float:
    """Seconds for one serial pass of the plain libvirt calls over one connection."""
    import libvirt

    conn = libvirt.open(uri)
    try:
        t0 = time.perf_counter()
        for dom in conn.listAllDomains(0):
            dom.info()
        return time.perf_counter() - t0
    finally:
        conn.close()


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


async def run_console(uris: list[str], seconds: float) -> dict[str, float]:
    from console_hooks import thread_cpu

    from xentui.backend.models import PassResult
    from xentui.config import HostEntry, Settings
    from xentui.ui.launch import make_app

    entries = [HostEntry(f"h{i:02d}", u) for i, u in enumerate(uris)]
    app = make_app(entries, settings=Settings(interval=INTERVAL), log_to_file=False)
    passes: dict[str, list[PassResult]] = defaultdict(list)
    handed: list[float] = []
    """When each pass result reached the fleet's subscribers (monotonic)."""

    def heard(rec: object) -> None:
        if isinstance(rec, PassResult):
            passes[rec.host_id].append(rec)
            handed.append(time.monotonic())

    app.fleet.subscribe(heard)
    frames = count_frames()
    me = psutil.Process()
    mine = {c.pid for c in me.children(recursive=True)}
    daemons = [p for p in psutil.process_iter(["name"])
               if p.info["name"] == "libvirtd" and p.pid in mine]
    peak = 0
    async with app.run_test(size=(160, 50)) as pilot:
        while min((len(passes[e.name]) for e in entries), default=0) < 3:
            await pilot.pause(0.1)
        mark = {h: len(v) for h, v in passes.items()}
        frames0, handed0 = frames[0], len(handed)
        cpu0 = me.cpu_times()
        th0 = thread_cpu()
        d0 = _cpu(daemons)
        prof = _window_profile()
        t0 = time.monotonic()
        worst_age = 0.0
        while time.monotonic() - t0 < seconds:
            await pilot.pause(0.25)
            peak = max(peak, me.memory_info().rss)
            now = time.monotonic()
            worst_age = max(worst_age, max(now - (v[-1].at + v[-1].took_s)
                                           for v in passes.values()))
        wall = time.monotonic() - t0
        if prof is not None:
            prof.disable()
            prof.dump_stats(f"{os.environ[PROFILE_ENV]}-{len(uris)}.prof")
        drawn = frames[0] - frames0
        cpu1 = me.cpu_times()
        th1 = thread_cpu()
        d1 = _cpu(daemons)
    window = {h: v[mark[h]:] for h, v in passes.items()}
    took = [r.took_s for v in window.values() for r in v]
    reads = sum(len(r.domains) for v in window.values() for r in v)
    slowest_host = max(sum(r.took_s for r in v) / len(v) for v in window.values() if v)
    cpu_s = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return {
        "hosts": len(uris),
        "pass_per_host_ms": 1000 * sum(took) / len(took),
        "slowest_host_ms": 1000 * slowest_host,
        "worst_age_ms": 1000 * worst_age,
        "reference_age_ms": 1000 * (INTERVAL + slowest_host),
        "reads_per_s": reads / wall,
        "cpu_ms_per_1000_reads": 1e6 * cpu_s / reads if reads else float("nan"),
        "console_cpu_pct": 100 * cpu_s / wall,
        "daemons_cpu_pct": 100 * (d1 - d0) / wall,
        "rss_mb": peak / 1e6,
        "threads": {k: 100 * (v - th0.get(k, 0.0)) / wall for k, v in th1.items()},
        "frames_per_s": drawn / wall,
        "end_spread_ms": 1000 * end_spread([r for v in window.values() for r in v]),
        "handovers_per_s": len(bursts(handed[handed0:])) / wall,
    }


PROFILE_ENV = "XENTUI_FLEET_PROFILE"
"""If set (a path prefix), the main thread is profiled (CPU time) over the window and
the stats saved to PREFIX-HOSTS.prof: where a shape's extra main-thread time goes."""


def _window_profile() -> cProfile.Profile | None:
    if not os.environ.get(PROFILE_ENV):
        return None
    prof = cProfile.Profile(time.thread_time)
    prof.enable()
    return prof


BURST_GAP_S = 0.02
"""Results handed on less than this apart count as one hand-over (one frame at most)."""


def bursts(times: list[float]) -> list[list[float]]:
    """The hand-over times grouped into bursts (gaps under BURST_GAP_S)."""
    out: list[list[float]] = []
    for t in times:
        if out and t - out[-1][-1] < BURST_GAP_S:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def end_spread(results: list[PassResult]) -> float:
    """Mean seconds between the first and the last end of the passes that started
    together (within a quarter of the interval): how long a tick's results trickle in."""
    ticks: list[list[PassResult]] = []
    for r in sorted(results, key=lambda r: r.at):
        if ticks and r.at - ticks[-1][0].at < INTERVAL / 4:
            ticks[-1].append(r)
        else:
            ticks.append([r])
    spreads = [max(r.at + r.took_s for r in t) - min(r.at + r.took_s for r in t)
               for t in ticks]
    return sum(spreads) / len(spreads) if spreads else 0.0


def count_frames() -> list[int]:
    """Count the screen's frames (each compositor refresh) in this process."""
    from textual.screen import Screen

    drawn = [0]
    refresh = Screen._compositor_refresh

    def counted(self: Screen) -> None:
        drawn[0] += 1
        refresh(self)

    Screen._compositor_refresh = counted  # type: ignore[method-assign]
    return drawn


VARIANTS = ("new", "old-ticks", "ka-old", "old", "switch50", "nodom0", "nopane")


def apply_variant(name: str) -> None:
    """Put back earlier behaviours in this process, to compare them in the same run.

    old-ticks: every host on its own clock, each pass's result handed on as it ends (one
    redraw per host and interval). ka-old: libvirt keepalive from the start (as before it
    waited for an unanswered call). old: both. switch50: the interpreter's switch interval
    at 50 ms, not 5 (threads waiting for the GIL wake and ask for it less often). nodom0:
    no host reads Dom0's load (here every daemon is on this machine, so every host
    shows it; in a real fleet one host at most is local). nopane: the Hosts pane is never
    filled (what keeping it costs: its rows' text, their renders, their frames' cells).
    Parts join with '+'."""
    parts = {"old-ticks", "ka-old"} if name == "old" else set(name.split("+")) - {"new"}
    unknown = parts - {"old-ticks", "ka-old", "switch50", "nodom0", "nopane"}
    if unknown:
        raise SystemExit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    if "switch50" in parts:
        sys.setswitchinterval(0.05)
    if "nodom0" in parts:
        from xentui.backend.libvirt import host

        host.is_local = lambda uri: False  # type: ignore[attr-defined]
    if "nopane" in parts:
        from xentui.ui.widgets.hosts_pane import HostsPane

        HostsPane.show = lambda *_a, **_k: None  # type: ignore[method-assign]
    if "ka-old" in parts:
        from xentui.backend.libvirt import connection

        connection.KEEPALIVE_ON_DEMAND = False
    if "old-ticks" in parts:
        from xentui.backend import pass_ticks

        def wait_after(self: object, interval: float, started: float) -> float:
            return max(0.05, interval - (asyncio.get_running_loop().time() - started))

        pass_ticks.PassTicks.wait_after = wait_after  # type: ignore[method-assign]
        pass_ticks.PassTicks.begin = lambda self, host_id, interval: None  # type: ignore


def one(hosts: int, domains: int, seconds: float) -> dict[str, float]:
    from tests.support import daemons

    with ExitStack() as stack:
        started = [stack.enter_context(daemons.running("test")) for _ in range(hosts)]
        uris = [node_uri(d, domains) for d in started]
        raw = raw_reference(uris[0])
        out = asyncio.run(run_console(uris, seconds))
    out["raw_serial_pass_ms"] = 1000 * raw
    out["domains"] = domains
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--shapes", default="1x100,5x100,20x100,1x2000")
    ap.add_argument("--variants", default="new",
                    help=f"comma-separated, run in turn for each shape: {', '.join(VARIANTS)}")
    ap.add_argument("--repeat", type=int, default=1, help="run every shape and variant N times")
    ap.add_argument("--trees", default="",
                    help="LABEL=DIR,...: run the console from these checkouts in turn (the "
                         "measuring stays this script's), e.g. before=/tmp/old,after=.")
    ap.add_argument("--code", default="", help=argparse.SUPPRESS)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="new", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp())
    if args.one:
        if args.code:
            sys.path.insert(0, str(Path(args.code).resolve()))
        apply_variant(args.variant)
        hosts, domains = (int(x) for x in args.one.split("x"))
        print(MARK + json.dumps(one(hosts, domains, args.seconds)), flush=True)
        return
    trees = [t.split("=", 1) for t in args.trees.split(",")] if args.trees else [["", ""]]
    print(f"{'shape':>8} {'tree':>6} {'variant':>10} {'pass/host':>10} {'slowest':>8} "
          f"{'worst age':>10} {'ref age':>8} {'raw serial':>10} {'reads/s':>8} "
          f"{'CPU/1k reads':>12} {'console CPU':>11} {'daemons':>8} {'RSS':>6} {'frames/s':>8} "
          f"{'hand-overs/s':>12} {'spread':>8} {'load':>5}  threads (% of a core)")
    runs = []
    for n in range(args.repeat):
        turn = 1 if n % 2 == 0 else -1  # every other repeat runs everything in reverse order
        runs += [(shape, tree, variant) for shape in args.shapes.split(",")[::turn]
                 for tree in trees[::turn] for variant in args.variants.split(",")[::turn]]
    for shape, (label, code), variant in runs:
        env = dict(os.environ, PYTHONPATH=code) if code else None
        res = subprocess.run([sys.executable, __file__, "--one", shape, "--variant", variant,
                              "--seconds", str(args.seconds)] + (["--code", code] if code else []),
                             capture_output=True, text=True, cwd=ROOT, env=env)
        line = next((ln for ln in res.stdout.splitlines() if ln.startswith(MARK)), None)
        if line is None:
            print(f"{shape:>8} {label:>6} {variant:>10} failed: "
                  f"{res.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(line[len(MARK):])
        print(f"{shape:>8} {label:>6} {variant:>10} {r['pass_per_host_ms']:>8.0f}ms "
              f"{r['slowest_host_ms']:>6.0f}ms {r['worst_age_ms']:>8.0f}ms "
              f"{r['reference_age_ms']:>6.0f}ms "
              f"{r['raw_serial_pass_ms']:>8.0f}ms {r['reads_per_s']:>8.0f} "
              f"{r['cpu_ms_per_1000_reads']:>10.0f}ms {r['console_cpu_pct']:>10.1f}% "
              f"{r['daemons_cpu_pct']:>7.1f}% {r['rss_mb']:>4.0f}MB "
              f"{r.get('frames_per_s', float('nan')):>8.1f} "
              f"{r.get('handovers_per_s', float('nan')):>12.1f} "
              f"{r.get('end_spread_ms', float('nan')):>6.0f}ms {os.getloadavg()[0]:>5.1f}  "
              + " ".join(f"{k} {v:.1f}" for k, v in sorted(r["threads"].items())), flush=True)

if __name__ == "__main__":
    main()
