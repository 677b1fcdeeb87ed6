"""Cost of one sampling pass, bulk and per-domain, in-process and over a daemon.

    python bench/sampler.py [--quick] [--sizes 10,100,1000,5000] [--passes N]

Runs libvirt's test driver with synthetic nodes of N guests (`xentui.demo.synthetic_node`:
most running, each with one disk and one NIC), once in-process (`test:///node.xml`) and
once through a private `libvirtd` serving the test driver over a unix socket
(`test+unix:///node.xml?socket=...`, via tests/support/daemons.py).

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10, 100, 1000 domains; 3 passes")
    ap.add_argument("--sizes", help="comma-separated guest counts")
    ap.add_argument("--passes", type=int, help="passes per measurement (median reported)")
    ap.add_argument("--no-daemon", action="store_true", help="in-process only")
    args = ap.parse_args()
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
