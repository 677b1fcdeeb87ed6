"""Console benchmark: the real app, headless, against libvirt's test driver.

    python bench/console.py [--sizes 10,100,1000,5000] [--seconds 10] [--only ours|naive]

For each size N a node file with N guests (plus Domain-0) is written to a temp file and
the app is run at a 1 s interval in a fresh subprocess of this script (`--one N`), so that
peak RSS is per size. Per size and table variant it reports:

- first screen: from before constructing the app until the table lists all N+1 domains
  and a frame was drawn (process start to that point in brackets, imports included);
- CPU per refresh over a steady window of `--seconds` (this process, all threads), split
  into backend (all CPU off the loop thread, i.e. libvirt calls in the pool threads, plus
  Host.sample's own code on the loop) and UI (the rest of the loop thread: messages,
  table, footer, layout, compositing); also as % of one core, and the mean wall time of
  a pass (`PassResult.took_s`);
- peak RSS (psutil, sampled every 0.25 s, and ru_maxrss).

The "naive" variant (bench/naive_table.py) puts a plain DataTable that is rebuilt on
every pass where the DomainTable is. Headless Textual skips writing to the terminal; so
that the comparison includes that cost too, each frame is encoded as it would be for a
terminal and thrown away (`--no-encode` turns that off). Each pass the test driver's
counters change, so every row's figures change every pass: the table's worst case.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MARK = "BENCH-RESULT "
INTERVAL = 1.0
SIZE = (160, 50)
TARGETS = {"n": 1000, "core_pct": 5.0, "rss_mb": 150.0, "first_s": 1.5}


# -- measuring inside one run -------------------------------------------------------------
@dataclass
class Acc:
    """What the instrumented Host adds up (seconds)."""

    pool_cpu: float = 0.0
    loop_cpu: float = 0.0
    took: float = 0.0
    samples: int = 0
    frames: int = 0
    peak_rss: int = 0


class _Stepped:
    """Await a coroutine, adding up the loop thread's CPU time spent inside it."""

    def __init__(self, coro: Any, acc: Acc) -> None:
        self.coro, self.acc = coro, acc

    def __await__(self) -> Generator[Any, Any, Any]:
        send: Any = None
        exc: BaseException | None = None
        while True:
            t = time.thread_time()
            try:
                yielded = self.coro.throw(exc) if exc is not None else self.coro.send(send)
            except StopIteration as stop:
                self.acc.loop_cpu += time.thread_time() - t
                return stop.value
            except BaseException:
                self.acc.loop_cpu += time.thread_time() - t
                raise
            self.acc.loop_cpu += time.thread_time() - t
            try:
                send, exc = (yield yielded), None
            except BaseException as err:
                send, exc = None, err


def instrument(app: Any, acc: Acc, *, encode: bool) -> None:
    """Wrap the app's Host (pool calls, sample) and display hook; no app code changes."""
    host = app.host
    orig_call = host.link.call
    orig_sample = host.sample

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        def timed(*a: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*a)
            finally:
                acc.pool_cpu += time.thread_time() - t

        return await orig_call(timed, *args)

    async def sample() -> Any:
        result = await _Stepped(orig_sample(), acc)
        acc.took += result.took_s
        acc.samples += 1
        return result

    host.link.call = call
    host.sample = sample

    from textual._compositor import CompositorUpdate

    orig_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        orig_display(screen, renderable)
        if renderable is not None and not app._batch_count:
            acc.frames += 1
            if encode and isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)

    app._display = display


@dataclass
class Snap:
    wall: float
    cpu: float
    main_cpu: float
    pool_cpu: float
    loop_cpu: float
    took: float
    samples: int
    passes: int
    frames: int


def snap(app: Any, acc: Acc) -> Snap:
    assert threading.current_thread() is threading.main_thread()
    return Snap(time.perf_counter(), time.process_time(), time.thread_time(), acc.pool_cpu,
                acc.loop_cpu, acc.took, acc.samples, app.passes, acc.frames)


@dataclass
class Result:
    n: int
    variant: str
    first_s: float
    first_from_exec_s: float
    window_s: float
    passes: int
    samples: int
    frames: int
    cpu_per_pass_ms: float
    core_pct: float
    backend_cpu_ms: float
    backend_loop_ms: float
    backend_caller_ms: float
    ui_cpu_ms: float
    took_ms: float
    peak_rss_mb: float
    maxrss_mb: float
    profile: list[str] = field(default_factory=list)


async def _wait(app: Any, cond: Callable[[], bool], timeout: float, what: str,
                step: float = 0.01) -> None:
    end = time.perf_counter() + timeout
    while not cond():
        if app._exception is not None:
            raise RuntimeError(f"the app failed: {app._exception!r}")
        if time.perf_counter() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(step)


