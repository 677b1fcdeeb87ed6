"""XenAPI pass benchmark: `XapiHost.sample()` on the simulated pool, beside its floor.

    python bench/xapi_pass.py [--sizes 10,100,500] [--passes 20]

For each size N the simulated pool (tests/support/xapi_server, three hosts each on its
own loopback address) gets N extra running VMs spread over its hosts. Reported per size:
the median wall time of a pass once `event.from` keeps the records (one
`pool.get_all_records` call, the members' `/rrd_updates`, the kept records turned into
figures) and, measured in the same run, the reference: the five `get_all_records` calls
(pool, host, host_metrics, VM, VM_metrics) made with a bare `XenAPI.Session`, the floor
of a pass that reads every record, as xentui's passes did before the records were kept.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import XenAPI

from tests.support.xapi_server import XapiServer
from tests.support.xapi_server.seed import HOSTS
from xentui.backend.xapi.host import XapiHost

CALLS = ("pool", "host", "host_metrics", "VM", "VM_metrics")


def start(extra: int) -> list[XapiServer]:
    master = XapiServer(seed=3, address="127.0.0.11").start()
    names = [h[0] for h in HOSTS]
    for i, name in enumerate(names):
        master.db.set_field("host", name, "address", f"127.0.0.{11 + i}")
    servers = [master] + [
        XapiServer(master.db, host=name, address=f"127.0.0.{11 + i}", port=master.port).start()
        for i, name in enumerate(names) if i
    ]
    for n in range(extra):
        master.db.add_vm(f"bench-{n:04d}", power_state="Running", host=names[n % 3],
                         memory_mib=64)
    return servers


def reference(url: str, passes: int) -> float:
    session = XenAPI.Session(url)
    session.login_with_password("root", "xenroot", "2.21", "bench")
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for cls in CALLS:
            getattr(session.xenapi, cls).get_all_records()
        times.append(time.perf_counter() - t0)
    session.xenapi.session.logout()
    return statistics.median(times)


async def ours(uri: str, passes: int) -> float:
    host = XapiHost(uri, interval=1.0)
    await host.connect()
    try:
        while not host.records_from_events:  # the event thread's first answer
            await asyncio.sleep(0.01)
        await host.sample()  # the first pass starts the rrd reads
        times = []
        for _ in range(passes):
            times.append((await host.sample()).took_s)
        return statistics.median(times)
    finally:
        await host.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("XENTUI_XAPI_PASSWORD", "xenroot")
    print(f"{'VMs':>6} {'pass (ms)':>10} {'5 bare calls (ms)':>18}")
    for size in (int(s) for s in args.sizes.split(",")):
        servers = start(size)
        try:
            uri = f"xapi+http://root@127.0.0.11:{servers[0].port}"
            ref = reference(servers[0].url, args.passes)
            took = asyncio.run(ours(uri, args.passes))
            total = len(servers[0].db.tables["VM"])
            print(f"{total:>6} {took * 1000:>10.1f} {ref * 1000:>18.1f}")
        finally:
            for server in reversed(servers):
                server.stop()


if __name__ == "__main__":
    main()
