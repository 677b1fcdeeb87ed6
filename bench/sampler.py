"""Cost of one sampling pass, bulk and per-domain, in-process and over a daemon.

    python bench/sampler.py [--quick] [--sizes 10,100,1000,5000] [--passes N]
    python bench/sampler.py --cpu [--sizes 1000] [--interval 1] [--seconds 30] [--no-daemon]

Runs libvirt's test driver with synthetic nodes of N guests (`xentui.demo.synthetic_node`:
most running, each with one disk and one NIC), once in-process (`test:///node.xml`) and
once through a private `libvirtd` serving the test driver over a unix socket
(`test+unix:///node.xml?socket=...`, via tests/support/daemons.py).

`--cpu`: the backend alone (LibvirtHost.sample, per-domain path forced, no UI, `--watch`
domains watched as the console's visible rows would be) every `--interval` seconds over
a steady window, as % of one core, beside the daemon's CPU,
`top -d 1`'s and a bare loop of the same libvirt calls (bench/refs.py) measured in the
same run, with libvirt calls per pass (counted after the window).

NOTE: the test driver's getAllDomainStats fills only the state group, so the 'bulk'
column is the cost of that state-only call (plus turning records into samples); the
real sampler notices this and falls back to the per-domain path.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import libvirt  # noqa: E402

from xentui.backend.libvirt.capabilities import BULK_ALL  # noqa: E402
from xentui.backend.libvirt.eventloop import ensure_event_loop  # noqa: E402
from xentui.backend.libvirt.sampler import Sampler, sample_from_bulk  # noqa: E402
from xentui.demo import synthetic_node  # noqa: E402

TARGET_N = 1000
TARGET_BULK_MS = 50.0
TARGET_PER_DOMAIN_MS = 500.0


def median_ms(fn: Callable[[], object], passes: int) -> float:
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bulk_pass(conn: libvirt.virConnect) -> int:
    """The bulk path's work: one getAllDomainStats call, records turned into samples."""
    at = time.monotonic()
    return len([sample_from_bulk(d, rec, at) for d, rec in conn.getAllDomainStats(BULK_ALL, 0)])


def measure(uri: str, n: int, passes: int, pool: ThreadPoolExecutor) -> dict[str, float]:
    t0 = time.perf_counter()
    conn = libvirt.open(uri)
    open_ms = (time.perf_counter() - t0) * 1000
    try:
        total = conn.numOfDomains() + conn.numOfDefinedDomains()
        assert total == n + 1, f"{uri}: expected {n + 1} domains, found {total}"
        bulk_pass(conn)  # warm up
        bulk = median_ms(lambda: bulk_pass(conn), passes)
        sampler = Sampler(conn, bulk=False, pool=pool)
        t0 = time.perf_counter()
        count = len(sampler.read())  # first pass also reads every domain's XML
        first = (time.perf_counter() - t0) * 1000
        assert count == n + 1
        per_domain = median_ms(sampler.read, passes)
    finally:
        conn.close()
    return {"open": open_ms, "bulk": bulk, "first": first, "per": per_domain}


def node_file(folder: Path, n: int, chown: Callable[[Path], None] | None = None) -> Path:
    path = folder / f"node-{n}.xml"
    if not path.exists():
        path.write_text(synthetic_node(n))
        if chown:
            chown(path)
    return path


async def _host_window(uri: str, interval: float, seconds: float,
                       daemon_pid: int | None, watch: int) -> dict[str, float]:
    """Sample a LibvirtHost every `interval` for `seconds`; CPU % and calls per pass."""
    import asyncio
    import os

    from refs import CallCounter, Window, top_running

    from xentui.backend.libvirt.host import LibvirtHost

    counter = CallCounter()
    host = LibvirtHost(uri, interval=interval, per_domain=True)
    await host.connect()

    async def passes(k: int) -> None:
        for _ in range(k):
            t = time.perf_counter()
            await host.sample()
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t)))

    try:
        await passes(1)
        if watch >= 0 and host.last is not None:  # as the console does: the rows on screen
            names = sorted(host.last.domains.values(), key=lambda f: f.name.casefold())
            host.watch([f.uuid for f in names[:watch]])
        await passes(2)
        with top_running() as top:
            w = Window(xentui=os.getpid(), libvirtd=daemon_pid)
            end = time.perf_counter() + seconds
            k = 0
            while time.perf_counter() < end:
                await passes(1)
                k += 1
            out = w.close()
            out.update(top())
        counter.enabled = True
        await passes(3)
        counter.enabled = False
        out["calls"] = counter.per_pass(3)[0]
        out["passes"] = k
    finally:
        await host.close()
    return out


