"""What each libvirt call costs a daemon: libvirtd's CPU per call, by kind and by threads.

    python bench/daemon_calls.py [--seconds 4] [--rounds 2]

A private test-driver libvirtd (tests/support/daemons.py) serves a node of 1000
Xen-shaped guests (`xentui.demo.synthetic_node`); one client connection, keepalive and a
lifecycle event callback registered as the app does. Reported, each as µs of CPU per call
in libvirtd and in this client (and libvirtd's % of one core over the window):

- idle: the connected client doing nothing (keepalive only), libvirtd's % of one core;
- kinds: each call kind back to back on one thread (info of running and of paused
  domains, blockStats, interfaceStats, the listings, numOfDomains, getFreeMemory);
- threads: passes of `info()` of the running domains once a second, on 1, 2 and 3
  threads (calls in flight at once), alternated over `--rounds` rounds.

The machine is shared: per-call figures move by 2x with its load; compare within a run.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import libvirt  # noqa: E402
from refs import cpu_s, daemon_uri, start_daemon  # noqa: E402

from xentui.backend.libvirt.eventloop import ensure_event_loop  # noqa: E402


def window(pid: int, label: str, fn: Callable[[], int], seconds: float) -> None:
    """Run `fn` (returns the calls it made) until `seconds` pass; print the costs."""
    time.sleep(0.3)
    d0, c0, t0 = cpu_s(pid), time.process_time(), time.perf_counter()
    calls = 0
    while time.perf_counter() - t0 < seconds:
        calls += fn()
    wall = time.perf_counter() - t0
    lvd, client = cpu_s(pid) - d0, time.process_time() - c0
    print(f"{label:<26} calls {calls:>6}  libvirtd {1e6 * lvd / max(1, calls):6.1f} µs/call "
          f"({100 * lvd / wall:5.2f}%)  client {1e6 * client / max(1, calls):6.1f} µs/call  "
          f"load {time_load()}", flush=True)


def time_load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def nic_of(dom: libvirt.virDomain) -> str:
    found = re.search(r"<interface.*?<target dev='([^']+)'", dom.XMLDesc(0), re.S)
    assert found is not None
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="window per kind")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the threads case")
    args = ap.parse_args(argv)
    ensure_event_loop()
    daemon = start_daemon()
    pid = daemon.pid
    try:
        conn = libvirt.open(daemon_uri(daemon, 1000))
        conn.setKeepAlive(2, 3)
        conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                    lambda *_a: None, None)
        doms = conn.listAllDomains(0)
        states = {d.UUIDString(): d.info()[0] for d in doms}
        running = [d for d in doms if states[d.UUIDString()] == libvirt.VIR_DOMAIN_RUNNING]
        paused = [d for d in doms if states[d.UUIDString()] == libvirt.VIR_DOMAIN_PAUSED]
        some = [d for d in running if d.ID() != 0][:200]  # Domain-0 has no vif
        nics = {d.UUIDString(): nic_of(d) for d in some}

        d0, t0 = cpu_s(pid), time.perf_counter()
        time.sleep(3 * args.seconds)
        idle = 100 * (cpu_s(pid) - d0) / (time.perf_counter() - t0)
        print(f"idle, connected: libvirtd {idle:.3f}%  load {time_load()}", flush=True)

        def each(ds: list[libvirt.virDomain], call: Callable[[libvirt.virDomain], object]
                 ) -> Callable[[], int]:
            def run() -> int:
                for d in ds:
                    call(d)
                return len(ds)

            return run

        kinds: list[tuple[str, Callable[[], int]]] = [
            ("info, running", each(running, lambda d: d.info())),
            ("info, paused", each(paused, lambda d: d.info())),
            ("blockStats", each(some, lambda d: d.blockStats("xvda"))),
            ("interfaceStats", each(some, lambda d: d.interfaceStats(nics[d.UUIDString()]))),
            ("listDomainsID", lambda: len(conn.listDomainsID()) and 1),
            ("listDefinedDomains", lambda: len(conn.listDefinedDomains()) and 1),
            ("numOfDomains", lambda: (conn.numOfDomains(), 1)[1]),
            ("listAllDomains(0)", lambda: len(conn.listAllDomains(0)) and 1),
            ("getFreeMemory", lambda: (conn.getFreeMemory(), 1)[1]),
        ]
        for label, fn in kinds:
            window(pid, label, fn, args.seconds)

        pool = ThreadPoolExecutor(3)

        def passes(k: int) -> Callable[[], int]:
            shares = [running[i::k] for i in range(k)]

            def one_pass() -> int:
                started = time.perf_counter()
                if k == 1:
                    for d in running:
                        d.info()
                else:
                    list(pool.map(lambda share: [d.info() for d in share], shares))
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
                return len(running)

            return one_pass

        for _ in range(args.rounds):
            for k in (1, 2, 3):
                window(pid, f"info passes/s, {k} thread(s)", passes(k), 3 * args.seconds)
        pool.shutdown()
        conn.close()
    finally:
        daemon.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
