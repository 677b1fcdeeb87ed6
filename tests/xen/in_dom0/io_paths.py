"""Runs in the rig's Dom0: two xentui hosts on xen:///system at once, one reading Dom0's
own I/O counters (XenLocalIo, as on any Dom0), one with that reader and libxenstat taken
away (the libvirt calls, as over a remote URI). For each `sample` line on stdin both take
a pass at the same moment; one JSON line out per pass: {"local": {...}, "libvirt": {...}},
each the pass's path and every domain's sample and rates. Any other line ends it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any

from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.models import PassResult


def dump(result: PassResult) -> dict[str, Any]:
    """The pass as plain JSON: its path, and per domain name its sample and rates."""
    return {
        "path": result.path,
        "domains": {
            f.sample.name: {"sample": dataclasses.asdict(f.sample),
                            "rates": dataclasses.asdict(f.rates)}
            for f in result.domains.values()
        },
    }


async def main() -> None:
    """Connect both, say whether the Dom0 reader is on, then sample on request."""
    local = LibvirtHost("xen:///system", interval=1.0)
    plain = LibvirtHost("xen:///system", interval=1.0)
    await local.connect()
    await plain.connect()
    sampler = plain._sampler  # the only way to turn the Dom0 reader off for one host
    assert sampler is not None
    sampler.local_io = None
    sampler.xen_stat = None
    reader_on = local._sampler is not None and local._sampler.local_io is not None
    print(json.dumps({"ready": True, "local_io": reader_on}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "sample":
            a, b = await asyncio.gather(local.sample(), plain.sample())
            print(json.dumps({"local": dump(a), "libvirt": dump(b)}), flush=True)
    finally:
        await local.close()
        await plain.close()


if __name__ == "__main__":
    asyncio.run(main())