def cpu_main(args: argparse.Namespace, sizes: list[int]) -> int:
    """The --cpu mode: backend CPU over a window, with same-run references."""
    import asyncio

    from refs import daemon_uri, raw_in_subprocess, start_daemon

    daemon = None if args.no_daemon else start_daemon()
    seconds = args.seconds
    print(f"xentui backend CPU, per-domain path, {args.interval:g} s interval, "
          f"~{seconds:g} s window, % of one core "
          f"({'over a private libvirtd' if daemon else 'in-process'})")
    print("raw: a bare loop of every per-domain call (5 threads); raw-red: of the reduced set "
          "(info of running domains, I/O of 48 + a tenth of the rest, one thread); lvd: "
          "libvirtd meanwhile")
    head = (f"{'domains':>7} | {'xentui':>7} | {'libvirtd':>8} | {'top -d 1':>8} | "
            f"{'raw':>6} | {'raw lvd':>7} | {'raw-red':>7} | {'red lvd':>7} | {'calls/pass':>10}")
    print(head)
    print("-" * len(head))
    try:
        for n in sizes:
            if daemon is not None:
                uri = daemon_uri(daemon, n)
            else:
                uri = f"test://{node_file(Path(tempfile.mkdtemp(prefix='xentui-bench-')), n)}"
            pid = daemon.pid if daemon is not None else None
            r = asyncio.run(_host_window(uri, args.interval, seconds, pid, args.watch))
            raw = raw_in_subprocess(uri, args.interval, seconds, pid)
            red = raw_in_subprocess(uri, args.interval, seconds, pid, reduced=True)
            print(f"{n:>7} | {r['xentui']:>7.2f} | {r['libvirtd']:>8.2f} | {r['top']:>8.2f} | "
                  f"{raw['raw']:>6.2f} | {raw['libvirtd']:>7.2f} | {red['raw']:>7.2f} | "
                  f"{red['libvirtd']:>7.2f} | {r['calls']:>10.0f}", flush=True)
    finally:
        if daemon is not None:
            daemon.cleanup()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10, 100, 1000 domains; 3 passes")
    ap.add_argument("--sizes", help="comma-separated guest counts")
    ap.add_argument("--passes", type=int, help="passes per measurement (median reported)")
    ap.add_argument("--no-daemon", action="store_true", help="in-process only")
    ap.add_argument("--cpu", action="store_true", help="CPU over a window (see above)")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--watch", type=int, default=48,
                    help="--cpu: domains watched as if on screen (48 rows: a 160x50 "
                         "terminal); -1: none handed over, every domain's I/O every pass")
    args = ap.parse_args()
    if args.cpu:
        here = str(Path(__file__).resolve().parent)
        if here not in sys.path:
            sys.path.insert(0, here)
        return cpu_main(args, [int(x) for x in (args.sizes or "1000").split(",")])
    sizes = [10, 100, 1000] if args.quick else [10, 100, 1000, 5000]
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    passes = args.passes or (3 if args.quick else 5)

    ensure_event_loop()
    pool = ThreadPoolExecutor(8, thread_name_prefix="libvirt-call")
    transports: list[tuple[str, Callable[[Path], str], Path, Callable[[Path], None] | None]] = []
    local_dir = Path(tempfile.mkdtemp(prefix="xentui-bench-"))
    transports.append(("in-process", lambda p: f"test://{p}", local_dir, None))
    daemon = None
    if not args.no_daemon:
        try:
            from tests.support import daemons

            daemon = daemons.start_test_daemon()
            ddir = daemon.base / "nodes"
            ddir.mkdir()
            daemon.chown(ddir)
            sock = daemon.socket
            transports.append(
                ("daemon", lambda p: f"test+unix://{p}?socket={sock}", ddir, daemon.chown)
            )
        except Exception as err:  # no libvirtd: report what we can
            print(f"(no daemon run: {err})", file=sys.stderr)

    print("xentui sampler bench: one pass, median of", passes, "passes, milliseconds")
    print("NOTE: the test driver's bulk call fills only 'state': 'bulk' is that state-only")
    print("      call; the sampler then falls back to the per-domain path.")
    head = (f"{'transport':<11} {'domains':>7} {'open':>9} {'bulk':>9} "
            f"{'per-domain':>11} {'per-dom 1st':>11}")
    print(head)
    print("-" * len(head))
    results: dict[tuple[str, int], dict[str, float]] = {}
    try:
        for name, make_uri, folder, chown in transports:
            for n in sizes:
                r = measure(make_uri(node_file(folder, n, chown)), n, passes, pool)
                results[(name, n)] = r
                print(f"{name:<11} {n:>7} {r['open']:>9.1f} {r['bulk']:>9.2f} "
                      f"{r['per']:>11.1f} {r['first']:>11.1f}", flush=True)
    finally:
        pool.shutdown()
        if daemon is not None:
            daemon.cleanup()
    target = results.get(("daemon", TARGET_N))
    if target:
        ok_b = target["bulk"] < TARGET_BULK_MS
        ok_p = target["per"] < TARGET_PER_DOMAIN_MS
        print(f"\ntarget, {TARGET_N} domains over a daemon: bulk < {TARGET_BULK_MS:g} ms: "
              f"{'met' if ok_b else 'MISSED'} ({target['bulk']:.1f}); per-domain < "
              f"{TARGET_PER_DOMAIN_MS:g} ms: {'met' if ok_p else 'MISSED'} "
              f"({target['per']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
