"""Console benchmark: the real app, headless, against libvirt's test driver.

    python bench/console.py [--sizes 10,100,1000,5000] [--seconds 10] [--only ours|naive]
    python bench/console.py --daemon --sizes 1000 --interval 5 --only ours [--seconds 30]

For each size N a node file with N guests (plus Domain-0) is written to a temp file and
the app is run at a 1 s interval in a fresh subprocess of this script (`--one N`), so that
peak RSS is per size. Per size and table variant it reports:

- rows shown: from before constructing the app until the table lists all N+1 domains
  and a frame was drawn (the rows may still wait for their figures); first screen: the
  same, until the first pass's figures were drawn (process start to that point in
  brackets, imports included); connect: the connection's opening within them (the test
  driver parses the node file there, which a real host does not);
- CPU per refresh over a steady window of `--seconds` (this process, all threads), split
  into backend (all CPU off the loop thread, i.e. libvirt calls in the pool threads, plus
  Host.sample's own code on the loop) and UI (the rest of the loop thread: messages,
  table, footer, layout, compositing); also as % of one core, and the mean wall time of
  a pass (`PassResult.took_s`);
- peak RSS (psutil, sampled every 0.25 s outside the steady window so that sampling
  costs the window nothing, and ru_maxrss, the kernel's high-water mark, over it);
- same-run references: `top -d 1` in a 160x50 pty over the same window (its CPU and
  output), and a bare loop of the libvirt calls a per-domain pass makes (bench/refs.py),
  run right after at the same size and interval; libvirt calls per pass (counted after
  the window, so that counting costs the window nothing); CPU per thread (the libvirt
  event thread, the pool, the UI loop).

`--daemon`: the nodes are served by a private libvirtd running the test driver
(tests/support/daemons.py), reached over its unix socket with the per-domain path forced:
the path every real Xen host takes (the libxl driver has no bulk statistics). The
daemon's CPU over the window is reported beside the console's.

The "naive" variant (bench/naive_table.py) puts a plain DataTable that is rebuilt on
every pass where the DomainTable is. Headless Textual skips writing to the terminal; so
that the comparison includes that cost too, each frame is encoded as it would be for a
terminal and thrown away (`--no-encode` turns that off). Each pass the test driver's
counters change, so every row's figures change every pass: the table's worst case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MARK = "BENCH-RESULT "

from console_hooks import Acc, instrument, snap, thread_cpu, wait_until  # noqa: E402
from console_report import INTERVAL, SIZE, Result, report  # noqa: E402


async def run_one(n: int, variant: str, seconds: float, *, mode: str, encode: bool,
                  profile: bool, timeout: float, uri: str | None = None,
                  interval: float = INTERVAL, daemon_pid: int | None = None,
                  top: bool = True) -> Result:
    from refs import CallCounter, Window, top_running

    from xentui.config import Settings
    from xentui.demo import demo_uri, synthetic_node
    from xentui.ui.launch import make_app

    proc = psutil.Process()
    counter = CallCounter()
    gc_started: list[float] = []

    def gc_timer(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_started.append(time.thread_time())
        elif gc_started:
            acc.gc_s += time.thread_time() - gc_started.pop()
            acc.gc_runs += 1

    with tempfile.TemporaryDirectory(prefix="xentui-bench-") as tmp, contextlib.ExitStack() as ex:
        if uri is None:
            node = Path(tmp) / f"node-{n}.xml"
            node.write_text(synthetic_node(n), encoding="utf-8")
            uri = demo_uri(node)
        settings = Settings(interval=interval, log_file=False)
        acc = Acc()
        gc.callbacks.append(gc_timer)

        def rss() -> None:
            acc.peak_rss = max(acc.peak_rss, proc.memory_info().rss)

        t0 = time.perf_counter()
        if variant == "naive":
            from naive_table import make_naive_app

            app: Any = make_naive_app(uri, settings, mode=mode)
        else:
            app = make_app(uri, settings=settings, log_to_file=False,
                           per_domain=daemon_pid is not None)
        instrument(app, acc, encode=encode, rows=n + 1)

        async with app.run_test(size=SIZE):
            async def watch_rss() -> None:
                while True:
                    rss()
                    await asyncio.sleep(0.25)

            watcher = asyncio.create_task(watch_rss())
            await wait_until(app, lambda: acc.figures_at is not None, timeout,
                        "the first populated screen", step=0.005)
            assert acc.rows_at is not None and acc.figures_at is not None
            rows, first = acc.rows_at - t0, acc.figures_at - t0
            first_exec = first + time.time() - proc.create_time() - (time.perf_counter() - t0)

            # warm up: two more passes (rates known, caches filled)
            p = app.passes
            await wait_until(app, lambda: app.passes >= p + 2, timeout + 10 * interval,
                        "warm-up passes")
            if variant.startswith("filled"):
                from ui_probe import fill_history

                fill_history(app)
            elif variant.startswith("no-ui"):  # the floor: passes run, nothing is drawn
                app.has_main = lambda: False
                # the app counts only the passes it draws: count the hosts' samples
                app.__class__ = type("NoUiApp", (type(app),),
                                     {"passes": property(lambda _: acc.samples,
                                                         lambda *_: None)})
            watcher.cancel()  # the window's peak is ru_maxrss's: no sampling in it
            top_result = ex.enter_context(top_running(SIZE)) if top else None
            th0 = thread_cpu()
            gc0 = (acc.gc_s, acc.gc_runs)
            s0 = snap(app, acc)
            dw = Window(libvirtd=daemon_pid)
            prof = cProfile.Profile() if profile else None
            if prof is not None:
                prof.enable()
            await asyncio.sleep(max(0.0, seconds - 0.5 * interval))
            p = app.passes
            await wait_until(app, lambda: app.passes > p, timeout + 10 * interval,
                             "the closing pass")
            if prof is not None:
                prof.disable()
            s1 = snap(app, acc)
            gc1 = (acc.gc_s, acc.gc_runs)
            th1 = thread_cpu()
            daemon = dw.close()
            tops = top_result() if top_result is not None else {}
            rss()
            # libvirt calls per pass, counted after the window so counting costs it nothing
            p = app.passes
            await wait_until(app, lambda: app.passes >= p + 1, timeout + 10 * interval, "a pass")
            p = app.passes
            counter.enabled = True
            await wait_until(app, lambda: app.passes >= p + 3, timeout + 10 * interval, "3 passes")
            counter.enabled = False
            calls, per_call = counter.per_pass(app.passes - p)

    passes = max(1, s1.passes - s0.passes)
    cpu = s1.cpu - s0.cpu
    loop_backend = s1.loop_cpu - s0.loop_cpu
    pool = s1.pool_cpu - s0.pool_cpu
    main = s1.main_cpu - s0.main_cpu
    wall = s1.wall - s0.wall
    lines: list[str] = []
    if prof is not None:
        dump = Path(tempfile.gettempdir()) / f"xentui-bench-{n}-{variant}.prof"
        prof.dump_stats(dump)
        lines = [f"(pstats saved to {dump})", *_profile_lines(prof)]
    return Result(
        n=n,
        variant=variant,
        first_s=first,
        first_from_exec_s=first_exec,
        rows_s=rows,
        connect_s=acc.connect_s,
        window_s=wall,
        passes=s1.passes - s0.passes,
        samples=s1.samples - s0.samples,
        frames=s1.frames - s0.frames,
        cpu_per_pass_ms=1000 * cpu / passes,
        core_pct=100 * cpu / wall,
        backend_cpu_ms=1000 * (cpu - main + loop_backend) / passes,
        backend_loop_ms=1000 * loop_backend / passes,
        backend_caller_ms=1000 * pool / passes,
        ui_cpu_ms=1000 * (main - loop_backend) / passes,
        took_ms=1000 * (s1.took - s0.took) / max(1, s1.samples - s0.samples),
        peak_rss_mb=max(acc.peak_rss / 2**20,
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        profile=lines,
        interval=interval,
        daemon_pct=daemon["libvirtd"],
        top_pct=tops.get("top", 0.0),
        top_kib_s=tops.get("top_kib_s", 0.0),
        calls_per_pass=calls,
        calls=per_call,
        threads={k: 100 * (th1.get(k, 0.0) - th0.get(k, 0.0)) / wall for k in th1},
        gc_pct=100 * (gc1[0] - gc0[0]) / wall,
        gc_per_pass=(gc1[1] - gc0[1]) / passes,
    )


def _profile_lines(prof: cProfile.Profile, top: int = 30) -> list[str]:
    import io

    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue().splitlines()


# -- driving the subprocesses -------------------------------------------------------------
def child(args: argparse.Namespace) -> int:
    if args.variant == "ka-old":  # ours, with libvirt keepalive from the start (as before)
        from xentui.backend.libvirt import connection

        connection.KEEPALIVE_ON_DEMAND = False
    if args.variant != "gc-default":  # the collector policy the app's entry point sets
        with contextlib.suppress(ImportError):
            from xentui.gcpolicy import tune_collector

            tune_collector()
    res = asyncio.run(run_one(args.one, args.variant, args.seconds, mode=args.naive_mode,
                              encode=not args.no_encode, profile=args.profile,
                              timeout=args.timeout, uri=args.uri, interval=args.interval,
                              daemon_pid=args.daemon_pid or None, top=not args.no_refs))
    print(MARK + json.dumps(asdict(res)), flush=True)
    return 0


def spawn(n: int, variant: str, args: argparse.Namespace, daemon: Any = None) -> Result | str:
    """Run one size and variant in a child process, then its same-run references; the
    node file made for an in-process run is removed afterwards."""
    node_dir = None if daemon is not None else Path(tempfile.mkdtemp(prefix="xentui-bench-"))
    try:
        return _spawn(n, variant, args, daemon, node_dir)
    finally:
        if node_dir is not None:
            shutil.rmtree(node_dir, ignore_errors=True)


def _spawn(n: int, variant: str, args: argparse.Namespace, daemon: Any,
           node_dir: Path | None) -> Result | str:
    from refs import daemon_uri, raw_in_subprocess

    from xentui.demo import demo_uri, synthetic_node

    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(n), "--variant", variant,
           "--seconds", str(args.seconds), "--naive-mode", args.naive_mode,
           "--timeout", str(args.timeout), "--interval", str(args.interval)]
    if daemon is not None:
        uri = daemon_uri(daemon, n)
        cmd += ["--uri", uri, "--daemon-pid", str(daemon.pid)]
    else:
        assert node_dir is not None
        node = node_dir / f"node-{n}.xml"
        node.write_text(synthetic_node(n), encoding="utf-8")
        uri = demo_uri(node)
    if args.no_refs:
        cmd.append("--no-refs")
    if args.no_encode:
        cmd.append("--no-encode")
    if args.profile:
        cmd.append("--profile")
    print(f"  running N={n} {variant} ...", file=sys.stderr, flush=True)
    load_before = _load()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=args.timeout + 4 * args.seconds + 120,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return "timeout"
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            res = Result(**json.loads(line[len(MARK):]))
            if not args.no_refs:
                print(f"  raw-call reference N={n} ...", file=sys.stderr, flush=True)
                raw = raw_in_subprocess(uri, args.interval, args.seconds,
                                        daemon.pid if daemon is not None else None)
                res.raw_pct, res.raw_daemon_pct = raw["raw"], raw["libvirtd"]
                if daemon is not None:
                    print(f"  raw-reduced reference N={n} ...", file=sys.stderr, flush=True)
                    red = raw_in_subprocess(uri, args.interval, args.seconds, daemon.pid,
                                            reduced=True)
                    res.reduced_pct, res.reduced_daemon_pct = red["raw"], red["libvirtd"]
            res.load = f"{load_before} -> {_load()}"
            return res
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return "failed: " + " | ".join(tail)


def _load() -> str:
    """The 1-minute load average now (the machine is shared: say how busy it was)."""
    return f"{os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000,5000")
    ap.add_argument("--seconds", type=float, default=30.0, help="steady window (default 30)")
    ap.add_argument("--interval", type=float, default=INTERVAL, help="refresh interval, s")
    ap.add_argument("--daemon", action="store_true",
                    help="serve the nodes from a private test-driver libvirtd, per-domain path")
    ap.add_argument("--no-refs", action="store_true",
                    help="skip the top and raw-call references")
    ap.add_argument("--uri", help=argparse.SUPPRESS)
    ap.add_argument("--daemon-pid", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--naive", action="store_true",
                    help="include the naive DataTable (the default unless --only ours)")
    ap.add_argument("--only", choices=("ours", "naive"))
    ap.add_argument("--naive-mode", choices=("clear", "update"), default="clear")
    ap.add_argument("--no-encode", action="store_true",
                    help="do not encode frames for a terminal (headless Textual skips it)")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the loop thread over the steady window and print it")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--variants",
                    help="comma-separated, run in turn per size: ours, naive, ka-old (ours "
                         "with keepalive from the start, as before it waited for a call), "
                         "gc-default (ours with CPython's default collector thresholds), "
                         "filled (ours with the graphs' history full, as in a console left "
                         "open ten minutes), no-ui (ours with passes that draw nothing: the "
                         "floor of the backend and Textual)")
    ap.add_argument("--variant", default="ours",
                    choices=("ours", "naive", "ka-old", "gc-default", "filled", "no-ui"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        return child(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    variants = ([args.only] if args.only else
                args.variants.split(",") if args.variants else ["ours", "naive"])
    # A variant named again is a repeat: label it "ours#2" and so on.
    variants = [v if variants[:i].count(v) == 0 else f"{v}#{variants[:i].count(v) + 1}"
                for i, v in enumerate(variants)]
    results: dict[tuple[int, str], Result | str] = {}
    daemon = None
    if args.daemon:
        from refs import start_daemon

        daemon = start_daemon()
    try:
        for n in sizes:
            for v in variants:
                results[(n, v)] = spawn(n, v.split("#")[0], args, daemon)
    finally:
        if daemon is not None:
            daemon.cleanup()
    report(results, sizes, variants, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