async def run_one(n: int, variant: str, seconds: float, *, mode: str, encode: bool,
                  profile: bool, timeout: float) -> Result:
    from xentui.config import Settings
    from xentui.demo import demo_uri, synthetic_node
    from xentui.ui.app import make_app

    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="xentui-bench-") as tmp:
        node = Path(tmp) / f"node-{n}.xml"
        node.write_text(synthetic_node(n), encoding="utf-8")
        uri = demo_uri(node)
        settings = Settings(interval=INTERVAL, log_file=False)
        acc = Acc()

        def rss() -> None:
            acc.peak_rss = max(acc.peak_rss, proc.memory_info().rss)

        t0 = time.perf_counter()
        if variant == "naive":
            from naive_table import make_naive_app

            app: Any = make_naive_app(uri, settings, mode=mode)
        else:
            app = make_app(uri, settings=settings, log_to_file=False)
        instrument(app, acc, encode=encode)

        async with app.run_test(size=SIZE) as pilot:
            async def watch_rss() -> None:
                while True:
                    rss()
                    await asyncio.sleep(0.25)

            watcher = asyncio.create_task(watch_rss())
            await _wait(app, lambda: app.passes >= 1 and len(app.main.table.order) == n + 1,
                        timeout, "the first populated screen", step=0.005)
            frames = acc.frames
            await pilot.pause()
            await _wait(app, lambda: acc.frames > frames, timeout, "a frame", step=0.005)
            first = time.perf_counter() - t0
            first_exec = time.time() - proc.create_time()

            # warm up: two more passes (rates known, caches filled)
            p = app.passes
            await _wait(app, lambda: app.passes >= p + 2, timeout + 10 * INTERVAL, "warm-up passes")
            s0 = snap(app, acc)
            prof = cProfile.Profile() if profile else None
            if prof is not None:
                prof.enable()
            await asyncio.sleep(max(0.0, seconds - 0.5 * INTERVAL))
            p = app.passes
            await _wait(app, lambda: app.passes > p, timeout + 10 * INTERVAL, "the closing pass")
            if prof is not None:
                prof.disable()
            s1 = snap(app, acc)
            rss()
            watcher.cancel()

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
        peak_rss_mb=acc.peak_rss / 2**20,
        maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        profile=lines,
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
    res = asyncio.run(run_one(args.one, args.variant, args.seconds, mode=args.naive_mode,
                              encode=not args.no_encode, profile=args.profile,
                              timeout=args.timeout))
    print(MARK + json.dumps(asdict(res)), flush=True)
    return 0


def spawn(n: int, variant: str, args: argparse.Namespace) -> Result | str:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(n), "--variant", variant,
           "--seconds", str(args.seconds), "--naive-mode", args.naive_mode,
           "--timeout", str(args.timeout)]
    if args.no_encode:
        cmd.append("--no-encode")
    if args.profile:
        cmd.append("--profile")
    print(f"  running N={n} {variant} ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=args.timeout + 4 * args.seconds + 120,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return "timeout"
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return Result(**json.loads(line[len(MARK):]))
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return "failed: " + " | ".join(tail)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


METRICS: list[tuple[str, str, str]] = [
    ("first screen s", "first_s", ".2f"),
    ("(from exec) s", "first_from_exec_s", ".2f"),
    ("CPU ms/refresh", "cpu_per_pass_ms", ".1f"),
    ("% of 1 core", "core_pct", ".2f"),
    ("UI ms/refresh", "ui_cpu_ms", ".1f"),
    ("backend CPU ms", "backend_cpu_ms", ".1f"),
    ("pass wall ms", "took_ms", ".1f"),
    ("peak RSS MB", "peak_rss_mb", ".0f"),
    ("refreshes/window", "passes", "d"),
]


def report(results: dict[tuple[int, str], Result | str], sizes: list[int],
           variants: list[str], args: argparse.Namespace) -> None:
    enc = "off" if args.no_encode else "on"
    print(f"xentui console benchmark: test driver, {INTERVAL:g} s interval, {SIZE[0]}x{SIZE[1]}, "
          f"~{args.seconds:g} s steady window, frame encoding {enc}, "
          f"{psutil.cpu_count()} CPUs; naive = DataTable {args.naive_mode}+re-add")
    col = 9
    head = f"{'N':>6} | {'variant':<7}"
    for label, _k, _s in METRICS:
        head += f" | {label:>{max(col, len(label))}}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        for v in variants:
            r = results.get((n, v))
            row = f"{n:>6} | {v:<7}"
            for label, key, spec in METRICS:
                cell = _fmt(getattr(r, key), spec) if isinstance(r, Result) else (r or "-")[:9]
                row += f" | {cell:>{max(col, len(label))}}"
            print(row)
    print()
    for v in variants:
        ours = [(n, r) for n in sizes if isinstance(r := results.get((n, v)), Result)]
        if len(ours) >= 2:
            base = ours[0][1].ui_cpu_ms
            growth = ", ".join(f"N={n}: {r.ui_cpu_ms:.1f} ms (x{r.ui_cpu_ms / base:.1f})"
                               for n, r in ours)
            print(f"UI cost per refresh vs N ({v}): {growth}")
    r = results.get((TARGETS["n"], "ours"))
    if isinstance(r, Result):
        checks = [
            ("CPU", r.core_pct, TARGETS["core_pct"], "% of a core"),
            ("RSS", r.peak_rss_mb, TARGETS["rss_mb"], "MB"),
            ("first screen", r.first_s, TARGETS["first_s"], "s"),
        ]
        text = "; ".join(f"{name} {val:.2f} {unit} (< {lim:g}: {'ok' if val < lim else 'MISS'})"
                         for name, val, lim, unit in checks)
        print(f"targets at N={TARGETS['n']} (ours): {text}")
    for (n, v), res in results.items():
        if isinstance(res, Result) and res.profile:
            print(f"\n--- profile N={n} {v} (loop thread, steady window) ---")
            print("\n".join(res.profile))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000,5000")
    ap.add_argument("--seconds", type=float, default=10.0)
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
    ap.add_argument("--variant", default="ours", choices=("ours", "naive"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        return child(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    variants = [args.only] if args.only else ["ours", "naive"]
    results: dict[tuple[int, str], Result | str] = {}
    for n in sizes:
        for v in variants:
            results[(n, v)] = spawn(n, v, args)
    report(results, sizes, variants, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
